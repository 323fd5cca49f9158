"""Purchase-order workflow: the state machine and the use cases the chat buttons call.

Every use case takes the caller's session (one transaction: `Store.unit_of_work()`), the
acting member and the PO number; it checks permission, changes state, writes an AuditEvent
and the OutboxMessages that tell the affected chats, and never commits. Concurrency is
optimistic: every change bumps the PO's `version`, so of two managers approving at once one
wins and the other is told who did it (`AlreadyDone`). Exactly-once handling of chat
presses is in `core.inbox`; the refusals are in `core.workflow_errors`, drafting (shared
with the monitor and the alert card) in `core.drafts`.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from core.calendar import local_today
from core.drafts import po_total
from core.members import member_name
from core.models import (
    AuditEvent,
    Member,
    PoLine,
    PoStatus,
    PurchaseOrder,
    Sku,
    SupplierTerm,
    utcnow,
)
from core.outbox import notify, po_card
from core.permissions import Action, SelfApproval, refusal, require
from core.po_webhook import PoWebhook, queue_po_event
from core.workflow_errors import (
    AlreadyDone,
    BadQuantity,
    ChangedMeanwhile,
    IllegalTransition,
    NotOnOrder,
    PoNotFound,
    ReasonRequired,
    SecondApproverRequired,
)

ENTITY = "purchase_order"
S = PoStatus

# The one table of legal moves: (from, action) → to. Anything else is IllegalTransition.
TRANSITIONS: dict[tuple[PoStatus, Action], PoStatus] = {
    (S.DRAFT, Action.SUBMIT): S.PENDING_APPROVAL,
    (S.DRAFT, Action.EDIT): S.DRAFT,
    (S.PENDING_APPROVAL, Action.EDIT): S.PENDING_APPROVAL,
    (S.DRAFT, Action.APPROVE): S.APPROVED,  # a manager may approve a draft the monitor made
    (S.PENDING_APPROVAL, Action.APPROVE): S.APPROVED,
    (S.DRAFT, Action.REJECT): S.REJECTED,
    (S.PENDING_APPROVAL, Action.REJECT): S.REJECTED,
    (S.DRAFT, Action.CANCEL): S.CANCELLED,
    (S.PENDING_APPROVAL, Action.CANCEL): S.CANCELLED,
    (S.APPROVED, Action.CANCEL): S.CANCELLED,
    (S.APPROVED, Action.SEND): S.SENT,
    (S.SENT, Action.CONFIRM): S.CONFIRMED,
    (S.SENT, Action.DECLINE): S.DECLINED,
    (S.DECLINED, Action.REASSIGN): S.REASSIGNED,
    (S.SENT, Action.REASSIGN): S.REASSIGNED,  # silent past the SLA: the backup was offered
    (S.SENT, Action.PROPOSE_PRICE): S.SENT,  # price talk and shipping change no state
    (S.CONFIRMED, Action.PROPOSE_PRICE): S.CONFIRMED,
    (S.SENT, Action.DECIDE_PRICE): S.SENT,
    (S.CONFIRMED, Action.DECIDE_PRICE): S.CONFIRMED,
    (S.CONFIRMED, Action.SHIP): S.CONFIRMED,
    (S.CONFIRMED, Action.RECEIVE): S.RECEIVED,
    (S.RECEIVED, Action.RECEIVE): S.RECEIVED,  # partial deliveries
    (S.RECEIVED, Action.CLOSE): S.CLOSED,
}
AUDIT_ACTIONS = {
    Action.SUBMIT: "po.submitted",
    Action.APPROVE: "po.approved",
    Action.REJECT: "po.rejected",
    Action.EDIT: "po.edited",
    Action.CANCEL: "po.cancelled",
    Action.SEND: "po.sent",
    Action.CONFIRM: "po.confirmed",
    Action.DECLINE: "po.declined",
    Action.REASSIGN: "po.reassigned",
    Action.SHIP: "po.shipped",
}
_ENDED_BY = {
    S.REJECTED: Action.REJECT,
    S.CANCELLED: Action.CANCEL,
    S.DECLINED: Action.DECLINE,
    S.REASSIGNED: Action.REASSIGN,
}
FIRST_APPROVAL = "po.first_approval"
_APPROVAL_ROUND = ("po.submitted", "po.edited", FIRST_APPROVAL)  # edits void a first approval


@dataclass(frozen=True)
class ApprovalRules:
    """`approval.*` settings: above `second_approver_over` TWD two managers must approve.
    `po_webhook`: the final approval also queues the PO for the ERP (`export.*` settings)."""

    second_approver_over: Decimal | None = None
    emergency_needs_second: bool = True
    po_webhook: PoWebhook | None = None


@dataclass(frozen=True)
class Outcome:
    """What happened, for the bot to render and for `handle_once` to store."""

    po: str
    action: str
    status: str
    by: str
    at: datetime
    version: int
    messages: int = 0
    awaiting_second_approval: bool = False
    changed: list[dict[str, Any]] = field(default_factory=list)  # quantities raised

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"at": self.at.isoformat()}


def next_status(status: str, action: Action, *, po: str = "") -> PoStatus:
    try:
        return TRANSITIONS[(PoStatus(status), action)]
    except KeyError:
        raise IllegalTransition(po=po, status=status, action=action.value) from None


def round_to_terms(qty: int, moq: int, case_pack: int) -> int:
    """Raised to the MOQ, then up to whole cases (the policy's own rounding)."""
    pack = max(case_pack, 1)
    return -(-max(qty, moq) // pack) * pack


# --- use cases ----------------------------------------------------------------------------


def submit_for_approval(
    session: Session, actor: Member, number: str, *, emergency: bool | None = None
) -> Outcome:
    with _step(session, actor, number, Action.SUBMIT) as po:
        po.requested_by_id, po.requested_at = actor.id, utcnow()
        if emergency is not None:
            po.emergency = emergency
        return _finish(session, po, actor, Action.SUBMIT, ["approvals"])


def approve(
    session: Session,
    actor: Member,
    number: str,
    *,
    rules: ApprovalRules,
    today: date | None = None,
) -> Outcome:
    """Approve, or record the first of two approvals when the total needs a second one. A
    final approval goes straight on to the supplier when its chat is bound (no buyer waits
    in between); otherwise the PO stays approved for a buyer to send by hand."""
    approved = _approval(session, actor, number, rules=rules)
    if approved.status != S.APPROVED:
        return approved
    from core.supplier_flow import send_if_bound  # noqa: PLC0415 (it builds on this module)

    sent = send_if_bound(session, number, today=today or local_today())
    if sent is None:
        return approved
    return replace(
        approved,
        status=sent.status,
        version=sent.version,
        messages=approved.messages + sent.messages,
    )


def _approval(session: Session, actor: Member, number: str, *, rules: ApprovalRules) -> Outcome:
    with _step(session, actor, number, Action.APPROVE) as po:
        if actor.id is not None and actor.id == po.requested_by_id:
            raise refusal(SelfApproval(po=po.number), actor, ENTITY, po.number)
        if not _needs_second(po, rules):
            return _approve(session, po, actor, webhook=rules.po_webhook)
        first = _first_approval(session, po)
        if first is None:
            return _finish(session, po, actor, Action.APPROVE, ["approvals"], first_approval=True)
        first_by = _who(session, first.actor_id)
        if first.actor_id == actor.id:
            raise SecondApproverRequired(po=po.number, by=first_by, at=first.at)
        return _approve(session, po, actor, first_by=first_by, webhook=rules.po_webhook)


def reject(session: Session, actor: Member, number: str, *, reason: str) -> Outcome:
    with _step(session, actor, number, Action.REJECT) as po:
        if not reason.strip():
            raise ReasonRequired(po=po.number)
        po.reason = reason.strip()
        return _finish(session, po, actor, Action.REJECT, ["approvals", "buyers"], reason=po.reason)


def edit_quantities(
    session: Session, actor: Member, number: str, quantities: Mapping[int, int]
) -> Outcome:
    """Set line quantities, each raised to the supplier's MOQ and case pack; `changed`
    lists the ones the terms raised."""
    with _step(session, actor, number, Action.EDIT) as po:
        edits, changed = _apply_quantities(session, po, quantities)
        po.total = po_total(session, po)
        return _finish(session, po, actor, Action.EDIT, ["approvals"], edits=edits, changed=changed)


def _apply_quantities(
    session: Session, po: PurchaseOrder, quantities: Mapping[int, int]
) -> tuple[dict[str, list[int]], list[dict[str, Any]]]:
    lines = {line.sku_id: line for line in session.scalars(_lines_of(po))}
    terms = {
        term.sku_id: term
        for term in session.scalars(
            select(SupplierTerm).where(SupplierTerm.supplier_id == po.supplier_id)
        )
    }
    edits: dict[str, list[int]] = {}
    changed: list[dict[str, Any]] = []
    for sku_id, asked in sorted(quantities.items()):
        line = lines.get(sku_id)
        if line is None:
            raise NotOnOrder(po=po.number, sku=_sku_code(session, sku_id))
        if asked < 1:
            raise BadQuantity(po=po.number, sku=_sku_code(session, sku_id), qty=asked)
        term = terms.get(sku_id)
        qty = round_to_terms(asked, term.moq, term.case_pack) if term else asked
        if qty != asked:
            moq, pack = (term.moq, term.case_pack) if term else (1, 1)
            code = _sku_code(session, sku_id)
            changed.append({"sku": code, "asked": asked, "qty": qty, "moq": moq, "case_pack": pack})
        edits[_sku_code(session, sku_id)] = [line.qty, qty]
        line.qty = qty
    session.flush()
    return edits, changed


def cancel(session: Session, actor: Member, number: str, *, reason: str = "") -> Outcome:
    with _step(session, actor, number, Action.CANCEL) as po:
        po.reason = reason.strip() or po.reason
        return _finish(session, po, actor, Action.CANCEL, ["approvals", "buyers"], reason=reason)


def mark_sent(
    session: Session, actor: Member, number: str, *, today: date | None = None
) -> Outcome:
    """A buyer sends an approved PO by hand (its supplier has no bound chat, say)."""
    from core.supplier_flow import send_to_supplier  # noqa: PLC0415 (it builds on this module)

    return send_to_supplier(session, actor, number, today=today or local_today())


# --- steps shared by the use cases ---------------------------------------------------------


def _load(session: Session, number: str) -> PurchaseOrder:
    po = session.scalars(select(PurchaseOrder).where(PurchaseOrder.number == number)).first()
    if po is None:
        raise PoNotFound(po=number)
    return po


@contextmanager
def _step(
    session: Session, actor: Member | None, number: str, action: Action
) -> Iterator[PurchaseOrder]:
    """Load the PO, check permission (refusals are audited) and state, then run the step in
    a savepoint. Its flush updates `WHERE version = :seen`; when a concurrent transaction
    changed the PO first, the step is undone and the loser learns who won (AlreadyDone).
    Actor None is the system itself (auto-send, SLA watchdog): audited as actor_id NULL."""
    po = _load(session, number)
    if actor is not None:
        require(actor, action, entity=ENTITY, entity_id=po.number, supplier_id=po.supplier_id)
    _check_state(session, po, action)
    try:
        with session.begin_nested():
            yield po
    except StaleDataError:
        session.refresh(po)
        _check_state(session, po, action)
        raise ChangedMeanwhile(po=po.number, status=po.status) from None


def _check_state(session: Session, po: PurchaseOrder, action: Action) -> None:
    """Legal; or AlreadyDone naming who did it (this action, or the rejection or cancellation
    that ended the PO); or IllegalTransition."""
    if (PoStatus(po.status), action) in TRANSITIONS:
        return
    ended_by = _ENDED_BY.get(PoStatus(po.status))
    for done_action in (action, ended_by) if ended_by else (action,):
        done = _last_event(session, po, (AUDIT_ACTIONS.get(done_action, ""),))
        if done is not None:
            raise AlreadyDone(
                po=po.number,
                action=done_action.value,
                status=po.status,
                by=_who(session, done.actor_id),
                at=done.at,
            )
    next_status(po.status, action, po=po.number)


def _approve(
    session: Session,
    po: PurchaseOrder,
    actor: Member,
    *,
    first_by: str | None = None,
    webhook: PoWebhook | None = None,
) -> Outcome:
    po.approved_at = utcnow()
    extra: dict[str, Any] = {"first_by": first_by} if first_by else {}
    purposes = ["approvals", "buyers"]
    return _finish(session, po, actor, Action.APPROVE, purposes, webhook=webhook, **extra)


def _finish(
    session: Session,
    po: PurchaseOrder,
    actor: Member | None,
    action: Action,
    purposes: list[str],
    *,
    first_approval: bool = False,
    changed: list[dict[str, Any]] | None = None,
    audit_as: str | None = None,
    webhook: PoWebhook | None = None,
    **data: Any,
) -> Outcome:
    """Move the PO (version-checked), audit it and queue the chat messages (and the ERP's
    webhook row, when this move owes one). `audit_as` names an event other than the
    action's own (`po.price_accepted` → card "price_accepted")."""
    if not first_approval:
        po.status = next_status(po.status, action, po=po.number).value
    _save(session, po)
    now = utcnow()
    name = audit_as or (FIRST_APPROVAL if first_approval else AUDIT_ACTIONS[action])
    audit_data = {"status": po.status, "version": po.version, **data}
    if changed:
        audit_data["changed"] = changed
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor.id if actor else None,
            action=name,
            entity=ENTITY,
            entity_id=po.number,
            data=audit_data,
        )
    )
    if po.emergency:  # an emergency request's clock follows its PO (緊急補貨)
        from core.emergency import follow_po  # noqa: PLC0415 (it builds on this module)

        follow_po(session, po, name, now)
    event = name.removeprefix("po.") if audit_as else action.value
    event = "first_approval" if first_approval else event
    card = po_card(session, po, event, by=member_name(actor), at=now, **data)
    sent = notify(session, po, event, purposes, card)
    queue_po_event(session, po, name, webhook=webhook, reassigned_from=data.get("reassigned_from"))
    return Outcome(
        po=po.number,
        action=event,
        status=po.status,
        by=member_name(actor),
        at=now,
        version=po.version,
        messages=sent,
        awaiting_second_approval=first_approval,
        changed=changed or [],
    )


