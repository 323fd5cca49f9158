"""Who hears of an emergency request (緊急補貨) and what they read: the approver chain, the
emergency contact directory (緊急聯絡人名錄) and the card.

The chain is a list of levels; a level names roles ("manager") or members ("slack:U123").
A level's card goes to the chats bound for "approvals", straight to each member the level
names by platform and id (a direct message: they may not sit in that chat), and by e-mail
to the holders of its roles (`core.mail_fallback`, once per address). The card is plain JSON
(type "emergency") the bot renders in the reader's locale; its clock (`waited_minutes`) is
taken when the card is made, so a reminder says how long people have waited.
"""

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from core.approvers import Chain, level_members, level_of, refs_of, roles_of
from core.calendar import TAIPEI
from core.mail_fallback import email_members
from core.members import member_name
from core.models import (
    ChatBinding,
    EmergencyRequest,
    Member,
    PoLine,
    PurchaseOrder,
    Role,
    Sku,
    Supplier,
    SupplierTerm,
)
from core.outbox import as_utc, chats_for, queue
from core.supplier_flow import working_days_after

APPROVALS = "approvals"
APPROVER = "approver"  # the audience of a direct message to a named approver
CHAT_PLATFORMS = frozenset({"slack", "telegram"})  # where a member can be written to directly


# --- the emergency contact directory (緊急聯絡人名錄) ----------------------------------------


def supplier_contact(supplier: Supplier, kind: str) -> dict[str, str]:
    """The supplier's emergency contact and phone, else its everyday ones."""
    return {
        "kind": kind,
        "name": supplier.name,
        "code": supplier.code,
        "person": supplier.emergency_contact or supplier.contact_name,
        "phone": supplier.emergency_phone or supplier.phone,
    }


def backup_term(session: Session, sku_id: int, supplier_id: int) -> SupplierTerm | None:
    """Who would take the order over: the best-ranked other supplier (as backups are
    offered: rank, then lead time, then price)."""
    return session.scalars(
        select(SupplierTerm)
        .where(SupplierTerm.sku_id == sku_id, SupplierTerm.supplier_id != supplier_id)
        .order_by(
            col(SupplierTerm.rank),
            col(SupplierTerm.lead_time_days),
            col(SupplierTerm.unit_price),
            col(SupplierTerm.supplier_id),
        )
    ).first()


def contacts(session: Session, sku_id: int, supplier_id: int) -> list[dict[str, str]]:
    """The chosen supplier, its backup for this SKU, and the shop's logistics people (name
    and e-mail: members have no phone)."""
    found: list[dict[str, str]] = []
    supplier = session.get(Supplier, supplier_id)
    if supplier is not None:
        found.append(supplier_contact(supplier, "supplier"))
    backup = backup_term(session, sku_id, supplier_id)
    other = session.get(Supplier, backup.supplier_id) if backup else None
    if other is not None:
        found.append(supplier_contact(other, "backup"))
    seen: set[str] = set()
    for member in level_members(session, [Role.LOGISTICS.value]):
        name = member_name(member)
        if name.lower() not in seen:
            seen.add(name.lower())
            found.append({"kind": "logistics", "name": name, "person": name, "phone": ""})
            found[-1]["email"] = member.email
    return found


# --- the card ---------------------------------------------------------------------------------


def emergency_json(
    session: Session, request: EmergencyRequest, event: str, *, now: datetime, chain: Chain
) -> dict[str, Any]:
    """The request as plain JSON (type "emergency"): SKU, quantity, the PO and its supplier
    with lead time and expected arrival, the clock, the level's approvers, the contacts."""
    po = session.get(PurchaseOrder, request.po_id) if request.po_id else None
    sku = session.get(Sku, request.sku_id)
    requester = session.get(Member, request.requested_by_id) if request.requested_by_id else None
    level = level_of(chain, request.escalation_level)
    approvers = [
        member_name(m) for m in level_members(session, level) if m.id != request.requested_by_id
    ]
    waited = (as_utc(now) - as_utc(request.requested_at)).total_seconds() // 60
    return {
        "type": "emergency",
        "event": event,
        "emergency": {
            "id": request.id,
            "status": request.status,
            "sku": sku.code if sku else None,
            "sku_name": sku.name if sku else None,
            "qty": request.qty,
            "reason": request.reason,
            "alert": request.alert_id,
            "requested_by": member_name(requester),
            "requested_at": as_utc(request.requested_at).isoformat(),
            "waited_minutes": max(int(waited), 0),
            "level": request.escalation_level,
            "levels": max(len(chain), 1),
            "approvers": approvers,
        },
        "po": _po_json(session, po, request.sku_id, now) if po else None,
        "contacts": contacts(session, request.sku_id, po.supplier_id) if po else [],
        "at": as_utc(now).isoformat(),
    }


