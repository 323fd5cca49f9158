"""Telegram: a python-telegram-bot Application (polling or webhook) and its replies.

Every update is stored raw in InboxEvent (by update_id) before anything else: the webhook
answers 200 only once it is stored, so a crash afterwards loses nothing, and a redelivered
update_id is processed once. The bot's `ChatHandlers` decide (in a worker thread: they use
the database); this module translates updates into `Command`/`Interaction`s and `Reply`s
into Bot API calls. Callback queries are always answered. The outbox's delivery
(`TelegramChat`) is in `adapters.telegram_delivery`.
"""

import asyncio
import hmac
import json
import logging
import re
import signal
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from telegram import Bot, CallbackQuery, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, TypeHandler

from adapters.chat import Card, Command, Interaction, MessageRef, Reply
from adapters.telegram_render import (
    CAPTION_MAX,
    card_html,
    decode_callback,
    form_prompt,
    keyboard,
    read_prompt,
)
from core.inbox import claim_raw, finish_raw, store_raw, unfinished
from core.store import Store

PLATFORM = "telegram"
DEFAULT_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGABRT)
DEFAULT_BASE_URL = "https://api.telegram.org/bot"
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = b"x-telegram-bot-api-secret-token"
TOAST_MAX = 200  # answerCallbackQuery text
COMMAND = re.compile(r"^/([A-Za-z0-9_]+)(?:@\w+)?\s*(.*)$", re.DOTALL)
log = logging.getLogger(__name__)


class TelegramHandlers(Protocol):
    """What the bot answers (never raising), plus a group's upgrade to a supergroup."""

    def command(self, command: Command) -> Reply: ...

    def action(self, interaction: Interaction) -> Reply: ...

    def submit(self, interaction: Interaction) -> Reply: ...

    def chat_migrated(self, old_chat_id: str, new_chat_id: str) -> None: ...


@dataclass(frozen=True)
class TelegramConfig:
    bot_token: str
    api_base_url: str = DEFAULT_BASE_URL
    webhook_secret: str = ""
    codes: Mapping[str, str] = field(default_factory=dict)  # action id → short callback code


TelegramApplication = Application[Any, Any, Any, Any, Any, Any]  # for the bot's type hints


def application(
    config: TelegramConfig, handlers: TelegramHandlers, store: Store, *, retries: int = 3
) -> TelegramApplication:
    """The PTB Application with one handler that routes every update through the inbox."""
    app = (
        ApplicationBuilder()
        .token(config.bot_token)
        .base_url(config.api_base_url)
        .rate_limiter(AIORateLimiter(max_retries=retries))
        .concurrent_updates(True)
        .post_init(lambda started: _recover(started, store))
        .build()
    )
    router = _Router(config, handlers, store)
    app.add_handler(TypeHandler(Update, router.on_update))
    return app


async def _recover(app: TelegramApplication, store: Store) -> None:
    """Updates a previous run stored but never finished (it stopped between storing and
    handling) are handled now; their effects are keyed, so nothing happens twice. The
    Application's queue is read once it starts, so queueing before that is fine."""
    now = datetime.now(UTC)
    for event in await asyncio.to_thread(unfinished, store, PLATFORM, older_than=now):
        update = Update.de_json(event.payload, app.bot)
        if update is not None:
            await app.update_queue.put(update)


def serve_polling(app: TelegramApplication, *, stop_signals: bool = True) -> None:
    """Long polling until interrupted (or `app.stop_running()`): no public URL needed.
    Updates stored but unfinished by an earlier run are handled first (post_init)."""
    app.run_polling(
        allowed_updates=Update.ALL_TYPES,
        stop_signals=None if not stop_signals else DEFAULT_STOP_SIGNALS,
        close_loop=False,
    )


# --- inbound ---------------------------------------------------------------------------------


