"""Benchmark: import 1,000,000 sales lines from CSV into SQLite (target: under 60 s).

    .venv/bin/python benchmarks/import_sales.py [--lines 1000000] [--skus 2000]

Writes a seeded CSV to a temporary folder, imports the SKUs, then times
`replenish import sales` end to end (a subprocess, as a user runs it), then once more to
time a re-import that must change nothing.
"""

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def write_files(folder: Path, lines: int, skus: int, seed: int = 7) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    codes = np.array([f"SKU-{i:05d}" for i in range(skus)])
    sku_file = folder / "skus.csv"
    pd.DataFrame({"sku": codes, "name": [f"商品 {i}" for i in range(skus)]}).to_csv(
        sku_file, index=False
    )
    orders = np.arange(lines) // 2  # two lines per order
    start = np.datetime64("2026-05-29T00:00:00")
    seconds = np.sort(rng.integers(0, 180 * 86400, size=lines // 2)).repeat(2)[:lines]
    popularity = rng.zipf(1.3, size=lines) % skus
    frame = pd.DataFrame(
        {
            "order_id": np.char.add("GB", orders.astype(str)),
            "line": np.arange(lines) % 2 + 1,
            "sku": codes[popularity],
            "qty": rng.integers(1, 6, size=lines),
            "timestamp": pd.Series(start + seconds.astype("timedelta64[s]")).dt.strftime(
                "%Y-%m-%d %H:%M:%S"
            ),
            "channel": rng.choice(["line_group", "fb_group", "shop"], size=lines),
            "price": rng.integers(30, 900, size=lines),
        }
    )
    sales_file = folder / "sales.csv"
    frame.to_csv(sales_file, index=False)
    return sku_file, sales_file


def run_import(kind: str, path: Path, db: str) -> tuple[float, dict[str, object], int]:
    command = [sys.executable, "-m", "bot.cli", "import", kind, str(path), "--json", "--db", db]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"import failed ({done.returncode}): {done.stderr}{done.stdout}")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, json.loads(done.stdout), peak_kib


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--skus", type=int, default=2_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sku_file, sales_file = write_files(folder, args.lines, args.skus)
        size_mb = sales_file.stat().st_size / 1e6
        db = f"sqlite:///{folder / 'bench.db'}"
        run_import("skus", sku_file, db)
        first, summary, peak = run_import("sales", sales_file, db)
        again, resummary, _ = run_import("sales", sales_file, db)
    print(
        f"machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.platform()}"
    )
    print(f"lines: {args.lines:,} ({size_mb:.0f} MB CSV), skus: {args.skus:,}")
    print(
        f"first import: {first:.1f} s, imported {summary['imported']:,}, "
        f"peak RSS {peak / 1024:.0f} MiB"
    )
    print(
        f"re-import:    {again:.1f} s, imported {resummary['imported']:,}, "
        f"duplicates {resummary['duplicates']:,}"
    )


if __name__ == "__main__":
    main()
