"""The supplier side of the PO workflow: send, confirm, price, ship, and what a supplier sees.

The article's 事前協議 made concrete: per SKU, each supplier agreed its own item code, a unit
price with a band (價格浮動範圍) and a lead time in Taiwan working days. The use cases follow
`core.workflow`: (session, actor, PO number, …) → Outcome, with the permission check, the
version-checked change, the AuditEvent and the outbox cards in the caller's transaction.
Decline → backup supplier (備用供應商) and the SLA watchdog are in `core.supplier_backup`.

A supplier member sees only POs sent to its own supplier: any other number is answered
exactly like a missing one (`po_not_found`) and the attempt is audited, so guessing numbers
reveals nothing, not even which numbers exist.
"""

import statistics
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.calendar import TAIPEI, add_working_days
from core.drafts import po_total
from core.models import (
    ChatBinding,
    LeadTimeObservation,
    Member,
    PoLine,
    PoStatus,
    PurchaseOrder,
    Role,
    Sku,
    SupplierTerm,
    utcnow,
)
from core.outbox import DOCUMENT_KIND, as_utc, chats_for, notify, po_card, queue
from core.permissions import Action, DomainError, refusal
from core.signals import price_outside_band
from core.workflow import ENTITY, Outcome, _finish, _load, _step
from core.workflow_errors import NotOnOrder, PoNotFound

SUPPLIER = "supplier"  # the ChatBinding purpose of a supplier's own group
TOLD = [SUPPLIER, "buyers"]  # who hears of a supplier's answer (the PO card, updated in place)
PROPOSE = Action.PROPOSE_PRICE
CENT = Decimal("0.01")
SIGMA_WINDOW = 20  # σ_L from the supplier's last 20 confirmations …
SIGMA_MIN = 3  # … once there are at least 3


class BadArrival(DomainError):  # noqa: N818 (domain language)
    code = "bad_arrival"


class BadPrice(DomainError):  # noqa: N818 (domain language)
    code = "bad_price"


class NoPriceProposed(DomainError):  # noqa: N818 (domain language)
    code = "no_price_proposed"


class NotYourPo(PoNotFound):
    """Another supplier's PO (or one not sent yet): the same answer as a missing PO, but
    audited, since it is somebody trying numbers."""

    audited = True


# --- what a supplier may see --------------------------------------------------------------


def require_own_po(session: Session, member: Member, number: str) -> PurchaseOrder:
    """The PO, when it was sent to the member's own supplier; else `po_not_found` (audited)."""
    po = session.scalars(select(PurchaseOrder).where(PurchaseOrder.number == number)).first()
    theirs = member.supplier_id is not None and po is not None
    if not theirs or po is None or po.supplier_id != member.supplier_id or po.sent_at is None:
        raise refusal(NotYourPo(po=number), member, ENTITY, number)
    return po


def supplier_open_pos(session: Session, supplier_id: int) -> dict[str, dict[str, Any]]:
    """The supplier's SENT and CONFIRMED POs, number → card: its "what is open" list."""
    pos = session.scalars(
        select(PurchaseOrder)
        .where(
            PurchaseOrder.supplier_id == supplier_id,
            col(PurchaseOrder.status).in_([PoStatus.SENT, PoStatus.CONFIRMED]),
        )
        .order_by(col(PurchaseOrder.number))
    )
    return {po.number: po_card(session, po, "") for po in pos}


def _scope(session: Session, actor: Member, number: str) -> None:
    """A supplier member learns nothing of other suppliers' POs, whatever it tries; on its
    own POs, actions its role lacks are refused by `require` as usual."""
    if Role.SUPPLIER in actor.roles:
        require_own_po(session, actor, number)


def supplier_chat_bound(session: Session, supplier_id: int) -> bool:
    query = select(ChatBinding.id).where(
        ChatBinding.purpose == SUPPLIER, ChatBinding.supplier_id == supplier_id
    )
    return session.scalars(query).first() is not None


# --- send ---------------------------------------------------------------------------------


def send_to_supplier(
    session: Session, actor: Member | None, number: str, *, today: date
) -> Outcome:
    """APPROVED → SENT, asking for arrival after the longest agreed lead time on the PO (in
    Taiwan working days). Actor None: sent by the system right after the final approval."""
    if actor is not None:
        _scope(session, actor, number)
    with _step(session, actor, number, Action.SEND) as po:
        lead = _longest_lead(session, po)  # queried first: one flush, one version bump
        po.sent_at = utcnow()
        po.requested_arrival = working_days_after(today, lead) if lead is not None else None
        facts: dict[str, Any] = {"auto": True} if actor is None else {}
        if po.requested_arrival is not None:
            facts["requested_arrival"] = po.requested_arrival.isoformat()
        outcome = _finish(session, po, actor, Action.SEND, ["buyers", SUPPLIER], **facts)
        return _with_messages(outcome, queue_document(session, po))


