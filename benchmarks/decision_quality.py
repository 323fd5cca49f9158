"""Benchmark: decision quality of the engine's dynamic policy against a static min/max rule
and the perfect-foresight oracle, by simulation (core/simulate.py).

    python benchmarks/decision_quality.py [--seeds 0 1 2] [--skus 300] [--days 364] [--json]

Data sets: (a) the bundled sample shop (`bot.sample_data.generate()`), (b) the synthetic
group-buying generator (benchmarks/synthetic.py) with a few seeds. Targets per data set:
dynamic total cost ≤ 70 % of minmax's; (minmax − dynamic) / (minmax − oracle) ≥ 0.4;
dynamic fill rate > minmax's. `dynamic` runs at the same service level as minmax
(--service-level, default 0.95); `dyn@cost` sets each SKU's level from its cost ratio
(core.policy.cost_service_level). The exit status is 0 when `dynamic` meets every target.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthetic  # benchmarks/ is not a package

from bot import sample_data
from core.simulate import simulate

SAMPLE_ORDER_COST = 300.0  # TWD per order line
SAMPLE_HOLDING_RATE = 0.25  # a year, fraction of unit cost


def sample_frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """DEMAND, ITEMS and PROMOS from the bundled sample shop.

    Demand is the daily sum of sales over channels and locations (so the sample's own
    stockout stretches show as zero demand). Items take the rank-1 supplier's terms and
    the on-hand stock of the snapshot as the initial stock.
    """
    files = sample_data.generate()
    sales, skus = files["sales.csv.gz"], files["skus.csv"]
    day = pd.to_datetime(sales["timestamp"]).dt.normalize()
    demand = sales.assign(date=day).groupby(["date", "sku"], as_index=False)["qty"].sum()
    terms = files["terms.csv"]
    primary = terms.loc[terms["rank"] == 1, ["sku", "unit_price", "lead_time_days", "moq"]]
    primary = primary.assign(case_pack=terms.loc[terms["rank"] == 1, "case_pack"])
    stock = files["stock.csv"].rename(columns={"品號": "sku", "在庫量": "on_hand"})
    on_hand = stock.groupby("sku")["on_hand"].sum()
    items = skus[["sku", "category"]].merge(primary, on="sku", validate="one_to_one")
    items = items.rename(columns={"unit_price": "unit_cost"}).assign(
        initial_on_hand=items["sku"].map(on_hand).fillna(0).to_numpy(),
        order_cost=SAMPLE_ORDER_COST,
        holding_rate=SAMPLE_HOLDING_RATE,
    )
    return demand, items, _sku_promotions(files["promotions.csv"], skus)


def _sku_promotions(promotions: pd.DataFrame, skus: pd.DataFrame) -> pd.DataFrame:
    """One row per SKU: category-wide campaigns expanded to the category's SKUs."""
    by_sku = promotions.loc[promotions["sku"].fillna("") != ""]
    by_category = promotions.loc[promotions["sku"].fillna("") == ""].drop(columns="sku")
    expanded = by_category.merge(skus[["sku", "category"]], on="category")
    out = pd.concat([by_sku, expanded], ignore_index=True)
    return out[["sku", "start", "end", "uplift", "name"]]


# (label, policy, service level: None = the one given on the command line)
RUNS = (
    ("oracle", "oracle", None),
    ("minmax", "minmax", None),
    ("dynamic", "dynamic", None),
    ("dyn@cost", "dynamic", "cost"),
)


def run(name: str, frames: tuple, warmup: int, service_level: float | str) -> dict[str, object]:
    demand, items, promos = frames
    row: dict[str, object] = {"data": name, "skus": len(items)}
    for label, policy, level in RUNS:
        started = time.perf_counter()
        result = simulate(
            demand,
            items,
            promos,
            policy=policy,
            warmup_days=warmup,
            service_level=service_level if level is None else level,
        )
        row[label] = result.as_dict() | {"seconds": round(time.perf_counter() - started, 2)}
    for label in ("dynamic", "dyn@cost"):
        row[f"targets {label}"] = targets(row["oracle"], row["minmax"], row[label])
    return row


def targets(oracle: dict, minmax: dict, dynamic: dict) -> dict[str, object]:
    """The issue's three targets for one dynamic run against minmax and the oracle."""
    ratio = dynamic["total_cost"] / minmax["total_cost"]
    gap = minmax["total_cost"] - oracle["total_cost"]
    closed = (minmax["total_cost"] - dynamic["total_cost"]) / gap if gap > 0 else float("nan")
    fill_better = dynamic["fill_rate"] > minmax["fill_rate"]
    met = bool(ratio <= 0.7 and closed >= 0.4 and fill_better)
    return {"cost_ratio": ratio, "gap_closed": closed, "fill_better": fill_better, "met": met}


def print_table(rows: list[dict[str, object]]) -> None:
    head = f"{'data':<13}{'policy':<10}{'total':>12}{'holding':>11}{'ordering':>11}"
    head += f"{'lost':>12}{'fill':>8}{'stockout':>9}{'orders':>8}{'turns':>7}{'sec':>6}"
    print(head)
    for row in rows:
        for label, _, _ in RUNS:
            r = row[label]
            print(
                f"{row['data']:<13}{label:<10}{r['total_cost']:>12,.0f}{r['holding_cost']:>11,.0f}"
                f"{r['ordering_cost']:>11,.0f}{r['lost_sales_cost']:>12,.0f}"
                f"{r['fill_rate']:>8.4f}{r['stockout_rate']:>9.4f}{r['orders_placed']:>8}"
                f"{r['inventory_turnover']:>7.1f}{r['seconds']:>6.1f}"
            )
        for label in ("dynamic", "dyn@cost"):
            t = row[f"targets {label}"]
            print(
                f"{'':<13}{label}: cost vs minmax {t['cost_ratio']:.3f} (≤ 0.70), gap closed "
                f"{t['gap_closed']:.3f} (≥ 0.40), higher fill: {t['fill_better']}"
                f" → {'MET' if t['met'] else 'NOT MET'}"
            )


def _level(text: str) -> float | str:
    return text if text == "cost" else float(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--skus", type=int, default=300)
    parser.add_argument("--days", type=int, default=364)
    parser.add_argument("--warmup-days", type=int, default=56)
    parser.add_argument(
        "--service-level",
        type=_level,
        default=0.95,
        help="cycle service level of minmax and dynamic, or 'cost' (default 0.95)",
    )
    parser.add_argument("--no-sample", action="store_true", help="synthetic data sets only")
    parser.add_argument("--json", action="store_true", help="also print the rows as JSON")
    args = parser.parse_args(argv)
    print(f"machine: {platform.node()} {platform.machine()} {platform.processor() or ''}".strip())
    print(f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}")
    print(f"date: {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}\n")
    started = time.perf_counter()
    sets = [] if args.no_sample else [("sample", sample_frames)]
    sets += [
        (f"synthetic-{seed}", lambda seed=seed: synthetic.generate(args.skus, args.days, seed))
        for seed in args.seeds
    ]
    rows = [run(name, make(), args.warmup_days, args.service_level) for name, make in sets]
    print_table(rows)
    print(f"\nwall time: {time.perf_counter() - started:.1f} s")
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False, default=float))
    return 0 if all(row["targets dynamic"]["met"] for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
