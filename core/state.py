"""Read what the planner needs from the database, as arrays and frames.

Everything here is bulk SQL: one query per kind of fact, turned into dense (SKU × day)
matrices with numpy, so that reading 100,000 SKUs × 365 days stays a matter of seconds.
Days are the shop's business days (SalesDay.day); SKU rows follow `skus.sku_id` order.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session

from core.models import (
    Location,
    LocationKind,
    PoLine,
    PoStatus,
    Promotion,
    PurchaseOrder,
    SalesDay,
    Sku,
    StockLevel,
    Supplier,
    SupplierTerm,
)
from core.suppliers import TERM_COLUMNS

# POs whose goods are on their way: they count in the inventory position.
ON_ORDER_STATUSES = (PoStatus.APPROVED, PoStatus.SENT, PoStatus.CONFIRMED)
# POs that still may bring goods for a SKU: the planner never drafts a second line for it.
OPEN_STATUSES = (PoStatus.DRAFT, PoStatus.PENDING_APPROVAL, *ON_ORDER_STATUSES)


@dataclass(frozen=True)
class ShopState:
    """The shop as of one day: positions, terms, history and announced promotions."""

    as_of: date
    skus: pd.DataFrame  # sku_id, code, name, category, unit_cost
    terms: pd.DataFrame  # sku_id, supplier_id, rank, lead_time_days, … (SupplierTerm)
    stock: pd.DataFrame  # sku_id, on_hand, reserved, on_order (aligned with skus)
    dates: pd.DatetimeIndex  # history days, the last one is as_of
    sales: np.ndarray  # (n, T) units sold per day
    available: np.ndarray  # (n, T) False where the SKU was out of stock all day
    past_uplift: np.ndarray  # (n, T) the uplift of a promotion running that day, else 1
    promotions: pd.DataFrame  # sku_id, start_date, end_date, uplift (announced, may be NaN)
    open_po_skus: frozenset[int]  # SKUs already on an open PO (draft … confirmed)


@dataclass(frozen=True)
class PartialDay:
    """Today so far, kept out of the history the forecast learns from (a half day would
    read as a weak day) but counted by the surge check, so orders arriving this morning
    can raise a surge this morning."""

    qty: np.ndarray  # (n,) units sold since the business day began
    available: np.ndarray  # (n,) False where out of stock and nothing sold
    uplift: np.ndarray  # (n,) today's promotion uplift (NaN: learnt), else 1
    elapsed: float  # share of the day gone, 0 … 1


def split_today(state: ShopState, elapsed: float) -> tuple[ShopState, PartialDay]:
    """A state read up to today → the state up to yesterday, and today so far."""
    today = PartialDay(
        qty=state.sales[:, -1],
        available=state.available[:, -1],
        uplift=state.past_uplift[:, -1],
        elapsed=min(max(elapsed, 0.0), 1.0),
    )
    complete = replace(
        state,
        as_of=state.as_of - timedelta(days=1),
        dates=state.dates[:-1],
        sales=state.sales[:, :-1],
        available=state.available[:, :-1],
        past_uplift=state.past_uplift[:, :-1],
    )
    return complete, today


def load_state(
    session: Session,
    as_of: date,
    *,
    history_days: int = 365,
    tz: ZoneInfo | None = None,
    sku_ids: Collection[int] | None = None,
) -> ShopState:
    """The whole shop, or only `sku_ids` (a targeted re-plan after a feed)."""
    skus = _skus(session, sku_ids)
    index = pd.Index(skus["sku_id"])
    dates = pd.date_range(end=pd.Timestamp(as_of), periods=history_days, freq="D")
    sales = _sales_matrix(session, index, dates, narrow=sku_ids is not None)
    promotions = _promotions(session, skus)
    return ShopState(
        as_of=as_of,
        skus=skus,
        terms=_terms(session),
        stock=_stock(session, index),
        dates=dates,
        sales=sales,
        available=_availability(session, index, dates, sales, tz or ZoneInfo("UTC")),
        past_uplift=promotion_uplift(promotions, index, dates),
        promotions=promotions,
        open_po_skus=_open_po_skus(session),
    )


def _frame(session: Session, query: sa.Select, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(session.execute(query).all(), columns=columns)


def _skus(session: Session, sku_ids: Collection[int] | None = None) -> pd.DataFrame:
    query = (
        sa.select(Sku.id, Sku.code, Sku.name, Sku.category, Sku.unit_cost)
        .where(Sku.active)
        .order_by(Sku.id)
    )
    if sku_ids is not None:
        query = query.where(Sku.id.in_(sorted(sku_ids)))
    frame = _frame(session, query, ["sku_id", "code", "name", "category", "unit_cost"])
    frame["unit_cost"] = pd.to_numeric(frame["unit_cost"], errors="coerce").astype("float64")
    return frame


def _terms(session: Session) -> pd.DataFrame:
    t = SupplierTerm
    columns = [*TERM_COLUMNS, "price_band_pct", "supplier_sku"]  # what supplier choice needs
    query = sa.select(*(getattr(t, c) for c in columns), Supplier.code).join(
        Supplier, Supplier.id == t.supplier_id
    )
    frame = _frame(session, query, [*columns, "supplier"])
    frame["unit_price"] = frame["unit_price"].astype("float64")
    return frame.sort_values(["sku_id", "rank"], ignore_index=True)


def _stock(session: Session, index: pd.Index) -> pd.DataFrame:
    """Current on hand and reserved (newest snapshot per location, summed) and on order."""
    s = StockLevel.__table__  # type: ignore[attr-defined]
    newest = (
        sa.select(s.c.sku_id, s.c.location_id, sa.func.max(s.c.as_of).label("as_of"))
        .group_by(s.c.sku_id, s.c.location_id)
        .subquery()
    )
    current = (
        sa.select(s.c.sku_id, sa.func.sum(s.c.on_hand), sa.func.sum(s.c.reserved))
        .join(
            newest,
            sa.and_(
                s.c.sku_id == newest.c.sku_id,
                s.c.location_id == newest.c.location_id,
                s.c.as_of == newest.c.as_of,
            ),
        )
        .group_by(s.c.sku_id)
    )
    levels = _frame(session, current, ["sku_id", "on_hand", "reserved"]).set_index("sku_id")
    outstanding = sa.func.sum(PoLine.qty - PoLine.received_qty)
    on_order_query = (
        sa.select(PoLine.sku_id, outstanding)
        .join(PurchaseOrder, PurchaseOrder.id == PoLine.po_id)
        .where(PurchaseOrder.status.in_(ON_ORDER_STATUSES))
        .group_by(PoLine.sku_id)
    )
    on_order = _frame(session, on_order_query, ["sku_id", "on_order"]).set_index("sku_id")
    stock = levels.join(on_order, how="outer").reindex(index).fillna(0).astype("int64")
    return stock.reset_index(names="sku_id")


def _day_offset(session: Session, column: sa.ColumnElement, start: date) -> sa.ColumnElement:
    """Days since `start`, computed by the database (cheaper than parsing dates in Python)."""
    if session.get_bind().dialect.name == "sqlite":
        return sa.cast(sa.func.julianday(column) - sa.func.julianday(start.isoformat()), sa.Integer)
    return column - sa.literal(start, sa.Date)


def _sales_matrix(
    session: Session, index: pd.Index, dates: pd.DatetimeIndex, *, narrow: bool = False
) -> np.ndarray:
    """(n, T) units sold per day. The database sends one row per SKU holding its
    "day,qty,day,qty…" pairs as text, which numpy parses in C: fetching millions of
    (sku, day, qty) rows one Python object at a time would take 30× longer."""
    start = dates[0].date()
    offset = _day_offset(session, SalesDay.day, start)
    pair = sa.cast(offset, sa.String) + "," + sa.cast(SalesDay.qty, sa.String)
    # No upper bound in SQL: with one, SQLite walks the day index and sorts for the GROUP
    # BY (4× slower); days after the window are dropped in dense_from_pairs instead.
    query = (
        sa.select(SalesDay.sku_id, sa.func.aggregate_strings(pair, ","))
        .where(SalesDay.day >= start)
        .group_by(SalesDay.sku_id)
    )
    if narrow:  # a few SKUs: their rows by index rather than the whole shop's
        query = query.where(SalesDay.sku_id.in_([int(i) for i in index]))
    return dense_from_pairs(session.execute(query).all(), index, len(dates))


def dense_from_pairs(rows: Sequence[tuple[int, str]], index: pd.Index, days: int) -> np.ndarray:
    """Rows of (sku_id, "offset,qty,offset,qty…") → an (n, days) matrix of summed qty."""
    matrix = np.zeros(len(index) * days, dtype="float64")
    if not rows:
        return matrix.reshape(len(index), days)
    texts = [text for _, text in rows]
    pairs = np.fromstring(",".join(texts), sep=",", dtype=np.int64).reshape(-1, 2)
    per_sku = np.fromiter(((text.count(",") + 1) // 2 for text in texts), np.int64, len(rows))
    positions = np.repeat(index.get_indexer([sku_id for sku_id, _ in rows]), per_sku)
    known = (positions >= 0) & (pairs[:, 0] < days)  # inactive SKUs are not planned
    cells = positions[known] * days + pairs[known, 0]
    matrix += np.bincount(cells, weights=pairs[known, 1], minlength=matrix.size)
    return matrix.reshape(len(index), days)


def _availability(
    session: Session, index: pd.Index, dates: pd.DatetimeIndex, sales: np.ndarray, tz: ZoneInfo
) -> np.ndarray:
    """False on days the last known stock was zero and nothing sold: censored demand.

    A snapshot's level holds until the next one; days before the first snapshot are
    taken as available. Selling anything proves the SKU was in stock part of the day.
    """
    snapshots = _daily_sellable(session, index, dates, tz)
    if snapshots.empty:
        return np.ones(sales.shape, dtype=bool)
    grid = np.full(sales.shape, np.nan)
    rows = index.get_indexer(snapshots["sku_id"])
    columns = np.clip((snapshots["day"] - dates[0]).dt.days.to_numpy(), 0, len(dates) - 1)
    grid[rows, columns] = snapshots["sellable"].to_numpy()
    level = pd.DataFrame(grid.T).ffill().to_numpy().T
    return ~((level <= 0) & (sales == 0))


def _daily_sellable(
    session: Session, index: pd.Index, dates: pd.DatetimeIndex, tz: ZoneInfo
) -> pd.DataFrame:
    """The last snapshot of each SKU per day (summed over locations), incl. the one before."""
    start = datetime.combine(dates[0].date(), time(), tzinfo=tz) - timedelta(days=30)
    query = (
        sa.select(
            StockLevel.sku_id,
            StockLevel.location_id,
            StockLevel.as_of,
            StockLevel.on_hand - StockLevel.reserved,
        )
        .join(Location, Location.id == StockLevel.location_id)
        .where(StockLevel.as_of >= start, Location.kind == LocationKind.WAREHOUSE)
    )
    frame = _frame(session, query, ["sku_id", "location_id", "as_of", "sellable"])
    if frame.empty:
        return frame
    frame["day"] = pd.to_datetime(frame["as_of"], utc=True).dt.tz_convert(tz).dt.normalize()
    frame["day"] = frame["day"].dt.tz_localize(None).clip(lower=dates[0])
    last = frame.sort_values("as_of").groupby(["sku_id", "location_id", "day"]).tail(1)
    per_day = last.groupby(["sku_id", "day"], as_index=False)["sellable"].sum()
    return per_day[per_day["sku_id"].isin(index)]


def _promotions(session: Session, skus: pd.DataFrame) -> pd.DataFrame:
    """Every promotion expanded to the SKUs it covers (a category means all its SKUs)."""
    columns = ["name", "sku_id", "category", "start_date", "end_date", "uplift"]
    frame = _frame(session, sa.select(*(getattr(Promotion, c) for c in columns)), columns)
    by_sku = frame[frame["sku_id"].notna()]
    by_category = (
        frame[frame["sku_id"].isna()]
        .drop(columns="sku_id")
        .merge(skus[["sku_id", "category"]], on="category")
    )
    expanded = pd.concat([by_sku, by_category], ignore_index=True)
    expanded["sku_id"] = expanded["sku_id"].astype("int64")
    expanded["uplift"] = pd.to_numeric(expanded["uplift"], errors="coerce")
    return expanded[["sku_id", "name", "start_date", "end_date", "uplift"]]


def promotion_uplift(
    promotions: pd.DataFrame, index: pd.Index, dates: pd.DatetimeIndex
) -> np.ndarray:
    """(n, days): a promotion's uplift on the days it runs (NaN if not given), else 1."""
    matrix = np.ones((len(index), len(dates)))
    first, last = dates[0].date(), dates[-1].date()
    for promotion in promotions.itertuples(index=False):  # few rows: promotions, not SKUs
        row = index.get_indexer([promotion.sku_id])[0]
        if row < 0 or promotion.end_date < first or promotion.start_date > last:
            continue
        begin = max((promotion.start_date - first).days, 0)
        stop = min((promotion.end_date - first).days, len(dates) - 1) + 1
        matrix[row, begin:stop] = promotion.uplift if promotion.uplift > 0 else np.nan
    return matrix


def _open_po_skus(session: Session) -> frozenset[int]:
    query = (
        sa.select(PoLine.sku_id)
        .join(PurchaseOrder, PurchaseOrder.id == PoLine.po_id)
        .where(PurchaseOrder.status.in_(OPEN_STATUSES))
        .distinct()
    )
    return frozenset(session.scalars(query).all())
