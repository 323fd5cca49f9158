"""The demo's people and rooms: a member for every role of the article, each bound to console
"chats" the way a shop binds Slack channels and Telegram groups.

Internal rooms take the internal purposes (approvals, alerts, reports, buyers, logistics);
every supplier gets its own group (purpose `supplier`) and every dropship partner its own
(purpose `dropship`), with one member speaking for it. So the outbox reaches the console by
the same bindings as it reaches Slack and Telegram, and a supplier's member is refused
another supplier's PO by the same rules (`core.invites.member_for_chat`).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from adapters.console import PLATFORM
from bot.i18n import t
from core.members import add_member, bind_chat
from core.models import Location, LocationKind, Supplier

# role key → (member roles, rooms it reads; the first is where it types)
STAFF: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "manager": (("manager",), ("approvals", "alerts", "reports")),
    "clerk": (("inventory_clerk",), ("alerts", "approvals")),
    "buyer": (("buyer",), ("buyers",)),
    "logistics": (("logistics",), ("logistics",)),
    "analyst": (("analyst",), ("reports",)),
}
ROOMS = ("approvals", "alerts", "reports", "buyers", "logistics")  # room id = its purpose
EXTERNAL = ("supplier", "dropship")


@dataclass(frozen=True)
class Role:
    """Someone the console user can act as: a member (`user`) and the rooms they read."""

    key: str  # manager, clerk… or supplier:S01, dropship:DS1
    user: str
    name: str
    chats: tuple[str, ...]  # the last is their private room (replies only they see)
    command: str  # what to type to become them: `/as supplier S01`

    @property
    def chat(self) -> str:
        return self.chats[0]

    @property
    def dm(self) -> str:
        return self.chats[-1]


@dataclass(frozen=True)
class Cast:
    roles: tuple[Role, ...]
    names: dict[str, str]  # chat id → shown name
    hints: dict[str, str]  # chat id → `/as …` of who reads it

    def find(self, words: list[str]) -> Role | None:
        """`manager`, `supplier S01`, `supplier 鮮牧坊`, `dropship 好速` → the role."""
        if not words:
            return None
        kind, rest = words[0].lower(), " ".join(words[1:]).casefold()
        for role in self.roles:
            if role.key == kind and not rest:
                return role
        for role in self.roles:
            room, _, code = role.key.partition(":")
            if room == kind and rest and (rest == code.casefold() or rest in role.name.casefold()):
                return role
        return None


def cast_members(session: Session, locale: str) -> Cast:
    """Create the members and bindings (idempotent, audited as done by the system)."""
    roles = [_staff(session, key, locale) for key in STAFF]
    for room in ROOMS:
        bind_chat(session, None, purpose=room, platform=PLATFORM, chat_id=room)
    for supplier in session.scalars(select(Supplier).order_by(col(Supplier.code))):
        roles.append(_outsider(session, "supplier", supplier, supplier.id, locale))
    partners = select(Location).where(Location.kind == LocationKind.DROPSHIP)
    for partner in session.scalars(partners.order_by(col(Location.code))):
        roles.append(_outsider(session, "dropship", partner, partner.id, locale))
    names = {room: t(f"demo.room.{room}", locale) for room in ROOMS}
    for role in roles:
        kind = role.key.partition(":")[0]
        if kind in EXTERNAL:
            names[role.chat] = t(f"demo.room.{kind}", locale, name=role.name)
        names[role.dm] = t("demo.room.dm", locale)
    return Cast(tuple(roles), names, _hints(roles))


def _staff(session: Session, key: str, locale: str) -> Role:
    member_roles, chats = STAFF[key]
    name = t(f"demo.role.{key}", locale)
    add_member(
        session,
        None,
        platform=PLATFORM,
        user_id=key,
        roles=member_roles,
        display_name=name,
        locale=locale,
    )
    return Role(key, key, name, (*chats, f"dm:{key}"), f"/as {key}")


def _outsider(
    session: Session, kind: str, who: Supplier | Location, target: int | None, locale: str
) -> Role:
    """A supplier's or partner's group, bound to it, and one person speaking for it."""
    chat = f"{kind}:{who.code}"
    supplier_id = target if kind == "supplier" else None
    partner_id = target if kind == "dropship" else None
    ids = {"supplier_id": supplier_id, "partner_id": partner_id}
    bind_chat(session, None, purpose=kind, platform=PLATFORM, chat_id=chat, **ids)
    add_member(
        session,
        None,
        platform=PLATFORM,
        user_id=chat,
        roles=[kind],
        display_name=who.name,
        locale=locale,
        supplier_id=supplier_id,
        partner_id=partner_id,
    )
    return Role(chat, chat, who.name, (chat, f"dm:{chat}"), f"/as {kind} {who.code}")


def _hints(roles: Iterable[Role]) -> dict[str, str]:
    hints: dict[str, str] = {}
    for role in roles:
        for chat in role.chats:
            hints.setdefault(chat, role.command)  # the first role that reads it
    return hints
