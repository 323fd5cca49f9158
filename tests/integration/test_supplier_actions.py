"""The supplier flow through the bot against a real database (SQLite and PostgreSQL): S1's
people press and reply in their Telegram group, the manager decides in Slack, and every
answer is read back from the database and the outbox.

`ChatBot` is driven with the neutral `Interaction`/`Command` objects the adapters build; a
Telegram reply to a prompt arrives as values under "" (or as `WORD WORD` pairs)."""

import itertools
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import select

from adapters.chat import Command, Interaction, MessageRef, Reply
from bot.app import App, render_card
from bot.chatbot import ChatBot
from bot.ids import (
    ARRIVAL_FORM,
    CONFIRM,
    DECLINE,
    DECLINE_FORM,
    LEAD_TIME,
    PRICE_ACCEPT,
    PRICE_FORM,
    PRICE_LINE,
    PROPOSE_PRICE,
    REASSIGN,
    SHIPPED,
    SHIPPED_FORM,
)
from bot.settings import Settings
from core.calendar import local_today
from core.models import (
    AuditEvent,
    OutboxMessage,
    PoLine,
    PoStatus,
    PurchaseOrder,
    SupplierTerm,
)
from core.supplier_flow import working_days_after
from core.workflow import ApprovalRules, approve, submit_for_approval
from tests.shop import PO, SUPPLIER_CHAT, Shop

S2_CHAT = "-100300"
APPROVALS = "C-APPROVALS"
_keys = itertools.count(1)


@pytest.fixture
def sup(shop: Shop) -> Shop:
    """S1 with its own code for MILK (TEA: none), lead times and a 10 % band; S1's person
    sally; a backup S2 (rank 2 for MILK) with its person sam; both groups bound."""
    with shop.store.unit_of_work() as session:
        for term in session.scalars(select(SupplierTerm)):
            milk = term.sku_id == shop.ids["MILK"]
            term.supplier_sku = "S1-M01" if milk else ""
            term.lead_time_days, term.price_band_pct = (3 if milk else 5), 10.0
    shop.add_backup_supplier()
    shop.add_supplier_member("sally", "T-sally", "S1")
    shop.add_supplier_member("sam", "T-sam", "S2")
    shop.bind_supplier_chat()
    shop.bind_supplier_chat("S2", S2_CHAT)
    return shop


@pytest.fixture
def app(sup: Shop) -> App:
    url = sup.store.engine.url.render_as_string(hide_password=False)
    return App(Settings(database_url=url), sup.store)


@pytest.fixture
def tg(app: App) -> ChatBot:
    return ChatBot(app, "telegram")


@pytest.fixture
def slack(app: App) -> ChatBot:
    return ChatBot(app, "slack")


def _sent(sup: Shop) -> date:
    """The seeded PO approved today and sent to S1's group; its requested arrival."""
    sup.run("clerk", submit_for_approval, PO)
    sup.run("amy", approve, PO, rules=ApprovalRules(), today=local_today())
    requested = sup.po().requested_arrival
    assert requested is not None
    return requested


def press(bot: ChatBot, user: str, action: str, value: str, chat: str, key: str = "") -> Reply:
    interaction = Interaction(
        platform=bot.platform,
        team=chat,
        user=user,
        user_name=user,
        action_id=action,
        value=value,
        key=key or f"press:{next(_keys)}",
        message=MessageRef(chat, "42"),
    )
    return bot.action(interaction)


def reply(bot: ChatBot, user: str, form: str, context: str, chat: str, **values: str) -> Reply:
    """A Telegram reply to a form's prompt: the whole text under "" unless named."""
    interaction = Interaction(
        platform=bot.platform,
        team=chat,
        user=user,
        user_name=user,
        action_id=form,
        value=context,
        key=f"message:{next(_keys)}",
        message=MessageRef(chat, "42"),
        values={"" if name == "text" else name: v for name, v in values.items()},
    )
    return bot.submit(interaction)


def command(bot: ChatBot, user: str, text: str, chat: str) -> Reply:
    return bot.command(
        Command(bot.platform, chat, user, chat, text, user_name=user, key=f"cmd:{next(_keys)}")
    )


def _sally(bot: ChatBot, action: str, value: str = PO, **kw: Any) -> Reply:
    return press(bot, "T-sally", action, value, SUPPLIER_CHAT, **kw)


def _outbox(sup: Shop, card_type: str, target: str) -> list[OutboxMessage]:
    rows = sup.rows(OutboxMessage, OutboxMessage.target == target)
    return [row for row in rows if row.card.get("type") == card_type]


def _po(sup: Shop, number: str) -> PurchaseOrder:
    [po] = sup.rows(PurchaseOrder, PurchaseOrder.number == number)
    return po


# --- confirm ---------------------------------------------------------------------------------


