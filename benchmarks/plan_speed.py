"""Benchmark: a full plan over N SKUs × 365 days of history, from the database on SQLite.

    .venv/bin/python benchmarks/plan_speed.py --skus 10000 100000 [--sf-sample 2000]

For each size: builds a SQLite database (not timed) with N SKUs, one supplier term each,
a stock snapshot and 365 days of Zipf-popular, partly intermittent daily sales; then
times `replenish plan --json` end to end in a subprocess (start-up, reading, forecasting,
policy, output) and reports its peak memory. In the same run it times our forecasts and
statsforecast's per-series models (SES, CrostonSBA, TSB) on a sample of the same series
and reports the speed ratio per series.
"""

import argparse
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import TSB, CrostonSBA, SimpleExponentialSmoothing

from core.forecast import DemandHistory, forecast
from core.smoothing import croston_sba, ses, tsb

AS_OF = date(2026, 11, 24)
DAYS = 365


def demand_matrix(skus: int, seed: int = 11) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # A long tail: median 0.14 units a day, 1 % above 4; about 22 % of SKU-days sell.
    rate = np.exp(rng.normal(-2.0, 1.5, size=skus))
    weekly = np.array([1.0, 0.9, 0.85, 0.9, 1.1, 1.3, 1.2])[np.arange(DAYS) % 7]
    return rng.poisson(rate[:, None] * weekly[None, :]).astype(np.int64)


def build_database(path: Path, demand: np.ndarray) -> None:
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade", "--db", f"sqlite:///{path}"],
        check=True,
        capture_output=True,
    )
    skus = demand.shape[0]
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(
            "INSERT INTO location (id, code, name, kind) VALUES (1, 'WH', 'WH', 'warehouse')"
        )
        connection.execute(
            "INSERT INTO supplier (id, code, name, contact_name, phone, "
            "emergency_contact, emergency_phone, email) VALUES "
            "(1, 'S1', 'S1', '', '', '', '', '')"
        )
        connection.executemany(
            "INSERT INTO sku (id, code, name, category, unit, unit_cost, price, active) "
            "VALUES (?, ?, ?, ?, '', 50, 80, 1)",
            [(i + 1, f"SKU{i:06d}", f"商品{i}", f"C{i % 20}") for i in range(skus)],
        )
        connection.executemany(
            "INSERT INTO supplierterm (supplier_id, sku_id, supplier_sku, unit_price, "
            "price_band_pct, lead_time_days, lead_time_std_days, moq, case_pack, rank) "
            "VALUES (1, ?, '', 50, 5, ?, 0, 1, 6, 1)",
            [(i + 1, 2 + i % 10) for i in range(skus)],
        )
        connection.executemany(
            "INSERT INTO stocklevel (sku_id, location_id, on_hand, reserved, as_of) "
            "VALUES (?, 1, ?, 0, '2026-11-24 15:00:00.000000')",
            [(i + 1, int(v)) for i, v in enumerate(demand[:, -30:].sum(axis=1))],
        )
        rows, days = np.nonzero(demand)
        first = AS_OF - timedelta(days=DAYS - 1)
        day_text = np.array([(first + timedelta(days=int(d))).isoformat() for d in range(DAYS)])
        connection.executemany(
            "INSERT INTO salesday (sku_id, location_id, channel, day, qty, revenue) "
            "VALUES (?, 1, '', ?, ?, 0)",
            zip(
                (rows + 1).tolist(),
                day_text[days].tolist(),
                demand[rows, days].tolist(),
                strict=True,
            ),
        )
    connection.close()


def time_plan(path: Path) -> tuple[float, float]:
    command = [
        sys.executable,
        "-m",
        "bot.cli",
        "plan",
        "--json",
        "--as-of",
        AS_OF.isoformat(),
        "--db",
        f"sqlite:///{path}",
    ]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stderr.decode())
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return elapsed, peak_mib


def time_forecasts(demand: np.ndarray, sample: int) -> dict[str, float]:
    """Microseconds per series and model for the same three forecasts (SES α 0.1,
    Croston-SBA, TSB α 0.1 β 0.1): our vectorised kernels on every series, statsforecast
    on a sample; plus our whole pipeline (classes, censoring, effects, std) per series."""
    dates = pd.date_range(end=pd.Timestamp(AS_OF), periods=DAYS, freq="D")
    qty = demand.astype(float)
    started = time.perf_counter()
    ses(qty, 0.1)
    croston_sba(qty, 0.1)
    tsb(qty, 0.1, 0.1)
    kernels = (time.perf_counter() - started) / len(qty) / 3
    history = DemandHistory(dates, qty, np.ones(qty.shape, bool), np.ones(qty.shape))
    started = time.perf_counter()
    forecast(history)
    pipeline = (time.perf_counter() - started) / len(qty)

    subset = qty[:sample]
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(np.arange(sample), DAYS),
            "ds": np.tile(dates, sample),
            "y": subset.ravel(),
        }
    )
    models = [SimpleExponentialSmoothing(alpha=0.1), CrostonSBA(), TSB(alpha_d=0.1, alpha_p=0.1)]
    started = time.perf_counter()
    StatsForecast(models=models, freq="D", n_jobs=1).forecast(df=frame, h=1)
    theirs = (time.perf_counter() - started) / sample / len(models)
    return {"kernels": kernels * 1e6, "pipeline": pipeline * 1e6, "statsforecast": theirs * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--sf-sample", type=int, default=2_000)
    args = parser.parse_args()
    for skus in args.skus:
        demand = demand_matrix(skus)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "plan.db"
            started = time.perf_counter()
            build_database(path, demand)
            built = time.perf_counter() - started
            elapsed, peak = time_plan(path)
        sample = min(args.sf_sample, skus)
        us = time_forecasts(demand, sample)
        print(
            f"{skus:,} SKUs × {DAYS} days ({np.count_nonzero(demand):,} sales-day rows, "
            f"built in {built:.0f} s): plan end to end {elapsed:.1f} s, peak RSS {peak:.0f} MiB"
        )
        print(
            f"  same forecasts (SES, Croston-SBA, TSB), per series and model: ours "
            f"{us['kernels']:.2f} µs, statsforecast {us['statsforecast']:.1f} µs "
            f"({sample:,} sampled): {us['statsforecast'] / us['kernels']:.0f}× faster"
        )
        print(
            "  our whole forecast (classes, censoring, promotions, weekday, holidays, std): "
            f"{us['pipeline']:.1f} µs per series"
        )


if __name__ == "__main__":
    main()
