"""Alert use cases the alert card's buttons call: draft a PO, snooze for a day, dismiss.

Like the PO workflow, each use case takes the caller's session (one transaction), checks the
actor's permission, changes the alert, writes an AuditEvent and queues the card update for
the alerts channel. Alerts change state with a guarded UPDATE (`WHERE status IN live`), so of
two people pressing at once one wins and the other hears who did it.
"""

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.drafts import lock_drafting, open_draft, po_total
from core.members import member_name
from core.models import (
    Alert,
    AlertStatus,
    AuditEvent,
    Member,
    PoLine,
    PurchaseOrder,
    Sku,
    SupplierTerm,
    utcnow,
)
from core.outbox import chats_for, queue
from core.permissions import Action, DomainError, require
from core.state import OPEN_STATUSES
from core.workflow import Outcome, round_to_terms, submit_for_approval

ENTITY = "alert"
LIVE = (AlertStatus.OPEN, AlertStatus.SNOOZED)


class AlertNotFound(DomainError):  # noqa: N818 (domain language)
    code = "alert_not_found"


class AlertClosed(DomainError):  # noqa: N818 (domain language)
    """The alert was snoozed, dismissed or resolved meanwhile: params say by whom and when."""

    code = "alert_closed"


class AlreadyOnOrder(DomainError):  # noqa: N818 (domain language)
    code = "already_on_order"


class NoSupplier(DomainError):  # noqa: N818 (domain language)
    code = "no_supplier"


class DismissReasonRequired(DomainError):  # noqa: N818 (domain language)
    code = "dismiss_reason_required"


@dataclass(frozen=True)
class AlertOutcome:
    alert: int
    action: str
    status: str
    by: str
    at: datetime
    po: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"at": self.at.isoformat()}


def snooze(session: Session, actor: Member, alert_id: int, *, until: datetime) -> AlertOutcome:
    """Quiet until `until`; the monitor pass reopens it then if the condition still holds."""
    alert = _load(session, alert_id)
    require(actor, Action.SNOOZE_ALERT, entity=ENTITY, entity_id=str(alert_id))
    _move(session, alert, (AlertStatus.OPEN,), AlertStatus.SNOOZED, snoozed_until=until)
    return _finish(session, alert, actor, "snoozed", until=until.isoformat())


def dismiss(session: Session, actor: Member, alert_id: int, *, reason: str) -> AlertOutcome:
    alert = _load(session, alert_id)
    require(actor, Action.DISMISS_ALERT, entity=ENTITY, entity_id=str(alert_id))
    if not reason.strip():
        raise DismissReasonRequired(alert=alert_id)
    _move(session, alert, LIVE, AlertStatus.DISMISSED)
    return _finish(session, alert, actor, "dismissed", reason=reason.strip())


def draft_po(session: Session, actor: Member, alert_id: int, *, today: date) -> Outcome:
    """Put the alert's SKU on its best supplier's draft (planned quantity, rounded to the
    terms) and submit that draft for approval, with the presser as requester."""
    alert = _load(session, alert_id)
    require(actor, Action.DRAFT_PO, entity=ENTITY, entity_id=str(alert_id))
    if alert.status not in LIVE or alert.sku_id is None:
        raise _closed(session, alert)
    lock_drafting(session)
    _refuse_if_on_order(session, alert.sku_id)
    term = _best_term(session, alert.sku_id)
    po = open_draft(session, term.supplier_id, today)
    session.add(
        PoLine(
            po_id=po.id,
            sku_id=alert.sku_id,
            qty=_planned_qty(alert, term),
            unit_price=term.unit_price,
        )
    )
    session.flush()
    po.total = po_total(session, po)
    outcome = submit_for_approval(session, actor, po.number)
    alert.details = {**alert.details, "po": po.number}
    _finish(session, alert, actor, "po_drafted", po=po.number)
    return outcome


def wake_snoozed(session: Session, now: datetime) -> list[int]:
    """Snoozed alerts whose time is up become open again (and their card is re-sent)."""
    woken = list(
        session.scalars(
            select(Alert).where(
                Alert.status == AlertStatus.SNOOZED, col(Alert.snoozed_until) <= now
            )
        )
    )
    for alert in woken:
        alert.status, alert.snoozed_until, alert.updated_at = AlertStatus.OPEN, None, now
        session.flush()
        notify_alert(session, alert, "reopened")
    return [alert.id for alert in woken if alert.id is not None]


# --- the card and its delivery -------------------------------------------------------------


