"""Benchmark: the KPIs (core/kpi.py) over N SKUs with 90 days of daily stock history, on SQLite.

    .venv/bin/python benchmarks/kpi_speed.py [--skus 10000 100000] [--repeat 3]

For each size: simulates a shop (not timed) and writes it to a SQLite database: N SKUs (2 %
inactive) over 40 suppliers, one warehouse, 180 days of daily sales (the long tail of
benchmarks/plan_speed.py: median 0.14 units a day, sold as far as stock allowed), 90 days of
end-of-day stock snapshots (one a SKU a day, stamped 23:30 local as the daily job stamps them),
the POs an (s, S) rule placed and received (some late, some short) and a few emergency
requests with their approval and confirmation times. Then, in a fresh process so that its
peak RSS is the KPIs' own, it times `kpis` over 30 and 90 days, `kpi_series` over 30 days
(each: the first run and the best of --repeat, plus the tracemalloc peak of one more run),
and one `snapshot_stock` run for the next day (a unit of work, commit included) and a second
one the same day (which writes nothing).
"""

import argparse
import json
import platform
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

END = date(2026, 11, 24)  # the last day of every period: "yesterday"
SALES_DAYS = 180  # a 90-day period and the 90 days its sales growth compares with
STOCK_DAYS = 90
SUPPLIERS = 40
TZ = ZoneInfo("Asia/Taipei")
SNAPSHOT_AT = clock(23, 30)  # local time of the daily snapshot
STORED = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a (UTC) DateTime on SQLite


@dataclass(frozen=True)
class Shop:
    cost: np.ndarray  # (n,) unit cost = the primary supplier's price
    price: np.ndarray  # (n,) selling price
    supplier: np.ndarray  # (n,) primary supplier id, 1…SUPPLIERS
    sold: np.ndarray  # (n, SALES_DAYS) units sold (demand as far as stock allowed)
    level: np.ndarray  # (n, SALES_DAYS) end-of-day on hand
    receipts: pd.DataFrame  # sku, supplier, ordered, promised, arrived (day numbers), qty, got


def simulate(skus: int, seed: int = 13) -> Shop:
    """Demand as in plan_speed.py; stock by an (s, S) rule with one order out at a time."""
    rng = np.random.default_rng(seed)
    rate = np.exp(rng.normal(-2.0, 1.5, size=skus))
    weekly = np.array([1.0, 0.9, 0.85, 0.9, 1.1, 1.3, 1.2])[np.arange(SALES_DAYS) % 7]
    demand = rng.poisson(rate[:, None] * weekly[None, :])
    supplier = np.arange(skus) % SUPPLIERS + 1
    lead = 2 + supplier % 9
    mean = rate * lead
    reorder = np.ceil(mean + 1.65 * np.sqrt(mean)).astype(np.int64)
    up_to = reorder + np.maximum(1, np.ceil(rate * rng.uniform(14, 35, skus))).astype(np.int64)
    on_hand = up_to.copy()
    due = np.full(skus, -1)  # the day the open order arrives, -1: none open
    ordered, promised, qty, got = (np.zeros(skus, np.int64) for _ in range(4))
    sold = np.zeros_like(demand)
    level = np.zeros_like(demand)
    receipts: list[pd.DataFrame] = []
    for day in range(SALES_DAYS):
        arriving = np.flatnonzero(due == day)
        on_hand[arriving] += got[arriving]
        receipts.append(
            pd.DataFrame(
                {
                    "sku": arriving,
                    "ordered": ordered[arriving],
                    "promised": promised[arriving],
                    "arrived": day,
                    "qty": qty[arriving],
                    "got": got[arriving],
                }
            )
        )
        due[arriving] = -1
        sold[:, day] = np.minimum(demand[:, day], on_hand)
        on_hand -= sold[:, day]
        level[:, day] = on_hand
        new = np.flatnonzero((due < 0) & (on_hand <= reorder))
        late = rng.choice([0, 0, 0, 0, 0, 0, 0, 0, 1, 3], size=len(new))  # 20 % late
        short = rng.random(len(new)) < 0.05
        ordered[new], promised[new] = day, day + lead[new]
        due[new] = promised[new] + late
        qty[new] = up_to[new] - on_hand[new]
        got[new] = np.where(short, np.floor(qty[new] * rng.uniform(0.5, 0.95, len(new))), qty[new])
    cost = np.round(np.exp(rng.normal(np.log(60), 0.7, skus)), 1)
    price = np.round(cost * rng.uniform(1.3, 1.8, skus), 0)
    frame = pd.concat(receipts, ignore_index=True)
    frame["supplier"] = supplier[frame["sku"]]
    return Shop(cost, price, supplier, sold, level, frame)