@dataclass
class _Router:
    config: TelegramConfig
    handlers: TelegramHandlers
    store: Store

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        key = f"update:{update.update_id}"
        await asyncio.to_thread(store_raw, self.store, PLATFORM, key, update.to_dict())
        if not await asyncio.to_thread(claim_raw, self.store, PLATFORM, key):
            return  # a redelivery of an update already handled (or being handled)
        handled = await self._handle(update, context.bot)
        await asyncio.to_thread(finish_raw, self.store, PLATFORM, key, {"handled": handled})

    async def _handle(self, update: Update, bot: Bot) -> str:
        if update.callback_query is not None:
            await self._press(update.callback_query, bot)
            return "callback"
        message = update.message
        if message is None:
            return "ignored"
        if message.migrate_to_chat_id is not None:
            old, new = str(message.chat_id), str(message.migrate_to_chat_id)
            await asyncio.to_thread(self.handlers.chat_migrated, old, new)
            return "migrated"
        prompt = message.reply_to_message
        if prompt is not None and prompt.text and read_prompt(prompt.text):
            await self._answer_form(message, prompt, bot)
            return "form"
        if message.text and COMMAND.match(message.text):
            await self._command(message, bot)
            return "command"
        return "ignored"

    async def _press(self, query: CallbackQuery, bot: Bot) -> None:
        action_id, value = decode_callback(query.data or "", dict(self.config.codes))
        source = query.message
        ref = MessageRef(str(source.chat.id), str(source.message_id)) if source else None
        interaction = Interaction(
            platform=PLATFORM,
            team=ref.channel if ref else "",
            user=str(query.from_user.id),
            user_name=_name(query.from_user),
            action_id=action_id,
            value=value,
            key=f"callback:{query.id}",
            message=ref,
        )
        reply = await asyncio.to_thread(self.handlers.action, interaction)
        await _guarded(query.answer(text=reply.text[:TOAST_MAX] or None, show_alert=_alert(reply)))
        if ref is None:
            return
        if reply.replace and reply.card is not None:
            await _edit(bot, ref, reply.card, self.config.codes)
        if reply.form is not None:
            presser = (query.from_user.id, _name(query.from_user))
            text, markup = form_prompt(reply.form, message_id=ref.ts, mention=presser)
            await _guarded(
                bot.send_message(
                    int(ref.channel), text, parse_mode=ParseMode.HTML, reply_markup=markup
                )
            )
        elif reply.card is not None and not reply.replace:
            await _send(bot, ref.channel, reply, self.config.codes)

    async def _command(self, message: Message, bot: Bot) -> None:
        match = COMMAND.match(message.text or "")
        assert match is not None
        name, rest = match.group(1).lower(), match.group(2).strip()
        command = Command(
            platform=PLATFORM,
            team=str(message.chat_id),
            user=str(message.from_user.id) if message.from_user else "",
            channel=str(message.chat_id),
            text=f"{name} {rest}".strip(),
            user_name=_name(message.from_user),
            key=f"message:{message.chat_id}:{message.message_id}",
        )
        reply = await asyncio.to_thread(self.handlers.command, command)
        if reply.form is not None:
            text, markup = form_prompt(reply.form)
            await _guarded(message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup))
            return
        await _send(
            bot, str(message.chat_id), reply, self.config.codes, reply_to=message.message_id
        )

    async def _answer_form(self, message: Message, prompt: Message, bot: Bot) -> None:
        form_id, context, card_id = read_prompt(prompt.text or "") or ("", "", None)
        ref = MessageRef(str(message.chat_id), card_id) if card_id else None
        interaction = Interaction(
            platform=PLATFORM,
            team=str(message.chat_id),
            user=str(message.from_user.id) if message.from_user else "",
            user_name=_name(message.from_user),
            action_id=form_id,
            value=context,
            key=f"message:{message.chat_id}:{message.message_id}",
            message=ref,
            values=form_values(message.text or ""),
        )
        reply = await asyncio.to_thread(self.handlers.submit, interaction)
        if reply.errors:
            problems = "\n".join(f"• {name}：{text}" for name, text in reply.errors.items())
            await _guarded(message.reply_text(problems))
            return
        if reply.replace and reply.card is not None and ref is not None:
            await _edit(bot, ref, reply.card, self.config.codes)
        if reply.text:
            await _guarded(message.reply_text(reply.text))


def form_values(text: str) -> dict[str, str]:
    """A reply's text as form values: `CODE qty` lines become {CODE: qty}; anything else is
    the single answer (under "" — the bot maps it to its form's one input)."""
    pairs = [line.split() for line in text.strip().splitlines() if line.strip()]
    if pairs and all(len(p) == 2 for p in pairs) and not _is_number(pairs[0][0]):
        return {code: qty for code, qty in pairs}
    return {"": text.strip()}


