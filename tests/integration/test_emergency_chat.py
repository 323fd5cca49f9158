"""Emergency orders (緊急補貨) through the bot, on SQLite and PostgreSQL: `/replenish emergency`
(and 緊急) and the alert card's Emergency order button with its form, in Slack and Telegram.
The core behaviour (supplier choice, clock, watchdog) is in test_emergency.py."""

import itertools
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from adapters.chat import Command, Interaction, MessageRef, Reply
from bot.app import App
from bot.cards import alert_card
from bot.chatbot import ChatBot
from bot.ids import DISMISS, DRAFT_PO, EMERGENCY, EMERGENCY_FORM, SNOOZE
from bot.settings import Settings
from core.alerts import alert_json
from core.members import add_member
from core.models import (
    Alert,
    EmergencyRequest,
    OutboxMessage,
    PurchaseOrder,
    Supplier,
    SupplierTerm,
)
from tests.shop import Shop

APPROVALS, ALERTS = "C-APPROVALS", "C-ALERTS"
_keys = itertools.count(1)


@pytest.fixture
def app(shop: Shop) -> App:
    with shop.store.unit_of_work() as session:  # a faster backup for MILK, and a Telegram clerk
        session.add(
            SupplierTerm(
                supplier_id=_s2(session),
                sku_id=shop.ids["MILK"],
                unit_price=Decimal(55),
                lead_time_days=2,
                moq=30,
                case_pack=20,
                rank=2,
            )
        )
        add_member(session, None, platform="telegram", user_id="T-clerk", roles=["inventory_clerk"])
    url = shop.store.engine.url.render_as_string(hide_password=False)
    return App(Settings(database_url=url), shop.store)


def _s2(session: Session) -> int:
    s2 = Supplier(code="S2", name="備援乳品", emergency_contact="陳先生", emergency_phone="0922")
    session.add(s2)
    session.flush()
    return s2.id or 0


def command(bot: ChatBot, user: str, text: str, key: str = "") -> Reply:
    key = key or f"cmd:{next(_keys)}"
    return bot.command(Command(bot.platform, "T1", user, "C-ANY", text, user_name=user, key=key))


def press(bot: ChatBot, user: str, action: str, value: str) -> Reply:
    return bot.action(
        Interaction(
            platform=bot.platform,
            team="T1",
            user=user,
            user_name=user,
            action_id=action,
            value=value,
            key=f"press:{next(_keys)}",
            message=MessageRef(ALERTS, "42"),
        )
    )


def submit(bot: ChatBot, user: str, context: str, key: str = "", **values: str) -> Reply:
    return bot.submit(
        Interaction(
            platform=bot.platform,
            team="T1",
            user=user,
            user_name=user,
            action_id=EMERGENCY_FORM,
            value=context,
            key=key or f"form:{next(_keys)}",
            message=MessageRef(ALERTS, "42"),
            values=values,
        )
    )


def _requests(shop: Shop) -> list[EmergencyRequest]:
    return shop.rows(EmergencyRequest)


def _alert(shop: Shop, kind: str = "imminent_stockout") -> int:
    details = {"position": 10.0, "reorder_point": 80.0, "order_qty": 120.0, "daily_demand": 9.0}
    with shop.store.unit_of_work() as session:
        alert = Alert(
            kind=kind,
            sku_id=shop.ids["MILK"],
            severity="critical",
            dedupe_key=f"{kind}:MILK",
            details=details,
        )
        session.add(alert)
        session.flush()
        return alert.id or 0


def _alert_card_buttons(shop: Shop, app: App, alert_id: int) -> list[str]:
    with shop.store.read() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        data = alert_json(session, alert, "opened")
    return [button.action_id for button in alert_card(data, "zh-TW", app.settings.tz).buttons]


# --- the command ------------------------------------------------------------------------------


def test_the_command_opens_an_emergency_order_and_shows_its_card(shop: Shop, app: App) -> None:
    slack = ChatBot(app, "slack")
    done = command(slack, "U-clerk", "emergency milk 50 團購爆量")
    [request] = _requests(shop)
    [po] = shop.rows(PurchaseOrder, PurchaseOrder.id == request.po_id)
    assert (request.qty, request.reason, po.emergency) == (50, "團購爆量", True)
    assert (
        done.text == f"已提出緊急補貨，採購單 {po.number} 已送核准人\n供應商：S2，交期 2 個工作天"
    )
    assert done.card is not None
    assert done.card.title == "🚨 緊急補貨 · MILK 鮮乳 × 60"
    assert {f.label: f.value for f in done.card.fields}["原因"] == "團購爆量"
    assert [b.value for b in done.card.buttons] == [po.number, po.number]

    again = command(slack, "U-buyer", "緊急 MILK 10")
    assert again.text == f"品號 MILK 已有進行中的緊急補貨（採購單 {po.number}）"
    assert len(_requests(shop)) == 1


