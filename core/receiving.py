"""Goods received (收貨): logistics books a delivery against a confirmed PO.

The last step of the article's flow (供應商發貨 → 物流協調員安排入庫 → 庫存管理員更新庫存數據):
each line's received quantity grows, the warehouse's on-hand gets a new snapshot with the
goods added, and the PO moves to `received` (a second delivery of a partial order stays
there). Like every PO use case it checks permission, changes state version-checked, audits
and tells the chats in the caller's transaction (`core.workflow._step` / `_finish`).
`received_at` is the latest delivery: the KPIs' on-time check reads it.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from core.models import Member, PoLine, PurchaseOrder, Sku, StockLevel
from core.outbox import as_utc
from core.permissions import Action, DomainError
from core.workflow import Outcome, _finish, _step
from core.workflow_errors import BadQuantity, NotOnOrder

TOLD = ["buyers", "logistics"]  # who hears of a delivery (the PO card, updated in place)


class NothingToReceive(DomainError):  # noqa: N818 (domain language)
    """Every line is already in full and no quantity was given."""

    code = "nothing_to_receive"


class NoWarehouse(DomainError):  # noqa: N818 (domain language)
    """There is no location to book the goods into."""

    code = "no_warehouse"


def receive(
    session: Session,
    actor: Member,
    number: str,
    *,
    location_id: int,
    now: datetime,
    quantities: Mapping[int, int] | None = None,
) -> Outcome:
    """Book a delivery at `location_id`: `quantities` (SKU id → units arrived now), or, when
    None, whatever each line still lacks. Over-deliveries are booked as counted."""
    with _step(session, actor, number, Action.RECEIVE) as po:
        lines = {line.sku_id: line for line in session.scalars(_lines_of(po))}
        booked = _booked(session, po, lines, quantities)
        if not booked:
            raise NothingToReceive(po=po.number)
        for sku_id, qty in booked.items():
            lines[sku_id].received_qty += qty
            _add_stock(session, sku_id, location_id, qty, now)
        po.received_at = now
        received = {_code(session, sku_id): qty for sku_id, qty in booked.items()}
        return _finish(
            session, po, actor, Action.RECEIVE, TOLD, audit_as="po.received", received=received
        )


def _booked(
    session: Session,
    po: PurchaseOrder,
    lines: Mapping[int, PoLine],
    quantities: Mapping[int, int] | None,
) -> dict[int, int]:
    if quantities is None:  # the whole remainder of every line
        return {
            sku_id: line.qty - line.received_qty
            for sku_id, line in lines.items()
            if line.qty > line.received_qty
        }
    for sku_id, qty in quantities.items():
        if sku_id not in lines:
            raise NotOnOrder(po=po.number, sku=_code(session, sku_id))
        if qty < 0:
            raise BadQuantity(po=po.number, sku=_code(session, sku_id), qty=qty)
    return {sku_id: qty for sku_id, qty in quantities.items() if qty > 0}


def _add_stock(session: Session, sku_id: int, location_id: int, qty: int, now: datetime) -> None:
    """A new on-hand snapshot: the latest count plus what arrived (reservations unchanged)."""
    latest = session.scalars(
        select(StockLevel)
        .where(StockLevel.sku_id == sku_id, StockLevel.location_id == location_id)
        .order_by(col(StockLevel.as_of).desc())
    ).first()
    on_hand = latest.on_hand if latest else 0
    reserved = latest.reserved if latest else 0
    if latest is not None and _same_instant(latest.as_of, now):
        latest.on_hand = on_hand + qty  # two deliveries booked in the same instant
        return
    session.add(
        StockLevel(
            sku_id=sku_id,
            location_id=location_id,
            on_hand=on_hand + qty,
            reserved=reserved,
            as_of=now,
        )
    )


def _same_instant(stored: datetime, now: datetime) -> bool:
    return as_utc(stored) == as_utc(now)  # SQLite hands back naive UTC


def _code(session: Session, sku_id: int) -> str:
    sku = session.get(Sku, sku_id)
    return sku.code if sku else str(sku_id)


def _lines_of(po: PurchaseOrder) -> Any:
    return select(PoLine).where(PoLine.po_id == po.id)
