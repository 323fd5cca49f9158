"""bot/cards.py and bot/forms.py: PO and alert cards, forms and replies in both locales."""

import importlib
import pkgutil
import re
import string
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

import core
from adapters.chat import ButtonStyle, Card, Tone, card_json
from bot import cards, formats, forms, replies
from bot.i18n import en, zh_tw
from core.models import AlertStatus, PoStatus
from core.permissions import DomainError
from core.signals import SignalKind

TZ = ZoneInfo("Asia/Taipei")
LOCALES = ("zh-TW", "en")
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")
CJK = re.compile(r"[\u4e00-\u9fff]")
AT = "2026-11-25T06:05:00+00:00"  # 14:05 in Taipei


def po_data(event: str = "submit", status: str = "pending_approval", **extra) -> dict:
    """The JSON `core.outbox.po_card` queues."""
    return {
        "type": "po",
        "event": event,
        "po": {
            "number": "PO20261125-001",
            "status": status,
            "version": 2,
            "supplier": "S01",
            "supplier_name": "大成食品股份有限公司",
            "emergency": False,
            "currency": "TWD",
            "total": "14880.00",
            "expected_arrival": "2026-11-28",
            "reason": None,
            "lines": [
                {
                    "sku": "A001",
                    "name": "保溫杯 500ml",
                    "qty": 144,
                    "unit_price": "85.50",
                    "price_band_pct": 5,
                },
                {
                    "sku": "B002",
                    "name": "環保購物袋",
                    "qty": 50,
                    "unit_price": "51.36",
                    "price_band_pct": None,
                },
            ],
        },
        "at": AT,
        "by": "王小明",
        **extra,
    }


def alert_data(kind: str = "imminent_stockout", status: str = "open", **extra) -> dict:
    """The flat alert dict (as in `core.alerts.alert_json()["alert"]` plus by/at/reason)."""
    return {
        "id": 7,
        "kind": kind,
        "severity": "critical",
        "status": status,
        "sku": "A001",
        "sku_name": "保溫杯 500ml",
        "details": {
            "position": 12,
            "reorder_point": 40.5,
            "days_of_cover": 2.4,
            "daily_demand": 5.04,
            "order_qty": 144,
            "lead_time_days": 5,
            "pick_colour": "red",
        },
        "snoozed_until": None,
        **extra,
    }


def all_text(card: Card) -> str:
    data = card_json(card)
    parts = [data["title"], data["text"], *data["footer"]]
    parts += [text for pair in data["fields"] for text in pair]
    parts += [label for _, label, _ in data["buttons"]]
    parts += [cell for row in data["table"] or [] for cell in row]
    return "\n".join(parts)


def catalog_values(locale: str) -> set[str]:
    return set((zh_tw.MESSAGES if locale == "zh-TW" else en.MESSAGES).values())


# --- formatting ---------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (1234, "NT$1,234"),
        ("1234.00", "NT$1,234"),
        (Decimal("1234.50"), "NT$1,234.50"),
        ("1234.5", "NT$1,234.50"),
        (1234.001, "NT$1,234"),
        (0, "NT$0"),
        ("0.00", "NT$0"),
        (-1234, "-NT$1,234"),
        (Decimal("-80.25"), "-NT$80.25"),
        (1234567, "NT$1,234,567"),
        (0.1 + 0.2, "NT$0.30"),
        (None, "—"),
        ("", "—"),
        ("abc", "—"),
        ("inf", "—"),
        (float("nan"), "—"),
    ],
)
def test_money_in_new_taiwan_dollars(locale, amount, expected):
    assert formats.money(amount, locale) == expected


def test_money_in_other_currencies_keeps_cents():
    assert formats.money("1234.5", "en", "USD") == "USD 1,234.50"
    assert formats.money(1234, "zh-TW", "usd") == "USD 1,234.00"
    assert formats.money(-3, "en", "JPY") == "-JPY 3.00"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1234567, "1,234,567"),
        (12.5, "12.5"),
        (12.0, "12"),
        ("40.25", "40.3"),
        (0, "0"),
        (-3, "-3"),
        ("inf", "∞"),
        (float("inf"), "∞"),
        (float("-inf"), "-∞"),
        (None, "—"),
        (float("nan"), "—"),
        ("n/a", "—"),
    ],
)
def test_number(value, expected):
    assert formats.number(value, "zh-TW") == expected
    assert formats.number(value, "en") == expected


def test_number_digits():
    assert formats.number(3.14159, "en", digits=2) == "3.14"
    assert formats.number(1234.5, "en", digits=0) == "1,235"


