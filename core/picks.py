"""Pick lists for dropship partners: posted to each partner's group, acknowledged with a
button, re-sent and escalated while a red list goes unacknowledged.

Each dropship partner with a bound chat (purpose "dropship") has one live list, built by
`core.pick_priority`. A changed list replaces the old one and updates the same chat message
in place; an unchanged one is not re-posted. A red list nobody acknowledged is re-sent after
30 minutes (a new message, so phones buzz) and escalated to the shop's logistics channel
after 60. Like the other use cases: the caller's session, audit rows and outbox rows in the
same transaction, guarded UPDATEs so two presses or two watchdogs change a list once.
"""

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.members import member_name
from core.models import (
    AuditEvent,
    ChatBinding,
    Location,
    LocationKind,
    Member,
    PickColour,
    PickList,
    SalesDay,
    utcnow,
)
from core.outbox import as_utc, chats_for, queue
from core.permissions import Action, DomainError, require
from core.pick_priority import Partner, digest, pick_lists

ENTITY = "pick_list"
SHARE_WINDOW_DAYS = 28
OPEN, ACKED, REPLACED = "open", "acked", "replaced"
THREADS = frozenset({"partner", "resend", "escalation"})  # where a list's card is shown
REMINDERS = frozenset({"resend", "escalation"})


class PickListNotFound(DomainError):  # noqa: N818 (domain language)
    code = "pick_list_not_found"


class PickListReplaced(DomainError):  # noqa: N818 (domain language)
    """A newer list replaced this one: acknowledge the one in the chat now."""

    code = "pick_list_replaced"


class PickAlreadyAcked(DomainError):  # noqa: N818 (domain language)
    code = "pick_already_acked"


# --- publishing ------------------------------------------------------------------------------


@dataclass
class PublishResult:
    posted: list[str] = field(default_factory=list)  # partner codes with a new list
    unchanged: list[str] = field(default_factory=list)


def publish_pick_lists(
    session: Session, planned: pd.DataFrame, now: datetime, *, as_of: date | None = None
) -> PublishResult:
    """Post each bound partner's list when it changed (the old one is `replaced` and its
    message updated in place). `as_of` ends the sales window of the partners' shares."""
    locations = _bound_partners(session)
    shares = partner_shares(session, [p.id for p in locations if p.id], as_of or now.date())
    partners = [Partner(p.id or 0, p.code, p.name, shares.get(p.id or 0, {})) for p in locations]
    lists = pick_lists(planned, partners)
    result = PublishResult()
    for partner in partners:
        items = lists[partner.id]
        current = _current(session, partner.id)
        if (current.digest if current else digest([])) == digest(items):
            result.unchanged.append(partner.code)
            continue
        _post(session, partner.id, items, current, now)
        result.posted.append(partner.code)
    return result


def partner_shares(
    session: Session, partner_ids: list[int], as_of: date
) -> dict[int, dict[int, float]]:
    """Partner → SKU → its fraction of the SKU's units sold in the window ending `as_of`."""
    since = as_of - timedelta(days=SHARE_WINDOW_DAYS)
    query = (
        sa.select(col(SalesDay.sku_id), col(SalesDay.location_id), sa.func.sum(SalesDay.qty))
        .where(col(SalesDay.day) > since, col(SalesDay.day) <= as_of)
        .group_by(col(SalesDay.sku_id), col(SalesDay.location_id))
    )
    rows = session.execute(query).all()
    total: dict[int, float] = {}
    for sku_id, _, qty in rows:
        total[sku_id] = total.get(sku_id, 0.0) + float(qty)
    shares: dict[int, dict[int, float]] = {}
    for sku_id, location_id, qty in rows:
        if location_id in partner_ids and qty > 0:
            shares.setdefault(location_id, {})[sku_id] = float(qty) / total[sku_id]
    return shares


