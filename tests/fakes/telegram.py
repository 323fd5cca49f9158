"""A local fake of the Telegram Bot API for offline tests, answered on 127.0.0.1.

The real python-telegram-bot talks to it over HTTP: `Bot(token, base_url=fake.base_url)` or
`ApplicationBuilder().token(fake.token).base_url(fake.base_url)`. PTB appends the token to
`base_url` (`http://127.0.0.1:PORT/bot` + token) and then `/<method>`, and sends parameters as
form fields (multipart when a file is uploaded) whose non-string values are JSON text.

Every request is recorded as a `Call`; `chats` keeps each chat's current bot messages as
Telegram would show them (send adds, edit replaces, delete removes). Updates queued with
`push_update` (or the `message_update` / `callback_update` builders) are served by
`getUpdates`, or posted to a webhook with `post_to_webhook`.
"""

import functools
import itertools
import json
import re
import struct
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

import httpx

TOKEN = "123456:TEST-token"
BOT_NAME = "Replenish"
BOT_USERNAME = "replenish_test_bot"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are"
    " exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active;"
    " use deleteWebhook to delete the webhook first"
)
METHODS = (
    "getMe",
    "getUpdates",
    "deleteWebhook",
    "setWebhook",
    "getWebhookInfo",
    "sendMessage",
    "sendPhoto",
    "sendDocument",
    "editMessageText",
    "editMessageReplyMarkup",
    "answerCallbackQuery",
    "deleteMessage",
    "setMyCommands",
    "getMyCommands",
    "getChat",
)
# The Bot API's method names are case-insensitive; calls are recorded under these spellings.
_CANONICAL = {name.lower(): name for name in METHODS}

# Form fields arrive as text; these are JSON objects/arrays, integers, numbers or booleans.
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "commands",
        "scope",
        "link_preview_options",
        "reply_parameters",
        "media",
    }
)
INT_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "from_chat_id",
        "message_thread_id",
        "max_connections",
        "cache_time",
        "user_id",
        "reply_to_message_id",
    }
)
FLOAT_FIELDS = frozenset({"timeout"})
BOOL_FIELDS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "show_alert",
        "drop_pending_updates",
        "has_spoiler",
        "disable_web_page_preview",
        "allow_sending_without_reply",
    }
)
DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64  # bytes, per inline button
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_PNG = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Call:
    method: str  # canonical spelling, e.g. "sendMessage"; the raw path segment if unknown
    params: dict[str, Any]  # decoded: ints, bools and JSON fields as Python values
    headers: dict[str, str]
    at: float  # time.monotonic() when the request arrived
    status: int
    path: str = ""
    files: dict[str, bytes] = field(default_factory=dict)  # multipart uploads by field name
    answer: dict[str, Any] = field(default_factory=dict)  # the JSON body sent back
    file_names: dict[str, str] = field(default_factory=dict)  # the uploads' names, by field


class _ApiError(Exception):
    def __init__(self, status: int, description: str, **parameters: int) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass
class _Failure:
    error: _ApiError
    times: int


@dataclass
class _State:
    calls: list[Call] = field(default_factory=list)
    chats: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    chat_info: dict[int, dict[str, Any]] = field(default_factory=dict)
    last_message_id: dict[int, int] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    webhook: dict[str, Any] = field(default_factory=dict)
    commands: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    queries: dict[str, bool] = field(default_factory=dict)  # callback query id → answered
    failures: dict[str, list[_Failure]] = field(default_factory=dict)


