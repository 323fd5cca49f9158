"""The emergency requests' watchdog (緊急補貨的處理時限), run every minute by the scheduler.

Waiting for approval, per level of the approver chain, from the request (level 0) or the
escalation to this level: after `approve_within` one reminder to the level; after twice that
the next level is asked (escalation_level + 1, a new card to them), and its own clock starts.
The last level is reminded once and then left to the people already asked. Approved but
not confirmed by the supplier within `confirm_within`: the backup supplier is offered once
(the same offer card as a silent supplier's, `core.supplier_backup.offer_backup`), which
also lets a manager reassign the PO at once.

Idempotent and safe side by side: every step is a guarded UPDATE (`WHERE` the request is
still where this pass saw it), so a second pass, or a second scheduler, changes nothing.
"""

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from core.approvers import DEFAULT_CHAIN, Chain
from core.emergency import APPROVED, OPEN, _audit
from core.emergency_routing import emergency_json, route
from core.models import EmergencyRequest, PoStatus, PurchaseOrder
from core.outbox import as_utc
from core.supplier_backup import _system_event, offer_backup

R = EmergencyRequest


@dataclass
class EmergencyWatch:
    reminded: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    backup_offered: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[int]]:
        return asdict(self)


def emergency_watchdog(
    session: Session,
    now: datetime,
    *,
    approve_within: timedelta = timedelta(minutes=30),
    confirm_within: timedelta = timedelta(minutes=60),
    chain: Chain = DEFAULT_CHAIN,
) -> dict[str, list[int]]:
    """Remind, escalate and offer the backup where a request waited too long; returns the
    request ids each step touched."""
    now, watch = as_utc(now), EmergencyWatch()
    chain = chain or DEFAULT_CHAIN
    waiting = session.scalars(select(R).where(R.status == OPEN).order_by(col(R.id))).all()
    for request in waiting:
        _chase_approval(session, request, now, approve_within, chain, watch)
    unconfirmed = session.scalars(
        select(R)
        .where(R.status == APPROVED, col(R.backup_offered_at).is_(None))
        .order_by(col(R.id))
    ).all()
    for request in unconfirmed:
        _chase_confirmation(session, request, now, confirm_within, watch)
    return watch.as_dict()


# --- approval ---------------------------------------------------------------------------------


def _chase_approval(
    session: Session,
    request: EmergencyRequest,
    now: datetime,
    within: timedelta,
    chain: Chain,
    watch: EmergencyWatch,
) -> None:
    level = request.escalation_level
    since = as_utc(request.escalated_at if level and request.escalated_at else request.requested_at)
    waited = now - since
    if level + 1 < len(chain) and waited >= 2 * within:
        if _guarded(session, request, _at_level(request, level), escalation_level=level + 1):
            session.execute(sa.update(R).where(col(R.id) == request.id).values(escalated_at=now))
            session.refresh(request)
            _tell(session, request, "escalated", now, chain, waited, from_level=level)
            watch.escalated.append(request.id or 0)
        return
    if waited >= within:
        not_yet = sa.or_(col(R.reminded_at).is_(None), col(R.reminded_at) < since)
        if _guarded(session, request, _at_level(request, level) & not_yet, reminded_at=now):
            _tell(session, request, "reminded", now, chain, waited)
            watch.reminded.append(request.id or 0)


def _at_level(request: EmergencyRequest, level: int) -> Any:
    return (col(R.id) == request.id) & (col(R.status) == OPEN) & (col(R.escalation_level) == level)


def _guarded(session: Session, request: EmergencyRequest, where: Any, **values: Any) -> bool:
    """Change the request only while `where` holds: one pass (of any process) gets there."""
    changed = session.execute(
        sa.update(R).where(where).values(**values).execution_options(synchronize_session=False)
    )
    session.refresh(request)
    return changed.rowcount == 1  # type: ignore[attr-defined]


def _tell(
    session: Session,
    request: EmergencyRequest,
    event: str,
    now: datetime,
    chain: Chain,
    waited: timedelta,
    **facts: Any,
) -> None:
    minutes = int(waited.total_seconds() // 60)
    _audit(session, None, f"emergency.{event}", request, now, waited_minutes=minutes, **facts)
    card = emergency_json(session, request, event, now=now, chain=chain) | facts
    route(session, request, card, chain=chain, now=now)


# --- confirmation -----------------------------------------------------------------------------


def _chase_confirmation(
    session: Session,
    request: EmergencyRequest,
    now: datetime,
    within: timedelta,
    watch: EmergencyWatch,
) -> None:
    po = session.get(PurchaseOrder, request.po_id) if request.po_id else None
    if po is None or request.approved_at is None or po.status != PoStatus.SENT:
        return  # not with a supplier yet (no bound chat: a buyer sends it), or answered
    waited = now - as_utc(request.approved_at)
    if waited < within:
        return
    facts = {
        "minutes": int(waited.total_seconds() // 60),
        "confirm_within_minutes": int(within.total_seconds() // 60),
    }
    unoffered = (
        (col(R.id) == request.id) & (col(R.status) == APPROVED) & col(R.backup_offered_at).is_(None)
    )
    try:
        with session.begin_nested():
            if not _guarded(session, request, unoffered, backup_offered_at=now):
                return
            _audit(session, None, "emergency.backup_offered", request, now, po=po.number, **facts)
            if po.backup_offered_at is None:  # the supplier SLA's offer did not come first
                po.backup_offered_at = now
                _system_event(session, po, "po.backup_offered", now, facts)
                offer_backup(session, po, "emergency_overdue", by="system", at=now, **facts)
    except StaleDataError:
        return  # the PO changed meanwhile (confirmed, say): the next pass looks again
    watch.backup_offered.append(request.id or 0)
