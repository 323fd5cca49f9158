"""The current state of a supplier-flow card, for the reply after a press: the PO itself
(`core.views.po_view`), a price escalation (type "price") or a backup offer (type
"backup_offer"), in the same JSON shapes the outbox queues, so one renderer serves both."""

from typing import Any

from sqlmodel import Session, col, select

from core.models import AuditEvent, PurchaseOrder, Sku, SupplierTerm
from core.supplier_backup import backups
from core.views import po_view
from core.workflow import ENTITY

DECIDED = frozenset({"price_approved", "price_refused"})


def price_view(session: Session, number: str, sku: str) -> dict[str, Any] | None:
    """The price card for our SKU `sku` on the PO: agreed (the supplier's term), proposed
    (still waiting on the line, or what was just decided), and whether it is still open."""
    data = po_view(session, number)
    po = _po(session, number)
    if data is None or po is None:
        return None
    line = next((x for x in data["po"]["lines"] if x["sku"] == sku), None)
    if line is None:
        return None
    term = session.scalars(
        select(SupplierTerm)
        .join(Sku, col(Sku.id) == col(SupplierTerm.sku_id))
        .where(SupplierTerm.supplier_id == po.supplier_id, Sku.code == sku)
    ).first()
    decided = data.get("event") in DECIDED and data.get("sku") == sku
    waiting = line["proposed_price"] is not None
    price = {
        "sku": sku,
        "supplier_sku": line["supplier_sku"],
        "name": line["name"],
        "qty": line["qty"],
        "agreed": str(term.unit_price) if term else line["unit_price"],
        "proposed": line["proposed_price"] if waiting else data.get("price") if decided else None,
        "band_pct": term.price_band_pct if term else 0.0,
    }
    event = "price_escalated" if waiting else data["event"] if decided else "price_decided"
    return data | {"type": "price", "event": event, "price": price}


def offer_view(session: Session, number: str) -> dict[str, Any] | None:
    """The backup offer as it stands: the PO, its per-line backups, and how late it was
    when the watchdog offered them (none after a decline)."""
    data = po_view(session, number)
    po = _po(session, number)
    if data is None or po is None:
        return None
    offers = [backup.as_json() for backup in backups(session, po)]
    late = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.entity == ENTITY,
            AuditEvent.entity_id == number,
            AuditEvent.action == "po.backup_offered",
        )
        .order_by(col(AuditEvent.id).desc())
    ).first()
    hours = {k: late.data.get(k) for k in ("hours", "sla_hours")} if late else {}
    return data | hours | {"type": "backup_offer", "backups": offers}


def _po(session: Session, number: str) -> PurchaseOrder | None:
    return session.scalars(select(PurchaseOrder).where(PurchaseOrder.number == number)).first()