def test_when_in_the_readers_time_zone():
    assert formats.when(AT, "zh-TW", TZ) == "11/25 14:05"
    assert formats.when(AT, "en", TZ) == "25 Nov 14:05"
    moment = datetime(2026, 1, 3, 23, 30, tzinfo=UTC)  # already the 4th in Taipei
    assert formats.when(moment, "zh-TW", TZ) == "1/4 07:30"
    assert formats.when(moment, "en", TZ) == "4 Jan 07:30"
    assert formats.when(moment, "en", ZoneInfo("UTC")) == "3 Jan 23:30"


def test_when_reads_naive_datetimes_as_utc_and_survives_bad_input():
    assert formats.when(datetime(2026, 11, 25, 6, 5), "zh-TW", TZ) == "11/25 14:05"
    assert formats.when("2026-11-25T06:05:00", "en", TZ) == "25 Nov 14:05"
    assert formats.when(None, "en", TZ) == "—"
    assert formats.when("yesterday", "en", TZ) == "yesterday"


@pytest.mark.parametrize(
    ("value", "zh", "english"),
    [
        ("2026-11-28", "11/28（六）", "Sat 28 Nov"),
        (date(2026, 11, 29), "11/29（日）", "Sun 29 Nov"),
        (date(2026, 11, 23), "11/23（一）", "Mon 23 Nov"),
        (datetime(2026, 2, 4, 9, 0), "2/4（三）", "Wed 4 Feb"),
        ("2026-11-28T10:00:00+08:00", "11/28（六）", "Sat 28 Nov"),
    ],
)
def test_day(value, zh, english):
    assert formats.day(value, "zh-TW") == zh
    assert formats.day(value, "en") == english


def test_day_without_a_date():
    assert formats.day(None, "zh-TW") == "—"
    assert formats.day("soon", "en") == "soon"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("zh_TW", "待核准"),
        ("zh-tw", "待核准"),
        ("zh", "待核准"),
        ("", "待核准"),
        ("en-US", "pending approval"),
        ("en", "pending approval"),
    ],
)
def test_locale_spellings(locale, expected):
    card = cards.po_card(po_data(), locale, TZ)
    assert (
        dict((f.label, f.value) for f in card.fields).get(
            "狀態" if expected == "待核准" else "Status"
        )
        == expected
    )


# --- PO card ------------------------------------------------------------------------------


def test_po_card_zh_tw():
    card = cards.po_card(po_data(), "zh-TW", TZ)
    assert card.title == "採購單 PO20261125-001 · 大成食品股份有限公司"
    assert card.tone is Tone.INFO
    assert [(f.label, f.value) for f in card.fields] == [
        ("供應商", "大成食品股份有限公司（S01）"),
        ("狀態", "待核准"),
        ("總金額", "NT$14,880"),
        ("預計到貨", "11/28（六）"),
        ("品項數", "2"),
    ]
    assert card.table is not None
    assert card.table.header == ("品號", "品名", "數量", "單價", "價格浮動範圍")
    assert card.table.rows == (
        ("A001", "保溫杯 500ml", "144", "NT$85.50", "±5%"),
        ("B002", "環保購物袋", "50", "NT$51.36", "—"),
    )
    assert card.footer == ("📝 王小明 於 11/25 14:05 送出審核",)
    assert card.text == "待核准 · NT$14,880"


def test_po_card_en():
    card = cards.po_card(po_data(), "en", TZ)
    assert card.title == "Purchase order PO20261125-001 · 大成食品股份有限公司"
    assert [(f.label, f.value) for f in card.fields] == [
        ("Supplier", "大成食品股份有限公司 (S01)"),
        ("Status", "pending approval"),
        ("Total", "NT$14,880"),
        ("Expected arrival", "Sat 28 Nov"),
        ("Lines", "2"),
    ]
    assert card.table is not None
    assert card.table.header == ("SKU", "Name", "Qty", "Unit price", "Agreed band")
    assert card.table.rows[0] == ("A001", "保溫杯 500ml", "144", "NT$85.50", "±5%")
    assert card.footer == ("📝 Submitted for approval by 王小明 at 25 Nov 14:05",)


def test_zh_tw_card_speaks_chinese_and_keeps_names():
    """Every label a zh-TW reader sees comes from the zh-TW catalog; CJK names pass through."""
    card = cards.po_card(po_data(), "zh-TW", TZ)
    for f in card.fields:
        assert CJK.search(f.label), f.label
    for label in card.table.header if card.table else ():
        assert label == "品號" or CJK.search(label)
    for button in card.buttons:
        assert CJK.search(button.label)
    text = all_text(cards.po_card(po_data(), "en", TZ))
    assert "大成食品股份有限公司" in text
    assert "保溫杯 500ml" in text


