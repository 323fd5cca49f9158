"""`/replenish kpi [7d|30d|90d]` (指標): the KPI card on the hand-computed history of
test_kpi.py, in zh-TW and en; a bad period gets the usage."""

from datetime import date

import pytest

import bot.kpi_commands
from adapters.chat import Command
from bot.app import App
from bot.chatbot import ChatBot
from bot.settings import Settings
from core.store import Store
from tests.integration.test_kpi import build_history


@pytest.fixture
def chat(store: Store, monkeypatch: pytest.MonkeyPatch) -> ChatBot:
    build_history(store)
    # "Yesterday" is 11-04, the last day of the history.
    monkeypatch.setattr(bot.kpi_commands, "default_as_of", lambda _app: date(2026, 11, 4))
    url = store.engine.url.render_as_string(hide_password=False)
    return ChatBot(App(Settings(database_url=url), store), "slack")


def _ask(chat: ChatBot, text: str) -> tuple[str, dict[str, tuple[str, str]], str]:
    reply = chat.command(Command("slack", "T1", "U1", "C1", text))
    if reply.card is None:
        return "", {}, reply.text
    assert reply.card.table is not None
    rows = {name: (value, basis) for name, value, basis in reply.card.table.rows}
    return reply.card.title, rows, reply.text


def test_kpi_card_in_chinese(chat: ChatBot) -> None:
    title, rows, _ = _ask(chat, "指標 4d")  # 11-01 … 11-04, as in test_kpi.py
    assert title == "📊 指標 2026-11-01 – 2026-11-04（4 天）"
    assert rows["缺貨率"] == ("40.0%", "4 / 10 品項日")
    assert rows["銷售額增長率"][0] == "+22.2%"
    assert rows["補貨準確率（準時足量）"] == ("25.0%", "1 / 4 行（準時 2、足量 3）")
    assert rows["緊急補貨響應時間：申請→核准"] == ("中位數 20 分 · P90 44 分", "3 / 4 件已核准")
    turnover, basis = rows["庫存周轉率"]
    assert turnover == "0.79 次（年化 71.7 次）"
    assert basis == "銷貨成本 NT$110 ÷ 平均庫存 NT$140（4 天中 4 天有庫存紀錄）"


def test_kpi_card_in_english_and_default_period(chat: ChatBot, monkeypatch) -> None:
    monkeypatch.setattr(chat, "locale_of", lambda _user: "en")
    title, rows, _ = _ask(chat, "kpi")
    assert title == "📊 KPIs 2026-10-06 – 2026-11-04 (30 days)"
    assert rows["Fill rate"][1].startswith("shipped ")
    title, _, _ = _ask(chat, "kpi 7d")
    assert title == "📊 KPIs 2026-10-29 – 2026-11-04 (7 days)"


@pytest.mark.parametrize("period", ["0d", "366d", "week", "7d 30d"])
def test_a_bad_period_gets_the_usage(chat: ChatBot, period: str) -> None:
    _, _, text = _ask(chat, f"kpi {period}")
    assert "/replenish kpi [7d|30d|90d]" in text
