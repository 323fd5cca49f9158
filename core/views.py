"""A PO or alert as it stands now, as card data, with the last thing that happened to it.

The workflow queues a card for each event; a chat reply needs the *current* card (after a
replayed press, or a press that lost the race, it must show what the winner did). Both read
the same JSON shapes (`core.outbox.po_card`, `core.alerts.alert_json`); the footer comes
from the newest audit event.
"""

from typing import Any

from sqlmodel import Session, col, select

from core.alerts import ENTITY as ALERT_ENTITY
from core.alerts import alert_json
from core.members import member_name
from core.models import Alert, AuditEvent, Member, PurchaseOrder
from core.outbox import po_card
from core.workflow import ENTITY as PO_ENTITY

# Audit action → the card event it shows (the names the workflow queues cards under).
PO_EVENTS = {
    "po.drafted": "drafted",
    "po.submitted": "submit",
    "po.first_approval": "first_approval",
    "po.approved": "approve",
    "po.rejected": "reject",
    "po.edited": "edit",
    "po.cancelled": "cancel",
    "po.sent": "send",
    "po.confirmed": "confirm",
    "po.declined": "decline",
    "po.reassigned": "reassign",
    "po.shipped": "ship",
    "po.price_accepted": "price_accepted",
    "po.price_escalated": "price_escalated",
    "po.price_approved": "price_approved",
    "po.price_refused": "price_refused",
    "po.reminded": "reminded",
    "po.backup_offered": "backup_offered",
}
_NOT_SHOWN = {"status", "version", "lines"}  # the card reads these from the PO itself


def po_view(session: Session, number: str) -> dict[str, Any] | None:
    po = session.scalars(select(PurchaseOrder).where(PurchaseOrder.number == number)).first()
    if po is None:
        return None
    last = _last_event(session, PO_ENTITY, number, tuple(PO_EVENTS))
    if last is None:
        return po_card(session, po, "")
    return po_card(session, po, PO_EVENTS[last.action], **_footer(session, last))


def alert_view(session: Session, alert_id: int) -> dict[str, Any] | None:
    alert = session.get(Alert, alert_id)
    if alert is None:
        return None
    last = _last_event(session, ALERT_ENTITY, str(alert_id), None)
    if last is None:
        return alert_json(session, alert, "")
    return alert_json(session, alert, last.action.removeprefix("alert."), **_footer(session, last))


def _last_event(
    session: Session, entity: str, entity_id: str, actions: tuple[str, ...] | None
) -> AuditEvent | None:
    query = select(AuditEvent).where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
    if actions is not None:
        query = query.where(col(AuditEvent.action).in_(actions))
    else:  # what was done to it, not refusals of what was tried
        query = query.where(col(AuditEvent.action).startswith(f"{entity}."))
    return session.scalars(query.order_by(col(AuditEvent.id).desc())).first()


def _footer(session: Session, event: AuditEvent) -> dict[str, Any]:
    member = session.get(Member, event.actor_id) if event.actor_id is not None else None
    by = member_name(member)
    data = {k: v for k, v in event.data.items() if k not in _NOT_SHOWN}
    return {**data, "by": by, "at": event.at.isoformat()}
