"""`/replenish report [daily|kpi|exceptions]` (報表 [日報|績效|異常]): a report on demand,
answered privately as its card with its chart. Nothing is queued or marked as reported."""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.chat import Command, Reply
from bot.i18n import t
from bot.report_cards import report_card
from bot.reports import report_data

if TYPE_CHECKING:
    from bot.chatbot import ChatBot

KINDS = {
    "daily": "daily",
    "日報": "daily",
    "kpi": "kpi",
    "績效": "kpi",
    "exceptions": "exceptions",
    "異常": "exceptions",
}


def report(bot: ChatBot, command: Command, args: list[str], locale: str) -> Reply:
    kind = KINDS.get(args[0].lower(), "") if args else "daily"
    if not kind or len(args) > 1:
        return Reply(text=t("report.cmd.usage", locale))
    data = report_data(bot.app, kind, bot.app.clock())
    return Reply(card=report_card(data, locale, bot.app.settings.tz))
