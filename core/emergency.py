"""Emergency replenishment (緊急補貨機制): stock now, with its own approvers and a clock.

`open_emergency` drafts an emergency PO of its own (never the supplier's regular draft) with
the FASTEST supplier for the SKU (the shortest agreed lead time: a backup when it delivers
sooner), rounded to that supplier's MOQ and case pack, submits it for approval and asks the
first level of the approver chain (`core.emergency_routing`), starting the clock at `now`.
The PO then follows the normal workflow: `follow_po`, called by the workflow whenever an
emergency PO moves, stops the clock at the final approval (approved_at) and at the supplier's
confirmation (confirmed_at), follows a backup supplier's PO, and closes the request when the
PO is rejected or cancelled. Reminders, escalation and the backup offer are the watchdog's
(`core.emergency_watchdog`); the response-time KPI is `core.kpi`'s, read by `response_times`.
"""

import math
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from core.alerts import LIVE, NoSupplier, _closed
from core.alerts import _finish as alert_finish
from core.alerts import _load as load_alert
from core.approvers import DEFAULT_CHAIN, Chain
from core.calendar import TAIPEI
from core.drafts import _next_number, lock_drafting, po_total
from core.emergency_routing import emergency_json, requests_for, route
from core.kpi import durations
from core.kpi_data import emergencies
from core.members import member_name
from core.models import (
    Alert,
    AuditEvent,
    EmergencyRequest,
    Member,
    PoLine,
    PurchaseOrder,
    Sku,
    SupplierTerm,
)
from core.outbox import as_utc
from core.permissions import Action, DomainError, require
from core.stock_history import day_start
from core.workflow import round_to_terms, submit_for_approval
from core.workflow_errors import BadQuantity

ENTITY = "emergency"
OPEN, APPROVED, CONFIRMED = "open", "approved", "confirmed"
IN_FLIGHT = (OPEN, APPROVED)  # a SKU has at most one of these at a time
ENDED_BY = {"po.rejected": "rejected", "po.cancelled": "cancelled"}
ALERT_KINDS = frozenset({"surge", "imminent_stockout"})  # alerts that offer an emergency order
MAX_REASON = 500


class SkuNotFound(DomainError):  # noqa: N818 (domain language)
    code = "sku_not_found"


class EmergencyInFlight(DomainError):  # noqa: N818 (domain language)
    """The SKU already has an emergency order waiting for approval or confirmation."""

    code = "emergency_in_flight"


@dataclass(frozen=True)
class EmergencyRules:
    """`emergency.*` settings: the approver chain and how long each step may take."""

    chain: Chain = DEFAULT_CHAIN
    approve_within: timedelta = timedelta(minutes=30)
    confirm_within: timedelta = timedelta(minutes=60)


@dataclass(frozen=True)
class EmergencyOutcome:
    emergency: int
    po: str
    action: str
    status: str  # the PO's
    by: str
    at: datetime
    sku: str
    qty: int
    supplier: str
    lead_time_days: int
    faster_backup: bool
    messages: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"at": self.at.isoformat()}


# --- open -------------------------------------------------------------------------------------


def open_emergency(
    session: Session,
    actor: Member,
    *,
    sku_id: int,
    qty: int,
    reason: str,
    alert_id: int | None = None,
    now: datetime,
    rules: EmergencyRules,
) -> EmergencyOutcome:
    """Draft, submit and route an emergency PO for `qty` of the SKU (raised to the fastest
    supplier's MOQ and case pack); `alert_id` links the surge or stockout alert it answers."""
    sku = session.get(Sku, sku_id)
    code = sku.code if sku else str(sku_id)
    require(actor, Action.DRAFT_PO, entity=ENTITY, entity_id=code)
    if sku is None:
        raise SkuNotFound(sku=code)
    if qty < 1:
        raise BadQuantity(po="", sku=code, qty=qty)
    alert = _live_alert(session, alert_id, sku_id) if alert_id is not None else None
    lock_drafting(session)  # one drafter at a time: numbering, and one emergency per SKU
    _refuse_in_flight(session, sku)
    term = fastest_term(session, sku)
    po = _emergency_po(session, term, qty, reason, as_utc(now).astimezone(TAIPEI).date())
    submit_for_approval(session, actor, po.number, emergency=True)
    request = EmergencyRequest(
        sku_id=sku_id,
        qty=qty,
        reason=po.reason,
        alert_id=alert_id,
        po_id=po.id,
        requested_by_id=actor.id,
        requested_at=as_utc(now),
    )
    session.add(request)
    session.flush()
    _audit(session, actor, "emergency.opened", request, now, po=po.number, qty=qty)
    card = emergency_json(session, request, "opened", now=now, chain=rules.chain)
    sent = route(session, request, card, chain=rules.chain, now=now)
    if alert is not None:
        alert.details = {**alert.details, "emergency": po.number}
        alert_finish(session, alert, actor, "emergency_opened", po=po.number)
    return EmergencyOutcome(
        emergency=request.id or 0,
        po=po.number,
        action="emergency_opened",
        status=po.status,
        by=member_name(actor),
        at=as_utc(now),
        sku=code,
        qty=qty,
        supplier=card["po"]["supplier"] or "",
        lead_time_days=term.lead_time_days,
        faster_backup=bool(card["po"]["faster_backup"]),
        messages=sent,
    )


