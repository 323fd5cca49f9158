"""The emergency card (緊急補貨) and its form, rendered from plain JSON in both languages."""

import re
from zoneinfo import ZoneInfo

import pytest

from adapters.chat import Card, Tone
from bot.emergency_cards import emergency_card, emergency_form
from bot.i18n import emergency_en, emergency_zh_tw
from bot.ids import APPROVE, REJECT

TZ = ZoneInfo("Asia/Taipei")
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")
LOCALES = ("zh-TW", "en")


def data(status: str = "pending_approval", event: str = "opened", **request: object) -> dict:
    return {
        "type": "emergency",
        "event": event,
        "emergency": {
            "id": 3,
            "sku": "MILK",
            "sku_name": "鮮乳",
            "qty": 50,
            "reason": "團購爆量",
            "requested_by": "林雅婷",
            "requested_at": "2026-11-25T06:05:00+00:00",
            "waited_minutes": 12,
            "level": 0,
            "levels": 2,
            "approvers": ["amy", "ben"],
            **request,
        },
        "po": {
            "number": "PO20261125-002",
            "status": status,
            "qty": 60,
            "total": "3300.00",
            "currency": "TWD",
            "supplier": "S2",
            "supplier_name": "備援乳品",
            "lead_time_days": 2,
            "faster_backup": True,
            "expected_arrival": "2026-11-27",
        },
        "contacts": [
            {"kind": "supplier", "name": "備援乳品", "person": "陳先生", "phone": "0922"},
            {"kind": "backup", "name": "鮮乳坊", "person": "", "phone": ""},
            {"kind": "logistics", "name": "lily", "person": "lily", "phone": "", "email": "l@x.tw"},
        ],
        "at": "2026-11-25T06:17:00+00:00",
    }


def text_of(card: Card) -> str:
    parts = [card.title, card.text, *card.footer, *(f"{f.label} {f.value}" for f in card.fields)]
    rows = card.table.rows if card.table else ()
    return "\n".join(parts + [" ".join(row) for row in rows])


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    assert set(emergency_zh_tw.MESSAGES) == set(emergency_en.MESSAGES)
    for key, text in emergency_en.MESSAGES.items():
        theirs = emergency_zh_tw.MESSAGES[key]
        assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(theirs)), key


def test_the_card_in_zh_tw() -> None:
    card = emergency_card(data(), "zh-TW", TZ)
    assert card.title == "🚨 緊急補貨 · MILK 鮮乳 × 60"
    assert card.text == "林雅婷 提出緊急補貨：團購爆量"
    assert card.tone is Tone.RED
    assert [(f.label, f.value) for f in card.fields] == [
        ("品項", "MILK 鮮乳"),
        ("數量", "60（申請 50，依供應商條件調整）"),
        ("供應商", "備援乳品（S2）（備用供應商，交期較快）"),
        ("交期", "2 個工作天"),
        ("預計到貨", "11/27（五）"),
        ("採購單", "PO20261125-002 · NT$3,300"),
        ("回應時間", "已等待 12 分鐘"),
        ("核准人", "amy、ben（第 1/2 層）"),
        ("原因", "團購爆量"),
    ]
    assert card.table is not None
    assert card.table.rows == (
        ("供應商", "備援乳品", "陳先生", "0922"),
        ("備用供應商", "鮮乳坊", "—", "—"),
        ("物流協調員", "lily", "lily", "l@x.tw"),
    )
    assert [(b.action_id, b.value) for b in card.buttons] == [
        (APPROVE, "PO20261125-002"),
        (REJECT, "PO20261125-002"),
    ]
    assert card.footer == ("📇 緊急聯絡人名錄", "林雅婷 於 11/25 14:05 提出")


@pytest.mark.parametrize("locale", LOCALES)
def test_no_placeholder_is_left_whatever_is_missing(locale: str) -> None:
    for card in (
        emergency_card(data(), locale, TZ),
        emergency_card({"type": "emergency"}, locale, TZ),
        emergency_card(data(event="reminded", approvers=[]), locale, TZ),
        emergency_card(data(event="escalated", level=1), locale, TZ),
        emergency_card(data(status="sent"), locale, TZ),
    ):
        assert not PLACEHOLDER.search(text_of(card)), text_of(card)


def test_once_approved_the_buttons_go() -> None:
    card = emergency_card(data(status="sent"), "en", TZ)
    assert card.buttons == ()
    assert card.tone is Tone.DONE
    assert card.text == "Emergency order: the PO is now sent"


def test_the_form_suggests_the_gap() -> None:
    form = emergency_form(7, "MILK 鮮乳", 70, "en")
    assert (form.context, form.inputs[0].initial, form.inputs[1].optional) == ("7", "70", True)
    assert "Suggested quantity 70" in form.intro