def test_confirm_three_working_days_late_sets_the_arrival_and_updates_the_card(sup, tg, app):
    requested = _sent(sup)
    choice = _sally(tg, CONFIRM)
    assert choice.card is not None
    assert not choice.replace  # a new message with the choices; the PO card stays
    assert [b.value for b in choice.card.buttons][:4] == [f"{PO}:{n}" for n in (0, 1, 3, 7)]

    done = _sally(tg, LEAD_TIME, f"{PO}:3")
    expected = working_days_after(requested, 3)
    assert sup.po().status == PoStatus.CONFIRMED
    assert sup.po().expected_arrival == expected
    assert done.replace
    assert done.card is not None
    assert [b.action_id for b in done.card.buttons] == [SHIPPED, PROPOSE_PRICE]
    assert "已確認採購單" in done.text
    assert f"{expected.month}/{expected.day}" in done.text
    [row] = [r for r in _outbox(sup, "po", SUPPLIER_CHAT) if r.card["event"] == "confirm"]
    assert row.card["audience"] == "supplier"
    card = render_card(app)(row.card, "zh-TW")
    assert card.table is not None
    assert [r[0] for r in card.table.rows] == ["S1-M01", "TEA"]  # their codes, never MILK


def test_another_date_typed_politely(sup, tg):
    _sent(sup)
    opened = _sally(tg, LEAD_TIME, f"{PO}:date")
    assert opened.form is not None
    assert opened.form.form_id == ARRIVAL_FORM
    wrong = reply(tg, "T-sally", ARRIVAL_FORM, PO, SUPPLIER_CHAT, text="下週再說")
    assert "看不懂這個日期" in wrong.errors["arrival"]
    assert sup.po().status == PoStatus.SENT

    day = local_today() + timedelta(days=20)
    done = reply(tg, "T-sally", ARRIVAL_FORM, PO, SUPPLIER_CHAT, text=f"{day.month}月{day.day}日")
    assert (sup.po().status, sup.po().expected_arrival) == (PoStatus.CONFIRMED, day)
    assert done.card is not None
    assert done.replace


# --- prices ----------------------------------------------------------------------------------


def _propose(sup: Shop, tg: ChatBot, typed: str) -> Reply:
    lines = _sally(tg, PROPOSE_PRICE)
    assert lines.card is not None
    [milk, _tea] = lines.card.buttons
    assert (milk.action_id, milk.value) == (PRICE_LINE, f"{PO}:S1-M01")
    form = _sally(tg, PRICE_LINE, milk.value)
    assert form.form is not None
    assert (form.form.form_id, form.form.context) == (PRICE_FORM, milk.value)
    return reply(tg, "T-sally", PRICE_FORM, milk.value, SUPPLIER_CHAT, text=typed)


def _milk(sup: Shop) -> PoLine:
    [line] = sup.rows(PoLine, PoLine.po_id == sup.po().id, PoLine.sku_id == sup.ids["MILK"])
    return line


def test_a_price_inside_the_band_is_accepted(sup, tg):
    _sent(sup)
    assert "請輸入大於 0" in _propose(sup, tg, "免費").errors["price"]
    done = _propose(sup, tg, "NT$52")
    assert (_milk(sup).unit_price, _milk(sup).proposed_price) == (Decimal(52), None)
    assert "已生效" in done.text
    assert _outbox(sup, "price", APPROVALS) == []


def test_a_price_outside_the_band_goes_to_the_manager_who_accepts(sup, tg, slack, app):
    _sent(sup)
    waiting = _propose(sup, tg, "60")
    assert "轉交我方確認" in waiting.text
    assert _milk(sup).proposed_price == Decimal(60)
    [row] = _outbox(sup, "price", APPROVALS)
    card = render_card(app)(row.card, "zh-TW")
    accept = card.buttons[0]
    assert (accept.action_id, accept.value) == (PRICE_ACCEPT, f"{PO}:MILK")

    decided = press(slack, "U-amy", accept.action_id, accept.value, APPROVALS)
    assert (_milk(sup).unit_price, _milk(sup).proposed_price) == (Decimal(60), None)
    assert decided.card is not None
    assert decided.replace
    assert decided.card.buttons == ()
    assert "amy" in decided.card.footer[0]
    assert "已接受" in decided.text


# --- cannot supply → backup supplier -----------------------------------------------------------