@pytest.mark.parametrize("locale", LOCALES)
def test_emergency_po_is_marked_and_red_while_pending(locale):
    data = po_data()
    data["po"]["emergency"] = True
    card = cards.po_card(data, locale, TZ)
    marker = "🚨 緊急" if locale == "zh-TW" else "🚨 URGENT"
    assert card.title.startswith(marker + " ")
    assert card.tone is Tone.RED
    data["po"]["status"] = "approved"
    done = cards.po_card({**data, "event": "approve"}, locale, TZ)
    assert done.title.startswith(marker)
    assert done.tone is Tone.DONE


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("status", ["draft", "pending_approval"])
def test_open_po_has_approve_reject_edit(locale, status):
    card = cards.po_card(po_data(status=status), locale, TZ)
    assert [(b.action_id, b.value, b.style) for b in card.buttons] == [
        (cards.APPROVE, "PO20261125-001", ButtonStyle.PRIMARY),
        (cards.REJECT, "PO20261125-001", ButtonStyle.DANGER),
        (cards.EDIT, "PO20261125-001", ButtonStyle.DEFAULT),
    ]
    labels = [b.label for b in card.buttons]
    expected = ["核准", "退回", "修改數量"] if locale == "zh-TW" else ["Approve", "Reject"]
    assert labels[: len(expected)] == expected
    approve = card.buttons[0]
    assert approve.confirm is not None
    assert "NT$14,880" in approve.confirm
    assert "PO20261125-001" in approve.confirm
    assert approve.deny == ("取消" if locale == "zh-TW" else "Cancel")
    assert card.tone is Tone.INFO


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    "status", [s.value for s in PoStatus if s not in {"draft", "pending_approval"}] + ["?"]
)
def test_buttons_disappear_once_the_po_moved_on(locale, status):
    card = cards.po_card(po_data(status=status), locale, TZ)
    assert card.buttons == ()
    assert card.tone is Tone.DONE


@pytest.mark.parametrize("status", [s.value for s in PoStatus])
def test_every_po_status_is_translated(status):
    zh = cards.po_card(po_data(status=status), "zh-TW", TZ).fields[1].value
    english = cards.po_card(po_data(status=status), "en", TZ).fields[1].value
    assert CJK.search(zh)
    assert english == en.MESSAGES[f"po_status.{status}"]


FOOTERS = [
    (po_data("drafted"), ["🤖 依補貨計畫建立的草稿"], ["🤖 Draft from the replenishment plan"]),
    (
        po_data("approve", "approved"),
        ["✅ 王小明 於 11/25 14:05 核准"],
        ["✅ Approved by 王小明 at 25 Nov 14:05"],
    ),
    (
        po_data("approve", "approved", first_by="陳經理"),
        ["✅ 王小明 於 11/25 14:05 核准（第二位核准；第一位：陳經理）"],
        ["✅ Approved by 王小明 at 25 Nov 14:05 (second approver; first: 陳經理)"],
    ),
    (
        po_data("first_approval"),
        ["☑️ 王小明 於 11/25 14:05 完成第一位核准，等待第二位經理核准"],
        ["☑️ First approval by 王小明 at 25 Nov 14:05; awaiting a second approver"],
    ),
    (
        po_data("reject", "rejected", reason="數量太多，請減半"),
        ["↩️ 王小明 於 11/25 14:05 退回：數量太多，請減半"],
        ["↩️ Rejected by 王小明 at 25 Nov 14:05: 數量太多，請減半"],
    ),
    (
        po_data("cancel", "cancelled", reason="活動取消"),
        ["🚫 王小明 於 11/25 14:05 取消：活動取消"],
        ["🚫 Cancelled by 王小明 at 25 Nov 14:05: 活動取消"],
    ),
    (
        po_data("cancel", "cancelled", reason=""),
        ["🚫 王小明 於 11/25 14:05 取消"],
        ["🚫 Cancelled by 王小明 at 25 Nov 14:05"],
    ),
    (
        po_data("send", "sent"),
        ["📤 王小明 於 11/25 14:05 發送給供應商"],
        ["📤 Sent to the supplier by 王小明 at 25 Nov 14:05"],
    ),
    (
        po_data("edit", edits={"A001": [120, 144]}, changed=[]),
        ["✏️ 王小明 於 11/25 14:05 修改數量", "A001 120 → 144"],
        ["✏️ Quantities edited by 王小明 at 25 Nov 14:05", "A001 120 → 144"],
    ),
    (
        po_data("confirm", "confirmed"),
        ["王小明 於 11/25 14:05：確認"],
        ["confirm by 王小明 at 25 Nov 14:05"],
    ),
    (
        po_data("submit", by="system", at=None),
        ["📝 系統 送出審核"],
        ["📝 Submitted for approval by the system"],
    ),
    ({**po_data("mystery"), "by": None}, [], []),
]