def alert_json(session: Session, alert: Alert, event: str, **data: Any) -> dict[str, Any]:
    """An alert as plain JSON: what the bot's card builder renders in the reader's locale."""
    sku = session.get(Sku, alert.sku_id) if alert.sku_id is not None else None
    return {
        "type": "alert",
        "event": event,
        "alert": {
            "id": alert.id,
            "kind": alert.kind,
            "severity": alert.severity,
            "status": alert.status,
            "sku": sku.code if sku else None,
            "sku_name": sku.name if sku else None,
            "details": dict(alert.details),
            "snoozed_until": alert.snoozed_until.isoformat() if alert.snoozed_until else None,
        },
        **data,
    }


def notify_alert(session: Session, alert: Alert, event: str, **data: Any) -> int:
    """One outbox row per chat bound for alerts. The dedupe key's `alert:<id>` prefix makes
    later events update the first message in place."""
    card = alert_json(session, alert, event, **data)
    stamp = f"{alert.updated_at:%Y%m%dT%H%M%S%f}"
    prefix = f"alert:{alert.id}:{event}:{stamp}"
    return queue(
        session, chats_for(session, ["alerts"]), card, kind=f"alert.{event}", key_prefix=prefix
    )


# --- steps -----------------------------------------------------------------------------------


def _load(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise AlertNotFound(alert=alert_id)
    return alert


def _move(
    session: Session,
    alert: Alert,
    sources: tuple[AlertStatus, ...],
    to: AlertStatus,
    *,
    snoozed_until: datetime | None = None,
) -> None:
    """Change status only if it is still one of `sources`; else AlertClosed (who, when)."""
    now = utcnow()
    moved = session.execute(
        sa.update(Alert)
        .where(col(Alert.id) == alert.id, col(Alert.status).in_(sources))
        .values(status=to, updated_at=now, snoozed_until=snoozed_until)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(alert)
        raise _closed(session, alert)
    session.refresh(alert)


def _closed(session: Session, alert: Alert) -> AlertClosed:
    last = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity == ENTITY, AuditEvent.entity_id == str(alert.id))
        .order_by(col(AuditEvent.id).desc())
    ).first()
    member = session.get(Member, last.actor_id) if last and last.actor_id else None
    return AlertClosed(
        alert=alert.id,
        status=alert.status,
        by=member_name(member),
        at=last.at if last else alert.updated_at,
    )


def _refuse_if_on_order(session: Session, sku_id: int) -> None:
    number = session.scalar(
        select(PurchaseOrder.number)
        .join(PoLine, col(PoLine.po_id) == col(PurchaseOrder.id))
        .where(PoLine.sku_id == sku_id, col(PurchaseOrder.status).in_(OPEN_STATUSES))
    )
    if number is not None:
        sku = session.get(Sku, sku_id)
        raise AlreadyOnOrder(sku=sku.code if sku else sku_id, po=number)


def _best_term(session: Session, sku_id: int) -> SupplierTerm:
    term = session.scalars(
        select(SupplierTerm)
        .where(SupplierTerm.sku_id == sku_id)
        .order_by(
            col(SupplierTerm.rank), col(SupplierTerm.lead_time_days), col(SupplierTerm.unit_price)
        )
    ).first()
    if term is None:
        sku = session.get(Sku, sku_id)
        raise NoSupplier(sku=sku.code if sku else sku_id)
    return term


def _planned_qty(alert: Alert, term: SupplierTerm) -> int:
    """The plan's order quantity; failing that, enough to get back above the reorder point."""
    details = alert.details
    planned = _whole(details.get("order_qty"))
    if planned < 1:
        planned = _whole(details.get("reorder_point")) - _whole(details.get("position")) + 1
    return round_to_terms(max(planned, 1), term.moq, term.case_pack)


def _whole(value: object) -> int:
    try:
        return round(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return 0


def _finish(
    session: Session, alert: Alert, actor: Member, action: str, **data: Any
) -> AlertOutcome:
    alert.updated_at = utcnow()
    session.add(
        AuditEvent(
            at=alert.updated_at,
            actor_id=actor.id,
            action=f"alert.{action}",
            entity=ENTITY,
            entity_id=str(alert.id),
            data={"status": alert.status, **data},
        )
    )
    session.flush()
    by = member_name(actor)
    notify_alert(session, alert, action, by=by, at=alert.updated_at.isoformat(), **data)
    return AlertOutcome(
        alert=alert.id or 0,
        action=action,
        status=alert.status,
        by=by,
        at=alert.updated_at,
        po=data.get("po"),
    )