def fastest_term(session: Session, sku: Sku) -> SupplierTerm:
    """The supplier that delivers soonest (shortest agreed lead time; ties: better rank,
    lower price)."""
    term = session.scalars(
        select(SupplierTerm)
        .where(SupplierTerm.sku_id == sku.id)
        .order_by(
            col(SupplierTerm.lead_time_days),
            col(SupplierTerm.rank),
            col(SupplierTerm.unit_price),
            col(SupplierTerm.supplier_id),
        )
    ).first()
    if term is None:
        raise NoSupplier(sku=sku.code)
    return term


def alert_gap(details: dict[str, Any]) -> int:
    """What an alert says is missing: up to its reorder point, else its planned order, else
    one lead time of demand (the emergency form's suggested quantity)."""
    position, point = _number(details.get("position")), _number(details.get("reorder_point"))
    if point is not None and position is not None and point > position:
        return max(math.ceil(point - position), 1)
    order = _number(details.get("order_qty"))
    if order is not None and order >= 1:
        return math.ceil(order)
    demand, lead = _number(details.get("daily_demand")), _number(details.get("lead_time_days"))
    if demand is not None and lead is not None and demand * lead >= 1:
        return math.ceil(demand * lead)
    return 1


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _live_alert(session: Session, alert_id: int, sku_id: int) -> Alert:
    alert = load_alert(session, alert_id)
    if alert.status not in LIVE or alert.sku_id != sku_id:
        raise _closed(session, alert)
    return alert


def _refuse_in_flight(session: Session, sku: Sku) -> None:
    number = session.scalar(
        select(PurchaseOrder.number)
        .join(EmergencyRequest, col(EmergencyRequest.po_id) == col(PurchaseOrder.id))
        .where(EmergencyRequest.sku_id == sku.id, col(EmergencyRequest.status).in_(IN_FLIGHT))
    )
    if number is not None:
        raise EmergencyInFlight(sku=sku.code, po=number)


def _emergency_po(
    session: Session, term: SupplierTerm, qty: int, reason: str, today: date
) -> PurchaseOrder:
    po = PurchaseOrder(
        number=_next_number(session, today),
        supplier_id=term.supplier_id,
        emergency=True,
        reason=reason.strip()[:MAX_REASON],
    )
    session.add(po)
    session.flush()
    rounded = round_to_terms(qty, term.moq, term.case_pack)
    session.add(
        PoLine(po_id=po.id or 0, sku_id=term.sku_id, qty=rounded, unit_price=term.unit_price)
    )
    session.flush()
    po.total = po_total(session, po)
    return po


def _audit(
    session: Session,
    actor: Member | None,
    action: str,
    request: EmergencyRequest,
    at: datetime,
    **data: Any,
) -> None:
    session.add(
        AuditEvent(
            at=as_utc(at),
            actor_id=actor.id if actor else None,
            action=action,
            entity=ENTITY,
            entity_id=str(request.id),
            data={"status": request.status, "level": request.escalation_level, **data},
        )
    )
    session.flush()


# --- the clock, as the PO moves ---------------------------------------------------------------


def follow_po(session: Session, po: PurchaseOrder, action: str, at: datetime) -> None:
    """The workflow's hook for an emergency PO that moved (`action`: its audit name). The
    final approval and the supplier's confirmation stop the two clocks; a backup supplier's
    PO (approved by the reassignment) takes the request over; rejection or cancellation
    closes it."""
    for request in requests_for(session, po):
        if action == "po.approved" and request.po_id != po.id:
            request.po_id = po.id  # the backup supplier now owes the confirmation
        elif request.po_id != po.id:
            continue
        elif action == "po.approved" and request.approved_at is None:
            request.approved_at, request.status = as_utc(po.approved_at or at), APPROVED
        elif action == "po.confirmed" and request.confirmed_at is None:
            request.confirmed_at, request.status = as_utc(po.confirmed_at or at), CONFIRMED
        elif action in ENDED_BY and request.closed_at is None:
            request.status, request.closed_at = ENDED_BY[action], as_utc(at)
        else:
            continue
        _audit(session, None, f"emergency.{action.removeprefix('po.')}", request, at, po=po.number)


# --- the KPI ----------------------------------------------------------------------------------


def response_times(
    session: Session, start: date, end: date, *, tz: ZoneInfo = TAIPEI
) -> dict[str, Any]:
    """緊急補貨響應時間 for requests made on the local days `start`…`end` (both included):
    request → approval and approval → supplier confirmation, each {count, median, p90} in
    minutes. The definition is `core.kpi`'s (the same numbers `kpis()` reports)."""
    frame = emergencies(session, day_start(start, tz), day_start(end + timedelta(days=1), tz), tz)
    return {
        "requests": len(frame),
        "approve_minutes": asdict(durations(frame["approve_minutes"])),
        "confirm_minutes": asdict(durations(frame["confirm_minutes"])),
    }