@pytest.mark.parametrize(("data", "zh", "english"), FOOTERS, ids=lambda v: str(v)[:40])
def test_footer_says_what_happened(data, zh, english):
    assert list(cards.po_card(data, "zh-TW", TZ).footer) == zh
    assert list(cards.po_card(data, "en", TZ).footer) == english


def test_edit_footer_explains_quantities_raised_to_case_pack_and_moq():
    data = po_data(
        "edit",
        edits={"A001": [120, 144], "B002": [40, 50], "C003": [10, 30]},
        changed=[
            {"sku": "A001", "asked": 120, "qty": 144, "moq": 1, "case_pack": 24},
            {"sku": "B002", "asked": 45, "qty": 50, "moq": 50, "case_pack": 1},
            {"sku": "C003", "asked": 10, "qty": 30, "moq": 25, "case_pack": 6},
        ],
    )
    assert cards.po_card(data, "zh-TW", TZ).footer[1:] == (
        "A001 120 → 144（箱入數 24）",
        "B002 40 → 50（填 45、最低訂購量 50）",
        "C003 10 → 30（最低訂購量 25、箱入數 6）",
    )
    assert cards.po_card(data, "en", TZ).footer[1:] == (
        "A001 120 → 144 (case pack 24)",
        "B002 40 → 50 (asked 45, MOQ 50)",
        "C003 10 → 30 (MOQ 25, case pack 6)",
    )


def test_raised_quantities_missing_from_edits_are_still_told():
    data = po_data(
        "edit",
        edits={},
        changed=[
            {"sku": "A001", "asked": 120, "qty": 144, "moq": 1, "case_pack": 24},
            {"sku": "B002", "asked": 7, "qty": 9},  # terms unknown: no reason to give
        ],
    )
    assert cards.po_card(data, "zh-TW", TZ).footer[1:] == (
        "A001 120 → 144（箱入數 24）",
        "B002 7 → 9",
    )


def test_po_card_with_little_data_still_renders():
    data = {"type": "po", "event": "submit", "po": {"number": "PO1", "status": "draft"}}
    for locale in LOCALES:
        card = cards.po_card(data, locale, TZ)
        assert card.table is None
        assert "—" in card.title  # no supplier
        assert {f.value for f in card.fields} >= {"—", "0"}
        assert len(card.buttons) == 3
        assert not PLACEHOLDER.search(all_text(card))


def test_po_reason_shows_as_a_field_until_the_footer_tells_it():
    data = po_data()
    data["po"]["reason"] = "雙11 團購加開"
    assert ("原因", "雙11 團購加開") in [
        (f.label, f.value) for f in cards.po_card(data, "zh-TW", TZ).fields
    ]
    data["po"]["status"] = "rejected"
    rejected = cards.po_card({**data, "event": "reject", "reason": "雙11 團購加開"}, "zh-TW", TZ)
    assert "原因" not in [f.label for f in rejected.fields]


# --- alert card ---------------------------------------------------------------------------


def test_alert_card_zh_tw():
    card = cards.alert_card(alert_data(), "zh-TW", TZ)
    assert card.title == "🚨 即將缺貨 · A001 保溫杯 500ml"
    assert card.tone is Tone.RED
    assert [(f.label, f.value) for f in card.fields] == [
        ("庫存水位（含在途）", "12"),
        ("可售天數", "2.4 天"),
        ("再訂購點", "40.5"),
        ("預估日銷量", "每天 5"),
        ("建議訂購量", "144"),
        ("交期", "5 天"),
        ("揀貨優先", "🔴 紅"),
    ]
    assert [(b.action_id, b.label, b.value, b.style) for b in card.buttons] == [
        (cards.DRAFT_PO, "建立採購單", "7", ButtonStyle.PRIMARY),
        (cards.EMERGENCY, "緊急補貨", "7", ButtonStyle.DANGER),
        (cards.SNOOZE, "稍後提醒（1 天）", "7", ButtonStyle.DEFAULT),
        (cards.DISMISS, "忽略", "7", ButtonStyle.DEFAULT),
    ]


def test_alert_card_en():
    card = cards.alert_card(alert_data(), "en", TZ)
    assert card.title == "🚨 Imminent stockout · A001 保溫杯 500ml"
    assert [(f.label, f.value) for f in card.fields] == [
        ("Position (incl. on order)", "12"),
        ("Days of cover", "2.4 d"),
        ("Reorder point", "40.5"),
        ("Forecast", "5/day"),
        ("Suggested order", "144"),
        ("Lead time", "5 d"),
        ("Pick priority", "🔴 Red"),
    ]
    assert [b.label for b in card.buttons] == [
        "Draft PO",
        "Emergency order",
        "Snooze 1 day",
        "Dismiss",
    ]


