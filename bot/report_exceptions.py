"""What needs a person now (異常事件報告): the events behind the exception report.

Each source reads the current state, so an exception that was dealt with drops out by
itself: a PO the supplier declined (still waiting for a backup), a PO past its expected
arrival, a supplier price outside the agreed band waiting for a manager, a selling SKU out
of stock, a chat message that could not be delivered. Each event has a stable key naming
this one occurrence (a PO pushed to a later date and late again is a new event; so is a
SKU out of stock again after a restock), by which it is reported once.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.models import (
    OutboxMessage,
    OutboxStatus,
    PoLine,
    PoStatus,
    PurchaseOrder,
    SalesDay,
    Sku,
    StockLevel,
    Supplier,
    SupplierTerm,
)
from core.outbox import as_utc
from core.state import OPEN_STATUSES

SELLING_DAYS = 28  # a SKU out of stock matters when it sold within this many days
REPORT_KINDS = "report."  # failed report rows are not reported again (no loop on a dead chat)
ERROR_CHARS = 120
KEY_CHARS = 64  # AuditEvent.entity_id, where a reported key is recorded


@dataclass(frozen=True)
class ExceptionEvent:
    """`kind` is one of po_declined, po_overdue, price_escalation, stockout, delivery_failed;
    `facts` are the card's plain values (PO number, SKU, prices as strings…)."""

    kind: str
    key: str
    facts: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key, **self.facts}


def open_exceptions(session: Session, today: date) -> list[ExceptionEvent]:
    """Every current exception, most pressing kinds first; `today` is the shop's local day."""
    return [
        *declined_pos(session),
        *overdue_pos(session, today),
        *price_escalations(session),
        *stockouts(session, today),
        *failed_deliveries(session),
    ]


def short_key(text: str) -> str:
    """The key as it is recorded: as given when it fits, else a prefix and a hash."""
    if len(text) <= KEY_CHARS:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"{text[: KEY_CHARS - 17]}#{digest}"


def declined_pos(session: Session) -> list[ExceptionEvent]:
    rows = session.execute(
        select(PurchaseOrder, Supplier.name)
        .join(Supplier, col(Supplier.id) == col(PurchaseOrder.supplier_id))
        .where(PurchaseOrder.status == PoStatus.DECLINED)
        .order_by(PurchaseOrder.number)
    ).all()
    return [
        ExceptionEvent(
            "po_declined",
            short_key(f"declined:{po.number}"),
            {"po": po.number, "supplier": name, "reason": po.reason},
        )
        for po, name in rows
    ]


def overdue_pos(session: Session, today: date) -> list[ExceptionEvent]:
    """Sent or confirmed, and the expected arrival day has passed without receipt."""
    rows = session.execute(
        select(PurchaseOrder, Supplier.name)
        .join(Supplier, col(Supplier.id) == col(PurchaseOrder.supplier_id))
        .where(
            col(PurchaseOrder.status).in_((PoStatus.SENT, PoStatus.CONFIRMED)),
            col(PurchaseOrder.expected_arrival) < today,
        )
        .order_by(col(PurchaseOrder.expected_arrival), col(PurchaseOrder.number))
    ).all()
    return [
        ExceptionEvent(
            "po_overdue",
            short_key(f"overdue:{po.number}:{po.expected_arrival}"),
            {
                "po": po.number,
                "supplier": name,
                "expected_arrival": str(po.expected_arrival),
                "days_late": (today - po.expected_arrival).days if po.expected_arrival else 0,
            },
        )
        for po, name in rows
    ]


