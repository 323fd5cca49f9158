"""bot/supplier_cards.py and bot/decision_cards.py: the supplier's PO card, its choices and
forms, and the manager's price and backup cards, in both locales, from the core's JSON."""

import re
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from adapters.chat import ButtonStyle, Card, Tone, card_json
from adapters.telegram_render import CALLBACK_MAX, encode_callback
from bot import supplier_cards as sc
from bot.app import render_card
from bot.decision_cards import decision_value, outside_text
from bot.ids import (
    ARRIVAL_FORM,
    CALLBACK_CODES,
    CONFIRM,
    DECLINE,
    LEAD_TIME,
    PRICE_ACCEPT,
    PRICE_FORM,
    PRICE_LINE,
    PRICE_REFUSE,
    PROPOSE_PRICE,
    REASSIGN,
    SHIPPED,
)
from bot.supplier_input import Unreadable, parse_arrival, parse_price, parse_tracking, typed

TZ = ZoneInfo("Asia/Taipei")
LOCALES = ("zh-TW", "en")
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")
CJK = re.compile(r"[\u4e00-\u9fff]")
AT = "2026-11-25T06:05:00+00:00"
NUMBER = "PO20261125-001"


def po_json(status: str = "sent", event: str = "send", **extra) -> dict:
    """What `core.outbox.po_card` queues for the supplier's group."""
    return {
        "type": "po",
        "audience": "supplier",
        "event": event,
        "by": "system",
        "at": AT,
        "po": {
            "number": NUMBER,
            "status": status,
            "version": 4,
            "supplier": "S1",
            "supplier_name": "鮮乳坊",
            "emergency": False,
            "currency": "TWD",
            "total": "2600.00",
            "expected_arrival": None,
            "requested_arrival": "2026-12-01",
            "shipped_at": None,
            "tracking_number": "",
            "reason": "",
            "lines": [
                _line("MILK", "S1-M01", "鮮乳", 48, "50.00"),
                _line("TEA", "TEA", "紅茶", 10, "20.00"),
            ],
        },
        **extra,
    }


def _line(sku: str, theirs: str, name: str, qty: int, price: str) -> dict:
    return {
        "sku": sku,
        "supplier_sku": theirs,
        "name": name,
        "qty": qty,
        "unit_price": price,
        "proposed_price": None,
        "price_band_pct": 5.0,
    }


def _text(card: Card) -> str:
    return str(card_json(card))


def _fits(action_id: str, value: str) -> bool:
    return len(encode_callback(action_id, value, CALLBACK_CODES).encode()) <= CALLBACK_MAX


# --- the supplier's PO card ------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_supplier_card_shows_their_codes_never_ours(locale):
    card = sc.supplier_po_card(po_json(), locale, TZ)
    assert card.table is not None
    assert [row[0] for row in card.table.rows] == ["S1-M01", "TEA"]  # TEA: no own code agreed
    assert "MILK" not in _text(card)
    assert NUMBER in card.title
    assert not PLACEHOLDER.search(_text(card))
    if locale == "zh-TW":
        assert "貴司品號" in card.table.header
        assert CJK.search(card.title)


@pytest.mark.parametrize("locale", LOCALES)
def test_supplier_card_never_shows_our_internal_reason(locale):
    internal = po_json(status="sent")
    internal["po"]["reason"] = "經理覺得太貴"
    assert "經理覺得太貴" not in _text(sc.supplier_po_card(internal, locale, TZ))
    declined = po_json(status="declined", event="decline", reason="原料缺貨")
    declined["po"]["reason"] = "原料缺貨"
    assert "原料缺貨" in _text(sc.supplier_po_card(declined, locale, TZ))


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("status", "buttons"),
    [
        ("sent", [CONFIRM, PROPOSE_PRICE, DECLINE]),
        ("confirmed", [SHIPPED, PROPOSE_PRICE]),
        ("declined", []),
        ("reassigned", []),
        ("received", []),
    ],
)
def test_supplier_buttons_follow_the_status(locale, status, buttons):
    card = sc.supplier_po_card(po_json(status=status), locale, TZ)
    assert [b.action_id for b in card.buttons] == buttons
    assert all(b.value == NUMBER for b in card.buttons)
    assert all(_fits(b.action_id, b.value) for b in card.buttons)
    if buttons:
        assert card.buttons[0].style == ButtonStyle.PRIMARY
    else:
        assert card.tone == Tone.DONE


def test_supplier_button_labels_in_taiwanese_business_words():
    zh = [b.label for b in sc.supplier_po_card(po_json(), "zh-TW", TZ).buttons]
    assert zh == ["✅ 確認", "💲 調整價格", "❌ 無法供貨"]
    confirmed = sc.supplier_po_card(po_json(status="confirmed"), "zh-TW", TZ)
    assert confirmed.buttons[0].label == "🚚 已出貨"
    en = [b.label for b in sc.supplier_po_card(po_json(), "en", TZ).buttons]
    assert en == ["✅ Confirm", "💲 Propose price", "❌ Cannot supply"]