KIND_TITLES = {
    "low_stock": ("低庫存", "Low stock"),
    "imminent_stockout": ("即將缺貨", "Imminent stockout"),
    "surge": ("銷量暴增", "Sales surge"),
    "slow_mover": ("滯銷", "Slow mover"),
    "overdue_po": ("採購單逾期", "Overdue PO"),
    "price_out_of_band": ("價格超出範圍", "Price out of band"),
}


@pytest.mark.parametrize("kind", [k.value for k in SignalKind])
def test_every_alert_kind_has_a_title_in_both_locales(kind):
    zh, english = KIND_TITLES[kind]
    assert zh in cards.alert_card(alert_data(kind), "zh-TW", TZ).title
    assert english in cards.alert_card(alert_data(kind), "en", TZ).title


def test_unknown_alert_kind_still_reads():
    card = cards.alert_card(alert_data("cold_chain"), "zh-TW", TZ)
    assert "警示（cold_chain）" in card.title
    assert len(card.buttons) == 3


def test_alert_from_the_outbox_shape_and_the_flat_shape_agree():
    flat = alert_data(status="dismissed", by="林雅婷", at=AT, reason="已改由代發商出貨")
    nested = {
        "type": "alert",
        "event": "dismissed",
        "alert": {k: v for k, v in flat.items() if k not in {"by", "at", "reason"}},
        "by": "林雅婷",
        "at": AT,
        "reason": "已改由代發商出貨",
    }
    assert cards.alert_card(nested, "zh-TW", TZ) == cards.alert_card(flat, "zh-TW", TZ)


@pytest.mark.parametrize(
    ("severity", "colour", "tone"),
    [
        ("critical", "green", Tone.RED),
        ("warning", "red", Tone.RED),
        ("warning", "orange", Tone.ORANGE),
        ("info", "green", Tone.GREEN),
        ("warning", None, Tone.ORANGE),
        ("info", None, Tone.INFO),
    ],
)
def test_alert_tone_from_severity_and_pick_colour(severity, colour, tone):
    data = alert_data(severity=severity)
    data["details"]["pick_colour"] = colour
    assert cards.alert_card(data, "en", TZ).tone is tone


@pytest.mark.parametrize(
    ("colour", "zh", "english"),
    [("red", "🔴 紅", "🔴 Red"), ("orange", "🟠 橙", "🟠 Orange"), ("green", "🟢 綠", "🟢 Green")],
)
def test_pick_colours(colour, zh, english):
    data = alert_data()
    data["details"]["pick_colour"] = colour
    assert cards.alert_card(data, "zh-TW", TZ).fields[-1].value == zh
    assert cards.alert_card(data, "en", TZ).fields[-1].value == english


@pytest.mark.parametrize("locale", LOCALES)
def test_missing_none_and_infinite_details(locale):
    data = alert_data("slow_mover", severity="info")
    data["details"] = {"position": None, "days_of_cover": "inf", "pick_colour": None}
    card = cards.alert_card(data, locale, TZ)
    values = [f.value for f in card.fields]
    # position, days of cover, reorder point, forecast always show; pick colour when present
    assert values == ["—", "∞", "—", "—", "—"]
    assert not PLACEHOLDER.search(all_text(card))
    assert cards.alert_card({**data, "details": None}, locale, TZ).fields[0].value == "—"


def test_on_hand_on_order_and_safety_stock_show_when_present():
    data = alert_data("low_stock", severity="warning")
    data["details"] |= {"on_hand": 1200, "on_order": 300, "safety_stock": 80}
    labels = [f.label for f in cards.alert_card(data, "zh-TW", TZ).fields]
    assert labels[:3] == ["現有庫存", "庫存水位（含在途）", "在途"]
    assert "安全庫存" in labels
    assert ("現有庫存", "1,200") in [
        (f.label, f.value) for f in cards.alert_card(data, "zh-TW", TZ).fields
    ]


@pytest.mark.parametrize("locale", LOCALES)
def test_overdue_po_alert_is_about_the_po(locale):
    data = alert_data("overdue_po", severity="warning", sku=None, sku_name=None)
    data["details"] = {"po": "PO20261101-003", "expected_arrival": "2026-11-20"}
    card = cards.alert_card(data, locale, TZ)
    assert "PO20261101-003" in card.title
    values = [f.value for f in card.fields]
    assert values == ["PO20261101-003", "11/20（五）" if locale == "zh-TW" else "Fri 20 Nov"]
    assert [b.action_id for b in card.buttons] == [cards.SNOOZE, cards.DISMISS]  # no SKU


def test_price_out_of_band_alert_shows_both_prices():
    data = alert_data("price_out_of_band", severity="warning")
    data["details"] = {"po": "PO1", "agreed_price": "85", "proposed_price": "95.5", "band_pct": 5}
    fields = [(f.label, f.value) for f in cards.alert_card(data, "zh-TW", TZ).fields]
    assert fields == [
        ("品號", "A001 保溫杯 500ml"),
        ("採購單", "PO1"),
        ("議定單價", "NT$85"),
        ("供應商報價", "NT$95.50"),
        ("價格浮動範圍", "±5%"),
    ]


