"""What the KPIs read, in bulk: SKUs with their cost and primary supplier, daily sales as
(SKU × day) matrices, received PO lines and emergency requests (core/kpi.py defines the KPIs).

Sales come as one text row per SKU of "day,qty,revenue,…" triples parsed by numpy in C, as
core/state.py reads them: millions of (SKU, day) rows never become Python objects.
"""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session

from core.models import EmergencyRequest, PoLine, PurchaseOrder, SalesDay, Sku, SupplierTerm


def _frame(session: Session, query: sa.Select, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(session.execute(query).all(), columns=columns)


# --- SKUs: cost, primary supplier, scope ------------------------------------------------------


def sku_frame(session: Session) -> pd.DataFrame:
    """sku_id, category, active, supplier_id (primary), cost (float, NaN when unknown).

    The primary supplier is the best-ranked term (ties: shorter lead time, lower price, lower
    supplier id, as supplier choice orders them); cost is its unit price, else the SKU's
    own unit cost.
    """
    skus = _frame(
        session,
        sa.select(Sku.id, Sku.category, Sku.active, Sku.unit_cost).order_by(Sku.id),
        ["sku_id", "category", "active", "unit_cost"],
    )
    t = SupplierTerm
    terms = _frame(
        session,
        sa.select(t.sku_id, t.supplier_id, t.rank, t.lead_time_days, t.unit_price),
        ["sku_id", "supplier_id", "rank", "lead_time_days", "unit_price"],
    )
    order = ["sku_id", "rank", "lead_time_days", "unit_price", "supplier_id"]
    primary = terms.sort_values(order).drop_duplicates("sku_id").set_index("sku_id")
    frame = skus.join(primary[["supplier_id", "unit_price"]], on="sku_id")
    price = pd.to_numeric(frame["unit_price"], errors="coerce").astype("float64")
    own = pd.to_numeric(frame["unit_cost"], errors="coerce").astype("float64")
    frame["cost"] = price.fillna(own)
    frame["supplier_id"] = frame["supplier_id"].astype("Int64")
    frame["active"] = frame["active"].astype(bool)
    return frame[["sku_id", "category", "active", "supplier_id", "cost"]]


def in_scope(
    skus: pd.DataFrame, supplier_id: int | None, category: str | None
) -> "pd.Series[bool]":
    """SKUs a per-supplier (primary supplier) or per-category KPI covers; all by default."""
    keep = pd.Series(True, index=skus.index)
    if supplier_id is not None:
        keep &= (skus["supplier_id"] == supplier_id).fillna(False).astype(bool)
    if category is not None:
        keep &= skus["category"] == category
    return keep


# --- sales -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sales:
    """Units per (SKU, day) from `first` on, and units and revenue per day (all SKUs given)."""

    first: date
    qty: np.ndarray  # (n, days)
    daily_qty: np.ndarray  # (days,)
    daily_revenue: np.ndarray  # (days,)


def _day_offset(session: Session, first: date) -> sa.ColumnElement:
    if session.get_bind().dialect.name == "sqlite":
        return sa.cast(
            sa.func.julianday(SalesDay.day) - sa.func.julianday(first.isoformat()), sa.Integer
        )
    return SalesDay.day - sa.literal(first, sa.Date)


def load_sales(session: Session, index: pd.Index, first: date, last: date) -> Sales:
    """Sales of the SKUs in `index` (others are dropped) from `first` to `last` inclusive."""
    days = (last - first).days + 1
    text = sa.String
    triple = (
        sa.cast(_day_offset(session, first), text)
        + ","
        + sa.cast(SalesDay.qty, text)
        + ","
        + sa.cast(SalesDay.revenue, text)
    )
    query = (
        sa.select(SalesDay.sku_id, sa.func.aggregate_strings(triple, ","))
        .where(SalesDay.day >= first, SalesDay.day <= last)
        .group_by(SalesDay.sku_id)
    )
    rows = session.execute(query).all()
    qty = np.zeros((len(index), days))
    if not rows:
        return Sales(first, qty, np.zeros(days), np.zeros(days))
    texts = [text for _, text in rows]
    values = np.fromstring(",".join(texts), sep=",", dtype="float64").reshape(-1, 3)
    per_sku = np.fromiter(((t.count(",") + 1) // 3 for t in texts), np.int64, len(rows))
    rows_of = np.repeat(index.get_indexer([sku_id for sku_id, _ in rows]), per_sku)
    keep = rows_of >= 0
    day = values[keep, 0].astype(np.int64)
    cells = rows_of[keep] * days + day
    qty = np.bincount(cells, weights=values[keep, 1], minlength=qty.size).reshape(qty.shape)
    daily_qty = np.bincount(day, weights=values[keep, 1], minlength=days)
    daily_revenue = np.bincount(day, weights=values[keep, 2], minlength=days)
    return Sales(first, qty, daily_qty, daily_revenue)


# --- purchasing and emergencies ---------------------------------------------------------------


def local_day(moments: pd.Series, tz: ZoneInfo) -> pd.Series:
    """Stored UTC instants (naive from SQLite) as local calendar days."""
    return pd.to_datetime(moments, utc=True).dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()


def received_lines(
    session: Session, first: datetime, after: datetime, tz: ZoneInfo
) -> pd.DataFrame:
    """PO lines of POs received in [first, after): sku_id, supplier_id, day, on_time, in_full.

    On time: received on or before the promised day (the supplier's confirmed arrival, else
    the arrival we asked for); a PO with neither cannot be on time. In full: received_qty ≥ qty.
    """
    po = PurchaseOrder
    query = (
        sa.select(
            PoLine.sku_id,
            po.supplier_id,
            po.received_at,
            sa.func.coalesce(po.expected_arrival, po.requested_arrival),
            PoLine.qty,
            PoLine.received_qty,
        )
        .join(po, po.id == PoLine.po_id)
        .where(po.received_at >= first, po.received_at < after)
    )
    columns = ["sku_id", "supplier_id", "received_at", "promised", "qty", "received_qty"]
    frame = _frame(session, query, columns)
    frame["day"] = local_day(frame["received_at"], tz)
    promised = pd.to_datetime(frame["promised"])
    frame["on_time"] = (frame["day"] <= promised).fillna(False).astype(bool)
    frame["in_full"] = frame["received_qty"] >= frame["qty"]
    return frame[["sku_id", "supplier_id", "day", "on_time", "in_full"]]


def emergencies(session: Session, first: datetime, after: datetime, tz: ZoneInfo) -> pd.DataFrame:
    """Emergency requests made in [first, after): sku_id, supplier_id (of the PO, if any), day,
    and the minutes from request to approval and from approval to supplier confirmation."""
    e, po = EmergencyRequest, PurchaseOrder
    query = (
        sa.select(e.sku_id, po.supplier_id, e.requested_at, e.approved_at, e.confirmed_at)
        .outerjoin(po, po.id == e.po_id)
        .where(e.requested_at >= first, e.requested_at < after)
    )
    columns = ["sku_id", "supplier_id", "requested_at", "approved_at", "confirmed_at"]
    frame = _frame(session, query, columns)
    moments = {c: pd.to_datetime(frame[c], utc=True) for c in columns[2:]}
    minute = pd.Timedelta(minutes=1)
    frame["approve_minutes"] = (moments["approved_at"] - moments["requested_at"]) / minute
    frame["confirm_minutes"] = (moments["confirmed_at"] - moments["approved_at"]) / minute
    frame["day"] = local_day(frame["requested_at"], tz)
    frame["supplier_id"] = frame["supplier_id"].astype("Int64")
    return frame[["sku_id", "supplier_id", "day", "approve_minutes", "confirm_minutes"]]
