"""The whole supplier loop across both platforms, offline: the manager approves in Slack, the
PO reaches the supplier's Telegram group, the supplier confirms, proposes a price or declines
there, and the manager decides back in Slack. One ASGI app serves both webhooks; the real
bolt, slack_sdk and python-telegram-bot talk to the two fakes on 127.0.0.1."""

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import SecretStr
from sqlmodel import select

from bot.app import (
    App,
    chat_adapters,
    deliver_outbox,
    http_app,
    slack_bolt,
    telegram_application,
    telegram_webhook,
)
from bot.ids import (
    APPROVE,
    CALLBACK_CODES,
    CONFIRM,
    DECLINE,
    LEAD_TIME,
    PRICE_ACCEPT,
    PRICE_LINE,
    PROPOSE_PRICE,
    REASSIGN,
)
from bot.settings import Settings, SlackSettings, TelegramSettings
from core.models import PoLine, PurchaseOrder
from core.store import Store
from core.workflow import submit_for_approval
from tests.adapters.conftest import SECRET as SLACK_SECRET
from tests.adapters.conftest import Harness, wait_for
from tests.fakes.slack import FakeSlack
from tests.fakes.telegram import FakeTelegram
from tests.shop import PO, SUPPLIER_CHAT, Shop, seed_shop

TG_SECRET = "tg-secret-91"
APPROVALS = "C-APPROVALS"
S1_GROUP, S2_GROUP = int(SUPPLIER_CHAT), -100300
SALLY, SAM = 6001, 6002


@dataclass
class Loop:
    slack: Harness
    tg: FakeTelegram
    url: str

    @property
    def shop(self) -> Shop:
        return self.slack.shop

    def deliver(self) -> None:
        deliver_outbox(self.slack.app, chat_adapters(self.slack.app))

    def group(self, chat: int) -> list[dict[str, Any]]:
        """The bot's text messages there (cards, prompts); the PO files are in `files_in`."""
        return [m for m in self.tg.chats.get(chat, []) if "text" in m]

    def files_in(self, chat: int) -> list[str]:
        return [m["document"]["file_name"] for m in self.tg.chats.get(chat, []) if "document" in m]

    def tap(self, user: int, chat: int, message: dict[str, Any], action: str, value: str) -> None:
        data = f"{CALLBACK_CODES[action]}|{value}"
        update = self.tg.callback_update(chat, user, message["message_id"], data, queue=False)
        self._post(update)

    def answer_prompt(self, user: int, chat: int, prompt: dict[str, Any], text: str) -> None:
        update = self.tg.message_update(chat, user, text, queue=False)
        update["message"]["reply_to_message"] = prompt
        self._post(update)

    def _post(self, update: dict[str, Any]) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
        answer = httpx.post(f"{self.url}/telegram/webhook", json=update, headers=headers)
        assert answer.status_code == 200

    def po(self, number: str = PO) -> PurchaseOrder:
        with self.shop.store.read() as session:
            return session.scalars(
                select(PurchaseOrder).where(PurchaseOrder.number == number)
            ).one()


def _buttons(message: dict[str, Any]) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


def _backup_supplier(shop: Shop) -> None:
    """S1 prices MILK at NT$50 with a 5 % band; S2 is its rank-2 backup. Both groups bound,
    and one person of each linked to their supplier."""
    shop.add_backup_supplier()
    shop.add_supplier_member("sally", str(SALLY), "S1")
    shop.add_supplier_member("sam", str(SAM), "S2")
    shop.bind_supplier_chat("S1", str(S1_GROUP))
    shop.bind_supplier_chat("S2", str(S2_GROUP))


@pytest.fixture
def loop(store: Store, fake_slack: FakeSlack, fake_telegram: FakeTelegram) -> Iterator[Loop]:
    shop = seed_shop(store)
    _backup_supplier(shop)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = Settings(
        database_url=store.engine.url.render_as_string(hide_password=False),
        slack=SlackSettings(
            bot_token=fake_slack.token,
            signing_secret=SLACK_SECRET,
            api_base_url=fake_slack.base_url,
        ),
        telegram=TelegramSettings(
            bot_token=SecretStr(fake_telegram.token),
            api_base_url=fake_telegram.base_url,
            webhook_secret=SecretStr(TG_SECRET),
            webhook_url=f"{url}/telegram/webhook",
        ),
    )
    app = App(settings, store)
    endpoint = telegram_webhook(app, telegram_application(app, webhook=True))
    server = uvicorn.Server(
        uvicorn.Config(http_app(app, slack_bolt(app), endpoint), log_level="warning")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: server.started)
    with httpx.Client(timeout=10) as client:
        yield Loop(Harness(shop, fake_slack, app, url, client), fake_telegram, url)
    server.should_exit = True
    thread.join(timeout=10)