def test_alert_already_on_a_po_loses_its_draft_button():
    data = alert_data()
    data["details"]["po"] = "PO20261125-002"
    card = cards.alert_card(data, "zh-TW", TZ)
    # a PO on its way may still come too late: an emergency order stays possible
    assert [b.action_id for b in card.buttons] == [cards.EMERGENCY, cards.SNOOZE, cards.DISMISS]
    assert "🛒 已列入採購單 PO20261125-002" in card.footer


def test_an_emergency_order_placed_hides_its_button_and_says_so():
    data = alert_data()
    data["details"]["emergency"] = "PO20261125-003"
    card = cards.alert_card(data, "zh-TW", TZ)
    assert [b.action_id for b in card.buttons] == [cards.DRAFT_PO, cards.SNOOZE, cards.DISMISS]
    assert "🚨 已提出緊急補貨，採購單 PO20261125-003" in card.footer
    low = cards.alert_card({**alert_data(), "kind": "low_stock"}, "en", TZ)
    assert cards.EMERGENCY not in [b.action_id for b in low.buttons]  # not an emergency


ALERT_FOOTERS = [
    (
        alert_data(status="snoozed", by="林雅婷", at=AT, snoozed_until="2026-11-26T06:05:00Z"),
        "💤 林雅婷 於 11/25 14:05 設定稍後提醒，11/26 14:05 再提醒",
        "💤 Snoozed by 林雅婷 at 25 Nov 14:05 until 26 Nov 14:05",
        Tone.INFO,
    ),
    (
        alert_data(status="dismissed", by="林雅婷", at=AT, reason="檔期結束"),
        "🙈 林雅婷 於 11/25 14:05 忽略：檔期結束",
        "🙈 Dismissed by 林雅婷 at 25 Nov 14:05: 檔期結束",
        Tone.DONE,
    ),
    (
        alert_data(status="dismissed", by="林雅婷", at=AT),
        "🙈 林雅婷 於 11/25 14:05 忽略",
        "🙈 Dismissed by 林雅婷 at 25 Nov 14:05",
        Tone.DONE,
    ),
    (
        alert_data(status="resolved", at=AT),
        "✅ 狀況已解除（系統 於 11/25 14:05）",
        "✅ Resolved by the system at 25 Nov 14:05",
        Tone.DONE,
    ),
    (alert_data(at=AT), "更新於 11/25 14:05", "Updated 25 Nov 14:05", Tone.RED),
]


@pytest.mark.parametrize(("data", "zh", "english", "tone"), ALERT_FOOTERS)
def test_alert_footer_and_buttons_follow_status(data, zh, english, tone):
    for locale, line in (("zh-TW", zh), ("en", english)):
        card = cards.alert_card(data, locale, TZ)
        assert card.footer == (line,)
        assert card.tone is tone
        assert bool(card.buttons) == (data["status"] == "open")


@pytest.mark.parametrize("status", [s.value for s in AlertStatus])
def test_alert_status_reads_in_the_fallback_text(status):
    zh = cards.alert_card(alert_data(status=status), "zh-TW", TZ).text
    assert zh.endswith(zh_tw.MESSAGES[f"status.alert.{status}"])
    english = cards.alert_card(alert_data(status=status), "en", TZ).text
    assert english.endswith(en.MESSAGES[f"status.alert.{status}"])


# --- forms --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "title", "submit"), [("zh-TW", "退回採購單", "退回"), ("en", "Reject PO", "Reject")]
)
def test_reject_form(locale, title, submit):
    form = forms.reject_form("PO20261125-001", locale, "C1|123.4")
    assert (form.form_id, form.title, form.submit, form.context) == (
        forms.REJECT_FORM,
        title,
        submit,
        "C1|123.4",
    )
    assert "PO20261125-001" in form.intro
    (reason,) = form.inputs
    assert reason.input_id == forms.REASON_INPUT
    assert reason.multiline
    assert not reason.optional
    assert len(form.title) <= 24  # Slack's modal title limit
    assert forms.reject_form("PO9", locale).context == "PO9"


