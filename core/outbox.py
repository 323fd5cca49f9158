"""What the workflow tells the chats: a PO as a plain-JSON card, queued in the outbox.

The card is neutral data (`type`, `event`, the PO and its lines); the bot renders it in the
reader's locale and the adapters turn it into Block Kit or Telegram keyboards. Targets come
from ChatBinding purposes ("approvals", "buyers", "supplier"); each row has a deterministic
dedupe key, so a replayed step never queues a second message.
"""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.models import (
    ChatBinding,
    OutboxMessage,
    PoLine,
    PurchaseOrder,
    Sku,
    Supplier,
    SupplierTerm,
)


def po_card(session: Session, po: PurchaseOrder, event: str, **data: Any) -> dict[str, Any]:
    """A PO as plain JSON: what the bot's card builder renders (in the reader's locale)."""
    supplier = session.get(Supplier, po.supplier_id)
    rows = session.execute(
        select(PoLine, Sku, SupplierTerm.price_band_pct)
        .join(Sku, col(Sku.id) == col(PoLine.sku_id))
        .outerjoin(
            SupplierTerm,
            sa.and_(
                col(SupplierTerm.sku_id) == col(PoLine.sku_id),
                col(SupplierTerm.supplier_id) == po.supplier_id,
            ),
        )
        .where(PoLine.po_id == po.id)
        .order_by(Sku.code)
    ).all()
    lines = [
        {
            "sku": sku.code,
            "name": sku.name,
            "qty": line.qty,
            "unit_price": str(line.unit_price),
            "price_band_pct": band,
        }
        for line, sku, band in rows
    ]
    at = data.pop("at", None)
    return {
        "type": "po",
        "event": event,
        "po": {
            "number": po.number,
            "status": po.status,
            "version": po.version,
            "supplier": supplier.code if supplier else None,
            "supplier_name": supplier.name if supplier else None,
            "emergency": po.emergency,
            "currency": po.currency,
            "total": str(po.total),
            "expected_arrival": str(po.expected_arrival) if po.expected_arrival else None,
            "reason": po.reason,
            "lines": lines,
        },
        "at": at.isoformat() if isinstance(at, datetime) else at,
        **data,
    }


def notify(
    session: Session, po: PurchaseOrder, event: str, purposes: list[str], card: dict[str, Any]
) -> int:
    """One outbox row per bound chat; the supplier purpose only reaches this PO's supplier."""
    bindings = session.scalars(
        select(ChatBinding)
        .where(col(ChatBinding.purpose).in_(purposes))
        .order_by(col(ChatBinding.id))
    ).all()
    sent = 0
    for binding in bindings:
        if binding.purpose == "supplier" and binding.supplier_id != po.supplier_id:
            continue
        key = f"po:{po.number}:{event}:{po.version}:{binding.platform}:{binding.chat_id}"
        session.add(
            OutboxMessage(
                platform=binding.platform,
                target=binding.chat_id,
                kind=f"po.{event}",
                card=card,
                dedupe_key=key[:200],
            )
        )
        sent += 1
    session.flush()
    return sent