class FakeTelegram:
    """`with FakeTelegram() as fake: Bot(fake.token, base_url=fake.base_url)`."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.bot_id = int(token.partition(":")[0]) if token.partition(":")[0].isdigit() else 1
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)  # wakes long polls on push_update
        self._stopping = False
        self._state = _State()
        self._update_ids = itertools.count(100_000_001)
        self._query_ids = itertools.count(4_382_000_001)
        self._file_ids = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.fake = self  # type: ignore[attr-defined]
        self.port: int = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.base_url = f"{self.url}bot"  # PTB appends the token, then "/<method>"
        # A short poll keeps stop() quick: shutdown waits for the loop's next poll.
        serve = functools.partial(self._server.serve_forever, poll_interval=0.02)
        self._thread = threading.Thread(target=serve, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._arrived.notify_all()  # long polls return now, not after their timeout
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what tests read ---------------------------------------------------------------------

    @property
    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": BOT_NAME,
            "username": BOT_USERNAME,
        }

    def calls(self, method: str | None = None) -> list[Call]:
        wanted = None if method is None else _CANONICAL.get(method.lower(), method)
        with self._lock:
            return [c for c in self._state.calls if wanted is None or c.method == wanted]

    def clear(self) -> None:
        """Forget recorded calls; chats, queued updates, files and the webhook stay."""
        with self._lock:
            self._state.calls.clear()

    @property
    def chats(self) -> dict[int, list[dict[str, Any]]]:
        """Chat id → the bot's current messages there, oldest first (a copy)."""
        with self._lock:
            return {chat_id: _copy(messages) for chat_id, messages in self._state.chats.items()}

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        with self._lock:
            found = self._find(chat_id, message_id)
            return None if found is None else _copy(found)

    @property
    def files(self) -> dict[str, bytes]:
        """file_id → the bytes uploaded under it (sendPhoto, sendDocument)."""
        with self._lock:
            return dict(self._state.files)

    @property
    def webhook(self) -> dict[str, Any]:
        """What setWebhook recorded (url, secret_token, …); empty when none is set."""
        with self._lock:
            return _copy(self._state.webhook)

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        with self._lock:
            return _copy(self._state.updates)

    def my_commands(self, *, scope: str = "default", language_code: str = "") -> list[dict]:
        with self._lock:
            return _copy(self._state.commands.get((scope, language_code), []))

    # --- what tests script -------------------------------------------------------------------

    def add_chat(
        self,
        chat_id: int,
        *,
        chat_type: str | None = None,
        title: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
    ) -> dict[str, Any]:
        """Name a chat; messages sent there carry this Chat object (else one is made up)."""
        chat = _chat(chat_id, chat_type, title=title, username=username, first_name=first_name)
        with self._lock:
            self._state.chat_info[chat_id] = chat
        return dict(chat)

    def fail_next(
        self,
        method: str,
        *,
        retry_after: int | None = None,
        status: int = 429,
        description: str | None = None,
        migrate_to_chat_id: int | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` calls of `method` get the Bot API's error JSON instead of a result.

        `retry_after` → 429 "Too Many Requests: retry after N" with parameters.retry_after;
        `migrate_to_chat_id` → 400 with parameters.migrate_to_chat_id (group → supergroup);
        otherwise `status` with `description` (e.g. 403 "Forbidden: bot was kicked ...").
        """
        if retry_after is None and migrate_to_chat_id is None and status == 429:
            retry_after = 1  # a 429 always tells the client how long to wait
        if retry_after is not None:
            error = _ApiError(
                429,
                description or f"Too Many Requests: retry after {retry_after}",
                retry_after=retry_after,
            )
        elif migrate_to_chat_id is not None:
            text = description or "Bad Request: group chat was upgraded to a supergroup chat"
            error = _ApiError(400, text, migrate_to_chat_id=migrate_to_chat_id)
        else:
            text = description or DEFAULT_DESCRIPTIONS.get(status, "Internal Server Error")
            error = _ApiError(status, text)
        with self._lock:
            key = method.lower()
            self._state.failures.setdefault(key, []).append(_Failure(error, times))

    # --- updates -----------------------------------------------------------------------------

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an Update for getUpdates (an update_id is assigned when missing)."""
        update = _copy(update)
        update.setdefault("update_id", next(self._update_ids))
        with self._lock:
            self._state.updates.append(update)
            self._arrived.notify_all()
        return _copy(update)

    def message_update(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        chat_type: str = "group",
        username: str | None = None,
        first_name: str | None = None,
        language_code: str | None = None,
        title: str | None = None,
        queue: bool = True,
    ) -> dict[str, Any]:
        """A user's text message as an Update; queued for getUpdates unless `queue=False`.

        Text starting with "/" carries a bot_command entity, as Telegram adds one.
        """
        with self._lock:
            chat = self._state.chat_info.get(chat_id)
            if chat is None or chat["type"] != chat_type or title:
                if chat_type == "private":  # a private chat is the user's own
                    chat = _chat(chat_id, chat_type, username=username, first_name=first_name)
                else:
                    chat = _chat(chat_id, chat_type, title=title)
                self._state.chat_info[chat_id] = chat
            message_id = self._next_message_id(chat_id)
        user = _user(user_id, username=username, first_name=first_name, language_code=language_code)
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": user,
            "chat": dict(chat),
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": _u16(command)}]
        return self._emit({"update_id": next(self._update_ids), "message": message}, queue)

    def callback_update(
        self,
        chat_id: int,
        user_id: int,
        message_id: int,
        data: str,
        *,
        username: str | None = None,
        first_name: str | None = None,
        language_code: str | None = None,
        queue: bool = True,
    ) -> dict[str, Any]:
        """A press of an inline button under the bot's message `message_id` in `chat_id`."""
        with self._lock:
            found = self._find(chat_id, message_id)
            if found is not None:
                message = _copy(found)
            else:  # Telegram sends an InaccessibleMessage (date 0) for what it cannot show
                message = {"chat": self._chat_of(chat_id), "message_id": message_id, "date": 0}
            query_id = str(next(self._query_ids))
            self._state.queries[query_id] = False
        user = _user(user_id, username=username, first_name=first_name, language_code=language_code)
        query = {
            "id": query_id,
            "from": user,
            "message": message,
            "chat_instance": str(-abs(chat_id) * 7 - 3),  # stable per chat, like Telegram's
            "data": data,
        }
        return self._emit({"update_id": next(self._update_ids), "callback_query": query}, queue)

    def post_to_webhook(
        self, update: dict[str, Any], *, url: str | None = None, timeout: float = 10.0
    ) -> httpx.Response:
        """POST `update` to the webhook as Telegram does, with its secret-token header."""
        hook = self.webhook
        target = url or hook.get("url")
        if not target:
            raise RuntimeError("no webhook is set; call setWebhook first or pass url=")
        headers = {"Content-Type": "application/json"}
        if hook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
        return httpx.post(target, content=json.dumps(update), headers=headers, timeout=timeout)

    def _emit(self, update: dict[str, Any], queue: bool) -> dict[str, Any]:
        if queue:
            with self._lock:
                self._state.updates.append(_copy(update))
                self._arrived.notify_all()
        return update

    # --- answers (called with the lock held) -------------------------------------------------

    def _next_message_id(self, chat_id: int) -> int:
        # One sequence per chat, shared by users' and the bot's messages, as in groups.
        self._state.last_message_id[chat_id] = self._state.last_message_id.get(chat_id, 0) + 1
        return self._state.last_message_id[chat_id]

    def _chat_of(self, chat_id: int) -> dict[str, Any]:
        if chat_id not in self._state.chat_info:
            self._state.chat_info[chat_id] = _chat(chat_id, None)
        return dict(self._state.chat_info[chat_id])

    def _find(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        for message in self._state.chats.get(chat_id, []):
            if message["message_id"] == message_id:
                return message
        return None

    def _take_failure(self, method: str) -> _ApiError | None:
        queue = self._state.failures.get(method.lower())
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        return failure.error

    def _post(self, chat_id: int, content: dict[str, Any]) -> dict[str, Any]:
        message = {
            "message_id": self._next_message_id(chat_id),
            "from": self.bot_user,
            "chat": self._chat_of(chat_id),
            "date": int(time.time()),
            **content,
        }
        self._state.chats.setdefault(chat_id, []).append(message)
        return _copy(message)

    def _target(self, p: dict[str, Any]) -> tuple[int, int, dict[str, Any]]:
        chat_id, message_id = _chat_id(p), p.get("message_id")
        if not isinstance(message_id, int):
            raise _ApiError(400, "Bad Request: message identifier is not specified")
        message = self._find(chat_id, message_id)
        return chat_id, message_id, message if message is not None else {}

    def _answer(
        self, method: str, p: dict[str, Any], files: dict[str, bytes], names: dict[str, str]
    ) -> Any:
        s = self._state
        if method == "getMe":
            return {
                **self.bot_user,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
                "can_connect_to_business": False,
                "has_main_web_app": False,
            }
        if method == "getUpdates":
            return self._get_updates(p)
        if method == "deleteWebhook":
            if p.get("drop_pending_updates"):
                s.updates.clear()
            s.webhook.clear()
            return True
        if method == "setWebhook":
            if p.get("drop_pending_updates"):
                s.updates.clear()
            keep = ("url", "secret_token", "max_connections", "allowed_updates", "ip_address")
            s.webhook = {k: p[k] for k in keep if k in p}
            if not s.webhook.get("url"):
                s.webhook.clear()  # an empty url removes the webhook, as deleteWebhook
            return True
        if method == "getWebhookInfo":
            info: dict[str, Any] = {
                "url": s.webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(s.updates),
            }
            for key in ("max_connections", "allowed_updates", "ip_address"):
                if key in s.webhook:
                    info[key] = s.webhook[key]
            return info
        if method == "sendMessage":
            chat_id, text = _chat_id(p), str(p.get("text") or "")
            if not text.strip():
                raise _ApiError(400, "Bad Request: message text is empty")
            if len(text) > MAX_TEXT:
                raise _ApiError(400, "Bad Request: message is too long")
            return self._post(chat_id, {"text": text, **_extras(p)})
        if method == "sendPhoto":
            return self._send_photo(p, files)
        if method == "sendDocument":
            return self._send_document(p, files, names)
        if method in {"editMessageText", "editMessageReplyMarkup"}:
            return self._edit(method, p)
        if method == "answerCallbackQuery":
            query_id = str(p.get("callback_query_id") or "")
            if s.queries.get(query_id, True):  # unknown, or answered already
                raise _ApiError(400, QUERY_INVALID)
            s.queries[query_id] = True
            return True
        if method == "deleteMessage":
            chat_id, _message_id, message = self._target(p)
            if not message:
                raise _ApiError(400, "Bad Request: message to delete not found")
            s.chats[chat_id].remove(message)
            return True
        if method == "setMyCommands":
            commands = p.get("commands") or []
            for command in commands:
                if not _COMMAND.fullmatch(str(command.get("command", ""))):
                    raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            s.commands[_scope_key(p)] = commands
            return True
        if method == "getMyCommands":
            return s.commands.get(_scope_key(p), [])
        if method == "getChat":
            chat = self._chat_of(_chat_id(p))
            return {
                **chat,
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        raise _ApiError(404, "Not Found: method not found")

    def _get_updates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        s = self._state
        if s.webhook.get("url"):
            raise _ApiError(409, WEBHOOK_ACTIVE)
        offset = int(p.get("offset") or 0)
        limit = max(1, min(int(p.get("limit") or 100), 100))
        timeout = float(p.get("timeout") or 0)
        # An offset confirms every update below it: Telegram forgets those for good.
        if offset > 0:
            s.updates = [u for u in s.updates if u["update_id"] >= offset]
        elif offset < 0:
            s.updates = s.updates[offset:]
        if not s.updates and timeout > 0 and not self._stopping:
            # Long poll, capped at 1 s so polling tests stay fast; push_update wakes it.
            self._arrived.wait_for(lambda: bool(s.updates) or self._stopping, min(timeout, 1.0))
        return _copy(s.updates[:limit])

    def _send_photo(self, p: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        chat_id = _chat_id(p)
        caption = str(p.get("caption") or "")
        if len(caption) > MAX_CAPTION:
            raise _ApiError(400, "Bad Request: message caption is too long")
        if "photo" in files:
            data = files["photo"]
            file_id = f"AgACAgFake{next(self._file_ids):06d}"
            self._state.files[file_id] = data
        elif isinstance(p.get("photo"), str) and p["photo"] in self._state.files:
            file_id, data = p["photo"], self._state.files[p["photo"]]
        else:
            raise _ApiError(400, "Bad Request: wrong remote file identifier specified")
        width, height = _png_size(data)
        photo = [
            {
                "file_id": file_id,
                "file_unique_id": f"AQAD{file_id[-6:]}",
                "width": width,
                "height": height,
                "file_size": len(data),
            }
        ]
        content: dict[str, Any] = {"photo": photo, **_extras(p)}
        if caption:
            content["caption"] = caption
        return self._post(chat_id, content)

    def _send_document(
        self, p: dict[str, Any], files: dict[str, bytes], names: dict[str, str]
    ) -> dict[str, Any]:
        """A file upload (multipart field `document`), or a file_id sent before."""
        chat_id = _chat_id(p)
        caption = str(p.get("caption") or "")
        if len(caption) > MAX_CAPTION:
            raise _ApiError(400, "Bad Request: message caption is too long")
        if "document" in files:
            data, name = files["document"], names.get("document", "")
            if not data:
                raise _ApiError(400, "Bad Request: file must be non-empty")
            file_id = f"BQACAgFake{next(self._file_ids):06d}"
            self._state.files[file_id] = data
        elif isinstance(p.get("document"), str) and p["document"] in self._state.files:
            file_id, name = p["document"], ""
            data = self._state.files[file_id]
        else:
            raise _ApiError(400, "Bad Request: wrong remote file identifier specified")
        document = {
            "file_id": file_id,
            "file_unique_id": f"AgAD{file_id[-6:]}",
            "file_name": name,
            "mime_type": _mime_type(data),
            "file_size": len(data),
        }
        content: dict[str, Any] = {"document": document, **_extras(p)}
        if caption:
            content["caption"] = caption
        return self._post(chat_id, content)

    def _edit(self, method: str, p: dict[str, Any]) -> Any:
        if p.get("inline_message_id"):
            return True  # messages sent via inline mode are not ours to keep
        _, _, message = self._target(p)
        if not message:
            raise _ApiError(400, "Bad Request: message to edit not found")
        # Telegram drops the keyboard when an edit does not repeat it.
        markup = _markup(p.get("reply_markup"))
        if markup is not None:
            _check_markup(markup)
        if method == "editMessageText":
            if "text" not in message:
                raise _ApiError(400, "Bad Request: there is no text in the message to edit")
            text = str(p.get("text") or "")
            if not text.strip():
                raise _ApiError(400, "Bad Request: message text is empty")
            if len(text) > MAX_TEXT:
                raise _ApiError(400, "Bad Request: message is too long")
            same = text == message["text"] and markup == message.get("reply_markup")
            if same and p.get("entities") == message.get("entities"):
                raise _ApiError(400, NOT_MODIFIED)
            message["text"] = text
            if "entities" in p:
                message["entities"] = p["entities"]
            else:
                message.pop("entities", None)
        elif markup == message.get("reply_markup"):
            raise _ApiError(400, NOT_MODIFIED)
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        return _copy(message)


# --- Bot API objects ------------------------------------------------------------------------


def _chat(
    chat_id: int,
    chat_type: str | None,
    *,
    title: str | None = None,
    username: str | None = None,
    first_name: str | None = None,
) -> dict[str, Any]:
    # Telegram's id ranges: users > 0, basic groups < 0, supergroups/channels < -10**12.
    if chat_type is None:
        chat_type = "private" if chat_id > 0 else "supergroup" if chat_id < -(10**12) else "group"
    chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
    if chat_type == "private":
        chat["first_name"] = first_name or f"User {chat_id}"
        if username:
            chat["username"] = username
    else:
        chat["title"] = title or f"Chat {chat_id}"
        if username and chat_type in {"supergroup", "channel"}:
            chat["username"] = username
    return chat


def _user(
    user_id: int,
    *,
    username: str | None,
    first_name: str | None,
    language_code: str | None,
) -> dict[str, Any]:
    user: dict[str, Any] = {
        "id": user_id,
        "is_bot": False,
        "first_name": first_name or f"User {user_id}",
        "username": username or f"user{user_id}",
    }
    if language_code:
        user["language_code"] = language_code
    return user


def _chat_id(p: dict[str, Any]) -> int:
    chat_id = p.get("chat_id")
    if chat_id is None or chat_id == "":
        raise _ApiError(400, "Bad Request: chat_id is empty")
    if not isinstance(chat_id, int):  # "@channelname": the fake knows no public usernames
        raise _ApiError(400, "Bad Request: chat not found")
    return chat_id


def _markup(markup: Any) -> dict[str, Any] | None:
    # An empty inline keyboard is no keyboard: Telegram shows and returns none.
    if not markup or not isinstance(markup, dict):
        return None
    if "inline_keyboard" in markup and not any(markup["inline_keyboard"]):
        return None
    return markup


def _check_markup(markup: dict[str, Any]) -> None:
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")


def _extras(p: dict[str, Any]) -> dict[str, Any]:
    extras: dict[str, Any] = {k: p[k] for k in ("entities", "caption_entities") if k in p}
    if (markup := _markup(p.get("reply_markup"))) is not None:
        _check_markup(markup)
        # Only inline keyboards show on the message; reply keyboards live in the client.
        if "inline_keyboard" in markup:
            extras["reply_markup"] = markup
    return extras


def _scope_key(p: dict[str, Any]) -> tuple[str, str]:
    scope = p.get("scope") or {}
    return str(scope.get("type", "default")), str(p.get("language_code") or "")


def _mime_type(data: bytes) -> str:
    """What Telegram's server-side detection would say, for the files the bot sends."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return "image/png" if data.startswith(_PNG) else "application/octet-stream"


def _png_size(data: bytes) -> tuple[int, int]:
    if data.startswith(_PNG) and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    return 1, 1


def _u16(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


# --- HTTP -----------------------------------------------------------------------------------


def _decode(params: dict[str, Any]) -> dict[str, Any]:
    """Form text → Python values for the fields whose type the Bot API fixes."""
    out = dict(params)
    for key, value in params.items():
        if not isinstance(value, str):
            continue
        try:
            if key in JSON_FIELDS:
                out[key] = json.loads(value)
            elif key in INT_FIELDS and re.fullmatch(r"-?\d+", value):
                out[key] = int(value)
            elif key in FLOAT_FIELDS:
                out[key] = float(value)
            elif key in BOOL_FIELDS:
                out[key] = value.lower() == "true"
        except ValueError:
            pass  # leave it as sent; the answer will say what is wrong
    return out


Parsed = tuple[dict[str, Any], dict[str, bytes], dict[str, str]]  # fields, files, file names


def _multipart(content_type: str, body: bytes) -> Parsed:
    """multipart/form-data → (text fields, file fields, their file names); byte-exact, no
    cgi module."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        return {}, {}, {}
    fields: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    names: dict[str, str] = {}
    for part in body.split(b"--" + match.group(1).encode())[1:]:
        if part.startswith(b"--"):
            break  # the closing delimiter
        head, _, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        content = content.removesuffix(b"\r\n")
        disposition = next(
            (
                line.decode("utf-8", "replace")
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-disposition")
            ),
            "",
        )
        name = re.search(r'\bname="([^"]*)"', disposition)
        if name is None:
            continue
        if "filename=" in disposition:
            files[name.group(1)] = content
            filename = re.search(r'\bfilename="([^"]*)"', disposition)
            names[name.group(1)] = filename.group(1) if filename else ""
        else:
            fields[name.group(1)] = content.decode()
    return fields, files, names


def _parse(content_type: str, body: bytes, query: str) -> Parsed:
    params: dict[str, Any] = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    files: dict[str, bytes] = {}
    names: dict[str, str] = {}
    if content_type.startswith("application/json") and body:
        params.update(json.loads(body))
    elif content_type.startswith("application/x-www-form-urlencoded"):
        params.update(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
    elif content_type.startswith("multipart/form-data"):
        fields, files, names = _multipart(content_type, body)
        params.update(fields)
    return _decode(params), files, names


class _Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        fake: FakeTelegram = self.server.fake  # type: ignore[attr-defined]
        arrived = time.monotonic()
        path, _, query = self.path.partition("?")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            params, files, names = _parse(self.headers.get("Content-Type", ""), body, query)
        except (ValueError, UnicodeDecodeError):
            params, files, names = {}, {}, {}
        # /bot<token>/<method>; the token itself contains no "/".
        head, _, method = urllib.parse.unquote(path).lstrip("/").partition("/")
        method = _CANONICAL.get(method.lower(), method)
        with fake._lock:
            try:
                if not head.startswith("bot") or not method:
                    raise _ApiError(404, "Not Found")
                if head.removeprefix("bot") != fake.token:
                    raise _ApiError(401, "Unauthorized")
                if error := fake._take_failure(method):
                    raise error
                result = fake._answer(method, params, files, names)
                status, answer = 200, {"ok": True, "result": result}
            except _ApiError as error:
                status, answer = error.status, error.body()
            sent = {k.title(): v for k, v in self.headers.items()}  # one spelling to look up
            call = Call(method, params, sent, arrived, status, path, files, answer, names)
            fake._state.calls.append(call)
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean; every request is in fake.calls
