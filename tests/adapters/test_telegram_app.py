"""Telegram end to end, offline: the real python-telegram-bot Application behind our ASGI
webhook (and in polling mode), talking to the fake Bot API on 127.0.0.1. Updates arrive as
Telegram sends them; effects are read back from the fake and the database."""

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pandas as pd
import pytest
import uvicorn
from pydantic import SecretStr
from sqlmodel import select

from adapters.telegram import serve_polling
from bot.app import (
    App,
    chat_adapters,
    deliver_outbox,
    http_app,
    telegram_application,
    telegram_webhook,
)
from bot.ids import APPROVE, CALLBACK_CODES, PICK_ACK
from bot.settings import Settings, TelegramSettings
from core.inbox import store_raw
from core.invites import create_invite
from core.members import add_member
from core.models import (
    AuditEvent,
    ChatBinding,
    InboxEvent,
    Location,
    LocationKind,
    Member,
    OutboxMessage,
    PickList,
    Supplier,
    utcnow,
)
from core.picks import pick_watchdog, publish_pick_lists
from core.store import Store
from core.workflow import submit_for_approval
from tests.adapters.conftest import wait_for
from tests.fakes.telegram import FakeTelegram
from tests.shop import PO, Shop, seed_shop

SECRET = "webhook-secret-7f3a"
APPROVALS, BUYERS = -1001, -1002
AMY, CLERK, ANALYST = 1001, 1002, 1003


@dataclass
class Telegram:
    shop: Shop
    fake: FakeTelegram
    app: App
    url: str

    def deliver(self) -> Any:
        return deliver_outbox(self.app, chat_adapters(self.app))

    def messages(self, chat: int) -> list[dict[str, Any]]:
        return self.fake.chats.get(chat, [])

    def post(self, update: dict[str, Any], *, secret: str | None = SECRET) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        return httpx.post(f"{self.url}/telegram/webhook", json=update, headers=headers)

    def press(self, user: int, chat: int, message_id: int, action: str, value: str) -> dict:
        data = f"{CALLBACK_CODES[action]}|{value}"
        update = self.fake.callback_update(chat, user, message_id, data, queue=False)
        assert self.post(update).status_code == 200
        return update

    def say(self, user: int, chat: int, text: str) -> dict[str, Any]:
        update = self.fake.message_update(chat, user, text, queue=False)
        assert self.post(update).status_code == 200
        return update

    def audit(self, action: str) -> list[AuditEvent]:
        return self.shop.audit(action)


def _keyboard(message: dict[str, Any]) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


def _settings(store: Store, fake: FakeTelegram, url: str) -> Settings:
    return Settings(
        database_url=store.engine.url.render_as_string(hide_password=False),
        telegram=TelegramSettings(
            bot_token=SecretStr(fake.token),
            api_base_url=fake.base_url,
            webhook_secret=SecretStr(SECRET),
            webhook_url=f"{url}/telegram/webhook",
        ),
    )


def _seed(store: Store) -> Shop:
    shop = seed_shop(store)
    with store.unit_of_work() as session:
        people = (
            (AMY, "manager", "amy"),
            (CLERK, "inventory_clerk", "clerk"),
            (ANALYST, "analyst", "ann"),
        )
        for user, role, name in people:
            add_member(
                session,
                None,
                platform="telegram",
                user_id=str(user),
                roles=[role],
                display_name=name,
            )
        for purpose, chat in (("approvals", APPROVALS), ("buyers", BUYERS)):
            session.add(ChatBinding(purpose=purpose, platform="telegram", chat_id=str(chat)))
    return shop


