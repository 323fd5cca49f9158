"""The one ASGI app: Slack events at /slack/events, Telegram's webhook at /telegram/webhook,
data feeds at /ingest/{kind} (adapters/ingest.py), shop webhooks at /webhooks/{source}
(adapters/shop_webhooks.py), health at /healthz.

Slack requests go to bolt's own ASGI handler (signature verification included), with the
synchronous dispatch moved to a worker thread so one slow listener never holds up the event
loop or another request. Served by uvicorn (`serve`).
"""

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn
from slack_bolt import App as BoltApp
from slack_bolt.adapter.asgi import SlackRequestHandler
from slack_bolt.adapter.asgi.http_request import AsgiHttpRequest
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from adapters.ingest import PATH_PREFIX as INGEST_PREFIX
from adapters.ingest import IngestEndpoint
from adapters.shop_webhooks import PATH_PREFIX as SHOP_WEBHOOK_PREFIX
from adapters.shop_webhooks import WebhookEndpoint
from adapters.telegram import WEBHOOK_PATH, TelegramWebhook

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
SLACK_PATH = "/slack/events"


class _ThreadedSlackHandler(SlackRequestHandler):
    async def dispatch(self, request: AsgiHttpRequest) -> BoltResponse:
        bolt_request = BoltRequest(
            body=await request.get_raw_body(),
            query=request.query_string,
            headers=request.get_headers(),
        )
        return await asyncio.to_thread(self.app.dispatch, bolt_request)


class ReplenishAsgi:
    """Routes by path; `health()` returns what /healthz reports (it must be cheap)."""

    def __init__(
        self,
        slack: BoltApp | None,
        health: Callable[[], dict[str, Any]],
        *,
        telegram: TelegramWebhook | None = None,
        ingest: IngestEndpoint | None = None,
        webhooks: WebhookEndpoint | None = None,
    ) -> None:
        self.slack = _ThreadedSlackHandler(slack, path=SLACK_PATH) if slack else None
        self.telegram = telegram
        self.ingest = ingest
        self.webhooks = webhooks
        self.health = health

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] != "http":
            raise TypeError(f"unsupported scope type {scope['type']!r}")
        elif scope["path"] == "/healthz" and scope["method"] in ("GET", "HEAD"):
            await self._healthz(send)
        elif scope["path"] == SLACK_PATH and self.slack is not None:
            await self.slack(scope, receive, send)  # type: ignore[arg-type]
        elif scope["path"] == WEBHOOK_PATH and self.telegram is not None:
            await self.telegram(scope, receive, send)  # type: ignore[arg-type]
        elif scope["path"].startswith(INGEST_PREFIX) and self.ingest is not None:
            await self.ingest(scope, receive, send)
        elif scope["path"].startswith(SHOP_WEBHOOK_PREFIX) and self.webhooks is not None:
            await self.webhooks(scope, receive, send)
        else:
            await _reply(send, 404, {"ok": False, "error": "not_found"})

    async def _healthz(self, send: Send) -> None:
        try:
            report = await asyncio.to_thread(self.health)
        except Exception as error:  # the report itself failing is what health is for
            await _reply(send, 503, {"ok": False, "error": str(error)})
            return
        await _reply(send, 200 if report.get("ok") else 503, report)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """Start the Telegram Application with the server (it processes webhook updates on
        this event loop) and stop it with the server."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.telegram is not None:
                    await self.telegram.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.telegram is not None:
                    await self.telegram.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _reply(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json; charset=utf-8")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def server(app: ReplenishAsgi, *, host: str = "127.0.0.1", port: int = 3000) -> uvicorn.Server:
    config = uvicorn.Config(app, host=host, port=port, log_level="info", access_log=False)
    return uvicorn.Server(config)


def serve(app: ReplenishAsgi, *, host: str, port: int, sock: socket.socket | None = None) -> None:
    """Run until interrupted (Ctrl-C / SIGTERM stop it gracefully)."""
    instance = server(app, host=host, port=port)
    instance.run(sockets=[sock] if sock is not None else None)