def day_of(number: int) -> date:
    return END - timedelta(days=SALES_DAYS - 1 - int(number))


def stamp(day: date, hour: float) -> str:
    """A local time on `day`, stored as SQLAlchemy stores it: naive UTC text."""
    local = datetime.combine(day, clock(), tzinfo=TZ) + timedelta(hours=hour)
    return local.astimezone(UTC).replace(tzinfo=None).strftime(STORED)


def build_database(path: Path, shop: Shop, seed: int = 17) -> dict[str, int]:
    """The shop in a migrated SQLite file, by driver-level executemany; the row counts."""
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade", "--db", f"sqlite:///{path}"],
        check=True,
        capture_output=True,
    )
    rng = np.random.default_rng(seed)
    skus = len(shop.cost)
    ids = np.arange(1, skus + 1)
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")  # the build is not timed; crash-safety moot
    with connection:
        connection.execute(
            "INSERT INTO location (id, code, name, kind) VALUES (1, 'WH', 'WH', 'warehouse')"
        )
        connection.executemany(
            "INSERT INTO supplier (id, code, name, contact_name, phone, "
            "emergency_contact, emergency_phone, email) VALUES (?, ?, ?, '', '', '', '', '')",
            [(i, f"S{i:02d}", f"供應商{i}") for i in range(1, SUPPLIERS + 1)],
        )
        active = rng.random(skus) >= 0.02
        connection.executemany(
            "INSERT INTO sku (id, code, name, category, unit, unit_cost, price, active) "
            "VALUES (?, ?, ?, ?, '', ?, ?, ?)",
            zip(
                ids.tolist(),
                [f"SKU{i:06d}" for i in ids],
                [f"商品{i}" for i in ids],
                [f"C{i % 20}" for i in ids],
                shop.cost.tolist(),
                shop.price.tolist(),
                active.tolist(),
                strict=True,
            ),
        )
        connection.executemany(
            "INSERT INTO supplierterm (supplier_id, sku_id, supplier_sku, unit_price, "
            "price_band_pct, lead_time_days, lead_time_std_days, moq, case_pack, rank) "
            "VALUES (?, ?, '', ?, 5, ?, 0, 1, 1, 1)",
            zip(
                shop.supplier.tolist(),
                ids.tolist(),
                shop.cost.tolist(),
                (2 + shop.supplier % 9).tolist(),
                strict=True,
            ),
        )
        sales = _write_sales(connection, shop)
        snapshots = _write_snapshots(connection, shop)
        lines = _write_purchases(connection, shop, rng)
        requests = _write_emergencies(connection, shop, rng)
    connection.close()
    return {"sales": sales, "snapshots": snapshots, "lines": lines, "emergencies": requests}


def _write_sales(connection: sqlite3.Connection, shop: Shop) -> int:
    rows, days = np.nonzero(shop.sold)  # SKU-major: the unique index grows at its end
    day_text = np.array([day_of(d).isoformat() for d in range(SALES_DAYS)])
    qty = shop.sold[rows, days]
    connection.executemany(
        "INSERT INTO salesday (sku_id, location_id, channel, day, qty, revenue) "
        "VALUES (?, 1, '', ?, ?, ?)",
        zip(
            (rows + 1).tolist(),
            day_text[days].tolist(),
            qty.tolist(),
            (qty * shop.price[rows]).tolist(),
            strict=True,
        ),
    )
    return len(rows)


def _write_snapshots(connection: sqlite3.Connection, shop: Shop, chunk: int = 5_000) -> int:
    """One snapshot a SKU a day over the last STOCK_DAYS days, SKU by SKU (so that the primary
    key and both indexes are appended to, never split), streamed in chunks of SKUs."""
    first = SALES_DAYS - STOCK_DAYS
    stamps = [stamp(day_of(d), 23.5) for d in range(first, SALES_DAYS)]
    levels = shop.level[:, first:]

    def rows() -> Iterator[tuple[int, int, str]]:
        for start in range(0, len(levels), chunk):
            block = levels[start : start + chunk]
            ids = np.repeat(np.arange(start + 1, start + len(block) + 1), STOCK_DAYS)
            yield from zip(ids.tolist(), block.ravel().tolist(), stamps * len(block), strict=True)

    connection.executemany(
        "INSERT INTO stocklevel (sku_id, location_id, on_hand, reserved, as_of) "
        "VALUES (?, 1, ?, 0, ?)",
        rows(),
    )
    return levels.size