@pytest.mark.parametrize(
    ("locale", "words"), [("zh-TW", ("最低訂購量", "箱入數")), ("en", ("MOQ", "case pack"))]
)
def test_edit_form_one_number_per_line(locale, words):
    form = forms.edit_form(po_data()["po"], locale, "ctx")
    assert form.form_id == forms.EDIT_FORM
    assert [(i.input_id, i.label, i.initial) for i in form.inputs] == [
        ("A001", "A001 保溫杯 500ml", "144"),
        ("B002", "B002 環保購物袋", "50"),
    ]
    for field in form.inputs:
        assert field.number
        assert field.min_value == 1
        assert all(word in field.hint for word in words)
    assert "PO20261125-001" in form.intro
    assert form.context == "ctx"
    assert forms.edit_form(po_data(), locale).inputs == form.inputs  # the whole card works too
    assert forms.edit_form(po_data(), locale).context == "PO20261125-001"


@pytest.mark.parametrize(("locale", "title"), [("zh-TW", "忽略警示"), ("en", "Dismiss alert")])
def test_dismiss_form(locale, title):
    form = forms.dismiss_form(7, locale)
    assert (form.form_id, form.title, form.context) == (forms.DISMISS_FORM, title, "7")
    (reason,) = form.inputs
    assert reason.input_id == forms.REASON_INPUT
    assert reason.multiline
    assert not reason.optional


@pytest.mark.parametrize("locale", LOCALES)
def test_form_texts_come_from_the_catalog(locale):
    values = catalog_values(locale)
    for form in (
        forms.reject_form("PO1", locale),
        forms.edit_form(po_data()["po"], locale),
        forms.dismiss_form(1, locale),
    ):
        assert form.title in values
        assert form.submit in values
        assert not PLACEHOLDER.search(form.intro)


# --- replies after a press ----------------------------------------------------------------

OUTCOMES = [
    ({"action": "submit"}, "已送出採購單 PO1 審核", "Purchase order PO1 submitted for approval"),
    ({"action": "approve"}, "已核准採購單 PO1", "Purchase order PO1 approved"),
    (
        {"action": "approve", "awaiting_second_approval": True},
        "已記錄您對採購單 PO1 的核准；金額超過核准上限，還需要另一位經理核准",
        "Your approval of purchase order PO1 is recorded. It is above the approval limit, "
        "so a second manager must approve it too",
    ),
    ({"action": "reject"}, "已退回採購單 PO1", "Purchase order PO1 rejected"),
    ({"action": "edit"}, "已儲存採購單 PO1 的數量", "Quantities saved on purchase order PO1"),
    ({"action": "cancel"}, "已取消採購單 PO1", "Purchase order PO1 cancelled"),
    (
        {"action": "send"},
        "已將採購單 PO1 標記為已發送給供應商",
        "Purchase order PO1 marked as sent to the supplier",
    ),
    ({"action": "dismissed", "po": None}, "已忽略這則警示", "Alert dismissed"),
    ({"action": "snoozed", "po": None}, "好的，稍後會再提醒這則警示", "Alert snoozed"),
    (
        {"action": "snoozed", "until": "2026-11-26T06:05:00+00:00"},
        "好的，11/26 14:05 會再提醒這則警示",
        "Alert snoozed until 26 Nov 14:05",
    ),
    (
        {"action": "po_drafted"},
        "已依警示建立採購單 PO1",
        "Purchase order PO1 drafted from the alert",
    ),
    ({"action": "close", "status": "closed"}, "採購單 PO1：已結案", "Purchase order PO1: closed"),
]


@pytest.mark.parametrize(("outcome", "zh", "english"), OUTCOMES)
def test_outcome_text(outcome, zh, english):
    outcome = {"po": "PO1", "status": "approved", "by": "王小明", "at": AT} | outcome
    assert replies.outcome_text(outcome, "zh-TW") == zh
    assert replies.outcome_text(outcome, "en") == english


def test_outcome_of_an_edit_lists_raised_quantities():
    outcome = {
        "po": "PO1",
        "action": "edit",
        "status": "pending_approval",
        "changed": [
            {"sku": "A001", "asked": 120, "qty": 144, "moq": 1, "case_pack": 24},
            {"sku": "B002", "asked": 40, "qty": 50, "moq": 50, "case_pack": 1},
        ],
    }
    assert replies.outcome_text(outcome, "zh-TW").splitlines() == [
        "已儲存採購單 PO1 的數量",
        "A001：填 120，依箱入數 24 調為 144",
        "B002：填 40，依最低訂購量 50 調為 50",
    ]
    assert replies.outcome_text(outcome, "en").splitlines() == [
        "Quantities saved on purchase order PO1",
        "A001: asked 120, raised to 144 (case pack 24)",
        "B002: asked 40, raised to 50 (MOQ 50)",
    ]


# --- domain errors ------------------------------------------------------------------------


