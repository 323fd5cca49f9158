"""One-time bind codes: how a supplier's or dropship partner's group chat (or an internal
channel) is bound to its purpose without anyone copying chat ids around.

A manager (or the CLI) asks for a code; the code is shown once, typed into the group
(`/bind ABCD-EFGH`), and binds that chat. Only the code's SHA-256 is stored. Its strength
is its short life, single use and the per-chat rate limit, not the hash: 31⁸ codes are few
enough to enumerate offline, but a database reader can bind chats anyway.

Refusals are audited DomainErrors: run `redeem` through `core.inbox.attempt` (as every chat
use case is), which keeps the `refused.*` audit row while undoing the attempt. The rate
limit counts those rows, so a wrong, used and expired code all look the same to the chat
and cost it one of its five guesses an hour; only the audit row says which it was.

Telegram users are members too (`member_for_chat`): someone speaking in a supplier's or
partner's bound group is linked to that supplier or partner on first contact.
"""

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.members import PURPOSES, UnknownPurpose, bind_chat
from core.models import (
    AuditEvent,
    BindCode,
    ChatBinding,
    Location,
    LocationKind,
    Member,
    OutboxMessage,
    OutboxStatus,
    Role,
    Supplier,
)
from core.permissions import Action, DomainError, refusal, require

ENTITY = "bind_code"
CHAT_ENTITY = "chat"
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud, typed on a phone
CODE_LENGTH = 8
DEFAULT_TTL = timedelta(hours=24)
MAX_REFUSALS = 5  # wrong codes per chat per window, then the chat waits
REFUSAL_WINDOW = timedelta(hours=1)
EXTERNAL = {"supplier": Role.SUPPLIER, "dropship": Role.DROPSHIP}  # purpose → member role
REFUSED_CODE = "refused.bind_code_invalid"


class BindCodeInvalid(DomainError):  # noqa: N818 (domain language)
    """Wrong, used or expired: one answer for all three, so codes cannot be probed."""

    code = "bind_code_invalid"
    audited = True


class BindRateLimited(DomainError):  # noqa: N818 (domain language)
    code = "bind_rate_limited"
    audited = True


class InviteTargetRequired(DomainError):  # noqa: N818 (domain language)
    """A supplier code needs an existing supplier, a dropship code a dropship location, and
    an internal code neither."""

    code = "invite_target_required"


class ChatAlreadyBound(DomainError):  # noqa: N818 (domain language)
    """The chat already serves this purpose for another supplier or partner."""

    code = "chat_already_bound"


# --- codes -----------------------------------------------------------------------------------


def normalise(code: str) -> str:
    """What people type (`abcd efgh`, `ABCD-EFGH`) → `ABCDEFGH`."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def shown(code: str) -> str:
    """`ABCDEFGH` → `ABCD-EFGH`, easier to read out and type."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise(code).encode()).hexdigest()


