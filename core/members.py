"""Members: who someone is on a chat platform and which roles they hold. Every change is
audited; `actor` is None when the CLI (a local administrator) or the system makes it."""

import re
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, col, select

from core.models import AuditEvent, ChatBinding, Member
from core.permissions import Action, DomainError, parse_roles, require

ENTITY = "member"
LOCALES = ("zh-TW", "en")
# A plain ASCII mailbox, short enough to be an outbox target (the e-mail fallback's).
EMAIL_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")
MAX_EMAIL = 100


def is_email_address(text: str) -> bool:
    return len(text) <= MAX_EMAIL and EMAIL_ADDRESS.match(text) is not None


class UnknownLocale(DomainError):  # noqa: N818 (domain language)
    code = "unknown_locale"


class InvalidEmail(DomainError):  # noqa: N818 (domain language)
    code = "invalid_email"


class NotAMember(DomainError):  # noqa: N818 (domain language)
    """Someone pressed a button who is not (or no longer) a member: a manager adds them."""

    code = "not_a_member"
    audited = True


class MemberNotFound(DomainError):  # noqa: N818 (domain language)
    code = "member_not_found"


def member_name(member: Member | None) -> str:
    """How a member is named on cards and in replies ("system" for what nobody pressed)."""
    return (member.display_name or member.user_id) if member else "system"


def find_member(session: Session, platform: str, user_id: str) -> Member | None:
    """The active member behind a platform user, or None (a stranger has no rights)."""
    member = _get(session, platform, user_id)
    return member if member is not None and member.active else None


def add_member(
    session: Session,
    actor: Member | None,
    *,
    platform: str,
    user_id: str,
    roles: Iterable[str],
    display_name: str | None = None,
    locale: str | None = None,
    supplier_id: int | None = None,
    partner_id: int | None = None,
    email: str | None = None,
) -> Member:
    """Create the member, or update (and reactivate) the one already there. `email` is
    where red alerts are also mailed ("" removes it; None leaves it as it is)."""
    _check_actor(actor, f"{platform}:{user_id}")
    checked_roles = parse_roles(roles)
    if locale is not None and locale not in LOCALES:
        raise UnknownLocale(value=locale, valid=list(LOCALES))
    email = email.strip() if email is not None else None
    if email and not is_email_address(email):
        raise InvalidEmail(value=email)
    member = _get(session, platform, user_id)
    before = _snapshot(member) if member else None
    if member is None:
        member = Member(platform=platform, user_id=user_id)
        session.add(member)
    member.roles, member.active = checked_roles, True
    changes = {
        "display_name": display_name,
        "locale": locale,
        "supplier_id": supplier_id,
        "partner_id": partner_id,
        "email": email,
    }
    for name, value in changes.items():
        if value is not None:
            setattr(member, name, value)
    session.flush()
    action = "member.added" if before is None else "member.updated"
    _audit(session, actor, action, member, before=before, after=_snapshot(member))
    return member


def list_members(
    session: Session, *, platform: str | None = None, include_inactive: bool = False
) -> list[Member]:
    query = select(Member).order_by(Member.platform, Member.user_id)
    if platform is not None:
        query = query.where(Member.platform == platform)
    if not include_inactive:
        query = query.where(Member.active)
    return list(session.scalars(query))


def remove_member(session: Session, actor: Member | None, *, platform: str, user_id: str) -> Member:
    """Deactivate (history and audit rows keep pointing at the member)."""
    _check_actor(actor, f"{platform}:{user_id}")
    member = find_member(session, platform, user_id)
    if member is None:
        raise MemberNotFound(platform=platform, user=user_id)
    member.active = False
    session.flush()
    _audit(session, actor, "member.removed", member, before=None, after=_snapshot(member))
    return member


def _check_actor(actor: Member | None, entity_id: str) -> None:
    if actor is not None:
        require(actor, Action.MANAGE_MEMBERS, entity=ENTITY, entity_id=entity_id)


def _get(session: Session, platform: str, user_id: str) -> Member | None:
    return session.scalars(
        select(Member).where(Member.platform == platform, Member.user_id == user_id)
    ).first()