def _bound_partners(session: Session) -> list[Location]:
    query = (
        select(Location)
        .join(ChatBinding, col(ChatBinding.partner_id) == col(Location.id))
        .where(ChatBinding.purpose == "dropship", Location.kind == LocationKind.DROPSHIP)
        .distinct()
        .order_by(col(Location.id))
    )
    return list(session.scalars(query))


def _current(session: Session, partner_id: int) -> PickList | None:
    return session.scalars(
        select(PickList)
        .where(PickList.partner_id == partner_id, col(PickList.status).in_((OPEN, ACKED)))
        .order_by(col(PickList.id).desc())
    ).first()


def _post(
    session: Session,
    partner_id: int,
    items: list[dict[str, Any]],
    current: PickList | None,
    now: datetime,
) -> PickList:
    if current is not None:
        _replace(session, current, now)
    new = PickList(partner_id=partner_id, digest=digest(items), items=items, posted_at=now)
    session.add(new)
    session.flush()
    _notify(session, new, "posted")
    red = sum(item["colour"] == PickColour.RED for item in items)
    replaced = current.id if current else None
    _audit(session, None, "pick.posted", new, now, items=len(items), red=red, replaced=replaced)
    return new


def _replace(session: Session, old: PickList, now: datetime) -> None:
    session.execute(
        sa.update(PickList)
        .where(col(PickList.id) == old.id, col(PickList.status).in_((OPEN, ACKED)))
        .values(status=REPLACED)
        .execution_options(synchronize_session=False)
    )
    session.refresh(old)
    # The partner's message is overwritten by the new list; reminders say they are stale.
    _notify(session, old, "replaced", only=REMINDERS)


# --- acknowledging ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PickOutcome:
    pick_list: int
    partner: str
    action: str
    status: str
    by: str
    at: datetime

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"at": self.at.isoformat()}


def acknowledge(
    session: Session, actor: Member, pick_list_id: int, *, now: datetime | None = None
) -> PickOutcome:
    """The partner (or logistics, or a manager) has the list: who and when, once."""
    pick_list = session.get(PickList, pick_list_id)
    if pick_list is None:
        raise PickListNotFound(pick_list=pick_list_id)
    entity_id = str(pick_list_id)
    require(
        actor, Action.ACK_PICKS, entity=ENTITY, entity_id=entity_id, partner_id=pick_list.partner_id
    )
    at = now or utcnow()
    moved = session.execute(
        sa.update(PickList)
        .where(col(PickList.id) == pick_list_id, col(PickList.status) == OPEN)
        .values(status=ACKED, acked_by_id=actor.id, acked_at=at)
        .execution_options(synchronize_session=False)
    )
    session.refresh(pick_list)
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise _not_open(session, pick_list)
    _audit(session, actor, "pick.acked", pick_list, at)
    _notify(session, pick_list, "acked", by=member_name(actor), at=at.isoformat())
    partner = session.get(Location, pick_list.partner_id)
    return PickOutcome(
        pick_list_id, partner.code if partner else "", "acked", ACKED, member_name(actor), at
    )


def _not_open(session: Session, pick_list: PickList) -> DomainError:
    if pick_list.status == ACKED:
        who = session.get(Member, pick_list.acked_by_id) if pick_list.acked_by_id else None
        return PickAlreadyAcked(pick_list=pick_list.id, by=member_name(who), at=pick_list.acked_at)
    return PickListReplaced(pick_list=pick_list.id)


# --- the watchdog ----------------------------------------------------------------------------


@dataclass
class WatchResult:
    resent: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)