@pytest.mark.parametrize(
    ("data", "zh", "english"),
    [
        (po_json(), "請按「✅ 確認」回覆交期", "please press ✅ confirm"),
        (po_json(event="reminded"), "⏰ 提醒", "⏰ reminder"),
        (
            po_json(status="confirmed", event="confirm", by="sally", expected_arrival="2026-12-04"),
            "sally 已確認交期：12/4（五） 到貨",
            "confirmed by sally: arrives fri 4 dec",
        ),
        (
            po_json(status="confirmed", event="ship", by="sally", tracking="黑貓 123"),
            "物流單號 黑貓 123",
            "tracking number 黑貓 123",
        ),
        (
            po_json(status="declined", event="decline", by="sally", reason="停產"),
            "無法供貨：停產",
            "cannot supply: 停產",
        ),
        (
            po_json(event="price_escalated", sku="MILK", price="60.00"),
            "S1-M01 報價 NT$60 超出議定範圍",
            "s1-m01 at nt$60 is outside",
        ),
        (po_json(status="reassigned", event="reassign"), "已由我方取消", "withdrawn"),
    ],
)
def test_supplier_footer_says_what_happened(data, zh, english):
    assert zh in "\n".join(sc.supplier_po_card(data, "zh-TW", TZ).footer)
    assert english in "\n".join(sc.supplier_po_card(data, "en", TZ).footer).lower()


def test_a_pending_price_and_the_confirmed_arrival_show_on_the_card():
    data = po_json(status="confirmed")
    data["po"]["lines"][0]["proposed_price"] = "60.00"
    data["po"]["expected_arrival"] = "2026-12-04"
    data["po"]["tracking_number"] = "T-1"
    card = sc.supplier_po_card(data, "zh-TW", TZ)
    assert card.table is not None
    assert card.table.rows[0][3] == "NT$50 → NT$60（待我方確認）"
    fields = dict((f.label, f.value) for f in card.fields)
    assert (fields["確認到貨日"], fields["物流單號"]) == ("12/4（五）", "T-1")
    assert fields["訂購方"] == "本團購店"


# --- choices after a press ---------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_lead_time_choices_fit_telegram_callback_data(locale):
    card = sc.lead_time_card(NUMBER, "2026-12-01", locale)
    values = [b.value for b in card.buttons]
    assert values == [f"{NUMBER}:{n}" for n in (0, 1, 3, 7)] + [f"{NUMBER}:date"]
    assert {b.action_id for b in card.buttons} == {LEAD_TIME}
    assert all(_fits(b.action_id, b.value) for b in card.buttons)
    assert encode_callback(LEAD_TIME, values[2], CALLBACK_CODES) == f"sl|{NUMBER}:3"
    labels = [b.label for b in card.buttons]
    if locale == "zh-TW":  # Tue 1 Dec + 3 working days = Fri 4 Dec
        assert labels[0] == "如期 12/1（二）"
        assert labels[1:3] == ["晚 1 個工作天 · 12/2（三）", "晚 3 個工作天 · 12/4（五）"]
        assert labels[-1] == "📅 指定其他日期"
    else:
        assert labels[2] == "+3 · Fri 4 Dec"


def test_lead_time_card_without_a_requested_arrival():
    card = sc.lead_time_card(NUMBER, None, "en")
    assert [b.value.split(":")[1] for b in card.buttons] == ["1", "3", "7", "date"]
    assert card.text == "When can you deliver?"


@pytest.mark.parametrize("locale", LOCALES)
def test_price_line_card_names_the_lines_in_the_suppliers_codes(locale):
    card = sc.price_line_card(po_json(), locale)
    assert [(b.action_id, b.value) for b in card.buttons] == [
        (PRICE_LINE, f"{NUMBER}:S1-M01"),
        (PRICE_LINE, f"{NUMBER}:TEA"),
    ]
    assert "MILK" not in _text(card)
    assert all(_fits(b.action_id, b.value) for b in card.buttons)


def test_a_long_supplier_code_falls_back_to_the_lines_position():
    data = po_json()
    data["po"]["lines"][1]["supplier_sku"] = "X" * 60
    card = sc.price_line_card(data, "zh-TW")
    assert [b.value for b in card.buttons] == [f"{NUMBER}:S1-M01", f"{NUMBER}:#2"]
    assert all(_fits(b.action_id, b.value) for b in card.buttons)
    lines = data["po"]["lines"]
    assert sc.find_line(lines, "#2") is lines[1]
    assert sc.find_line(lines, "S1-M01") is lines[0]
    assert sc.find_line(lines, "MILK") is lines[0]  # our code still finds it
    assert sc.find_line(lines, "#9") is None
    assert sc.find_line(lines, "S1-M01", by=("sku",)) is None


