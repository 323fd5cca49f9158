"""`/replenish kpi [7d|30d|90d]` (指標): the KPIs of the last N complete days as a card, the
same rows `replenish kpi` prints (bot/kpi_text.py)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

from adapters.chat import Card, Command, Reply, Table
from bot.engine import default_as_of
from bot.i18n import t
from bot.kpi_text import kpi_rows, kpi_scope, kpi_title
from core.kpi import kpis

if TYPE_CHECKING:
    from bot.chatbot import ChatBot

DEFAULT_DAYS, MAX_DAYS = 30, 365
_PERIOD = re.compile(r"^(\d{1,3})\s*(d|day|days|天|日)?$", re.IGNORECASE)


def kpi(bot: ChatBot, command: Command, args: list[str], locale: str) -> Reply:
    days = _days(args)
    if days is None:
        return Reply(text=t("cmd.kpi.usage", locale, max=MAX_DAYS))
    end = default_as_of(bot.app)
    start = end - timedelta(days=days - 1)
    with bot.app.store.read() as session:
        k = kpis(session, start, end, tz=bot.app.settings.tz)
    header = tuple(t(f"kpi.col.{c}", locale) for c in ("name", "value", "basis"))
    return Reply(
        card=Card(
            title=kpi_title(start, end, locale),
            text=kpi_scope(locale),
            table=Table(header, tuple(kpi_rows(k, locale))),
            footer=(t("kpi.note", locale),),
        )
    )


def _days(args: list[str]) -> int | None:
    """`7d`, `30`, `90天` → days; nothing → the default; anything else → None."""
    if not args:
        return DEFAULT_DAYS
    match = _PERIOD.match("".join(args).strip())
    if match is None or not 1 <= int(match.group(1)) <= MAX_DAYS:
        return None
    return int(match.group(1))
