"""The supplier's PO document over Telegram, offline: when a PO is sent, its supplier's group
gets the PO card (buttons, updated in place) and then the PDF as a document — once, whether
the document or the card had to be retried — and `/po <number> pdf` gets it again,
for the supplier's own POs only. The real python-telegram-bot behind our ASGI webhook talks
to the fake Bot API on 127.0.0.1; the PDFs are read back with pypdf."""

import io
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import SecretStr
from pypdf import PdfReader

from bot.app import (
    App,
    chat_adapters,
    deliver_outbox,
    http_app,
    telegram_application,
    telegram_webhook,
)
from bot.dispatch import DispatchReport
from bot.ids import CALLBACK_CODES, CONFIRM, LEAD_TIME
from bot.settings import Settings, TelegramSettings
from bot.shop_settings import ShopSettings
from core.models import Member, OutboxMessage, OutboxStatus, utcnow
from core.outbox import DOCUMENT_KIND
from core.store import Store
from core.workflow import ApprovalRules, approve, submit_for_approval
from tests.adapters.conftest import wait_for
from tests.fakes.telegram import FakeTelegram
from tests.shop import PO, SUPPLIER_CHAT, Shop, seed_shop

SECRET = "po-document-secret-3d1"
S1_GROUP, S2_GROUP = int(SUPPLIER_CHAT), -100300
SALLY, SAM = 6001, 6002  # S1's and S2's people
SHOP = ShopSettings(
    name="好物團購", deliver_to="桃園市大園區 物流中心", po_notes="發票請開立統編 12345678"
)
LINE = "MILK 鮮乳 48 NT$50 NT$2,400"  # no agreed code of S1's: ours stands in


@dataclass
class Group:
    shop: Shop
    fake: FakeTelegram
    app: App
    url: str

    def deliver(self, *, later: timedelta = timedelta(0)) -> DispatchReport:
        return deliver_outbox(self.app, chat_adapters(self.app), now=utcnow() + later)

    def messages(self, chat: int) -> list[dict[str, Any]]:
        return self.fake.chats.get(chat, [])

    def documents(self, chat: int) -> list[dict[str, Any]]:
        return [m for m in self.messages(chat) if "document" in m]

    def cards(self, chat: int) -> list[dict[str, Any]]:
        return [m for m in self.messages(chat) if "text" in m]

    def say(self, user: int, chat: int, text: str) -> None:
        update = self.fake.message_update(chat, user, text, queue=False)
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        assert httpx.post(f"{self.url}/telegram/webhook", json=update, headers=headers).is_success

    def press(self, user: int, chat: int, message: dict[str, Any], action: str, value: str) -> None:
        data = f"{CALLBACK_CODES[action]}|{value}"
        update = self.fake.callback_update(chat, user, message["message_id"], data, queue=False)
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        assert httpx.post(f"{self.url}/telegram/webhook", json=update, headers=headers).is_success

    def send_po(self) -> None:
        """The clerk submits, the manager approves: S1's group is bound, so it is sent."""
        self.shop.run("clerk", submit_for_approval, PO)
        self.shop.run("amy", approve, PO, rules=ApprovalRules())
        assert self.shop.po().status == "sent"

    def pdf_bytes(self, message: dict[str, Any]) -> bytes:
        return self.fake.files[message["document"]["file_id"]]


