"""New days of sales for the demo, drawn from the sample shop's own pattern.

For each SKU and location the last four weeks' average, times the weekday's weight in the
shop's history, is the day's expected demand; a Poisson draw (seeded by the day, so a
replayed story sells the same) is what sold, never more than the shelf holds. The day is
written as the shop's and the WMS's nightly exports would be — order lines (the sample's
columns and channels, hours weighted like the sample's) and a 23:00 stock count — and
imported through the same path as `replenish import`, so the product sees nothing special.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlmodel import col, select

from bot.app import App
from bot.importer import import_file
from bot.sample_data import CHANNELS, HOURS, ORDER_SIZES
from core.ingest import Kind
from core.models import Location, SalesDay, Sku, StockLevel

WINDOW_DAYS = 7  # the recent average a day's demand is drawn around: a surge goes on
HISTORY_DAYS = 84  # the weeks the weekday weights are measured on
SEED = 20261125
COUNTED_AT = time(23, 0)  # the WMS count, as the sample's


@dataclass(frozen=True)
class SimulatedDay:
    day: date
    lines: int
    units: int


def simulate_day(app: App, day: date, folder: Path) -> SimulatedDay:
    """Make, write and import `day`'s sales and end-of-day stock; files go to `folder`."""
    rng = np.random.default_rng([SEED, day.toordinal()])
    expected = _expected(app, day)
    stock = _stock(app)
    sold = _draw(expected, stock, rng)
    folder.mkdir(parents=True, exist_ok=True)
    lines = _order_lines(sold, day, rng)
    if not lines.empty:
        sales_file = folder / f"sales-{day:%Y%m%d}.csv"
        lines.to_csv(sales_file, index=False)
        import_file(app, Kind.SALES, sales_file)
    counted = _counted(stock, sold, day)
    if not counted.empty:
        stock_file = folder / f"stock-{day:%Y%m%d}.csv"
        counted.to_csv(stock_file, index=False)
        import_file(app, Kind.STOCK, stock_file)
    return SimulatedDay(day, len(lines), int(sold["qty"].sum()) if not sold.empty else 0)


def _expected(app: App, day: date) -> pd.DataFrame:
    """sku, location, price, expected units on `day` (recent mean × weekday weight)."""
    since = day - timedelta(days=HISTORY_DAYS)
    with app.store.read() as session:
        rows = session.execute(
            sa.select(
                col(Sku.code),
                col(Location.code),
                col(Sku.price),
                col(SalesDay.day),
                sa.func.sum(SalesDay.qty),
            )
            .join(Sku, col(Sku.id) == col(SalesDay.sku_id))
            .join(Location, col(Location.id) == col(SalesDay.location_id))
            .where(col(SalesDay.day) >= since, col(SalesDay.day) < day)
            .group_by(col(Sku.code), col(Location.code), col(Sku.price), col(SalesDay.day))
        ).all()
    history = pd.DataFrame(rows, columns=["sku", "location", "price", "day", "qty"])
    if history.empty:
        return history.assign(expected=[])
    history["qty"] = history["qty"].astype(float)
    weekday = pd.to_datetime(history["day"]).dt.day_of_week
    by_weekday = history.groupby(weekday)["qty"].sum()
    weight = float(by_weekday.get(day.weekday(), by_weekday.mean()) / by_weekday.mean())
    recent = history[history["day"] >= day - timedelta(days=WINDOW_DAYS)]
    mean = recent.groupby(["sku", "location", "price"], dropna=False)["qty"].sum() / WINDOW_DAYS
    return mean.rename("expected").mul(weight).reset_index()