def create_invite(
    session: Session,
    actor: Member | None,
    *,
    purpose: str,
    supplier_id: int | None = None,
    partner_id: int | None = None,
    now: datetime,
    ttl: timedelta = DEFAULT_TTL,
) -> str:
    """A fresh one-time code (shown as `ABCD-EFGH`) for `purpose`; only its hash is kept."""
    if actor is not None:
        require(actor, Action.MANAGE_MEMBERS, entity=ENTITY, entity_id=purpose)
    _check_target(session, purpose, supplier_id, partner_id)
    code = _unused_code(session)
    invite = BindCode(
        code_hash=code_hash(code),
        purpose=purpose,
        supplier_id=supplier_id,
        partner_id=partner_id,
        created_by_id=actor.id if actor else None,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(invite)
    session.flush()
    data = {"purpose": purpose, "supplier_id": supplier_id, "partner_id": partner_id}
    expires = invite.expires_at.isoformat()
    _audit(
        session, actor, "invite.created", ENTITY, str(invite.id), now, **data, expires_at=expires
    )
    return shown(code)


def _check_target(
    session: Session, purpose: str, supplier_id: int | None, partner_id: int | None
) -> None:
    if purpose not in PURPOSES:
        raise UnknownPurpose(value=purpose, valid=list(PURPOSES))
    if purpose == "supplier":
        ok = partner_id is None and supplier_id is not None
        ok = ok and session.get(Supplier, supplier_id) is not None
    elif purpose == "dropship":
        partner = session.get(Location, partner_id) if partner_id is not None else None
        ok = supplier_id is None and partner is not None and partner.kind == LocationKind.DROPSHIP
    else:  # internal channels hear the whole shop, never one supplier's or partner's share
        ok = supplier_id is None and partner_id is None
    if not ok:
        raise InviteTargetRequired(purpose=purpose)


def _unused_code(session: Session) -> str:
    while True:  # a collision is ~1 in 10¹², but the unique hash must hold
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        taken = select(BindCode.id).where(BindCode.code_hash == code_hash(code))
        if session.scalars(taken).first() is None:
            return code


# --- redeeming -------------------------------------------------------------------------------


def redeem(
    session: Session,
    *,
    code: str,
    platform: str,
    chat_id: str,
    user_id: str,
    user_name: str,
    now: datetime,
) -> ChatBinding:
    """Bind the chat the code was typed in; the code is used up. Refusals: see module doc."""
    chat = f"{platform}:{chat_id}"
    _check_rate(session, chat, now)
    invite = session.scalars(select(BindCode).where(BindCode.code_hash == code_hash(code))).first()
    reason = _unusable(invite, now)
    if invite is None or reason is not None:
        raise _invalid(chat, reason or "unknown", user_id, invite, now)
    _check_not_bound_elsewhere(session, invite, platform, chat_id)
    if not _claim(session, invite, chat, now):  # another chat redeemed it a moment ago
        raise _invalid(chat, "used", user_id, invite, now)
    binding, _ = bind_chat(
        session,
        None,
        purpose=invite.purpose,
        platform=platform,
        chat_id=chat_id,
        supplier_id=invite.supplier_id,
        partner_id=invite.partner_id,
    )
    details = {"chat": chat, "user": user_id, "user_name": user_name, "purpose": invite.purpose}
    _audit(session, None, "invite.redeemed", ENTITY, str(invite.id), now, **details)
    return binding


def _check_rate(session: Session, chat: str, now: datetime) -> None:
    """Five refused codes from one chat within the hour → wait, without checking the code."""
    recent = session.scalars(
        select(AuditEvent.at)
        .where(
            AuditEvent.action == REFUSED_CODE,
            AuditEvent.entity == CHAT_ENTITY,
            AuditEvent.entity_id == chat[:64],
            col(AuditEvent.at) > now - REFUSAL_WINDOW,
        )
        .order_by(col(AuditEvent.at).desc())
        .limit(MAX_REFUSALS)
    ).all()
    if len(recent) < MAX_REFUSALS:
        return
    free_at = recent[-1] + REFUSAL_WINDOW  # when the fifth newest refusal leaves the window
    minutes = max(math.ceil((free_at - now).total_seconds() / 60), 1)
    raise refusal(BindRateLimited(minutes=minutes), None, CHAT_ENTITY, chat[:64], at=now)


def _unusable(invite: BindCode | None, now: datetime) -> str | None:
    if invite is None:
        return "unknown"
    if invite.used_at is not None:
        return "used"
    return "expired" if invite.expires_at <= now else None


def _invalid(
    chat: str, reason: str, user_id: str, invite: BindCode | None, now: datetime
) -> DomainError:
    """The same error whatever the reason; the audit row alone says which it was."""
    error = BindCodeInvalid()
    code_id = invite.id if invite else None
    error.audit_extra = {"reason": reason, "user": user_id, "code_id": code_id}
    return refusal(error, None, CHAT_ENTITY, chat[:64], at=now)


def _check_not_bound_elsewhere(
    session: Session, invite: BindCode, platform: str, chat_id: str
) -> None:
    """A group bound to supplier A never silently turns into B's: unbind first."""
    found = _bindings(platform, chat_id).where(ChatBinding.purpose == invite.purpose)
    for binding in session.scalars(found):
        if (binding.supplier_id, binding.partner_id) != (invite.supplier_id, invite.partner_id):
            raise ChatAlreadyBound(purpose=invite.purpose)


def _claim(session: Session, invite: BindCode, chat: str, now: datetime) -> bool:
    """Guarded UPDATE: of two chats racing for one code, exactly one sees a row change."""
    claimed = session.execute(
        sa.update(BindCode)
        .where(col(BindCode.id) == invite.id, col(BindCode.used_at).is_(None))
        .values(used_at=now, used_by_chat=chat[:100])
        .execution_options(synchronize_session=False)
    )
    session.refresh(invite)
    return claimed.rowcount == 1  # type: ignore[attr-defined]


# --- people in bound chats -------------------------------------------------------------------


def member_for_chat(
    session: Session, platform: str, user_id: str, user_name: str, chat_id: str
) -> Member | None:
    """The member acting in this chat, linked on first contact in a supplier's or partner's
    group; None for strangers in internal chats, removed members, and another supplier's
    or partner's people (someone of supplier A inside B's group never acts for B)."""
    binding = _external_binding(session, platform, chat_id)
    member = session.scalars(
        select(Member).where(Member.platform == platform, Member.user_id == user_id)
    ).first()
    if member is not None:
        if not member.active:
            return None  # a manager removed them: being in the group does not bring them back
        return member if binding is None or _may_act_for(member, binding) else None
    if binding is None:
        return None  # internal chats: a manager adds staff (`replenish member add`)
    return _link(session, binding, platform, user_id, user_name)


def _external_binding(session: Session, platform: str, chat_id: str) -> ChatBinding | None:
    return session.scalars(
        _bindings(platform, chat_id)
        .where(
            col(ChatBinding.purpose).in_(EXTERNAL),
            sa.or_(
                col(ChatBinding.supplier_id).is_not(None), col(ChatBinding.partner_id).is_not(None)
            ),
        )
        .order_by(col(ChatBinding.id))
    ).first()


def _may_act_for(member: Member, binding: ChatBinding) -> bool:
    """Not linked to a different supplier or partner than the chat's (staff may be there)."""
    if member.supplier_id is not None and member.supplier_id != binding.supplier_id:
        return False
    return member.partner_id is None or member.partner_id == binding.partner_id


def _link(
    session: Session, binding: ChatBinding, platform: str, user_id: str, user_name: str
) -> Member | None:
    role = EXTERNAL[binding.purpose]
    member = Member(
        platform=platform,
        user_id=user_id,
        display_name=user_name,
        roles=[role.value],
        supplier_id=binding.supplier_id if role == Role.SUPPLIER else None,
        partner_id=binding.partner_id if role == Role.DROPSHIP else None,
    )
    try:
        with session.begin_nested():  # the same person's second message may race this one
            session.add(member)
    except IntegrityError:
        found = select(Member).where(Member.platform == platform, Member.user_id == user_id)
        linked = session.scalars(found).first()
        return linked if linked is not None and _may_act_for(linked, binding) else None
    data: dict[str, Any] = {
        "chat": f"{platform}:{binding.chat_id}",
        "roles": list(member.roles),
        "supplier_id": member.supplier_id,
        "partner_id": member.partner_id,
    }
    _audit(session, None, "member.linked", "member", f"{platform}:{user_id}", None, **data)
    return member


# --- supergroup migration --------------------------------------------------------------------


@dataclass(frozen=True)
class ChatMigration:
    bindings: int
    messages: int


def migrate_chat(
    session: Session, platform: str, old_chat_id: str, new_chat_id: str
) -> ChatMigration:
    """A Telegram group became a supergroup (new id): its bindings and every message not yet
    delivered follow it. Sent messages stay: their refs belong to the old chat, so a later
    update is posted afresh in the new one. Idempotent."""
    moved = 0
    for binding in session.scalars(_bindings(platform, old_chat_id)):
        twin = _bindings(platform, new_chat_id).where(ChatBinding.purpose == binding.purpose)
        if session.scalars(twin).first() is not None:
            session.delete(binding)  # already bound there (e.g. re-bound by hand)
        else:
            binding.chat_id = new_chat_id
        moved += 1
    messages = session.execute(
        sa.update(OutboxMessage)
        .where(
            col(OutboxMessage.platform) == platform,
            col(OutboxMessage.target) == old_chat_id,
            col(OutboxMessage.status) != OutboxStatus.SENT,
        )
        .values(target=new_chat_id)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.flush()
    if moved or messages:
        data = {"to": new_chat_id, "bindings": moved, "messages": messages}
        chat = f"{platform}:{old_chat_id}"
        _audit(session, None, "chat.migrated", CHAT_ENTITY, chat, None, **data)
    return ChatMigration(moved, messages)


# --- helpers ---------------------------------------------------------------------------------


def _bindings(platform: str, chat_id: str) -> Any:
    return select(ChatBinding).where(
        ChatBinding.platform == platform, ChatBinding.chat_id == chat_id
    )


def _audit(
    session: Session,
    actor: Member | None,
    action: str,
    entity: str,
    entity_id: str,
    at: datetime | None,
    **data: Any,
) -> None:
    """An audit row, at the use case's clock when it has one (the rate limit reads them)."""
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        action=action,
        entity=entity,
        entity_id=entity_id[:64],
        data=data,
    )
    if at is not None:
        event.at = at
    session.add(event)
    session.flush()
