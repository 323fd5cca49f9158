"""The emergency approver chain (緊急補貨的審批權限): levels asked one after another, each
naming roles ("manager") or members by platform and id ("slack:U123", "telegram:456").

Kept apart from the routing so the settings can check a configured chain cheaply."""

from collections.abc import Sequence

from sqlmodel import Session, col, select

from core.models import Member, Role

Chain = Sequence[Sequence[str]]
DEFAULT_CHAIN: tuple[tuple[str, ...], ...] = ((Role.MANAGER.value,),)


def approver_level(level: Sequence[str]) -> list[str]:
    """One level of the chain, checked: role names, or "platform:user" member refs."""
    cleaned = [str(entry).strip() for entry in level if str(entry).strip()]
    if not cleaned:
        raise ValueError("an approver level names at least one role or member")
    roles = {role.value for role in Role}
    for entry in cleaned:
        platform, _, user = entry.partition(":")
        if platform and user and " " not in entry:
            continue
        if entry not in roles:
            raise ValueError(f"not a role or a platform:user member: {entry!r}")
    return cleaned


def level_of(chain: Chain, level: int) -> list[str]:
    """The level's entries; past the end of the chain, its last level."""
    levels = chain or DEFAULT_CHAIN
    return list(levels[min(max(level, 0), len(levels) - 1)])


def roles_of(level: Sequence[str]) -> list[str]:
    return [entry for entry in level if ":" not in entry]


def refs_of(level: Sequence[str]) -> set[tuple[str, str]]:
    """The members a level names directly, as (platform, user id)."""
    pairs = (entry.partition(":") for entry in level if ":" in entry)
    return {(platform, user) for platform, _, user in pairs}


def level_members(session: Session, level: Sequence[str]) -> list[Member]:
    """Active members a level names, by role or by platform and id, in member order."""
    roles, refs = set(roles_of(level)), refs_of(level)
    members = session.scalars(
        select(Member).where(col(Member.active).is_(True)).order_by(col(Member.id))
    )
    return [m for m in members if roles & set(m.roles) or (m.platform, m.user_id) in refs]
