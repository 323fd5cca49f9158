"""bot/report_cards.py: the daily, weekly KPI and exception cards from plain report data, in
both locales, with the chart drawn at render time; the report catalogs."""

import re
from zoneinfo import ZoneInfo

import pytest

from adapters.chat import Tone, card_json
from bot import report_cards
from bot.i18n import report_en, report_zh_tw
from bot.report_cards import event_line, kpi_value, report_card
from tests.unit.test_report_charts import PNG, daily_data

TZ = ZoneInfo("Asia/Taipei")
PLACEHOLDER = re.compile(r"\{[a-z_0-9]*\}")
LOCALES = ("zh-TW", "en")


def full_daily() -> dict:
    return daily_data() | {
        "skus": 10,
        "since": "2026-11-30T01:00:00+00:00",
        "until": "2026-12-01T01:00:00+00:00",
        "colours": {"red": 4, "orange": 3, "green": 3},
        "alerts": {"new": {"low_stock": 2, "surge": 1}, "resolved": {"overdue_po": 1}},
        "pos": {
            "approval": {"count": 7, "numbers": [f"PO20261130-00{n}" for n in range(1, 6)]},
            "confirmation": {"count": 1, "numbers": ["PO20261128-001"]},
            "overdue": {"count": 0, "numbers": []},
        },
        "kpis": {
            "yesterday": {"stockout_rate": 0.025, "fill_rate": 0.97, "approve_minutes_median": 42},
            "average_7d": {"stockout_rate": 0.02, "fill_rate": None},
        },
    }


EVENTS = [
    {"kind": "po_declined", "key": "declined:PO1", "po": "PO1", "supplier": "鮮乳坊", "reason": ""},
    {"kind": "po_overdue", "key": "overdue:PO2:2026-11-20", "po": "PO2", "supplier": "S",
     "expected_arrival": "2026-11-20", "days_late": 5},
    {"kind": "price_escalation", "key": "price:PO3:TEA:70.00", "po": "PO3", "sku": "TEA",
     "name": "紅茶", "proposed": "70.00", "agreed": "50.00"},
    {"kind": "stockout", "key": "stockout:MILK:never", "sku": "MILK", "name": "鮮乳"},
    {"kind": "delivery_failed", "key": "failed:9", "platform": "slack", "target": "C1",
     "what": "po.approve", "error": "channel_not_found"},
]  # fmt: skip


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    assert set(report_zh_tw.MESSAGES) == set(report_en.MESSAGES)
    for key, text in report_en.MESSAGES.items():
        assert set(PLACEHOLDER.findall(text)) == set(
            PLACEHOLDER.findall(report_zh_tw.MESSAGES[key])
        ), key


@pytest.mark.parametrize("locale", LOCALES)
def test_daily_card(locale: str) -> None:
    card = report_card(full_daily(), locale, TZ)
    shown = card_json(card)
    assert ("庫存日報" if locale == "zh-TW" else "Daily inventory report") in card.title
    assert "🔴" in card.text
    assert "MLK-000" in card.text  # the reddest, named
    assert "3" in card.text.splitlines()[2]  # three new alerts
    assert card.fields[0].value.startswith("7")
    assert "…" in card.fields[0].value  # seven waiting, five named
    assert card.table is not None
    assert card.table.rows[0][1] == "2.5%"
    assert card.table.rows[0][3] == "▲0.5 pp"
    assert card.table.rows[1][2] == "—"
    assert card.image is not None
    assert card.image.png.startswith(PNG)
    assert shown["image"]  # alt text
    assert not PLACEHOLDER.search(str(shown))


def test_zh_tw_card_says_when_its_chart_is_in_english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_cards, "cjk_font", lambda: None)
    assert any("README" in line for line in report_card(full_daily(), "zh-TW", TZ).footer)
    assert not any("README" in line for line in report_card(full_daily(), "en", TZ).footer)
    monkeypatch.setattr(report_cards, "cjk_font", lambda: "Noto Sans CJK TC")
    assert not any("README" in line for line in report_card(full_daily(), "zh-TW", TZ).footer)


@pytest.mark.parametrize("locale", LOCALES)
def test_weekly_kpi_card(locale: str) -> None:
    data = daily_data() | {
        "report": "kpi",
        "start": "2026-11-24",
        "end": "2026-11-30",
        "kpis": {
            "current": {"inventory_turnover_annualised": 12.34, "otif": 0.9},
            "previous": {"inventory_turnover_annualised": 10.0, "otif": None},
        },
        "counts": {"emergencies": 2, "lines_received": 10, "lines_otif": 9},
    }
    del data["at_risk"]
    card = report_card(data, locale, TZ)
    assert card.table is not None
    assert card.table.rows[0][1] in ("12.3 次", "12.3×")
    assert card.table.rows[0][3] == "▲2.3"
    assert card.table.rows[1][1] == "90%"
    assert card.image is not None
    assert not PLACEHOLDER.search(str(card_json(card)))


@pytest.mark.parametrize("locale", LOCALES)
def test_exception_card_lists_each_event(locale: str) -> None:
    data = {"type": "report", "report": "exceptions", "at": "2026-11-25T01:00:00+00:00"}
    card = report_card(data | {"count": 5, "events": EVENTS}, locale, TZ)
    assert card.tone == Tone.RED
    assert card.image is None
    lines = card.text.splitlines()
    assert [line[0] for line in lines] == ["❌", "⏰", "💲", "🚫", "📭"]
    assert "PO3" in lines[2]
    assert "NT$70" in lines[2]
    assert "NT$50" in lines[2]
    assert "5" in lines[1]
    assert "channel_not_found" in lines[4]
    assert not PLACEHOLDER.search(card.text)

    more = report_card(data | {"count": 30, "events": EVENTS}, locale, TZ)
    assert "25" in more.footer[0]
    empty = report_card(data | {"count": 0, "events": []}, locale, TZ)
    assert empty.tone == Tone.GREEN


def test_event_with_a_reason_names_it() -> None:
    line = event_line({**EVENTS[0], "reason": "原料短缺"}, "zh-TW")
    assert "原料短缺" in line


def test_kpi_values_read_in_their_units() -> None:
    assert kpi_value("stockout_rate", 0.0123, "en") == "1.2%"
    assert kpi_value("approve_minutes_median", 42.4, "zh-TW") == "42 分鐘"
    assert kpi_value("inventory_turnover_annualised", 8, "en") == "8×"
    assert kpi_value("fill_rate", None, "en") == "—"