@pytest.fixture
def telegram(store: Store, fake_telegram: FakeTelegram) -> Iterator[Telegram]:
    """Our ASGI app with the Telegram webhook, served by uvicorn on a loopback port."""
    shop = _seed(store)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = App(_settings(store, fake_telegram, url), store)
    application = telegram_application(app, webhook=True)
    asgi = http_app(app, None, telegram_webhook(app, application))
    server = uvicorn.Server(uvicorn.Config(asgi, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: server.started)
    yield Telegram(shop, fake_telegram, app, url)
    server.should_exit = True
    thread.join(timeout=10)


def _po_card(tg: Telegram) -> dict[str, Any]:
    tg.shop.run("clerk", submit_for_approval, PO)
    assert tg.deliver().delivered >= 1
    [card] = tg.messages(APPROVALS)
    return card


# --- the webhook ----------------------------------------------------------------------------------


def test_the_webhook_is_set_with_its_secret_at_start(telegram: Telegram) -> None:
    hook = telegram.fake.webhook
    assert hook["url"] == f"{telegram.url}/telegram/webhook"
    assert hook["secret_token"] == SECRET


@pytest.mark.parametrize("secret", [None, "wrong", SECRET + "x"])
def test_a_wrong_or_missing_secret_is_refused_and_stores_nothing(
    telegram: Telegram, secret: str | None
) -> None:
    card = _po_card(telegram)
    update = telegram.fake.callback_update(
        APPROVALS, AMY, card["message_id"], f"pa|{PO}", queue=False
    )
    assert telegram.post(update, secret=secret).status_code == 403
    time.sleep(0.2)
    assert telegram.shop.rows(InboxEvent) == []
    assert telegram.shop.po().status == "pending_approval"


def test_approve_from_a_telegram_group(telegram: Telegram) -> None:
    tg = telegram
    card = _po_card(tg)
    assert _keyboard(card)[0] == f"pa|{PO}"
    assert all(len(data.encode()) <= 64 for data in _keyboard(card))

    tg.press(AMY, APPROVALS, card["message_id"], APPROVE, PO)
    wait_for(lambda: tg.shop.po().status == "approved")
    wait_for(lambda: _keyboard(tg.messages(APPROVALS)[0]) == [])  # edited in place
    [answered] = wait_for(lambda: tg.fake.calls("answerCallbackQuery"))
    assert answered.params.get("text")  # the presser always hears back
    [event] = tg.audit("po.approved")
    [amy] = tg.shop.rows(Member, Member.platform == "telegram", Member.user_id == str(AMY))
    assert event.actor_id == amy.id
    tg.deliver()
    assert len(tg.messages(BUYERS)) == 1


def test_the_same_update_delivered_twice_is_applied_once(telegram: Telegram) -> None:
    tg = telegram
    card = _po_card(tg)
    update = tg.fake.callback_update(APPROVALS, AMY, card["message_id"], f"pa|{PO}", queue=False)
    assert tg.post(update).status_code == 200
    assert tg.post(update).status_code == 200
    wait_for(lambda: tg.shop.po().status == "approved")
    time.sleep(0.3)
    assert len(tg.audit("po.approved")) == 1
    assert len(tg.fake.calls("answerCallbackQuery")) == 1
    [stored] = tg.shop.rows(InboxEvent, InboxEvent.event_key == f"update:{update['update_id']}")
    assert stored.status == "done"


def test_a_member_without_the_role_is_refused_and_audited(telegram: Telegram) -> None:
    tg = telegram
    card = _po_card(tg)
    tg.press(ANALYST, APPROVALS, card["message_id"], APPROVE, PO)
    [refused] = wait_for(lambda: tg.audit("refused.permission_denied"))
    assert refused.entity_id == PO
    [answer] = wait_for(lambda: tg.fake.calls("answerCallbackQuery"))
    assert answer.params.get("show_alert") in (True, "true")
    assert tg.shop.po().status == "pending_approval"


# --- commands and binding -------------------------------------------------------------------------


def test_commands_answer_in_the_group(telegram: Telegram) -> None:
    tg = telegram
    tg.shop.run("clerk", submit_for_approval, PO)
    tg.say(AMY, APPROVALS, "/po")
    reply = wait_for(lambda: [m for m in tg.messages(APPROVALS) if PO in m.get("text", "")])
    assert reply
    tg.say(AMY, APPROVALS, "/help@replenish_bot")
    wait_for(lambda: any("/replenish" in m.get("text", "") for m in tg.messages(APPROVALS)))


def test_bind_with_a_valid_then_a_reused_code(telegram: Telegram) -> None:
    tg = telegram
    with tg.shop.store.unit_of_work() as session:
        s1 = session.scalars(select(Supplier).where(Supplier.code == "S1")).one()
        code = create_invite(session, None, purpose="supplier", supplier_id=s1.id, now=utcnow())
    group, other = -2001, -2002
    tg.say(5001, group, f"/bind {code.lower()}")
    wait_for(lambda: tg.shop.rows(ChatBinding, ChatBinding.chat_id == str(group)))
    [bound] = tg.shop.rows(ChatBinding, ChatBinding.chat_id == str(group))
    assert (bound.purpose, bound.platform) == ("supplier", "telegram")
    wait_for(lambda: tg.messages(group))

    tg.say(5002, other, f"/bind {code}")
    wait_for(lambda: tg.messages(other))
    assert tg.shop.rows(ChatBinding, ChatBinding.chat_id == str(other)) == []
    assert tg.audit("refused.bind_code_invalid")


# --- delivery -------------------------------------------------------------------------------------


def test_a_flood_limit_429_delays_but_never_drops(telegram: Telegram) -> None:
    tg = telegram
    tg.shop.run("clerk", submit_for_approval, PO)
    tg.fake.fail_next("sendMessage", retry_after=1)
    report = tg.deliver()
    assert report.retried == 1
    [row] = tg.shop.rows(OutboxMessage, OutboxMessage.target == str(APPROVALS))
    assert row.status == "pending"
    assert tg.messages(APPROVALS) == []
    time.sleep(1.05)
    assert tg.deliver().delivered == 1
    assert len(tg.messages(APPROVALS)) == 1


def test_a_group_upgraded_to_a_supergroup_keeps_getting_its_cards(telegram: Telegram) -> None:
    tg = telegram
    tg.shop.run("clerk", submit_for_approval, PO)
    new_chat = -1009999
    tg.fake.fail_next("sendMessage", status=400, migrate_to_chat_id=new_chat)
    tg.deliver()
    assert tg.shop.rows(ChatBinding, ChatBinding.chat_id == str(new_chat))
    assert tg.shop.rows(ChatBinding, ChatBinding.chat_id == str(APPROVALS)) == []
    tg.deliver()
    assert len(tg.messages(new_chat)) == 1


# --- polling and recovery -------------------------------------------------------------------------


def test_polling_handles_updates_and_an_update_stored_before_a_crash(
    store: Store, fake_telegram: FakeTelegram
) -> None:
    shop = _seed(store)
    app = App(_settings(store, fake_telegram, "http://127.0.0.1:9"), store)
    shop.run("clerk", submit_for_approval, PO)
    deliver_outbox(app, chat_adapters(app))
    [card] = fake_telegram.chats[APPROVALS]
    press = fake_telegram.callback_update(
        APPROVALS, AMY, card["message_id"], f"pa|{PO}", queue=False
    )
    store_raw(store, "telegram", f"update:{press['update_id']}", press)  # then the process died
    fake_telegram.message_update(APPROVALS, AMY, "/po")  # waiting in getUpdates

    application = telegram_application(app)
    loop = asyncio.new_event_loop()

    def poll() -> None:
        asyncio.set_event_loop(loop)
        serve_polling(application, stop_signals=False)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        wait_for(lambda: shop.po().status == "approved", timeout=20)
        wait_for(lambda: replies_to_po(fake_telegram))  # the /po that waited in getUpdates
    finally:
        loop.call_soon_threadsafe(application.stop_running)
        thread.join(timeout=20)
    assert not thread.is_alive()
    assert len(shop.audit("po.approved")) == 1
    assert {row.status for row in shop.rows(InboxEvent)} == {"done"}


def replies_to_po(fake: FakeTelegram) -> list[Any]:
    """The bot's answers to /po: messages sent as a reply to someone's message."""
    return [c for c in fake.calls("sendMessage") if c.params.get("reply_parameters")]


# --- dropship pick lists --------------------------------------------------------------------------

PARTNER_CHAT, LOGISTICS = -3001, -3002


def _pick_list(tg: Telegram) -> int:
    """A dropship partner bound to its group, and a plan with one red and one green SKU."""
    with tg.shop.store.unit_of_work() as session:
        partner = Location(code="DS1", name="好物代發", kind=LocationKind.DROPSHIP)
        session.add(partner)
        session.flush()
        session.add(
            ChatBinding(
                purpose="dropship",
                platform="telegram",
                chat_id=str(PARTNER_CHAT),
                partner_id=partner.id,
            )
        )
        session.add(ChatBinding(purpose="logistics", platform="telegram", chat_id=str(LOGISTICS)))
        planned = pd.DataFrame(
            {
                "sku_id": [tg.shop.ids["MILK"], tg.shop.ids["TEA"]],
                "sku": ["MILK", "TEA"],
                "name": ["鮮乳", "紅茶"],
                "pick_colour": ["red", "green"],
                "days_of_cover": [0.5, 30.0],
                "daily_demand": [12.0, 3.0],
                "signals": [["imminent_stockout"], []],
            }
        )
        publish_pick_lists(session, planned, utcnow())
        [pick_list] = session.scalars(select(PickList)).all()
        assert pick_list.id is not None
        return pick_list.id


def test_a_pick_list_is_posted_and_acknowledged_by_the_partner(telegram: Telegram) -> None:
    tg = telegram
    list_id = _pick_list(tg)
    tg.deliver()
    [card] = tg.messages(PARTNER_CHAT)
    assert "MILK" in card["text"]
    assert _keyboard(card) == [f"pk|{list_id}"]
    tg.press(7001, PARTNER_CHAT, card["message_id"], PICK_ACK, str(list_id))  # a partner's packer
    wait_for(lambda: tg.shop.rows(PickList)[0].status == "acked")
    wait_for(lambda: _keyboard(tg.messages(PARTNER_CHAT)[0]) == [])
    [linked] = tg.shop.rows(Member, Member.user_id == "7001")
    assert linked.roles == ["dropship"]  # linked to the partner on first press, audited
    assert tg.audit("member.linked")
    with tg.shop.store.unit_of_work() as session:  # an acknowledged list is never chased
        later = pick_watchdog(session, utcnow() + timedelta(hours=2))
    assert (later.resent, later.escalated) == ([], [])


def test_an_unacknowledged_red_list_is_resent_then_escalated(telegram: Telegram) -> None:
    tg = telegram
    _pick_list(tg)
    tg.deliver()
    with tg.shop.store.unit_of_work() as session:
        pick_watchdog(session, utcnow() + timedelta(minutes=31))
    tg.deliver()
    assert len(tg.messages(PARTNER_CHAT)) == 2  # a fresh message, so phones ring
    assert tg.messages(LOGISTICS) == []
    with tg.shop.store.unit_of_work() as session:
        pick_watchdog(session, utcnow() + timedelta(minutes=61))
        pick_watchdog(session, utcnow() + timedelta(minutes=62))  # once is enough
    tg.deliver()
    [escalation] = tg.messages(LOGISTICS)
    assert "MILK" in escalation["text"]
    assert len(tg.messages(PARTNER_CHAT)) == 2


def test_a_stranger_in_an_unbound_group_sees_no_stock_or_pos(telegram: Telegram) -> None:
    tg = telegram
    stranger_group = -4001
    tg.say(9999, stranger_group, "/stock MILK")
    tg.say(9999, stranger_group, "/po")
    wait_for(lambda: len(tg.messages(stranger_group)) == 2)
    texts = [m["text"] for m in tg.messages(stranger_group)]
    assert all("店內人員" in text for text in texts)
    assert not any("MILK" in text or PO in text for text in texts)
    tg.say(9999, stranger_group, "/help")
    wait_for(lambda: len(tg.messages(stranger_group)) == 3)