@pytest.fixture
def group(store: Store, fake_telegram: FakeTelegram) -> Iterator[Group]:
    shop = seed_shop(store)
    shop.add_backup_supplier()
    shop.add_supplier_member("sally", str(SALLY), "S1")
    shop.add_supplier_member("sam", str(SAM), "S2")
    shop.bind_supplier_chat("S1", str(S1_GROUP))
    shop.bind_supplier_chat("S2", str(S2_GROUP))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = Settings(
        database_url=store.engine.url.render_as_string(hide_password=False),
        telegram=TelegramSettings(
            bot_token=SecretStr(fake_telegram.token),
            api_base_url=fake_telegram.base_url,
            webhook_secret=SecretStr(SECRET),
            webhook_url=f"{url}/telegram/webhook",
        ),
        shop=SHOP,
    )
    app = App(settings, store)
    asgi = http_app(app, None, telegram_webhook(app, telegram_application(app, webhook=True)))
    server = uvicorn.Server(uvicorn.Config(asgi, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: server.started)
    yield Group(shop, fake_telegram, app, url)
    server.should_exit = True
    thread.join(timeout=10)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_suppliers_group_gets_the_card_then_the_pdf(group: Group) -> None:
    group.send_po()
    group.deliver()
    card, document = group.messages(S1_GROUP)  # in this order
    assert PO in card["text"]
    assert card["reply_markup"]["inline_keyboard"]  # the buttons stay on the card
    assert document["document"]["file_name"] == f"{PO}.pdf"
    assert document["document"]["mime_type"] == "application/pdf"
    assert PO in document["caption"]
    assert "reply_markup" not in document
    text = pdf_text(group.pdf_bytes(document))
    for expected in ("好物團購", "採購單", PO, "鮮乳坊", LINE, "合計 NT$2,600"):
        assert expected in text
    assert "桃園市大園區 物流中心" in text
    assert "發票請開立統編 12345678" in text
    assert group.messages(S2_GROUP) == []  # another supplier sees nothing of it
    assert group.messages(-100999) == []  # nor an unlinked supplier group


def test_a_document_retried_after_the_card_went_out_is_sent_once(group: Group) -> None:
    group.send_po()
    group.fake.fail_next("sendDocument", status=500)
    first = group.deliver()
    assert (first.sent, first.retried) == (1, 1)  # the card went out; the file did not
    assert len(group.cards(S1_GROUP)) == 1
    assert group.documents(S1_GROUP) == []
    second = group.deliver(later=timedelta(minutes=20))  # past the backoff
    assert (second.sent, second.updated) == (1, 0)  # the document only: no second card
    assert len(group.cards(S1_GROUP)) == 1
    assert len(group.documents(S1_GROUP)) == 1
    assert group.deliver(later=timedelta(hours=1)).delivered == 0
    assert len(group.fake.calls("sendDocument")) == 2  # one failed, one delivered
    assert len([c for c in group.fake.calls("sendMessage") if c.params["chat_id"] == S1_GROUP]) == 1


def test_the_document_waits_while_its_card_is_retried(group: Group) -> None:
    group.send_po()
    group.fake.fail_next("sendMessage", status=502)
    group.deliver()
    assert group.messages(S1_GROUP) == []  # no file before the PO card it belongs to
    group.deliver(later=timedelta(minutes=20))
    card, document = group.messages(S1_GROUP)
    assert "text" in card
    assert "document" in document
    rows = group.shop.rows(OutboxMessage, OutboxMessage.kind == DOCUMENT_KIND)
    assert [(row.status, row.attempts) for row in rows] == [(OutboxStatus.SENT, 1)]


def test_later_cards_update_the_po_card_never_the_document(group: Group) -> None:
    group.send_po()
    group.deliver()
    card, document = group.messages(S1_GROUP)
    group.press(SALLY, S1_GROUP, card, CONFIRM, PO)
    choices = wait_for(lambda: group.cards(S1_GROUP)[1:])[0]  # the lead-time choices
    group.press(SALLY, S1_GROUP, choices, LEAD_TIME, f"{PO}:0")
    wait_for(lambda: group.shop.po().status == "confirmed")
    group.deliver()
    assert group.fake.message(S1_GROUP, document["message_id"]) == document  # untouched
    edits = [c for c in group.fake.calls("editMessageText") if c.params["chat_id"] == S1_GROUP]
    assert {c.params["message_id"] for c in edits} <= {card["message_id"], choices["message_id"]}
    assert len(group.documents(S1_GROUP)) == 1


def test_the_supplier_gets_its_pdf_again_with_a_command(group: Group) -> None:
    group.send_po()
    group.deliver()
    group.fake.clear()
    group.say(SALLY, S1_GROUP, f"/po {PO.lower()} pdf")
    [call] = wait_for(lambda: group.fake.calls("sendDocument"))
    assert call.params["chat_id"] == S1_GROUP
    assert call.file_names["document"] == f"{PO}.pdf"
    assert f"{PO} 鮮乳" not in pdf_text(call.files["document"])  # sanity: a table, not prose
    assert LINE in pdf_text(call.files["document"])
    group.say(SALLY, S1_GROUP, f"/po {PO} png")
    [photo] = wait_for(lambda: group.fake.calls("sendPhoto"))
    assert photo.files["photo"].startswith(b"\x89PNG")


def test_another_supplier_cannot_get_the_pdf(group: Group) -> None:
    group.send_po()
    group.deliver()
    group.fake.clear()
    group.say(SAM, S2_GROUP, f"/po {PO} pdf")  # S2's person, in S2's group
    group.say(SAM, S1_GROUP, f"/po {PO} pdf")  # S2's person, in S1's group
    wait_for(lambda: len(group.fake.calls("sendMessage")) >= 2)
    assert group.fake.calls("sendDocument") == []
    answers = [c.params["text"] for c in group.fake.calls("sendMessage")]
    assert all(PO not in answer or "找不到" in answer for answer in answers)  # nothing leaks
    assert group.shop.audit("refused.po_not_found")  # somebody trying numbers, audited


def test_the_file_is_in_the_language_the_suppliers_people_read(group: Group) -> None:
    with group.shop.store.unit_of_work() as session:
        sally = session.get(Member, group.shop.ids["sally"])
        assert sally is not None
        sally.locale = "en"
    group.send_po()
    group.deliver()
    [document] = group.documents(S1_GROUP)
    text = pdf_text(group.pdf_bytes(document))
    assert "Purchase order" in text
    assert "MILK 鮮乳 48 NT$50 NT$2,400" in text  # names stay as they are
    assert "Total NT$2,600" in text
    assert "Purchase order" in document["caption"]
