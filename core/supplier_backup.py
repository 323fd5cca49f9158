"""Backup suppliers (備用供應商): decline → offer the backup → reassign, and the SLA watchdog.

A supplier that declines, or stays silent past its SLA, makes the approvals chat an offer:
per line, the next-ranked supplier (SupplierTerm.rank, then shorter lead time, then lower
price) that has not had this order yet, with its price and lead time, or "no backup". The
manager's press (`reassign`) ends the PO as REASSIGNED and opens one approved PO per backup
supplier, re-rounded to that supplier's MOQ and case pack; nothing is deleted, and lines
without a backup are named in the outcome for a person to place by hand.
"""

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from core.calendar import working_hours_between
from core.drafts import _next_number, po_total
from core.models import (
    AuditEvent,
    Member,
    PoLine,
    PoStatus,
    PurchaseOrder,
    Sku,
    Supplier,
    SupplierTerm,
    utcnow,
)
from core.outbox import as_utc, notify, po_card
from core.permissions import Action, DomainError
from core.supplier_flow import SUPPLIER, TOLD, _scope, send_if_bound
from core.workflow import ENTITY, Outcome, _finish, _save, _step, round_to_terms

SLA_HOURS = 4.0  # working hours a supplier has to answer a PO before it is reminded


class SlaNotPassed(DomainError):  # noqa: N818 (domain language)
    """A sent PO is only reassigned once the SLA watchdog offered its backup."""

    code = "sla_not_passed"


@dataclass(frozen=True)
class Backup:
    """One PO line and the supplier that would take it over (term None: nobody)."""

    line: PoLine
    sku: Sku
    term: SupplierTerm | None
    supplier: Supplier | None

    @property
    def qty(self) -> int:
        term = self.term
        return round_to_terms(self.line.qty, term.moq, term.case_pack) if term else self.line.qty

    def as_json(self) -> dict[str, Any]:
        offer = None
        if self.term is not None and self.supplier is not None:
            offer = {
                "supplier": self.supplier.code,
                "supplier_name": self.supplier.name,
                "unit_price": str(self.term.unit_price),
                "lead_time_days": self.term.lead_time_days,
                "rank": self.term.rank,
                "qty": self.qty,
            }
        sku = {"sku": self.sku.code, "name": self.sku.name, "qty": self.line.qty}
        return sku | {"backup": offer}


@dataclass(frozen=True)
class ReassignOutcome(Outcome):
    new_pos: list[str] = field(default_factory=list)  # one approved PO per backup supplier
    no_backup: list[str] = field(default_factory=list)  # SKU codes nobody else supplies


# --- offers -------------------------------------------------------------------------------


def backups(session: Session, po: PurchaseOrder) -> list[Backup]:
    """Per line (by SKU code), the best-ranked supplier that has not had this order yet."""
    tried = _suppliers_tried(session, po)
    lines = session.execute(
        select(PoLine, Sku)
        .join(Sku, col(Sku.id) == col(PoLine.sku_id))
        .where(PoLine.po_id == po.id)
        .order_by(col(Sku.code))
    ).all()
    offers = session.execute(
        select(SupplierTerm, Supplier)
        .join(Supplier, col(Supplier.id) == col(SupplierTerm.supplier_id))
        .where(
            col(SupplierTerm.sku_id).in_([line.sku_id for line, _ in lines]),
            col(SupplierTerm.supplier_id).not_in(tried),
        )
        .order_by(
            col(SupplierTerm.rank),
            col(SupplierTerm.lead_time_days),
            col(SupplierTerm.unit_price),
            col(SupplierTerm.supplier_id),
        )
    ).all()
    best: dict[int, tuple[SupplierTerm, Supplier]] = {}
    for term, supplier in offers:
        best.setdefault(term.sku_id, (term, supplier))
    return [Backup(line, sku, *best.get(sku.id or 0, (None, None))) for line, sku in lines]


def _suppliers_tried(session: Session, po: PurchaseOrder) -> set[int]:
    """This PO's supplier and those of the POs it replaced: none is offered again."""
    tried: set[int] = set()
    seen: set[int] = set()
    current: PurchaseOrder | None = po
    while current is not None and current.id not in seen:
        seen.add(current.id or 0)
        tried.add(current.supplier_id)
        previous = current.reassigned_from_id
        current = session.get(PurchaseOrder, previous) if previous is not None else None
    return tried


def offer_backup(session: Session, po: PurchaseOrder, event: str, **data: Any) -> int:
    """The offer card (type "backup_offer": the PO plus `backups`) to the approvals chat, as
    a new message. Only there: a supplier never sees its competitors' prices."""
    offers = [backup.as_json() for backup in backups(session, po)]
    card = po_card(session, po, event, backups=offers, **data) | {"type": "backup_offer"}
    return notify(session, po, event, ["approvals"], card, thread="offer")


# --- decline and reassign -----------------------------------------------------------------


def decline(session: Session, actor: Member, number: str, *, reason: str = "") -> Outcome:
    """SENT → DECLINED by the PO's supplier; the approvals chat is offered the backups."""
    _scope(session, actor, number)
    with _step(session, actor, number, Action.DECLINE) as po:
        po.reason = reason.strip()
        po.backup_offered_at = utcnow()
        outcome = _finish(session, po, actor, Action.DECLINE, TOLD, reason=po.reason)
        offered = offer_backup(session, po, "declined", by=outcome.by, at=outcome.at)
        return replace(outcome, messages=outcome.messages + offered)