def _stock(app: App) -> pd.DataFrame:
    """The latest count per SKU and location: sku, location, on_hand, reserved."""
    newest = (
        select(
            StockLevel.sku_id,
            StockLevel.location_id,
            sa.func.max(StockLevel.as_of).label("as_of"),
        )
        .group_by(col(StockLevel.sku_id), col(StockLevel.location_id))
        .subquery()
    )
    query = (
        select(Sku.code, Location.code, StockLevel.on_hand, StockLevel.reserved)
        .join(
            newest,
            sa.and_(
                newest.c.sku_id == StockLevel.sku_id,
                newest.c.location_id == StockLevel.location_id,
                newest.c.as_of == StockLevel.as_of,
            ),
        )
        .join(Sku, col(Sku.id) == col(StockLevel.sku_id))
        .join(Location, col(Location.id) == col(StockLevel.location_id))
    )
    with app.store.read() as session:
        rows = session.execute(query).all()
    return pd.DataFrame(rows, columns=["sku", "location", "on_hand", "reserved"])


def _draw(expected: pd.DataFrame, stock: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Units sold per SKU and location: Poisson around the expectation, capped by the shelf
    where the shelf is counted (a partner's own stock is not: it ships what it has)."""
    if expected.empty:
        return expected.assign(qty=[])
    merged = expected.merge(stock, on=["sku", "location"], how="left")
    drawn = rng.poisson(merged["expected"].clip(lower=0).to_numpy())
    shelf = (merged["on_hand"] - merged["reserved"]).clip(lower=0)
    capped = np.where(shelf.isna(), drawn, np.minimum(drawn, shelf.fillna(0)))
    sold = merged.assign(qty=capped.astype(int))
    return sold[sold["qty"] > 0][["sku", "location", "price", "qty"]].reset_index(drop=True)


def _order_lines(sold: pd.DataFrame, day: date, rng: np.random.Generator) -> pd.DataFrame:
    """The units as order lines of 1–4, at hours weighted like the sample's."""
    sizes, weights = ORDER_SIZES
    rows = []
    columns = (sold[name].tolist() for name in ("sku", "location", "price", "qty"))
    for sku, location, price, units in zip(*columns, strict=True):
        left = int(units)
        while left > 0:
            qty = min(left, int(rng.choice(sizes, p=weights)))
            left -= qty
            rows.append((sku, location, price, qty))
    if not rows:
        return pd.DataFrame(columns=["order_id", "line", "sku", "qty", "timestamp"])
    hours = rng.choice(24, size=len(rows), p=HOURS / HOURS.sum())
    seconds = rng.integers(0, 3600, size=len(rows))
    midnight = datetime.combine(day, time())
    stamps = [
        midnight + timedelta(hours=int(h), seconds=int(s))
        for h, s in zip(hours, seconds, strict=True)
    ]
    frame = pd.DataFrame(rows, columns=["sku", "location", "price", "qty"])
    frame["timestamp"] = [f"{stamp:%Y-%m-%d %H:%M:%S}" for stamp in stamps]
    frame["channel"] = rng.choice(CHANNELS, size=len(rows))
    frame = frame.sort_values("timestamp", kind="stable").reset_index(drop=True)
    frame["order_id"] = [f"SIM{day:%Y%m%d}-{n:05d}" for n in range(1, len(frame) + 1)]
    frame["line"] = 1
    frame["price"] = [float(p) if p is not None and pd.notna(p) else "" for p in frame["price"]]
    return frame[["order_id", "line", "sku", "qty", "timestamp", "channel", "price", "location"]]


def _counted(stock: pd.DataFrame, sold: pd.DataFrame, day: date) -> pd.DataFrame:
    """The 23:00 count: each counted shelf less what it sold that day."""
    if stock.empty:
        return stock
    out = sold.groupby(["sku", "location"])["qty"].sum() if not sold.empty else pd.Series()
    keys = list(zip(stock["sku"], stock["location"], strict=True))
    less = np.array([out.get(key, 0) for key in keys], dtype=int)
    counted = stock.assign(on_hand=(stock["on_hand"].to_numpy() - less).clip(min=0))
    counted["as_of"] = f"{datetime.combine(day, COUNTED_AT):%Y-%m-%d %H:%M:%S}"
    return counted[["sku", "location", "on_hand", "reserved", "as_of"]]
