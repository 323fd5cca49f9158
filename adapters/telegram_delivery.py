"""Telegram delivery for the outbox: `TelegramChat`, the synchronous `ChatAdapter` the
dispatcher posts and updates cards through. It shares card posting (`_post`) and the
"message is not modified" test with the replies in `adapters.telegram`, which knows nothing
of this module."""

import asyncio
import threading
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.ext import AIORateLimiter, ExtBot
from telegram.warnings import PTBDeprecationWarning

from adapters.chat import Card, DeliveryError, MessageRef
from adapters.telegram import PLATFORM, TelegramConfig, _not_modified, _post
from adapters.telegram_render import card_html, keyboard

T = TypeVar("T")


class TelegramChat:
    """`ChatAdapter` for the outbox dispatcher (synchronous): Bot API calls run on a private
    event loop thread, paced by AIORateLimiter (Telegram's flood limits). A 429 becomes
    DeliveryError(retry_after) for the outbox to honour; a group upgraded to a supergroup
    calls `on_migrated` (the bindings follow) and the message is retried at the new id."""

    platform = PLATFORM

    def __init__(self, config: TelegramConfig, on_migrated: Callable[[str, str], None]) -> None:
        self.config = config
        self.on_migrated = on_migrated
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="telegram", daemon=True)
        self._thread.start()
        self._bot: ExtBot[Any] = ExtBot(
            config.bot_token,
            base_url=config.api_base_url,
            rate_limiter=AIORateLimiter(max_retries=0),  # retries are the outbox's job
        )
        self._ready = False

    def post(self, target: str, card: Card) -> MessageRef:
        message = self._run(target, lambda bot: _post(bot, target, card, self.config.codes))
        return MessageRef(str(message.chat_id), str(message.message_id))

    def update(self, ref: MessageRef, card: Card) -> MessageRef:
        def edit(bot: Bot) -> Awaitable[Any]:
            return bot.edit_message_text(
                card_html(card),
                chat_id=int(ref.channel),
                message_id=int(ref.ts),
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(card, dict(self.config.codes)),
            )

        try:
            self._run(ref.channel, edit)
        except DeliveryError as error:
            if "not modified" not in error.reason.lower():
                raise
        return ref

    def close(self) -> None:
        if self._ready:
            asyncio.run_coroutine_threadsafe(self._bot.shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def _run(self, chat: str, call: Callable[[Bot], Awaitable[T]]) -> T:
        async def run() -> T:
            if not self._ready:
                await self._bot.initialize()
                self._ready = True
            return await call(self._bot)

        try:
            return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=60)
        except RetryAfter as error:
            seconds = _retry_after(error)
            raise DeliveryError("rate limited (429)", retry_after=seconds) from error
        except ChatMigrated as error:
            new_id = str(error.new_chat_id)
            self.on_migrated(chat, new_id)
            raise DeliveryError(f"chat migrated to {new_id}", retry_after=0.0) from error
        except InvalidToken:  # PTB's message quotes the token: neither it nor its cause
            raise DeliveryError("Telegram refused the bot token (401)") from None
        except Forbidden as error:  # kicked from the group, blocked by the user
            raise DeliveryError(self._reason(error), permanent=True) from error
        except BadRequest as error:
            raise DeliveryError(self._reason(error), permanent=not _not_modified(error)) from error
        except (TelegramError, OSError, TimeoutError) as error:
            raise DeliveryError(self._reason(error)) from error

    def _reason(self, error: Exception) -> str:
        """The error's words without the bot token (PTB puts it in URLs and some messages)."""
        return str(error).replace(self.config.bot_token, "***")


def _retry_after(error: RetryAfter) -> float:
    """Seconds, whichever type PTB gives (a float today, a timedelta under PTB_TIMEDELTA
    and in its next major version); its deprecation notice is for code that assumes one."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