def _approved_and_sent(loop: Loop) -> dict[str, Any]:
    """The clerk submits, the manager approves in Slack, the card reaches S1's group."""
    loop.shop.run("clerk", submit_for_approval, PO)
    loop.deliver()
    loop.slack.press("U-amy", APPROVE, PO, APPROVALS)
    wait_for(lambda: loop.po().status == "sent")
    loop.deliver()
    [card] = loop.group(S1_GROUP)
    assert _buttons(card)[0] == f"{CALLBACK_CODES[CONFIRM]}|{PO}"
    assert loop.files_in(S1_GROUP) == [f"{PO}.pdf"]  # and the PO as a file, after the card
    return card


def test_confirm_with_a_lead_time_choice_sets_the_expected_arrival(loop: Loop) -> None:
    card = _approved_and_sent(loop)
    requested = loop.po().requested_arrival
    assert requested is not None
    loop.tap(SALLY, S1_GROUP, card, CONFIRM, PO)
    choices = wait_for(lambda: loop.group(S1_GROUP)[1:])[0]  # the lead-time choices
    plus_three = f"{CALLBACK_CODES[LEAD_TIME]}|{PO}:3"
    assert plus_three in _buttons(choices)
    loop.tap(SALLY, S1_GROUP, choices, LEAD_TIME, f"{PO}:3")
    wait_for(lambda: loop.po().status == "confirmed")
    arrival = loop.po().expected_arrival
    assert arrival is not None
    assert arrival > requested  # three working days later than asked
    assert arrival - requested >= timedelta(days=3)
    loop.deliver()
    assert _buttons(loop.group(S1_GROUP)[0])[0].startswith(f"{CALLBACK_CODES['supplier.shipped']}|")


def test_a_price_outside_the_band_is_decided_by_the_manager_in_slack(loop: Loop) -> None:
    card = _approved_and_sent(loop)
    loop.tap(SALLY, S1_GROUP, card, PROPOSE_PRICE, PO)
    lines = wait_for(lambda: loop.group(S1_GROUP)[1:])[0]  # which line?
    milk = next(data for data in _buttons(lines) if data.startswith(CALLBACK_CODES[PRICE_LINE]))
    loop.tap(SALLY, S1_GROUP, lines, PRICE_LINE, milk.split("|", 1)[1])
    prompt = wait_for(
        lambda: [m for m in loop.group(S1_GROUP) if "#supplier.price_form" in m["text"]]
    )[0]
    loop.answer_prompt(SALLY, S1_GROUP, prompt, "NT$80")  # agreed 50 ± 5 %: outside
    wait_for(lambda: loop.shop.audit("po.price_escalated"))
    loop.deliver()
    escalation = [m for m in loop.slack.messages(APPROVALS) if "80" in str(m.get("blocks"))]
    assert escalation
    loop.slack.press("U-amy", PRICE_ACCEPT, f"{PO}:MILK", APPROVALS, message=escalation[-1])
    wait_for(lambda: loop.shop.audit("po.price_approved"))
    with loop.shop.store.read() as session:
        line = session.scalars(select(PoLine).where(PoLine.sku_id == loop.shop.ids["MILK"])).one()
    assert (line.unit_price, line.proposed_price) == (Decimal(80), None)


def test_cannot_supply_then_the_backup_supplier_in_one_press(loop: Loop) -> None:
    card = _approved_and_sent(loop)
    loop.tap(SALLY, S1_GROUP, card, DECLINE, PO)
    prompt = wait_for(
        lambda: [m for m in loop.group(S1_GROUP) if "#supplier.decline_form" in m["text"]]
    )[0]
    loop.answer_prompt(SALLY, S1_GROUP, prompt, "原料缺貨，下月才有")
    wait_for(lambda: loop.po().status == "declined")
    loop.deliver()
    offer = [m for m in loop.slack.messages(APPROVALS) if "備援乳品" in str(m.get("blocks"))]
    assert offer
    loop.slack.press("U-amy", REASSIGN, PO, APPROVALS, message=offer[-1])
    wait_for(lambda: loop.po().status == "reassigned")
    with loop.shop.store.read() as session:
        backup = session.scalars(
            select(PurchaseOrder).where(PurchaseOrder.reassigned_from_id == loop.po().id)
        ).one()
    assert backup.status == "sent"  # S2's group is bound: on its way at once
    loop.deliver()
    [s2_card] = loop.group(S2_GROUP)
    assert "B-77" in s2_card["text"]  # in S2's own code, at its own MOQ/case pack
    assert "MILK" not in s2_card["text"]