def test_the_command_explains_itself(shop: Shop, app: App) -> None:
    slack = ChatBot(app, "slack")
    usage = "用法：`/replenish 緊急 <品號> <數量> [原因]`"
    assert command(slack, "U-clerk", "emergency MILK").text.startswith(usage)
    assert command(slack, "U-clerk", "emergency MILK zero").text.startswith(usage)
    assert command(slack, "U-clerk", "緊急 NOPE 5").text == "找不到品號 NOPE"
    denied = command(slack, "U-analyst", "emergency MILK 5")
    assert "沒有權限建立採購單" in denied.text
    assert _requests(shop) == []


def test_a_repeated_command_opens_one_emergency(shop: Shop, app: App) -> None:
    tg = ChatBot(app, "telegram")
    first = command(tg, "T-clerk", "emergency MILK １２０", key="message:1:1")
    again = command(tg, "T-clerk", "emergency MILK １２０", key="message:1:1")
    assert first.text == again.text
    assert [r.qty for r in _requests(shop)] == [120]


# --- the alert card's button ------------------------------------------------------------------


def test_the_alert_button_opens_the_form_with_the_gap_and_orders(shop: Shop, app: App) -> None:
    alert_id = _alert(shop)
    assert _alert_card_buttons(shop, app, alert_id) == [DRAFT_PO, EMERGENCY, SNOOZE, DISMISS]
    slack = ChatBot(app, "slack")
    opened = press(slack, "U-clerk", EMERGENCY, str(alert_id))
    assert opened.form is not None
    assert opened.form.form_id == EMERGENCY_FORM
    assert opened.form.context == str(alert_id)
    assert opened.form.inputs[0].initial == "70"  # reorder point 80 − position 10
    assert "建議數量 70" in opened.form.intro

    wrong = submit(slack, "U-clerk", str(alert_id), qty="七十")
    assert wrong.errors == {"qty": "請輸入整數"}
    done = submit(slack, "U-clerk", str(alert_id), qty="70", reason="團購爆量")
    [request] = _requests(shop)
    [po] = shop.rows(PurchaseOrder, PurchaseOrder.id == request.po_id)
    assert (request.alert_id, request.qty, request.reason) == (alert_id, 70, "團購爆量")
    assert done.replace
    assert done.card is not None
    assert EMERGENCY not in [b.action_id for b in done.card.buttons]
    assert f"🚨 已提出緊急補貨，採購單 {po.number}" in done.card.footer
    assert po.number in done.text
    [alert] = shop.rows(Alert, Alert.id == alert_id)
    assert alert.details["emergency"] == po.number
    cards = [r.card["type"] for r in shop.rows(OutboxMessage, OutboxMessage.target == APPROVALS)]
    assert "emergency" in cards

    late = press(slack, "U-buyer", EMERGENCY, str(alert_id))  # a stale card, pressed again
    assert late.form is None
    assert late.text == f"品號 MILK 已有進行中的緊急補貨（採購單 {po.number}）"


def test_a_telegram_reply_to_the_form(shop: Shop, app: App) -> None:
    alert_id = _alert(shop, "surge")
    tg = ChatBot(app, "telegram")
    assert press(tg, "T-clerk", EMERGENCY, str(alert_id)).form is not None
    done = submit(tg, "T-clerk", str(alert_id), key="message:9:9", **{"": "40 團購 爆量"})
    again = submit(tg, "T-clerk", str(alert_id), key="message:9:9", **{"": "40 團購 爆量"})
    assert done.text == again.text
    [request] = _requests(shop)
    assert (request.qty, request.reason) == (40, "團購 爆量")


def test_no_emergency_button_on_other_alerts_or_for_people_without_the_role(
    shop: Shop, app: App
) -> None:
    assert EMERGENCY not in _alert_card_buttons(shop, app, _alert(shop, "low_stock"))
    alert_id = _alert(shop)
    refused = press(ChatBot(app, "slack"), "U-analyst", EMERGENCY, str(alert_id))
    assert refused.form is None
    assert "沒有權限建立採購單" in refused.text
    with shop.store.read() as session:
        assert session.scalars(select(EmergencyRequest)).first() is None