def reassign(session: Session, actor: Member, number: str, *, today: date) -> ReassignOutcome:
    """DECLINED (or SENT with its SLA blown) → REASSIGNED; one new PO per backup supplier,
    approved by this press and sent at once where that supplier's chat is bound. The PO
    ends REASSIGNED even when some (or all) lines had no backup: `no_backup` names them."""
    _scope(session, actor, number)
    with _step(session, actor, number, Action.REASSIGN) as po:
        if po.status == PoStatus.SENT and po.backup_offered_at is None:
            raise SlaNotPassed(po=po.number)
        offers = backups(session, po)
        opened = [_backup_po(session, po, actor, *group, today) for group in _by_supplier(offers)]
        new_pos = [new for new, _ in opened]
        no_backup = [offer.sku.code for offer in offers if offer.term is None]
        purposes = ["approvals", "buyers", SUPPLIER]
        outcome = _finish(
            session, po, actor, Action.REASSIGN, purposes, new_pos=new_pos, no_backup=no_backup
        )
    sent = [send_if_bound(session, new, today=today) for new in new_pos]
    messages = sum(count for _, count in opened) + sum(o.messages for o in sent if o)
    return ReassignOutcome(
        **{**vars(outcome), "messages": outcome.messages + messages},
        new_pos=new_pos,
        no_backup=no_backup,
    )


Covered = list[tuple[Backup, SupplierTerm]]


def _by_supplier(offers: list[Backup]) -> list[tuple[int, Covered]]:
    """The lines a backup covers, grouped by that supplier (in supplier-code order)."""
    groups: dict[str, tuple[int, Covered]] = {}
    for offer in offers:
        if offer.term is not None and offer.supplier is not None:
            group = groups.setdefault(offer.supplier.code, (offer.term.supplier_id, []))
            group[1].append((offer, offer.term))
    return [groups[code] for code in sorted(groups)]


def _backup_po(
    session: Session,
    original: PurchaseOrder,
    actor: Member,
    supplier_id: int,
    lines: Covered,
    today: date,
) -> tuple[str, int]:
    """An approved PO to the backup supplier for its lines, at its price and pack sizes."""
    po = PurchaseOrder(
        number=_next_number(session, today),
        supplier_id=supplier_id,
        emergency=original.emergency,
        requested_by_id=original.requested_by_id,  # the need is still theirs
        requested_at=original.requested_at,
        reassigned_from_id=original.id,
    )
    session.add(po)
    session.flush()
    for offer, term in lines:
        line = PoLine(
            po_id=po.id or 0, sku_id=term.sku_id, qty=offer.qty, unit_price=term.unit_price
        )
        session.add(line)
    session.flush()
    po.total, po.approved_at = po_total(session, po), utcnow()
    purposes = ["approvals", "buyers"]
    done = _finish(session, po, actor, Action.APPROVE, purposes, reassigned_from=original.number)
    return po.number, done.messages


# --- the SLA watchdog ---------------------------------------------------------------------


def sla_pass(
    session: Session, now: datetime, *, sla_hours: float = SLA_HOURS
) -> dict[str, list[str]]:
    """Chase sent, unconfirmed POs: after `sla_hours` Taiwan working hours remind the
    supplier's chat; after twice that offer the backup to the approvals chat. Each happens
    once per PO (reminded_at, backup_offered_at), so a second pass changes nothing."""
    now = as_utc(now)
    done: dict[str, list[str]] = {"reminded": [], "backup_offered": []}
    waiting = session.scalars(
        select(PurchaseOrder)
        .where(
            PurchaseOrder.status == PoStatus.SENT,
            col(PurchaseOrder.sent_at).is_not(None),
            col(PurchaseOrder.backup_offered_at).is_(None),
        )
        .order_by(col(PurchaseOrder.id))
    ).all()
    for po in waiting:
        hours = working_hours_between(as_utc(po.sent_at or now), now)
        try:
            with session.begin_nested():
                steps = _chase(session, po, now, hours, sla_hours)
        except StaleDataError:
            continue  # changed meanwhile (confirmed, say): the next pass looks again
        for step in steps:
            done[step].append(po.number)
    return done


def _chase(
    session: Session, po: PurchaseOrder, now: datetime, hours: float, sla_hours: float
) -> list[str]:
    steps: list[str] = []
    facts = {"hours": round(hours, 2), "sla_hours": sla_hours}
    if hours >= sla_hours and po.reminded_at is None:
        po.reminded_at = now
        _system_event(session, po, "po.reminded", now, facts)
        card = po_card(session, po, "reminded", by="system", at=now, **facts)
        notify(session, po, "reminded", [SUPPLIER], card, thread="remind")  # a new message
        steps.append("reminded")
    if hours >= 2 * sla_hours:
        po.backup_offered_at = now
        _system_event(session, po, "po.backup_offered", now, facts)
        offer_backup(session, po, "overdue", by="system", at=now, **facts)
        steps.append("backup_offered")
    return steps


def _system_event(
    session: Session, po: PurchaseOrder, name: str, now: datetime, facts: dict[str, Any]
) -> None:
    """Save the PO (version-checked) and audit what the watchdog did (actor: none)."""
    _save(session, po)
    data = {"status": po.status, "version": po.version, **facts}
    session.add(AuditEvent(at=now, action=name, entity=ENTITY, entity_id=po.number, data=data))