def _po_json(session: Session, po: PurchaseOrder, sku_id: int, now: datetime) -> dict[str, Any]:
    supplier = session.get(Supplier, po.supplier_id)
    term = session.scalars(
        select(SupplierTerm).where(
            SupplierTerm.sku_id == sku_id, SupplierTerm.supplier_id == po.supplier_id
        )
    ).first()
    best_rank = session.scalars(
        select(SupplierTerm.rank).where(SupplierTerm.sku_id == sku_id).order_by("rank")
    ).first()
    ordered = session.scalars(
        select(PoLine.qty).where(PoLine.po_id == po.id, PoLine.sku_id == sku_id)
    ).first()
    lead = term.lead_time_days if term else None
    arrival = po.expected_arrival or po.requested_arrival
    if arrival is None and lead is not None:  # not sent yet: if ordered today
        arrival = working_days_after(as_utc(now).astimezone(TAIPEI).date(), lead)
    backup = term is not None and best_rank is not None and term.rank > best_rank
    return {
        "number": po.number,
        "status": po.status,
        "version": po.version,
        "qty": ordered,  # the request's quantity, raised to the supplier's MOQ and case pack
        "total": str(po.total),
        "currency": po.currency,
        "supplier": supplier.code if supplier else None,
        "supplier_name": supplier.name if supplier else None,
        "lead_time_days": lead,
        "faster_backup": backup,  # not the usual supplier: a backup that delivers sooner
        "unit_price": str(term.unit_price) if term else None,
        "expected_arrival": arrival.isoformat() if arrival else None,
        "confirmed": po.expected_arrival is not None,
    }


# --- delivery ---------------------------------------------------------------------------------


def route(
    session: Session,
    request: EmergencyRequest,
    card: dict[str, Any],
    *,
    chain: Chain,
    now: datetime,
) -> int:
    """The card to the request's current level: the approvals chats, each member the level
    names (directly), and e-mail to its roles. Keys name the request, event and level, so a
    replay queues nothing twice; the first card takes the place of the PO's own card in the
    approvals chats (same thread), reminders and escalations arrive as new messages."""
    event, level = str(card.get("event")), request.escalation_level
    entries = level_of(chain, level)
    key = f"emergency-{event}:{request.id}.{level}"
    po = card.get("po") or {}
    chat_key = f"po:{po['number']}:emergency:{po['version']}" if event == "opened" and po else key
    kind = f"emergency.{event}"
    sent = queue(session, chats_for(session, [APPROVALS]), card, kind=kind, key_prefix=chat_key)
    named = refs_of(entries)
    direct = [
        ChatBinding(purpose=APPROVER, platform=m.platform, chat_id=m.user_id)
        for m in level_members(session, entries)
        if (m.platform, m.user_id) in named
        and m.platform in CHAT_PLATFORMS
        and m.id != request.requested_by_id
    ]
    sent += queue(session, direct, card, kind=kind, key_prefix=key)
    roles = roles_of(entries)
    if roles:
        sent += email_members(
            session, roles, card, f"emergency:{request.id}:{event}:{level}", now=now
        )
    return sent


def requests_for(session: Session, po: PurchaseOrder) -> list[EmergencyRequest]:
    """The requests a PO serves: its own, or (a backup supplier's PO) the replaced one's."""
    ids = [po.id, po.reassigned_from_id] if po.reassigned_from_id else [po.id]
    return list(
        session.scalars(
            select(EmergencyRequest)
            .where(col(EmergencyRequest.po_id).in_(ids))
            .order_by(col(EmergencyRequest.id))
        )
    )
