"""Stock on hand for any past day: the daily snapshot that keeps the history dense, and the
(SKU × day) on-hand matrix read back from it.

A day's on hand is, per SKU and location, the newest snapshot taken at or before the end of
that local day, summed over the SKU's locations (warehouse and dropship alike: stock a
customer can be served from). Before a SKU's first snapshot it is unknown (NaN), never
guessed.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session

from core.models import StockLevel


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of a local day, in UTC (what the database stores)."""
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def snapshot_stock(session: Session, now: datetime, *, tz: ZoneInfo) -> int:
    """Carry every SKU's and location's current on hand into today's history; the row count.

    Once per local day: a (SKU, location) whose newest snapshot is from an earlier local day
    gets a copy of it (on hand and reserved) stamped `now`; one that an import (or an earlier
    run) already wrote today is left alone, so a second run the same day writes nothing.
    One INSERT … SELECT: the database does it for any number of SKUs.

    Run it late in the local day, after the day's stock imports: a copy stamped `now` is
    newer than any snapshot imported afterwards with an earlier `as_of`.
    """
    s = StockLevel.__table__  # type: ignore[attr-defined]
    today = day_start(now.astimezone(tz).date(), tz)
    newest = (
        sa.select(s.c.sku_id, s.c.location_id, sa.func.max(s.c.as_of).label("as_of"))
        .group_by(s.c.sku_id, s.c.location_id)
        .having(sa.func.max(s.c.as_of) < today)
        .subquery()
    )
    stamp = sa.literal(now.astimezone(UTC), s.c.as_of.type).label("as_of")
    carried = sa.select(s.c.sku_id, s.c.location_id, s.c.on_hand, s.c.reserved, stamp).join(
        newest,
        sa.and_(
            s.c.sku_id == newest.c.sku_id,
            s.c.location_id == newest.c.location_id,
            s.c.as_of == newest.c.as_of,
        ),
    )
    columns = ["sku_id", "location_id", "on_hand", "reserved", "as_of"]
    written = session.execute(sa.insert(s).from_select(columns, carried).returning(s.c.id))
    return len(written.all())  # rowcount is -1 for INSERT … SELECT on psycopg


def daily_on_hand(
    session: Session, index: pd.Index, days: pd.DatetimeIndex, tz: ZoneInfo
) -> np.ndarray:
    """(len(index), len(days)) on hand at the end of each local day; NaN where unknown."""
    result = np.full((len(index), len(days)), np.nan)
    if not len(index) or not len(days):
        return result
    first = day_start(days[0].date(), tz)
    after = day_start(days[-1].date() + timedelta(days=1), tz)
    frame = _snapshots(session, first, after)
    frame = frame[frame["sku_id"].isin(index)]
    if frame.empty:
        return result
    moment = pd.to_datetime(frame["epoch"], unit="s", utc=True).dt.tz_convert(tz)
    column = (moment.dt.tz_localize(None).dt.normalize() - days[0]).dt.days.clip(lower=0)
    frame = frame.assign(column=column.to_numpy()).sort_values("epoch", kind="stable")
    last = frame.drop_duplicates(["sku_id", "location_id", "column"], keep="last")
    pair = last.groupby(["sku_id", "location_id"], sort=False).ngroup().to_numpy()
    grid = np.full((pair.max() + 1, len(days)), np.nan)
    grid[pair, last["column"].to_numpy()] = last["on_hand"].to_numpy(dtype="float64")
    filled = pd.DataFrame(grid).ffill(axis=1).to_numpy()  # a level holds until the next count
    sku_of_pair = np.empty(len(grid), dtype="int64")
    sku_of_pair[pair] = index.get_indexer(last["sku_id"])
    summed = pd.DataFrame(np.nan_to_num(filled)).groupby(sku_of_pair).sum()
    known = pd.DataFrame(~np.isnan(filled)).groupby(sku_of_pair).any()
    result[summed.index.to_numpy()] = np.where(known.to_numpy(), summed.to_numpy(), np.nan)
    return result


def _epoch(session: Session, column: sa.ColumnElement) -> sa.ColumnElement:
    """Seconds since 1970 (UTC), computed by the database: parsing datetimes row by row in
    Python would take most of the time."""
    if session.get_bind().dialect.name == "sqlite":
        return (sa.func.julianday(column) - 2440587.5) * 86400.0
    return sa.extract("epoch", column)


def _snapshots(session: Session, first: datetime, after: datetime) -> pd.DataFrame:
    """sku_id, location_id, epoch, on_hand: the snapshots taken in [first, after), and per
    SKU and location the newest one before (the level that holds when the window opens).
    One text row per SKU and location, parsed by numpy (as core/state.py reads sales)."""
    s = StockLevel.__table__  # type: ignore[attr-defined]
    newest = (
        sa.select(s.c.sku_id, s.c.location_id, sa.func.max(s.c.as_of).label("as_of"))
        .where(s.c.as_of < first)
        .group_by(s.c.sku_id, s.c.location_id)
        .subquery()
    )
    columns = (s.c.sku_id, s.c.location_id, _epoch(session, s.c.as_of).label("epoch"), s.c.on_hand)
    before = sa.select(*columns).join(
        newest,
        sa.and_(
            s.c.sku_id == newest.c.sku_id,
            s.c.location_id == newest.c.location_id,
            s.c.as_of == newest.c.as_of,
        ),
    )
    within = sa.select(*columns).where(s.c.as_of >= first, s.c.as_of < after)
    rows = sa.union_all(before, within).subquery()
    pair = sa.cast(rows.c.epoch, sa.String) + "," + sa.cast(rows.c.on_hand, sa.String)
    query = sa.select(
        rows.c.sku_id, rows.c.location_id, sa.func.aggregate_strings(pair, ",")
    ).group_by(rows.c.sku_id, rows.c.location_id)
    found = session.execute(query).all()
    if not found:
        return pd.DataFrame(columns=["sku_id", "location_id", "epoch", "on_hand"])
    texts = [text for _, _, text in found]
    values = np.fromstring(",".join(texts), sep=",", dtype="float64").reshape(-1, 2)
    per_pair = np.fromiter(((t.count(",") + 1) // 2 for t in texts), np.int64, len(found))
    return pd.DataFrame(
        {
            "sku_id": np.repeat([row[0] for row in found], per_pair),
            "location_id": np.repeat([row[1] for row in found], per_pair),
            "epoch": values[:, 0],
            "on_hand": values[:, 1],
        }
    )