def _domain_errors() -> list[type[DomainError]]:
    """Every DomainError subclass in core, found by importing each core module."""
    for module in pkgutil.walk_packages(core.__path__, "core."):
        importlib.import_module(module.name)
    found, todo = [], [DomainError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return sorted({c for c in found if c.__module__.startswith("core.")}, key=lambda c: c.code)


SAMPLE_PARAMS = {
    "po": "PO20261125-001",
    "sku": "A001",
    "qty": 0,
    "by": "王小明",
    "at": "2026-11-25T06:05:00+00:00",
    "status": "approved",
    "action": "approve",
    "user": "王小明",
    "needed": ["manager"],
    "role": "boss",
    "valid": ["manager", "buyer"],
    "value": "fr",
    "platform": "slack",
    "alert": 7,
    "minutes": 42,
    "arrival": "2026-11-24",
    "today": "2026-11-25",
    "price": "0",
}


def _params_for(code: str) -> dict:
    names = {
        name
        for key in (f"error.{code}",)
        for catalog in (en.MESSAGES, zh_tw.MESSAGES)
        for _, name, _, _ in string.Formatter().parse(catalog.get(key, ""))
        if name
    }
    return {name: SAMPLE_PARAMS.get(name, f"<{name}>") for name in names}


ERROR_CLASSES = _domain_errors()


def test_core_defines_the_errors_we_expect():
    codes = {cls.code for cls in ERROR_CLASSES}
    assert {"permission_denied", "already_done", "po_not_found", "alert_closed"} <= codes


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.code)
def test_every_core_error_reads_politely(cls, locale):
    full = replies.error_text(cls(**_params_for(cls.code)).as_dict(), locale)
    bare = replies.error_text(cls().as_dict(), locale)
    for text in (full, bare):
        assert text
        assert not PLACEHOLDER.search(text), text
        assert "Traceback" not in text
    assert "<" not in full  # every parameter the message names was found in SAMPLE_PARAMS
    if locale == "zh-TW":
        assert CJK.search(full)


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.code)
def test_every_core_error_has_its_own_sentence(cls):
    """Not the generic "sorry, that could not be done": each refusal says what to do."""
    assert f"error.{cls.code}" in en.MESSAGES
    assert f"error.{cls.code}" in zh_tw.MESSAGES


def test_error_params_are_rendered_for_people():
    error = {
        "code": "already_done",
        "params": {
            "po": "PO1",
            "action": "approve",
            "status": "approved",
            "by": "陳經理",
            "at": "2026-11-25T06:05:00+00:00",
        },
    }
    assert (
        replies.error_text(error, "zh-TW") == "採購單 PO1 已由 陳經理 於 11/25 14:05 完成「核准」"
    )
    assert (
        replies.error_text(error, "en")
        == "PO PO1: already done (approve) by 陳經理 at 25 Nov 14:05"
    )
    denied = {
        "code": "permission_denied",
        "params": {"user": "Amy", "action": "approve", "needed": ["manager", "buyer"]},
    }
    assert replies.error_text(denied, "en") == (
        "sorry, Amy may not approve (needs one of: replenishment manager, buyer)"
    )
    assert "動態補貨經理、採購專員" in replies.error_text(denied, "zh-TW")
    assert replies.error_text(error, "en", ZoneInfo("UTC")).endswith("25 Nov 06:05")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    "error",
    [
        {"code": "meteor_strike", "params": {"po": "PO1"}},
        {"code": None},
        {},
        {"code": "po_not_found", "params": None},
        {"code": "po_not_found", "params": {"po": None}},
    ],
)
def test_unknown_or_thin_errors_stay_polite(error, locale):
    text = replies.error_text(error, locale)
    assert text
    assert not PLACEHOLDER.search(text)
    if error.get("code") in {None, "meteor_strike"}:
        assert text == (zh_tw.MESSAGES if locale == "zh-TW" else en.MESSAGES)["error.domain_error"]


def test_a_template_that_cannot_take_a_parameter_falls_back(monkeypatch):
    monkeypatch.setitem(en.MESSAGES, "error.po_not_found", "total {po:,.0f}")
    text = replies.error_text({"code": "po_not_found", "params": {"po": "PO1"}}, "en")
    assert text == en.MESSAGES["error.domain_error"]


# --- catalogs -----------------------------------------------------------------------------


def test_card_keys_exist_in_both_catalogs_with_the_same_placeholders():
    prefixes = ("card.", "form.", "outcome.", "status.", "alert.kind.")
    ours = {key for key in en.MESSAGES if key.startswith(prefixes)}
    assert ours == {key for key in zh_tw.MESSAGES if key.startswith(prefixes)}

    def fields(template: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name}

    for key in ours:
        assert fields(en.MESSAGES[key]) == fields(zh_tw.MESSAGES[key]), key


def test_date_lists_have_seven_days_and_twelve_months():
    for catalog in (en.MESSAGES, zh_tw.MESSAGES):
        assert len(catalog["card.date.weekdays"].split(",")) == 7
        assert len(catalog["card.date.months"].split(",")) == 12
