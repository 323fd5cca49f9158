"""The bot as Slack sees it: our real ASGI app served by uvicorn on 127.0.0.1, bolt and
slack_sdk unpatched, talking to the fake Slack Web API. Requests are signed as Slack signs
them; every effect is read back from the fake and the database."""

import hashlib
import hmac
import itertools
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import pytest
import uvicorn

from bot.app import App, chat_adapters, deliver_outbox, http_app, slack_bolt
from bot.dispatch import DispatchReport
from bot.settings import ApprovalSettings, Settings, SlackSettings
from core.store import Store
from tests.fakes.slack import FakeSlack
from tests.shop import Shop, seed_shop

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM = "T0SHOP"


@dataclass
class Harness:
    shop: Shop
    fake: FakeSlack
    app: App
    url: str
    client: httpx.Client
    _stamps: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    # --- outbound: the outbox -----------------------------------------------------------

    def deliver(self) -> DispatchReport:
        return deliver_outbox(self.app, chat_adapters(self.app))

    def messages(self, channel: str) -> list[dict[str, Any]]:
        return self.fake.messages.get(channel, [])

    def only_message(self, channel: str) -> dict[str, Any]:
        [message] = self.messages(channel)
        return message

    # --- inbound: signed requests ---------------------------------------------------------

    def post(
        self,
        body: bytes,
        *,
        json_body: bool = False,
        signed: bool = True,
        age: int = 0,
        tamper: bool = False,
        retry: int | None = None,
    ) -> httpx.Response:
        stamp = str(int(time.time()) - age)
        headers = {
            "Content-Type": "application/json"
            if json_body
            else "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
        }
        if signed:
            base = b"v0:" + stamp.encode() + b":" + body
            digest = hmac.new(SECRET.encode(), base, hashlib.sha256).hexdigest()
            headers["X-Slack-Signature"] = "v0=" + digest
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        sent = body + b"&x=1" if tamper else body
        return self.client.post(f"{self.url}/slack/events", content=sent, headers=headers)

    def press_body(
        self,
        user: str,
        action_id: str,
        value: str,
        message: dict[str, Any],
        channel: str,
        **kw: Any,
    ) -> bytes:
        action_ts = kw.get("action_ts") or f"1764000000.{next(self._stamps):06d}"
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM, "domain": "shop"},
            "user": {"id": user, "username": user, "name": user, "team_id": TEAM},
            "api_app_id": "A0REPLENISH",
            "token": "legacy-verification-token",
            "trigger_id": f"trigger-{action_ts}",
            "container": {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": channel,
                "is_ephemeral": False,
            },
            "channel": {"id": channel, "name": channel.lower()},
            "message": {"type": "message", "ts": message["ts"], "text": message.get("text", "")},
            "response_url": self.fake.response_url(f"press-{action_ts}"),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "actions",
                    "value": value,
                    "action_ts": action_ts,
                }
            ],
        }
        return _form({"payload": json.dumps(payload)})

    def press(
        self, user: str, action_id: str, value: str, channel: str, **kw: Any
    ) -> httpx.Response:
        message = kw.pop("message", None) or self.messages(channel)[-1]
        body = self.press_body(user, action_id, value, message, channel, **kw)
        return self.post(body)

    def submit_body(self, user: str, view: dict[str, Any], values: dict[str, str]) -> bytes:
        state = {
            block_id: {block_id: {"type": "plain_text_input", "value": value}}
            for block_id, value in values.items()
        }
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM, "domain": "shop"},
            "user": {"id": user, "username": user, "name": user, "team_id": TEAM},
            "api_app_id": "A0REPLENISH",
            "token": "legacy-verification-token",
            "trigger_id": "trigger-submit",
            "view": {**view, "state": {"values": state}},
        }
        return _form({"payload": json.dumps(payload)})

    def submit(self, user: str, view: dict[str, Any], values: dict[str, str]) -> httpx.Response:
        return self.post(self.submit_body(user, view, values))

    def command(self, user: str, text: str, *, name: str = "cmd") -> httpx.Response:
        body = _form(
            {
                "token": "legacy-verification-token",
                "team_id": TEAM,
                "team_domain": "shop",
                "channel_id": "C-GENERAL",
                "channel_name": "general",
                "user_id": user,
                "user_name": user,
                "command": "/replenish",
                "text": text,
                "api_app_id": "A0REPLENISH",
                "response_url": self.fake.response_url(name),
                "trigger_id": f"trigger-{name}-{next(self._stamps)}",
            }
        )
        return self.post(body)

    def opened_view(self, callback_id: str) -> dict[str, Any]:
        opened = [
            c
            for c in self.fake.calls("views.open")
            if c.params["view"]["callback_id"] == callback_id
        ]
        assert opened, f"no modal {callback_id} was opened"
        return opened[-1].params["view"] | {"id": f"V-{callback_id}", "hash": "h1"}


def wait_for(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll until `condition()` is truthy: listeners finish after the ack, in bolt's threads."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the bot")
        time.sleep(0.02)


def _form(fields: dict[str, str]) -> bytes:
    return urllib.parse.urlencode(fields).encode()


def make_app(store: Store, fake: FakeSlack, *, limit: Decimal | None = None) -> App:
    settings = Settings(
        database_url=store.engine.url.render_as_string(hide_password=False),
        slack=SlackSettings(
            bot_token=fake.token, signing_secret=SECRET, api_base_url=fake.base_url
        ),
        approval=ApprovalSettings(second_approver_over=limit),
    )
    return App(settings, store)


@pytest.fixture
def serve() -> Iterator[Callable[[App], str]]:
    """Start our ASGI app (with the Slack listeners) on an ephemeral loopback port."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(app: App) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        config = uvicorn.Config(http_app(app, slack_bolt(app)), log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        wait_for(lambda: server.started, timeout=10)
        servers.append((server, thread))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


def _harness(
    store: Store, fake: FakeSlack, serve: Callable[[App], str], **kw: Any
) -> Iterator[Harness]:
    shop = seed_shop(store)
    app = make_app(store, fake, **kw)
    url = serve(app)
    with httpx.Client(timeout=10) as client:
        yield Harness(shop, fake, app, url, client)


@pytest.fixture
def harness(store: Store, fake_slack: FakeSlack, serve: Callable[[App], str]) -> Iterator[Harness]:
    yield from _harness(store, fake_slack, serve)


@pytest.fixture
def strict_harness(
    store: Store, fake_slack: FakeSlack, serve: Callable[[App], str]
) -> Iterator[Harness]:
    """Above NT$1,000 two different managers must approve (the seeded PO is NT$2,600)."""
    yield from _harness(store, fake_slack, serve, limit=Decimal(1000))


@pytest.fixture
def any_harness(
    any_store: Store, fake_slack: FakeSlack, serve: Callable[[App], str]
) -> Iterator[Harness]:
    yield from _harness(any_store, fake_slack, serve)
