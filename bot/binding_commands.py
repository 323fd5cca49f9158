"""`invite` (a manager asks for a one-time code) and `bind <code>` (a group redeems it).

The code is never stored in clear: `invite` runs in a plain unit of work rather than the
exactly-once inbox, whose stored answer would keep it. `bind` goes through the inbox so its
refusals are audited — the rate limit counts them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from adapters.chat import Command, Reply
from bot.i18n import t
from bot.replies import error_text
from core.inbox import attempt, run_once
from core.invites import create_invite, redeem
from core.models import Location, Supplier, utcnow
from core.permissions import DomainError

if TYPE_CHECKING:
    from bot.chatbot import ChatBot

TARGETS: dict[str, Any] = {"supplier": Supplier, "dropship": Location}
INTERNAL = ("alerts", "approvals", "reports", "buyers", "logistics")


def invite(bot: ChatBot, command: Command, args: list[str], locale: str) -> Reply:
    """`invite supplier S1`, `invite dropship DS1` or `invite approvals` (managers only)."""
    purpose = args[0].lower() if args else ""
    if purpose not in (*TARGETS, *INTERNAL) or (purpose in TARGETS) != (len(args) == 2):
        return Reply(text=t("cmd.invite.usage", locale))
    with bot.app.store.unit_of_work() as session:
        target = _target(session, purpose, args[1] if len(args) == 2 else "")
        if purpose in TARGETS and target is None:
            text = t(
                "cmd.invite.unknown_target", locale, purpose=_word(purpose, locale), code=args[1]
            )
            return Reply(text=text)
        answer = attempt(session, lambda: _create(bot, session, command, purpose, target))
    if "error" in answer:
        return Reply(text=error_text(answer["error"], locale, bot.app.settings.tz))
    name = f"（{target.name}）" if target is not None else ""
    text = t(
        "cmd.invite.done", locale, purpose=_word(purpose, locale), target=name, code=answer["code"]
    )
    return Reply(text=text, private=True)


def _create(
    bot: ChatBot, session: Session, command: Command, purpose: str, target: Any
) -> dict[str, Any]:
    actor = bot.actor(session, command.user, chat=command.channel, name=command.user_name)
    ids = {f"{'supplier' if purpose == 'supplier' else 'partner'}_id": target.id} if target else {}
    code = create_invite(session, actor, purpose=purpose, now=utcnow(), **ids)
    return {"code": code}


def bind(bot: ChatBot, command: Command, args: list[str], locale: str) -> Reply:
    """`bind ABCD-EFGH` typed in the group that should hear a supplier's or partner's POs."""
    code = "".join(args)
    if not code:
        return Reply(text=t("cmd.bind.usage", locale), private=False)

    def step(session: Session) -> dict[str, Any]:
        binding = redeem(
            session,
            code=code,
            platform=bot.platform,
            chat_id=command.channel,
            user_id=command.user,
            user_name=command.user_name,
            now=utcnow(),
        )
        target = _bound_name(session, binding.supplier_id, binding.partner_id)
        return {"purpose": binding.purpose, "target": target}

    try:
        answer = run_once(bot.app.store, bot.platform, command.key, step)
    except DomainError as error:  # refused outside `attempt` (should not happen): say so
        answer = {"error": error.as_dict()}
    if "error" in answer:
        return Reply(text=error_text(answer["error"], locale, bot.app.settings.tz), private=False)
    target = f"（{answer['target']}）" if answer.get("target") else ""
    purpose = _word(str(answer["purpose"]), locale)
    return Reply(text=t("cmd.bind.done", locale, purpose=purpose, target=target), private=False)


def _target(session: Session, purpose: str, code: str) -> Any:
    table = TARGETS.get(purpose)
    if table is None:
        return None
    return session.scalars(select(table).where(table.code == code)).first()


def _bound_name(session: Session, supplier_id: int | None, partner_id: int | None) -> str:
    if supplier_id is not None:
        supplier = session.get(Supplier, supplier_id)
        return supplier.name if supplier else ""
    if partner_id is not None:
        partner = session.get(Location, partner_id)
        return (partner.name or partner.code) if partner else ""
    return ""


def _word(purpose: str, locale: str) -> str:
    return t(f"purpose.{purpose}", locale)