def _is_number(text: str) -> bool:
    return text.replace(".", "", 1).isdigit()


def _name(user: Any) -> str:
    if user is None:
        return ""
    return str(user.username or user.full_name or user.id)


def _alert(reply: Reply) -> bool:
    """A refusal, or an answer too long for a passing toast, as a pop-up."""
    return reply.refused or len(reply.text) > 60


# --- outbound: replies ------------------------------------------------------------------------


async def _send(
    bot: Bot, chat: str, reply: Reply, codes: Mapping[str, str], *, reply_to: int | None = None
) -> None:
    card = reply.card
    if card is None:
        if reply.text:
            await _guarded(bot.send_message(int(chat), reply.text, reply_to_message_id=reply_to))
        return
    await _guarded(_post(bot, chat, card, codes, reply_to=reply_to))


async def _post(
    bot: Bot, chat: str, card: Card, codes: Mapping[str, str], *, reply_to: int | None = None
) -> Message:
    markup = keyboard(card, dict(codes))
    if card.document is not None:  # the card's text becomes the file's caption
        return await bot.send_document(
            int(chat),
            card.document.data,
            filename=card.document.filename,
            caption=card_html(card, limit=CAPTION_MAX),
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            reply_to_message_id=reply_to,
        )
    if card.image is not None:
        return await bot.send_photo(
            int(chat),
            card.image.png,
            caption=card_html(card, limit=CAPTION_MAX),
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            reply_to_message_id=reply_to,
        )
    return await bot.send_message(
        int(chat),
        card_html(card),
        parse_mode=ParseMode.HTML,
        reply_markup=markup,
        reply_to_message_id=reply_to,
    )


async def _edit(bot: Bot, ref: MessageRef, card: Card, codes: Mapping[str, str]) -> None:
    try:
        await bot.edit_message_text(
            card_html(card),
            chat_id=int(ref.channel),
            message_id=int(ref.ts),
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard(card, dict(codes)),
        )
    except BadRequest as error:
        if not _not_modified(error):
            log.warning("telegram edit failed: %s", error)
    except TelegramError as error:
        log.warning("telegram edit failed: %s", error)


async def _guarded(call: Awaitable[Any]) -> None:
    """A reply that cannot be delivered is logged: the state change is already committed
    and the outbox brings the card up to date."""
    try:
        await call
    except TelegramError as error:
        log.warning("telegram reply failed: %s", error)


def _not_modified(error: BadRequest) -> bool:
    return "not modified" in str(error).lower()


# --- the webhook ---------------------------------------------------------------------------------


Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]


class TelegramWebhook:
    """ASGI endpoint for Telegram's webhook: the secret token checked in constant time, the
    raw update stored, then 200; processing follows through the Application's queue."""

    def __init__(
        self, app: TelegramApplication, store: Store, secret: str, *, url: str = ""
    ) -> None:
        if not secret:
            raise ValueError("the Telegram webhook needs a secret token")
        self.app, self.store, self.secret, self.url = app, store, secret.encode(), url

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or [])
        if scope["method"] != "POST":
            await _status(send, 405)
            return
        if not hmac.compare_digest(headers.get(SECRET_HEADER, b""), self.secret):
            await _status(send, 403)  # read nothing, store nothing
            return
        try:
            data = json.loads(await _body(receive))
            update_id = int(data["update_id"])
        except (ValueError, KeyError, TypeError):
            await _status(send, 400)
            return
        await asyncio.to_thread(store_raw, self.store, PLATFORM, f"update:{update_id}", data)
        await _status(send, 200)
        await self.app.update_queue.put(Update.de_json(data, self.app.bot))

    async def start(self) -> None:
        """Start processing; with a `url`, tell Telegram where to deliver (and the secret)."""
        await self.app.initialize()
        await _recover(self.app, self.store)
        if self.url:
            await self.app.bot.set_webhook(
                self.url, secret_token=self.secret.decode(), allowed_updates=Update.ALL_TYPES
            )
        await self.app.start()

    async def stop(self) -> None:
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _status(send: Send, status: int) -> None:
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b""})