def _snapshot(member: Member) -> dict[str, Any]:
    return {
        "roles": list(member.roles),
        "display_name": member.display_name,
        "locale": member.locale,
        "supplier_id": member.supplier_id,
        "partner_id": member.partner_id,
        "email": member.email,
        "active": member.active,
    }


def _audit(
    session: Session, actor: Member | None, action: str, member: Member, **data: Any
) -> None:
    session.add(
        AuditEvent(
            actor_id=actor.id if actor else None,
            action=action,
            entity=ENTITY,
            entity_id=f"{member.platform}:{member.user_id}",
            data=data,
        )
    )


LIMITS_ENTITY = ("settings", "approval")


def record_approval_rules(session: Session, rules: dict[str, Any]) -> bool:
    """Audit the approval limits in force when they differ from the last ones recorded.

    The limits live in settings (a file or the environment), so a change is noticed, and
    written as `approval.limits_changed` with before and after, the first time the bot runs
    with it. True when a change was recorded.
    """
    entity, entity_id = LIMITS_ENTITY
    last = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
        .order_by(col(AuditEvent.id).desc())
    ).first()
    before = last.data.get("after") if last is not None else None
    if before == rules:
        return False
    session.add(
        AuditEvent(
            action="approval.limits_changed",
            entity=entity,
            entity_id=entity_id,
            data={"before": before, "after": rules},
        )
    )
    session.flush()
    return True


# --- chat bindings: which channel or group hears what ----------------------------------------

PURPOSES = ("alerts", "approvals", "buyers", "reports", "logistics", "supplier", "dropship")
CHAT_ENTITY = "chat_binding"


class UnknownPurpose(DomainError):  # noqa: N818 (domain language)
    code = "unknown_purpose"


def bind_chat(
    session: Session,
    actor: Member | None,
    *,
    purpose: str,
    platform: str,
    chat_id: str,
    supplier_id: int | None = None,
    partner_id: int | None = None,
) -> tuple[ChatBinding, bool]:
    """Bind a channel to a purpose (idempotent); True when it is new. Audited."""
    _check_actor(actor, f"{platform}:{chat_id}")
    if purpose not in PURPOSES:
        raise UnknownPurpose(value=purpose, valid=list(PURPOSES))
    found = session.scalars(
        select(ChatBinding).where(
            ChatBinding.platform == platform,
            ChatBinding.chat_id == chat_id,
            ChatBinding.purpose == purpose,
        )
    ).first()
    if found is not None:
        return found, False
    binding = ChatBinding(
        purpose=purpose,
        platform=platform,
        chat_id=chat_id,
        supplier_id=supplier_id,
        partner_id=partner_id,
    )
    session.add(binding)
    session.flush()
    _audit_binding(session, actor, "chat.bound", binding)
    return binding, True


def unbind_chat(
    session: Session, actor: Member | None, *, purpose: str, platform: str, chat_id: str
) -> bool:
    """Remove a binding; False when there was none. Audited."""
    _check_actor(actor, f"{platform}:{chat_id}")
    found = session.scalars(
        select(ChatBinding).where(
            ChatBinding.platform == platform,
            ChatBinding.chat_id == chat_id,
            ChatBinding.purpose == purpose,
        )
    ).first()
    if found is None:
        return False
    _audit_binding(session, actor, "chat.unbound", found)
    session.delete(found)
    session.flush()
    return True


def list_bindings(session: Session, *, platform: str | None = None) -> list[ChatBinding]:
    query = select(ChatBinding).order_by(ChatBinding.platform, ChatBinding.purpose)
    if platform is not None:
        query = query.where(ChatBinding.platform == platform)
    return list(session.scalars(query))


def _audit_binding(
    session: Session, actor: Member | None, action: str, binding: ChatBinding
) -> None:
    session.add(
        AuditEvent(
            actor_id=actor.id if actor else None,
            action=action,
            entity=CHAT_ENTITY,
            entity_id=f"{binding.platform}:{binding.chat_id}"[:64],
            data={
                "purpose": binding.purpose,
                "supplier_id": binding.supplier_id,
                "partner_id": binding.partner_id,
            },
        )
    )
