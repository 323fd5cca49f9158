"""The fake Telegram Bot API answers the real python-telegram-bot (Bot and Application).

pytest-asyncio is not a dependency, so each test drives its coroutine with `asyncio.run`,
bounded by `asyncio.wait_for` so a hung poll fails the test instead of hanging the suite.
"""

import asyncio
import datetime as dtm
import json
import struct
import threading
import time
import zlib
from collections.abc import Coroutine
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    ChatFullInfo,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
)
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakes.telegram import NOT_MODIFIED, FakeTelegram

T = TypeVar("T")
GROUP = -4_001_234_567  # a basic group, as Telegram numbers them
SUPERGROUP = -1_001_234_567_890
USER = 7_000_001
KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Approve", callback_data="po:approve:PO-1"),
            InlineKeyboardButton("Reject", callback_data="po:reject:PO-1"),
        ]
    ]
)


def run(coro: Coroutine[Any, Any, T], timeout: float = 15.0) -> T:
    return asyncio.run(asyncio.wait_for(coro, timeout))


def png(width: int, height: int) -> bytes:
    """A valid PNG of the given size (one grey pixel row repeated), built by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def bot(fake_telegram: FakeTelegram) -> Bot:
    return Bot(fake_telegram.token, base_url=fake_telegram.base_url)


# --- Bot --------------------------------------------------------------------------------------


def test_get_me_names_the_bot_and_the_url_carries_the_token(
    bot: Bot, fake_telegram: FakeTelegram
) -> None:
    async def go() -> Any:
        async with bot:  # initialize() calls getMe too
            return await bot.get_me()

    me = run(go())
    assert (me.id, me.is_bot, me.username) == (123456, True, "replenish_test_bot")
    assert bot.base_url == f"{fake_telegram.base_url}{fake_telegram.token}"
    [first, *_] = fake_telegram.calls("getMe")
    assert first.path == "/bot123456:TEST-token/getMe"
    assert first.status == 200
    assert first.answer["ok"] is True


def test_a_wrong_token_is_unauthorized(fake_telegram: FakeTelegram) -> None:
    wrong = Bot("654321:WRONG", base_url=fake_telegram.base_url)
    with pytest.raises(InvalidToken):
        run(wrong.get_me())
    [call] = fake_telegram.calls("getMe")
    assert call.status == 401
    assert call.answer == {"ok": False, "error_code": 401, "description": "Unauthorized"}


def test_send_message_with_an_inline_keyboard(bot: Bot, fake_telegram: FakeTelegram) -> None:
    async def go() -> list[Message]:
        async with bot:
            return [
                await bot.send_message(GROUP, "PO-1 needs approval", reply_markup=KEYBOARD),
                await bot.send_message(GROUP, "PO-2 needs approval"),
                await bot.send_message(SUPERGROUP, "pick list"),
            ]

    first, second, other = run(go())
    assert (first.message_id, second.message_id, other.message_id) == (1, 2, 1)  # per chat
    assert (first.chat.id, first.chat.type) == (GROUP, "group")
    assert other.chat.type == "supergroup"
    assert first.text == "PO-1 needs approval"
    assert first.reply_markup == KEYBOARD
    assert first.from_user is not None
    assert first.from_user.is_bot
    assert isinstance(first.date, dtm.datetime)
    assert second.reply_markup is None

    stored = fake_telegram.chats[GROUP]
    assert [m["message_id"] for m in stored] == [1, 2]
    assert stored[0]["reply_markup"] == KEYBOARD.to_dict()
    # PTB posts form fields; the fake decodes ints and the JSON-encoded keyboard.
    call = fake_telegram.calls("sendMessage")[0]
    assert call.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert call.params["chat_id"] == GROUP
    assert call.params["reply_markup"] == KEYBOARD.to_dict()


def test_edit_message_text_replaces_the_message_and_refuses_a_no_op(
    bot: Bot, fake_telegram: FakeTelegram
) -> None:
    async def go() -> tuple[Message, Message]:
        async with bot:
            sent = await bot.send_message(GROUP, "PO-1 needs approval", reply_markup=KEYBOARD)
            edited = await bot.edit_message_text(
                "PO-1 approved", chat_id=GROUP, message_id=sent.message_id, reply_markup=KEYBOARD
            )
            assert isinstance(edited, Message)
            with pytest.raises(BadRequest) as same:
                await bot.edit_message_text(
                    "PO-1 approved", GROUP, sent.message_id, reply_markup=KEYBOARD
                )
            # PTB drops the "Bad Request: " prefix and capitalises what is left.
            assert same.value.message == NOT_MODIFIED.removeprefix("Bad Request: ").capitalize()
            # An edit that does not repeat the keyboard removes it, as on Telegram.
            bare = await bot.edit_message_text("PO-1 approved", GROUP, sent.message_id)
            assert isinstance(bare, Message)
            with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
                await bot.edit_message_reply_markup(GROUP, sent.message_id, reply_markup=None)
            with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
                await bot.edit_message_text("x", GROUP, 999)
            return edited, bare

    edited, bare = run(go())
    assert (edited.message_id, edited.text, edited.reply_markup) == (1, "PO-1 approved", KEYBOARD)
    assert edited.edit_date is not None
    assert bare.reply_markup is None
    [message] = fake_telegram.chats[GROUP]
    assert message["text"] == "PO-1 approved"
    assert "reply_markup" not in message
    assert [c.status for c in fake_telegram.calls("editMessageText")] == [200, 400, 200, 400]


def test_edit_reply_markup_and_delete(bot: Bot, fake_telegram: FakeTelegram) -> None:
    async def go() -> None:
        async with bot:
            sent = await bot.send_message(GROUP, "pick list", reply_markup=KEYBOARD)
            done = InlineKeyboardMarkup([[InlineKeyboardButton("✓ done", callback_data="ack")]])
            edited = await bot.edit_message_reply_markup(GROUP, sent.message_id, reply_markup=done)
            assert isinstance(edited, Message)
            assert edited.reply_markup == done
            with pytest.raises(BadRequest, match=r"(?i)not modified"):
                await bot.edit_message_reply_markup(GROUP, sent.message_id, reply_markup=done)
            assert await bot.delete_message(GROUP, sent.message_id) is True
            with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
                await bot.delete_message(GROUP, sent.message_id)
            # Telegram caps callback_data at 64 bytes; longer values are refused outright.
            too_long = InlineKeyboardButton("x", callback_data="po:approve:" + "9" * 60)
            with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
                await bot.send_message(GROUP, "x", reply_markup=InlineKeyboardMarkup([[too_long]]))

    run(go())
    assert fake_telegram.chats[GROUP] == []


def test_answer_callback_query_once(bot: Bot, fake_telegram: FakeTelegram) -> None:
    async def go() -> None:
        async with bot:
            sent = await bot.send_message(GROUP, "PO-1", reply_markup=KEYBOARD)
            update = fake_telegram.callback_update(
                GROUP, USER, sent.message_id, "po:approve:PO-1", queue=False
            )
            query = Update.de_json(update, bot).callback_query
            assert query is not None
            assert query.message is not None
            assert query.message.message_id == sent.message_id
            assert await bot.answer_callback_query(query.id, text="Approved") is True
            with pytest.raises(BadRequest, match=r"(?i)query id is invalid"):
                await bot.answer_callback_query(query.id)

    run(go())
    [ok, again] = fake_telegram.calls("answerCallbackQuery")
    assert ok.params["text"] == "Approved"
    assert again.status == 400


def test_send_photo_with_bytes_is_multipart(bot: Bot, fake_telegram: FakeTelegram) -> None:
    image = png(64, 48) + b"\r\n--tail\r\n"  # boundary-like bytes must survive the parse

    async def go() -> Message:
        async with bot:
            return await bot.send_photo(GROUP, image, caption="Cover by SKU", reply_markup=KEYBOARD)

    sent = run(go())
    [size] = sent.photo
    assert (size.width, size.height, size.file_size) == (64, 48, len(image))
    assert sent.caption == "Cover by SKU"
    assert sent.reply_markup == KEYBOARD
    assert fake_telegram.files[size.file_id] == image
    [call] = fake_telegram.calls("sendPhoto")
    assert call.headers["Content-Type"].startswith("multipart/form-data")
    assert call.files["photo"] == image
    assert call.params["chat_id"] == GROUP  # text parts decoded like form fields
    assert call.params["reply_markup"] == KEYBOARD.to_dict()
    assert fake_telegram.chats[GROUP][0]["photo"][0]["file_id"] == size.file_id


def test_a_scripted_429_raises_retry_after(
    bot: Bot, fake_telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # retry_after as timedelta, without a warning
    fake_telegram.fail_next("sendMessage", retry_after=7, times=2)

    async def go() -> None:
        async with bot:
            for _ in range(2):
                with pytest.raises(RetryAfter) as error:
                    await bot.send_message(GROUP, "flood")
                assert error.value.retry_after == dtm.timedelta(seconds=7)
            await bot.send_message(GROUP, "after the wait")

    run(go())
    calls = fake_telegram.calls("sendMessage")
    assert [c.status for c in calls] == [429, 429, 200]
    assert calls[0].answer == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }
    assert [m["text"] for m in fake_telegram.chats[GROUP]] == ["after the wait"]


def test_a_migrated_group_and_a_kicked_bot(bot: Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.fail_next("sendMessage", migrate_to_chat_id=SUPERGROUP)
    kicked = "Forbidden: bot was kicked from the group chat"
    fake_telegram.fail_next("sendMessage", status=403, description=kicked)

    async def go() -> None:
        async with bot:
            with pytest.raises(ChatMigrated) as moved:
                await bot.send_message(GROUP, "PO-1")
            assert moved.value.new_chat_id == SUPERGROUP
            with pytest.raises(Forbidden, match="kicked"):
                await bot.send_message(GROUP, "PO-1")

    run(go())
    migrated, forbidden = fake_telegram.calls("sendMessage")
    assert migrated.status == 400
    assert migrated.answer["parameters"] == {"migrate_to_chat_id": SUPERGROUP}
    assert (forbidden.status, forbidden.answer["description"]) == (403, kicked)


def test_unknown_methods_are_not_found(bot: Bot, fake_telegram: FakeTelegram) -> None:
    async def go() -> None:
        async with bot:
            with pytest.raises(EndPointNotFound):
                await bot.do_api_request("sendCarrierPigeon")

    run(go())
    answer = httpx.post(f"{fake_telegram.base_url}{fake_telegram.token}/noSuchMethod")
    assert answer.status_code == 404
    assert answer.json() == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }


def test_commands_chat_and_json_bodies(bot: Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_chat(GROUP, title="Supplier: 好物供應")

    async def go() -> None:
        async with bot:
            commands = [BotCommand("replenish", "Replenishment"), BotCommand("help", "Help")]
            assert await bot.set_my_commands(commands) is True
            assert await bot.get_my_commands() == tuple(commands)
            with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
                await bot.set_my_commands([BotCommand("Not Valid", "x")])
            chat = await bot.get_chat(GROUP)
            assert isinstance(chat, ChatFullInfo)
            assert (chat.id, chat.type, chat.title) == (GROUP, "group", "Supplier: 好物供應")

    run(go())
    assert [c["command"] for c in fake_telegram.my_commands()] == ["replenish", "help"]
    # Other clients post JSON; method names are case-insensitive, as on Telegram.
    url = f"{fake_telegram.base_url}{fake_telegram.token}/SENDMESSAGE"
    answer = httpx.post(url, json={"chat_id": GROUP, "text": "hi"}).json()
    assert answer["ok"]
    assert answer["result"]["chat"]["title"] == "Supplier: 好物供應"
    assert fake_telegram.calls("sendMessage")[0].method == "sendMessage"


# --- getUpdates and webhooks ------------------------------------------------------------------


def test_get_updates_confirms_by_offset_and_long_polls_briefly(
    bot: Bot, fake_telegram: FakeTelegram
) -> None:
    first = fake_telegram.message_update(GROUP, USER, "/replenish status", username="amy")
    second = fake_telegram.message_update(GROUP, USER, "thanks", chat_type="group")

    async def go() -> None:
        async with bot:
            updates = await bot.get_updates(timeout=10)
            assert [u.update_id for u in updates] == [first["update_id"], second["update_id"]]
            message = updates[0].message
            assert message is not None
            assert message.text == "/replenish status"
            assert message.entities[0].type == "bot_command"
            assert message.entities[0].length == len("/replenish")
            assert message.from_user is not None
            assert message.from_user.username == "amy"
            assert updates[1].message is not None
            assert not updates[1].message.entities
            # Offset = last id + 1 confirms both; an empty long poll returns within ~1 s.
            started = time.monotonic()
            assert await bot.get_updates(offset=second["update_id"] + 1, timeout=10) == ()
            assert 0.8 < time.monotonic() - started < 3
            assert fake_telegram.pending_updates == []
            # A push wakes a waiting poll at once.
            loop = asyncio.get_running_loop()
            loop.call_later(0.1, fake_telegram.message_update, GROUP, USER, "late")
            started = time.monotonic()
            [late] = await bot.get_updates(offset=second["update_id"] + 1, timeout=10)
            assert late.message is not None
            assert late.message.text == "late"
            assert time.monotonic() - started < 0.9

    run(go())


def test_webhook_set_info_delete_and_delivery(bot: Bot, fake_telegram: FakeTelegram) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers.get("X-Telegram-Bot-Api-Secret-Token"), json.loads(body)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=receiver.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/telegram"
    try:

        async def go() -> None:
            async with bot:
                assert await bot.set_webhook(hook, secret_token="s3cret") is True
                info = await bot.get_webhook_info()
                assert (info.url, info.pending_update_count) == (hook, 0)
                with pytest.raises(Conflict, match="webhook is active"):
                    await bot.get_updates()
                assert await bot.delete_webhook() is True
                assert (await bot.get_webhook_info()).url == ""

        run(go())
        fake_telegram.fail_next("setWebhook", status=400)  # scripted failures are per method

        async def set_again() -> None:
            async with bot:
                with pytest.raises(BadRequest):
                    await bot.set_webhook(hook)
                await bot.set_webhook(hook, secret_token="s3cret")

        run(set_again())
        update = fake_telegram.callback_update(GROUP, USER, 1, "po:approve:PO-1", queue=False)
        assert fake_telegram.webhook == {"url": hook, "secret_token": "s3cret"}
        assert fake_telegram.post_to_webhook(update).status_code == 200
    finally:
        receiver.shutdown()
        receiver.server_close()
        thread.join(timeout=5)
    assert received == [("s3cret", update)]
    assert fake_telegram.pending_updates == []  # queue=False builds without queueing
    # The callback names a message the bot never sent: Telegram calls it inaccessible.
    assert update["callback_query"]["message"]["date"] == 0


# --- Application --------------------------------------------------------------------------------


def test_an_application_polls_commands_and_button_presses(fake_telegram: FakeTelegram) -> None:
    app = ApplicationBuilder().token(fake_telegram.token).base_url(fake_telegram.base_url).build()
    seen: list[str] = []
    pressed = asyncio.Event()

    async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        assert update.effective_user is not None
        seen.append(f"command {context.args} from {update.effective_user.username}")
        await update.effective_chat.send_message("PO-1 needs approval", reply_markup=KEYBOARD)

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        seen.append(f"text {update.message.text}")

    async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        seen.append(f"press {query.data}")
        await query.answer("Approved")
        await query.edit_message_text("PO-1 approved by amy")
        pressed.set()

    app.add_handler(CommandHandler("replenish", on_command))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(CallbackQueryHandler(on_press, pattern=r"^po:"))

    async def wait_for_card() -> dict[str, Any]:
        while not fake_telegram.chats.get(GROUP):
            await asyncio.sleep(0.02)
        return fake_telegram.chats[GROUP][-1]

    async def go() -> float:
        async with app:
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.0, timeout=10)
            await app.start()
            fake_telegram.message_update(GROUP, USER, "/replenish status", username="amy")
            fake_telegram.message_update(GROUP, USER, "hello")
            card = await asyncio.wait_for(wait_for_card(), 5)
            assert card["reply_markup"] == KEYBOARD.to_dict()
            fake_telegram.callback_update(GROUP, USER, card["message_id"], "po:approve:PO-1")
            await asyncio.wait_for(pressed.wait(), 5)
            started = time.monotonic()
            await app.updater.stop()
            await app.stop()
        return time.monotonic() - started

    stopped_in = run(go(), timeout=20)
    assert stopped_in < 3
    assert seen == [
        "command ['status'] from amy",
        "text hello",
        "press po:approve:PO-1",
    ]
    [card] = fake_telegram.chats[GROUP]
    assert card["text"] == "PO-1 approved by amy"
    assert "reply_markup" not in card
    assert fake_telegram.calls("answerCallbackQuery")[0].params["text"] == "Approved"
    assert fake_telegram.calls("deleteWebhook")  # polling's bootstrap clears any webhook
    assert fake_telegram.pending_updates == []  # the last poll confirmed what was handled