def test_decline_offers_the_backup_and_the_manager_reassigns_to_s2(sup, tg, slack, app):
    _sent(sup)
    opened = _sally(tg, DECLINE)
    assert opened.form is not None
    assert opened.form.form_id == DECLINE_FORM
    empty = reply(tg, "T-sally", DECLINE_FORM, PO, SUPPLIER_CHAT, text="")
    assert empty.errors["reason"] == "請填寫原因"
    done = reply(tg, "T-sally", DECLINE_FORM, PO, SUPPLIER_CHAT, text="原料缺貨")
    assert sup.po().status == PoStatus.DECLINED
    assert done.card is not None
    assert done.card.buttons == ()

    [row] = _outbox(sup, "backup_offer", APPROVALS)
    offer = render_card(app)(row.card, "zh-TW")
    assert "原料缺貨" in offer.text
    assert offer.table is not None
    assert [r[3] for r in offer.table.rows] == ["備援乳品", "無備用供應商"]  # MILK, TEA
    [button] = offer.buttons
    assert _outbox(sup, "backup_offer", SUPPLIER_CHAT) == []  # never shown to a supplier

    moved = press(slack, "U-amy", button.action_id, button.value, APPROVALS)
    assert button.action_id == REASSIGN
    assert sup.po().status == PoStatus.REASSIGNED
    [new] = sup.rows(PurchaseOrder, PurchaseOrder.reassigned_from_id == sup.po().id)
    assert new.supplier_id != sup.po().supplier_id
    assert new.status == PoStatus.SENT  # S2's group is bound: sent at once
    assert new.number in moved.text
    assert "請人工安排：TEA" in moved.text
    assert moved.card is not None
    assert moved.card.buttons == ()


# --- shipped ---------------------------------------------------------------------------------


def test_shipped_with_a_tracking_number(sup, tg):
    _sent(sup)
    _sally(tg, LEAD_TIME, f"{PO}:0")
    opened = _sally(tg, SHIPPED)
    assert opened.form is not None
    assert opened.form.form_id == SHIPPED_FORM
    values = {"黑貓": "1234-5678"}  # a `WORD WORD` reply arrives split in two
    done = reply(tg, "T-sally", SHIPPED_FORM, PO, SUPPLIER_CHAT, **values)
    po = sup.po()
    assert (po.tracking_number, po.shipped_at is not None) == ("黑貓 1234-5678", True)
    assert "物流單號：黑貓 1234-5678" in done.text


# --- suppliers see only their own POs ----------------------------------------------------------


def test_another_supplier_is_refused_and_learns_nothing(sup, tg):
    _sent(sup)
    in_s1_group = press(tg, "T-sam", CONFIRM, PO, SUPPLIER_CHAT)
    assert in_s1_group.card is None
    assert "還不是" in in_s1_group.text  # someone of S2 is nobody in S1's group

    in_own_group = press(tg, "T-sam", CONFIRM, PO, S2_CHAT)
    assert (in_own_group.card, in_own_group.text) == (None, f"找不到採購單 {PO}")
    assert sup.po().status == PoStatus.SENT
    assert [e.actor_id for e in sup.audit("refused.po_not_found")] == [sup.ids["sam"]]

    theirs = command(tg, "T-sam", f"po {PO}", S2_CHAT)
    missing = command(tg, "T-sam", "po PO20991231-999", S2_CHAT)
    assert theirs.text == f"找不到採購單 {PO}"
    assert missing.text == "找不到採購單 PO20991231-999"
    assert theirs.card is None


def test_supplier_commands(sup, tg):
    _sent(sup)
    listed = command(tg, "T-sally", "po", SUPPLIER_CHAT)
    assert listed.card is not None
    assert listed.card.table is not None
    assert [row[0] for row in listed.card.table.rows] == [PO]
    one = command(tg, "T-sally", f"po {PO.lower()}", SUPPLIER_CHAT)
    assert one.card is not None
    assert [b.action_id for b in one.card.buttons] == [CONFIRM, PROPOSE_PRICE, DECLINE]
    assert command(tg, "T-sam", "po", S2_CHAT).text == "目前沒有待處理的採購單，謝謝！"

    stock = command(tg, "T-sally", "stock MILK", SUPPLIER_CHAT)
    assert stock.card is None
    assert "供應商帳號無法使用「stock」" in stock.text
    assert "無法使用「approve」" in command(tg, "T-sally", f"approve {PO}", SUPPLIER_CHAT).text
    help_ = command(tg, "T-sally", "help", SUPPLIER_CHAT).text
    assert "✅ 確認" in help_
    assert "🚚 已出貨" in help_


def test_a_newcomer_in_the_suppliers_group_speaks_for_that_supplier(sup, tg):
    _sent(sup)
    listed = command(tg, "T-new", "po", SUPPLIER_CHAT)
    assert listed.card is not None
    assert "stock" not in command(tg, "T-new", "help", SUPPLIER_CHAT).text


# --- exactly once ------------------------------------------------------------------------------


def test_a_repeated_press_is_applied_once(sup, tg):
    _sent(sup)
    first = _sally(tg, LEAD_TIME, f"{PO}:1", key="callback:same")
    again = _sally(tg, LEAD_TIME, f"{PO}:1", key="callback:same")
    assert first.text == again.text
    assert len(sup.audit("po.confirmed")) == 1
    later = _sally(tg, LEAD_TIME, f"{PO}:3")  # a new press on a stale card: told, card current
    assert "已由 sally" in later.text
    assert later.card is not None
    assert later.replace
    assert sup.po().expected_arrival == working_days_after(sup.po().requested_arrival, 1)
    assert sup.rows(AuditEvent, AuditEvent.action == "po.confirmed")[0].data["extra_days"] == 1