def price_escalations(session: Session) -> list[ExceptionEvent]:
    """A supplier's price outside the band, waiting on the line for a manager."""
    term_of = sa.and_(
        col(SupplierTerm.sku_id) == col(PoLine.sku_id),
        col(SupplierTerm.supplier_id) == col(PurchaseOrder.supplier_id),
    )
    rows = session.execute(
        sa.select(
            col(PurchaseOrder.number),
            col(Sku.code),
            col(Sku.name),
            PoLine,
            col(SupplierTerm.unit_price),
        )
        .join(PoLine, col(PoLine.po_id) == col(PurchaseOrder.id))
        .join(Sku, col(Sku.id) == col(PoLine.sku_id))
        .outerjoin(SupplierTerm, term_of)
        .where(
            col(PoLine.proposed_price).is_not(None),
            col(PurchaseOrder.status).in_(OPEN_STATUSES),
        )
        .order_by(PurchaseOrder.number, Sku.code)
    ).all()
    return [
        ExceptionEvent(
            "price_escalation",
            short_key(f"price:{number}:{code}:{line.proposed_price}"),
            {
                "po": number,
                "sku": code,
                "name": name,
                "proposed": str(line.proposed_price),
                "agreed": str(agreed if agreed is not None else line.unit_price),
            },
        )
        for number, code, name, line, agreed in rows
    ]


def stockouts(session: Session, today: date) -> list[ExceptionEvent]:
    """Active SKUs that sold lately and have nothing on hand (all locations together). The
    key carries the last count that still had stock: one event per stockout, not per day."""
    out = _out_of_stock(session, today)
    if not out:
        return []
    s = StockLevel.__table__  # type: ignore[attr-defined]
    last_stocked = dict(
        session.execute(
            sa.select(s.c.sku_id, sa.func.max(s.c.as_of))
            .where(s.c.on_hand > 0, s.c.sku_id.in_(list(out)))
            .group_by(s.c.sku_id)
        ).all()
    )
    events = []
    for sku_id, (code, name) in sorted(out.items(), key=lambda item: item[1][0]):
        since = last_stocked.get(sku_id)
        stamp = f"{as_utc(since):%Y%m%d%H%M}" if isinstance(since, datetime) else "never"
        events.append(
            ExceptionEvent(
                "stockout", short_key(f"stockout:{code}:{stamp}"), {"sku": code, "name": name}
            )
        )
    return events


def _out_of_stock(session: Session, today: date) -> dict[int, tuple[str, str]]:
    s = StockLevel.__table__  # type: ignore[attr-defined]
    newest = (
        sa.select(s.c.sku_id, s.c.location_id, sa.func.max(s.c.as_of).label("as_of"))
        .group_by(s.c.sku_id, s.c.location_id)
        .subquery()
    )
    on_hand = (
        sa.select(s.c.sku_id)
        .join(
            newest,
            sa.and_(
                s.c.sku_id == newest.c.sku_id,
                s.c.location_id == newest.c.location_id,
                s.c.as_of == newest.c.as_of,
            ),
        )
        .group_by(s.c.sku_id)
        .having(sa.func.sum(s.c.on_hand) <= 0)
    )
    selling = (
        sa.select(col(SalesDay.sku_id))
        .where(col(SalesDay.day) >= today - timedelta(days=SELLING_DAYS), col(SalesDay.qty) > 0)
        .distinct()
    )
    rows = session.execute(
        sa.select(col(Sku.id), col(Sku.code), col(Sku.name)).where(
            col(Sku.active).is_(True), col(Sku.id).in_(on_hand), col(Sku.id).in_(selling)
        )
    ).all()
    return {int(sku_id): (code, name) for sku_id, code, name in rows}


def failed_deliveries(session: Session) -> list[ExceptionEvent]:
    rows = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.FAILED,
            sa.not_(col(OutboxMessage.kind).startswith(REPORT_KINDS, autoescape=True)),
        )
        .order_by(col(OutboxMessage.id))
    ).all()
    return [
        ExceptionEvent(
            "delivery_failed",
            short_key(f"failed:{row.id}"),
            {
                "platform": row.platform,
                "target": row.target,
                "what": row.kind,
                "error": row.last_error[:ERROR_CHARS],
            },
        )
        for row in rows
    ]