def _write_purchases(connection: sqlite3.Connection, shop: Shop, rng: np.random.Generator) -> int:
    """The received orders, one PO per supplier, order day and arrival day."""
    received = shop.receipts
    key = ["supplier", "ordered", "arrived"]
    po = received.groupby(key).agg(promised=("promised", "max")).reset_index()
    po["id"] = np.arange(1, len(po) + 1)
    lines = received.merge(po[[*key, "id"]], on=key)
    lines["price"] = shop.cost[lines["sku"]]
    po["total"] = (
        (lines["qty"] * lines["price"]).groupby(lines["id"]).sum().reindex(po["id"]).to_numpy()
    )
    hour = rng.uniform(9, 18, len(po))
    connection.executemany(
        "INSERT INTO purchaseorder (id, number, supplier_id, status, emergency, currency, "
        "total, reason, created_at, approved_at, sent_at, confirmed_at, received_at, "
        "expected_arrival, requested_arrival, tracking_number, version) "
        "VALUES (?, ?, ?, 'received', 0, 'TWD', ?, '', ?, ?, ?, ?, ?, ?, ?, '', 1)",
        (
            (
                number,
                f"PO{number:07d}",
                supplier,
                round(total, 2),
                stamp(day_of(ordered), 9),
                stamp(day_of(ordered), 10),
                stamp(day_of(ordered), 10.5),
                stamp(day_of(ordered), 14),
                stamp(day_of(arrived), at),
                day_of(promised).isoformat(),
                day_of(promised).isoformat(),
            )
            for number, supplier, total, ordered, arrived, promised, at in zip(
                po["id"].tolist(),
                po["supplier"].tolist(),
                po["total"].tolist(),
                po["ordered"].tolist(),
                po["arrived"].tolist(),
                po["promised"].tolist(),
                hour.tolist(),
                strict=True,
            )
        ),
    )
    connection.executemany(
        "INSERT INTO poline (po_id, sku_id, qty, unit_price, received_qty) VALUES (?, ?, ?, ?, ?)",
        zip(
            lines["id"].tolist(),
            (lines["sku"] + 1).tolist(),
            lines["qty"].tolist(),
            lines["price"].tolist(),
            lines["got"].tolist(),
            strict=True,
        ),
    )
    return len(lines)


