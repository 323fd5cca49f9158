"""`/replenish emergency <SKU> <qty> [reason]` (緊急): an emergency order from the chat, and
what it shares with the alert card's Emergency order button (bot/emergency_actions.py): the
rules from the settings, the quantity as typed, and the reply with the emergency card."""

from __future__ import annotations

import unicodedata
from datetime import timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import select

from adapters.chat import Card, Command, Reply
from bot.emergency_cards import emergency_card
from bot.i18n import t
from core.emergency import EmergencyRules, open_emergency
from core.emergency_routing import emergency_json
from core.inbox import Response
from core.models import EmergencyRequest, Sku, utcnow

if TYPE_CHECKING:
    from bot.chatbot import ChatBot
    from bot.settings import Settings


def emergency(bot: ChatBot, command: Command, args: list[str], locale: str) -> Reply:
    qty = whole_number(args[1]) if len(args) >= 2 else None
    if qty is None or qty < 1:
        return Reply(text=t("cmd.emergency.usage", locale))
    code, reason = args[0], " ".join(args[2:])
    with bot.app.store.read() as session:
        sku_id = session.scalars(
            select(Sku.id).where(sa.func.lower(Sku.code) == code.lower())
        ).first()
    if sku_id is None:
        return Reply(text=t("cmd.emergency.unknown_sku", locale, sku=code))
    rules = emergency_rules(bot.app.settings)
    answer = bot.once(
        command,
        lambda session, actor: open_emergency(
            session, actor, sku_id=sku_id, qty=qty, reason=reason, now=utcnow(), rules=rules
        ),
    )
    return emergency_reply(bot, answer, command.user)


def emergency_rules(settings: Settings) -> EmergencyRules:
    config = settings.emergency
    return EmergencyRules(
        chain=tuple(tuple(level) for level in config.approvers),
        approve_within=timedelta(minutes=config.approve_within_minutes),
        confirm_within=timedelta(minutes=config.confirm_within_minutes),
    )


def whole_number(text: str) -> int | None:
    """`120`, `１２０` or `1,200` → the number; anything else → None."""
    plain = unicodedata.normalize("NFKC", text).strip().replace(",", "")
    return int(plain) if plain.isdigit() else None


def emergency_reply(bot: ChatBot, answer: Response, user: str) -> Reply:
    """What the requester reads: done (and the card the approvers got), or why not."""
    locale = bot.locale_of(user)
    text = bot.answer_text(answer, locale)
    if "error" in answer:
        return Reply(text=text, refused=True)
    supplier = t(
        "outcome.emergency_supplier",
        locale,
        supplier=answer.get("supplier") or "",
        days=answer.get("lead_time_days"),
    )
    card = emergency_view(bot, int(answer.get("emergency") or 0), locale)
    return Reply(card=card, text=f"{text}\n{supplier}")


def emergency_view(bot: ChatBot, request_id: int, locale: str) -> Card | None:
    """The request's card as it stands now."""
    chain = emergency_rules(bot.app.settings).chain
    with bot.app.store.read() as session:
        request = session.get(EmergencyRequest, request_id)
        if request is None:
            return None
        data = emergency_json(session, request, "opened", now=utcnow(), chain=chain)
    return emergency_card(data, locale, bot.app.settings.tz)