def pick_watchdog(
    session: Session,
    now: datetime,
    *,
    resend_after: timedelta = timedelta(minutes=30),
    escalate_after: timedelta = timedelta(minutes=60),
) -> WatchResult:
    """Unacknowledged red lists: re-sent once, then escalated once to logistics."""
    result = WatchResult()
    for pick_list in session.scalars(select(PickList).where(PickList.status == OPEN)).all():
        if not any(item.get("colour") == PickColour.RED for item in pick_list.items):
            continue
        waited = now - as_utc(pick_list.posted_at)
        minutes = int(waited.total_seconds() // 60)
        if waited >= resend_after and _stamp(session, pick_list, "resent_at", now):
            _notify(session, pick_list, "resent", only={"resend"}, waited_minutes=minutes)
            _audit(session, None, "pick.resent", pick_list, now, waited_minutes=minutes)
            result.resent.append(pick_list.id or 0)
        if waited >= escalate_after and _stamp(session, pick_list, "escalated_at", now):
            _notify(session, pick_list, "escalated", only={"escalation"}, waited_minutes=minutes)
            _audit(session, None, "pick.escalated", pick_list, now, waited_minutes=minutes)
            result.escalated.append(pick_list.id or 0)
    return result


def _stamp(session: Session, pick_list: PickList, column: str, now: datetime) -> bool:
    """Guarded UPDATE: set once, only while open, by whichever watchdog run gets there."""
    stamped = session.execute(
        sa.update(PickList)
        .where(
            col(PickList.id) == pick_list.id,
            col(PickList.status) == OPEN,
            getattr(PickList, column).is_(None),
        )
        .values({column: now})
        .execution_options(synchronize_session=False)
    )
    session.refresh(pick_list)
    return stamped.rowcount == 1  # type: ignore[attr-defined]


# --- cards and their delivery ----------------------------------------------------------------


def pick_card(session: Session, pick_list: PickList, event: str, **data: Any) -> dict[str, Any]:
    """A pick list as plain JSON, for the bot's card builder (in the reader's locale)."""
    partner = session.get(Location, pick_list.partner_id)
    acked_by = session.get(Member, pick_list.acked_by_id) if pick_list.acked_by_id else None
    return {
        "type": "picks",
        "event": event,
        "id": pick_list.id,
        "partner": partner.code if partner else None,
        "partner_name": partner.name if partner else None,
        "status": pick_list.status,
        "items": list(pick_list.items),
        "posted_at": _iso(pick_list.posted_at),
        "acked_by": member_name(acked_by) if acked_by else None,
        "acked_at": _iso(pick_list.acked_at),
        "resent_at": _iso(pick_list.resent_at),
        "escalated_at": _iso(pick_list.escalated_at),
        **data,
    }


def _notify(
    session: Session,
    pick_list: PickList,
    event: str,
    *,
    only: frozenset[str] | set[str] = THREADS,
    **data: Any,
) -> int:
    """Queue the card in every thread (of `only`) that shows this list.

    `pick:<partner>` is the partner chat's standing message, updated in place list after
    list. A re-send is a thread of its own (`pick-resend:<list>`): a new message that
    notifies; so is the escalation in the logistics channel (`pick-escalation:<list>`).
    Later events (acked, replaced) update whichever of them exist.
    """
    card = pick_card(session, pick_list, event, **data)
    partner = chats_for(session, ["dropship"], partner_id=pick_list.partner_id)
    threads: list[tuple[str, list[ChatBinding]]] = []
    if "partner" in only:
        threads.append((f"pick:{pick_list.partner_id}", partner))
    if "resend" in only and pick_list.resent_at is not None:
        threads.append((f"pick-resend:{pick_list.id}", partner))
    if "escalation" in only and pick_list.escalated_at is not None:
        threads.append((f"pick-escalation:{pick_list.id}", chats_for(session, ["logistics"])))
    return sum(
        queue(
            session,
            chats,
            card,
            kind=f"picks.{event}",
            key_prefix=f"{thread}:{event}:{pick_list.id}",
        )
        for thread, chats in threads
    )


def _audit(
    session: Session,
    actor: Member | None,
    action: str,
    pick_list: PickList,
    at: datetime,
    **data: Any,
) -> None:
    session.add(
        AuditEvent(
            at=at,
            actor_id=actor.id if actor else None,
            action=action,
            entity=ENTITY,
            entity_id=str(pick_list.id),
            data={"partner_id": pick_list.partner_id, "status": pick_list.status, **data},
        )
    )
    session.flush()


def _iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None