def queue_document(session: Session, po: PurchaseOrder) -> int:
    """The supplier's copy of a sent PO as a file (the bot renders a PDF), one row per chat
    of that supplier, queued after the PO card. Its key is in the PO's thread, so it waits
    while the card is retried; as an attachment it is always posted afresh and never
    updated over (`core.outbox.previous_ref`). A replayed send queues nothing twice."""
    chats = [b for b in chats_for(session, [SUPPLIER]) if b.supplier_id == po.supplier_id]
    issued = as_utc(po.sent_at).isoformat() if po.sent_at else None
    card = {**po_card(session, po, "document", issued_at=issued), "type": "po_document"}
    prefix = f"po:{po.number}:document:{po.version}"
    return queue(session, chats, card, kind=DOCUMENT_KIND, key_prefix=prefix)


def send_if_bound(session: Session, number: str, *, today: date) -> Outcome | None:
    """Send an approved PO when its supplier's chat is bound; None leaves it for a buyer."""
    po = _load(session, number)
    if po.status != PoStatus.APPROVED or not supplier_chat_bound(session, po.supplier_id):
        return None
    return send_to_supplier(session, None, number, today=today)


def _longest_lead(session: Session, po: PurchaseOrder) -> int | None:
    on_po = sa.and_(col(PoLine.sku_id) == col(SupplierTerm.sku_id), col(PoLine.po_id) == po.id)
    return session.scalar(
        select(sa.func.max(SupplierTerm.lead_time_days))
        .join(PoLine, on_po)
        .where(SupplierTerm.supplier_id == po.supplier_id)
    )


# --- confirm, and what confirmations teach about lead times ---------------------------------


def confirm(
    session: Session,
    actor: Member,
    number: str,
    *,
    extra_days: int = 0,
    arrival: date | None = None,
    today: date,
) -> Outcome:
    """SENT → CONFIRMED for `arrival`, or the requested arrival plus `extra_days` working
    days; records the lead time as an observation and refreshes the supplier's σ_L."""
    _scope(session, actor, number)
    with _step(session, actor, number, Action.CONFIRM) as po:
        expected = arrival or working_days_after(po.requested_arrival or today, extra_days)
        if expected < today or extra_days < 0:
            raise BadArrival(po=po.number, arrival=expected.isoformat(), today=today.isoformat())
        days = (expected - _sent_date(po, today)).days
        session.add(LeadTimeObservation(supplier_id=po.supplier_id, po_id=po.id or 0, days=days))
        session.flush()
        facts: dict[str, Any] = {"expected_arrival": expected.isoformat(), "lead_days": days}
        if extra_days:
            facts["extra_days"] = extra_days
        sigma = refresh_lead_time_sigma(session, po.supplier_id)
        if sigma is not None:
            facts["lead_time_std_days"] = sigma
        po.expected_arrival, po.confirmed_at = expected, utcnow()  # after the queries' flushes
        return _finish(session, po, actor, Action.CONFIRM, TOLD, **facts)


def working_days_after(day: date, days: int) -> date:
    """`days` Taiwan working days after `day` (from a non-working day: after the next one)."""
    arrival: date = add_working_days(day, days).item()
    return arrival


def _sent_date(po: PurchaseOrder, today: date) -> date:
    return as_utc(po.sent_at).astimezone(TAIPEI).date() if po.sent_at else today


def refresh_lead_time_sigma(session: Session, supplier_id: int) -> float | None:
    """σ_L of the supplier's terms: the sample standard deviation of its last 20 confirmed
    lead times (calendar days, the unit the planner's L is in), once there are 3.

    The agreed `lead_time_days` stays the mean the engine plans with: it is the contract
    (事前協議) the supplier is held to and on-time delivery is measured against, and a few
    confirmations must not quietly loosen it. What they do show is how far the supplier
    wanders around it, which is exactly what safety stock has to cover.
    """
    days = session.scalars(
        select(LeadTimeObservation.days)
        .where(
            LeadTimeObservation.supplier_id == supplier_id,
            LeadTimeObservation.kind == "confirmed",
        )
        .order_by(col(LeadTimeObservation.at).desc(), col(LeadTimeObservation.id).desc())
        .limit(SIGMA_WINDOW)
    ).all()
    if len(days) < SIGMA_MIN:
        return None
    sigma = round(statistics.stdev(days), 3)
    for term in session.scalars(
        select(SupplierTerm).where(SupplierTerm.supplier_id == supplier_id)
    ):
        term.lead_time_std_days = sigma
    return sigma


# --- prices (價格浮動範圍) -------------------------------------------------------------------