def _write_emergencies(connection: sqlite3.Connection, shop: Shop, rng: np.random.Generator) -> int:
    """A few requests on stockout days: 90 % approved (median 25 min), 80 % of those
    confirmed by the supplier (median 90 min); the rest still open."""
    out_sku, out_day = np.nonzero(shop.level == 0)
    count = min(len(out_sku), max(20, len(shop.cost) // 500))
    pick = rng.choice(len(out_sku), count, replace=False)
    rows = []
    for sku, day in zip(out_sku[pick].tolist(), out_day[pick].tolist(), strict=True):
        hour = float(rng.uniform(8, 21))
        requested = stamp(day_of(day), hour)
        approve = float(rng.lognormal(np.log(25), 0.8)) if rng.random() < 0.9 else None
        confirm = float(rng.lognormal(np.log(90), 0.7)) if approve and rng.random() < 0.8 else None
        approved = stamp(day_of(day), hour + approve / 60) if approve else None
        confirmed = (
            stamp(day_of(day), hour + (approve + confirm) / 60) if approve and confirm else None
        )
        status = "confirmed" if confirmed else "approved" if approved else "open"
        rows.append((sku + 1, status, requested, approved, confirmed))
    connection.executemany(
        "INSERT INTO emergencyrequest (sku_id, qty, reason, status, requested_at, approved_at, "
        "confirmed_at, escalation_level) VALUES (?, 10, '', ?, ?, ?, ?, 0)",
        rows,
    )
    return count


# --- the measurement (run in a process of its own) ----------------------------------------


def peak_rss_mib() -> float:
    """This process's peak RSS. On Linux VmHWM, not ru_maxrss: a child started by
    vfork + exec inherits its parent's ru_maxrss (the simulation's), VmHWM starts afresh."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(path: Path, repeat: int) -> dict[str, object]:
    from core.kpi import kpi_series, kpis  # noqa: PLC0415 (imports counted in the baseline)
    from core.stock_history import snapshot_stock  # noqa: PLC0415
    from core.store import Store  # noqa: PLC0415

    store = Store.connect(f"sqlite:///{path}")
    with store.read() as session:  # open the file and read the schema once
        session.connection()
    baseline = peak_rss_mib()
    operations: dict[str, Callable[..., object]] = {
        "kpis, 30 days": lambda s: kpis(s, END - timedelta(days=29), END, tz=TZ),
        "kpis, 90 days": lambda s: kpis(s, END - timedelta(days=89), END, tz=TZ),
        "kpi_series, 30 days": lambda s: kpi_series(s, END, 30, tz=TZ),
    }
    timings: dict[str, dict[str, float]] = {}
    results: dict[str, Any] = {}
    for name, operation in operations.items():
        seconds = []
        for _ in range(repeat):
            with store.read() as session:
                started = time.perf_counter()
                results[name] = operation(session)
                seconds.append(time.perf_counter() - started)
        tracemalloc.start()
        with store.read() as session:
            operation(session)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        timings[name] = {"first": seconds[0], "best": min(seconds), "traced_mib": peak}
    now = datetime.combine(END + timedelta(days=1), SNAPSHOT_AT, tzinfo=TZ)
    for name in ("snapshot_stock", "snapshot_stock, again the same day"):
        started = time.perf_counter()
        with store.unit_of_work() as session:
            written = snapshot_stock(session, now, tz=TZ)
        elapsed = time.perf_counter() - started
        timings[name] = {"first": elapsed, "best": elapsed, "rows": written}
    k30, k90 = results["kpis, 30 days"], results["kpis, 90 days"]
    series = results["kpi_series, 30 days"]
    return {
        "timings": timings,
        "baseline_mib": baseline,
        "peak_rss_mib": peak_rss_mib(),
        "check": {
            "stockout_rate_30": k30.stockout_rate,
            "fill_rate_30": k30.fill_rate,
            "turnover_annualised_90": k90.inventory_turnover_annualised,
            "otif_90": k90.otif,
            "lines_received_90": k90.lines_received,
            "emergencies_90": k90.emergencies,
            "approve_median_90": k90.approve_minutes.median,
            "sales_growth_90": k90.sales_growth,
            "series_rows": len(series),
        },
    }


def run_size(skus: int, repeat: int) -> None:
    started = time.perf_counter()
    shop = simulate(skus)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kpi.db"
        counts = build_database(path, shop)
        built = time.perf_counter() - started
        size_mib = path.stat().st_size / 2**20
        del shop
        command = [sys.executable, __file__, "--measure", str(path), "--repeat", str(repeat)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"measuring failed ({done.returncode}): {done.stderr}")
    found = json.loads(done.stdout)
    print(
        f"\n{skus:,} SKUs: {counts['snapshots']:,} stock snapshots ({STOCK_DAYS} days), "
        f"{counts['sales']:,} sales-day rows ({SALES_DAYS} days), {counts['lines']:,} PO lines "
        f"received, {counts['emergencies']:,} emergency requests; {size_mib:,.0f} MiB database, "
        f"built in {built:.0f} s"
    )
    print(f"| operation | first run | best of {repeat} | tracemalloc peak |")
    print("|---|---|---|---|")
    for name, timing in found["timings"].items():
        memory = f"{timing['traced_mib']:,.0f} MiB" if "traced_mib" in timing else "—"
        if "rows" in timing:
            print(f"| {name} ({timing['rows']:,} rows) | {timing['first']:.2f} s | — | {memory} |")
        else:
            print(f"| {name} | {timing['first']:.2f} s | {timing['best']:.2f} s | {memory} |")
    print(
        f"peak RSS of the measuring process: {found['peak_rss_mib']:,.0f} MiB "
        f"(after imports and connecting: {found['baseline_mib']:,.0f} MiB)"
    )
    check = found["check"]
    print(
        "check (90 days unless marked): "
        f"stockout rate (30 d) {check['stockout_rate_30']:.3f}, "
        f"fill rate (30 d) {check['fill_rate_30']:.3f}, "
        f"turnover annualised {check['turnover_annualised_90']:.1f}, "
        f"OTIF {check['otif_90']:.2f} over {check['lines_received_90']:,} lines, "
        f"{check['emergencies_90']} emergencies (approval median "
        f"{check['approve_median_90']:.0f} min), sales growth {check['sales_growth_90']:+.3f}, "
        f"series rows {check['series_rows']}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.repeat)))
        return 0
    print(
        f"machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.platform()}"
    )
    for skus in args.skus:
        run_size(skus, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