@pytest.mark.parametrize("locale", LOCALES)
def test_forms_carry_the_po_and_ask_politely(locale):
    line = po_json()["po"]["lines"][0]
    forms = [
        sc.arrival_form(NUMBER, locale),
        sc.price_form(NUMBER, line, f"{NUMBER}:S1-M01", locale),
        sc.decline_form(NUMBER, locale),
        sc.shipped_form(NUMBER, locale),
    ]
    assert [len(f.inputs) for f in forms] == [1, 1, 1, 1]
    assert [f.context for f in forms] == [NUMBER, f"{NUMBER}:S1-M01", NUMBER, NUMBER]
    assert (forms[0].form_id, forms[1].form_id) == (ARRIVAL_FORM, PRICE_FORM)
    assert forms[3].inputs[0].optional
    assert "S1-M01" in forms[1].intro
    assert "MILK" not in forms[1].intro
    for form in forms:
        assert NUMBER in form.intro
        assert not PLACEHOLDER.search(f"{form.title}{form.intro}{form.inputs[0].label}")


# --- the manager's price card ------------------------------------------------------------------


def price_json(event: str = "price_escalated", status: str = "sent") -> dict:
    data = po_json(status=status, event=event, by="amy")
    data.update(type="price", audience="approvals")
    data["price"] = {
        "sku": "MILK",
        "supplier_sku": "S1-M01",
        "name": "鮮乳",
        "qty": 48,
        "agreed": "50.00",
        "proposed": "60.00",
        "band_pct": 10.0,
    }
    return data


@pytest.mark.parametrize("locale", LOCALES)
def test_price_card_shows_the_band_and_how_far_outside(locale):
    card = sc.price_card(price_json(), locale, TZ)
    fields = {f.label: f.value for f in card.fields}
    values = list(fields.values())
    assert "NT$50" in values
    assert "NT$60" in values
    assert "±10%" in values
    outside = values[-1]
    assert ("高於議定 20%（超出範圍 10 個百分點）" if locale == "zh-TW" else "20% above") in outside
    assert [(b.action_id, b.value) for b in card.buttons] == [
        (PRICE_ACCEPT, f"{NUMBER}:MILK"),
        (PRICE_REFUSE, f"{NUMBER}:MILK"),
    ]
    assert all(_fits(b.action_id, b.value) for b in card.buttons)
    assert card.tone == Tone.ORANGE
    assert not PLACEHOLDER.search(_text(card))


@pytest.mark.parametrize(
    ("event", "zh"),
    [("price_approved", "✅ amy"), ("price_refused", "維持 NT$50"), ("price_decided", "已處理")],
)
def test_price_card_after_the_decision_has_a_footer_and_no_buttons(event, zh):
    card = sc.price_card(price_json(event=event), "zh-TW", TZ)
    assert card.buttons == ()
    assert zh in "\n".join(card.footer)
    assert card.tone == Tone.DONE


def test_price_buttons_fall_back_to_the_line_position_and_below_band_reads():
    data = price_json()
    long_code = "M" * 50
    data["po"]["lines"][0]["sku"] = long_code
    assert decision_value(data["po"], long_code, PRICE_ACCEPT) == f"{NUMBER}:#1"
    assert _fits(PRICE_REFUSE, decision_value(data["po"], long_code, PRICE_REFUSE))
    below = {"agreed": "50", "proposed": "40", "band_pct": 5}
    assert outside_text(below, "en") == "20% below agreed (15 points past the band)"
    assert outside_text({"agreed": "0", "proposed": "1"}, "en") == "—"


# --- the backup offer -------------------------------------------------------------------------


def offer_json(event: str = "declined", status: str = "declined", **extra) -> dict:
    data = po_json(status=status, event=event, **extra)
    data.update(type="backup_offer", audience="approvals")
    data["po"]["reason"] = "原料缺貨" if status == "declined" else ""
    backup = {
        "supplier": "S2",
        "supplier_name": "備援乳品",
        "unit_price": "55",
        "lead_time_days": 2,
        "rank": 2,
        "qty": 60,
    }
    data["backups"] = [
        {"sku": "MILK", "name": "鮮乳", "qty": 48, "backup": backup},
        {"sku": "TEA", "name": "紅茶", "qty": 10, "backup": None},
    ]
    return data