def _save(session: Session, po: PurchaseOrder) -> None:
    """Flush the PO with its version check (raises StaleDataError to `_step`)."""
    flag_modified(po, "status")  # every step bumps the version, even a first approval
    session.flush()


def _needs_second(po: PurchaseOrder, rules: ApprovalRules) -> bool:
    limit = rules.second_approver_over
    if limit is None or (po.emergency and not rules.emergency_needs_second):
        return False
    return Decimal(po.total) > Decimal(limit)


def _first_approval(session: Session, po: PurchaseOrder) -> AuditEvent | None:
    last = _last_event(session, po, _APPROVAL_ROUND)
    return last if last is not None and last.action == FIRST_APPROVAL else None


def _last_event(session: Session, po: PurchaseOrder, actions: tuple[str, ...]) -> AuditEvent | None:
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.entity == ENTITY,
            AuditEvent.entity_id == po.number,
            col(AuditEvent.action).in_(actions),
        )
        .order_by(col(AuditEvent.id).desc())
    )
    return session.scalars(query).first()


def _who(session: Session, member_id: int | None) -> str:
    return member_name(session.get(Member, member_id) if member_id is not None else None)


def _sku_code(session: Session, sku_id: int) -> str:
    sku = session.get(Sku, sku_id)
    return sku.code if sku else str(sku_id)


def _lines_of(po: PurchaseOrder) -> Any:
    return select(PoLine).where(PoLine.po_id == po.id)