def propose_price(
    session: Session, actor: Member, number: str, *, sku: str, price: Decimal
) -> Outcome:
    """A supplier's new unit price: inside the agreed band it is simply accepted; outside,
    it waits on the line (`proposed_price`) for a manager, who gets a price card."""
    _scope(session, actor, number)
    with _step(session, actor, number, Action.PROPOSE_PRICE) as po:
        if not price.is_finite() or price <= 0:
            raise BadPrice(po=po.number, sku=sku, price=str(price))
        line, item, term = _line(session, po, sku)
        price = price.quantize(CENT)
        agreed = term.unit_price if term else line.unit_price
        band = term.price_band_pct if term else 0.0
        facts: dict[str, Any] = {"sku": item.code, "price": str(price), "agreed": str(agreed)}
        facts["band_pct"] = band
        if not price_outside_band(float(agreed), float(price), band):
            line.unit_price, line.proposed_price = price, None
            _retotal(session, po)
            return _finish(session, po, actor, PROPOSE, TOLD, **facts, audit_as="po.price_accepted")
        line.proposed_price = price
        outcome = _finish(session, po, actor, PROPOSE, TOLD, **facts, audit_as="po.price_escalated")
        sent = _tell_approvals(session, po, outcome, item, term, line, proposed=price)
        return _with_messages(outcome, sent)


def decide_price(
    session: Session, actor: Member, number: str, *, sku: str, accept: bool
) -> Outcome:
    """The manager accepts (the line takes the proposed price) or refuses an escalated price."""
    _scope(session, actor, number)
    with _step(session, actor, number, Action.DECIDE_PRICE) as po:
        line, item, term = _line(session, po, sku)
        proposed = line.proposed_price
        if proposed is None:
            raise NoPriceProposed(po=po.number, sku=item.code)
        if accept:
            line.unit_price = proposed
        line.proposed_price = None
        _retotal(session, po)
        name = "po.price_approved" if accept else "po.price_refused"
        facts: dict[str, Any] = {"sku": item.code, "price": str(proposed), "accepted": accept}
        outcome = _finish(session, po, actor, Action.DECIDE_PRICE, TOLD, **facts, audit_as=name)
        sent = _tell_approvals(session, po, outcome, item, term, line, proposed=proposed)
        return _with_messages(outcome, sent)


def _line(
    session: Session, po: PurchaseOrder, code: str
) -> tuple[PoLine, Sku, SupplierTerm | None]:
    """The PO line for the supplier's own item code, or ours."""
    code = code.strip()
    term_of = sa.and_(
        col(SupplierTerm.sku_id) == col(PoLine.sku_id),
        col(SupplierTerm.supplier_id) == po.supplier_id,
    )
    rows = session.execute(
        select(PoLine, Sku, SupplierTerm)
        .join(Sku, col(Sku.id) == col(PoLine.sku_id))
        .outerjoin(SupplierTerm, term_of)
        .where(PoLine.po_id == po.id)
    ).all()
    for by_supplier_code in (True, False):  # the supplier's code wins over a clash with ours
        for line, item, term in rows:
            theirs = term is not None and term.supplier_sku != "" and term.supplier_sku == code
            if theirs if by_supplier_code else item.code == code:
                return line, item, term
    raise NotOnOrder(po=po.number, sku=code)


def _retotal(session: Session, po: PurchaseOrder) -> None:
    session.flush()
    po.total = po_total(session, po)


def _tell_approvals(
    session: Session,
    po: PurchaseOrder,
    outcome: Outcome,
    item: Sku,
    term: SupplierTerm | None,
    line: PoLine,
    *,
    proposed: Decimal,
) -> int:
    """The price card (type "price") in the approvals chat: one message per PO and SKU, so
    the manager's decision updates the escalation it answers."""
    price = {
        "sku": item.code,
        "supplier_sku": (term.supplier_sku if term else "") or item.code,
        "name": item.name,
        "qty": line.qty,
        "agreed": str(term.unit_price if term else line.unit_price),
        "proposed": str(proposed),
        "band_pct": term.price_band_pct if term else 0.0,
    }
    card = po_card(session, po, outcome.action, by=outcome.by, at=outcome.at, price=price)
    card["type"] = "price"
    thread = "price-" + item.code.replace(":", "_")
    return notify(session, po, outcome.action, ["approvals"], card, thread=thread)


def _with_messages(outcome: Outcome, more: int) -> Outcome:
    return replace(outcome, messages=outcome.messages + more)


# --- shipped ------------------------------------------------------------------------------


def mark_shipped(session: Session, actor: Member, number: str, *, tracking: str = "") -> Outcome:
    """The supplier shipped a confirmed PO (no state change; a second call corrects the
    tracking number)."""
    _scope(session, actor, number)
    with _step(session, actor, number, Action.SHIP) as po:
        po.shipped_at, po.tracking_number = utcnow(), tracking.strip()[:100]
        return _finish(session, po, actor, Action.SHIP, TOLD, tracking=po.tracking_number)