@pytest.mark.parametrize("locale", LOCALES)
def test_backup_offer_lists_each_line_and_who_would_take_it(locale):
    card = sc.backup_offer_card(offer_json(), locale, TZ)
    assert card.table is not None
    milk, tea = card.table.rows
    assert milk[:4] == ("MILK", "鮮乳", "48", "備援乳品")
    assert milk[4:6] == ("NT$55", "2 個工作天" if locale == "zh-TW" else "2 working days")
    assert milk[6] == "60"  # re-rounded to S2's MOQ and case pack
    assert tea[3] == ("無備用供應商" if locale == "zh-TW" else "no backup")
    assert "原料缺貨" in card.text
    [button] = card.buttons
    assert (button.action_id, button.value) == (REASSIGN, NUMBER)
    assert encode_callback(REASSIGN, button.value, CALLBACK_CODES) == f"rb|{NUMBER}"
    assert button.label == ("用備用供應商" if locale == "zh-TW" else "Use backup supplier")
    assert button.confirm
    assert card.tone == Tone.RED
    assert not PLACEHOLDER.search(_text(card))


def test_backup_offer_for_a_silent_supplier_says_how_late():
    card = sc.backup_offer_card(
        offer_json(event="overdue", status="sent", hours=8.5, sla_hours=4.0), "zh-TW", TZ
    )
    assert card.text == "鮮乳坊 已 8.5 個工作小時未確認（回覆時限 4 小時）"
    assert [b.action_id for b in card.buttons] == [REASSIGN]


def test_backup_offer_after_reassign_or_a_late_confirmation():
    done = offer_json(event="reassign", status="reassigned", by="amy")
    done |= {"new_pos": ["PO20261125-002"], "no_backup": ["TEA"]}
    card = sc.backup_offer_card(done, "zh-TW", TZ)
    assert card.buttons == ()
    footer = "\n".join(card.footer)
    assert "amy" in footer
    assert "PO20261125-002" in footer
    assert "請人工安排：TEA" in footer
    late = sc.backup_offer_card(offer_json(event="confirm", status="confirmed"), "en", TZ)
    assert late.buttons == ()
    assert "no need to reassign" in late.footer[0]


def test_nobody_to_take_any_line_is_said():
    data = offer_json()
    for offer in data["backups"]:
        offer["backup"] = None
    card = sc.backup_offer_card(data, "zh-TW", TZ)
    assert "所有品項都沒有備用供應商" in card.footer[0]


# --- which renderer an outbox row gets -----------------------------------------------------------


class _App:
    class settings:  # noqa: N801 - a stand-in for Settings
        tz = TZ


def test_render_card_picks_the_card_by_type_and_audience():
    render = render_card(_App())  # type: ignore[arg-type]
    supplier = render(po_json(), "zh-TW")
    approvals = render({**po_json(), "audience": "approvals"}, "zh-TW")
    assert supplier.table is not None
    assert approvals.table is not None
    assert supplier.table.rows[0][0] == "S1-M01"
    assert approvals.table.rows[0][0] == "MILK"
    assert [b.action_id for b in render(price_json(), "en").buttons] == [PRICE_ACCEPT, PRICE_REFUSE]
    assert [b.action_id for b in render(offer_json(), "en").buttons] == [REASSIGN]


# --- what suppliers type -----------------------------------------------------------------------

TODAY = date(2026, 11, 24)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-03", date(2026, 12, 3)),
        ("2026/12/3", date(2026, 12, 3)),
        ("12/3", date(2026, 12, 3)),
        ("12月3日", date(2026, 12, 3)),
        ("12 月 3 號", date(2026, 12, 3)),
        ("１２／３", date(2026, 12, 3)),
        ("115/12/3", date(2026, 12, 3)),  # 民國 115 年
        ("1/5", date(2027, 1, 5)),  # typed in late November: next January
        ("11/24", TODAY),
    ],
)
def test_arrival_dates_as_people_type_them(text, expected):
    assert parse_arrival(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [("明天", "bad_date"), ("13/40", "bad_date"), ("2/30", "bad_date"), ("11/20", "past_date")],
)
def test_unreadable_or_past_dates_are_refused(text, code):
    assert parse_arrival(text, TODAY) == Unreadable(code)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("48", "48"), ("48.5", "48.5"), ("NT$48", "48"), ("NT$ 1,200", "1200"), ("48元", "48")],
)
def test_prices_as_people_type_them(text, expected):
    assert str(parse_price(text)) == expected


@pytest.mark.parametrize("text", ["", "abc", "0", "-5", "48.555", "1e30", "NaN", "Infinity"])
def test_nonsense_prices_are_refused(text):
    assert parse_price(text) == Unreadable("bad_price")


def test_tracking_numbers_and_telegram_replies():
    assert parse_tracking(" 黑貓  1234 ") == "黑貓 1234"
    assert parse_tracking("無") == ""
    assert parse_tracking("-") == ""
    assert typed({"": "12/3"}, "arrival") == "12/3"
    assert typed({"arrival": " 12/3 "}, "arrival") == "12/3"
    assert typed({"黑貓": "1234"}, "tracking") == "黑貓 1234"  # a `WORD WORD` Telegram reply
