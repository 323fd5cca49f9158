"""The PO webhook's storage half: what the ERP/WMS is owed when a PO moves, queued in the
outbox as platform "webhook" (`bot/dispatch.py` posts it; adapters/webhook.py signs it).

Owed, each once (the row's dedupe key is `webhook:<PO number>:<event>`, so a replayed step
or a concurrent one queues nothing twice):

- `po.approved`: the final approval, when `export.po_webhook_url` is set (the bot passes a
  `PoWebhook` in the approval rules); emergency POs alike. A backup supplier's PO, approved
  by the reassignment, is owed when the PO it replaces was exported.
- `po.cancelled`, `po.reassigned`: an exported PO that is called off, so the ERP closes it.

The body is frozen when the row is queued: `po export --format json`'s document for the PO
(core/po_export.py), in the shop's time zone, so every retry posts the same bytes.
"""

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from core.models import OutboxMessage, PurchaseOrder
from core.po_export import po_document

PLATFORM = "webhook"
TARGET = "po_webhook"  # the URL is read from settings when the row is sent
APPROVED = "po.approved"
FOLLOW_UPS = frozenset({"po.cancelled", "po.reassigned"})


@dataclass(frozen=True)
class PoWebhook:
    """`export.po_webhook_url` is set: final approvals are queued for it, times in `tz`."""

    tz: ZoneInfo


def dedupe_key(number: str, event: str) -> str:
    return f"{PLATFORM}:{number}:{event}"


def queue_po_event(
    session: Session,
    po: PurchaseOrder,
    event: str,
    *,
    webhook: PoWebhook | None,
    reassigned_from: str | None = None,
) -> int:
    """Queue the row this step (`event`: its audit name) owes the ERP, if any: 1 queued,
    0 when nothing is owed or it was queued before."""
    tz = _owed(session, po, event, webhook, reassigned_from)
    if tz is None:
        return 0
    document = po_document(session, po.number, tz)
    if document is None:  # no lines: nothing an ERP could book
        return 0
    card = {
        "type": "webhook",
        "event": event,
        "idempotency_key": f"{po.number}:{event}",
        "tz": tz.key,
        "body": document,
    }
    return _insert(session, dedupe_key(po.number, event), card, kind=f"{event} {po.number}")


def exported_tz(session: Session, number: str) -> ZoneInfo | None:
    """The time zone PO `number` was exported in; None when it never was."""
    card = session.scalars(
        select(OutboxMessage.card).where(OutboxMessage.dedupe_key == dedupe_key(number, APPROVED))
    ).first()
    return None if card is None else ZoneInfo(str(card.get("tz") or "UTC"))


def _owed(
    session: Session,
    po: PurchaseOrder,
    event: str,
    webhook: PoWebhook | None,
    reassigned_from: str | None,
) -> ZoneInfo | None:
    """The time zone to export in when this event is owed, else None."""
    if event == APPROVED and webhook is not None:
        return webhook.tz
    if event == APPROVED and reassigned_from:  # the backup's PO follows the one it replaces
        return exported_tz(session, reassigned_from)
    if event in FOLLOW_UPS:
        return exported_tz(session, po.number)
    return None


def _insert(session: Session, key: str, card: dict[str, Any], *, kind: str) -> int:
    """1 when queued; 0 when the key exists (queued before, or by a concurrent step)."""
    if session.scalars(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)).first():
        return 0
    row = OutboxMessage(platform=PLATFORM, target=TARGET, kind=kind[:40], card=card, dedupe_key=key)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return 0
    return 1
