"""The PO webhook: an outbox row's JSON POSTed to the shop's ERP/WMS, signed (httpx).

Not a chat: the dispatcher hands a `JsonSender` the row's JSON as it was queued (no card, no
update in place; see bot/dispatch.py), so the webhook inherits at-least-once delivery, dedupe
keys, backoff and 429 pauses. The row (core/po_webhook.py) carries `body` (the PO document),
`event` and `idempotency_key`; this module only speaks HTTP:

    POST <url>
    Content-Type: application/json
    X-Replenish-Event: po.approved
    X-Replenish-Signature: sha256=<hex HMAC-SHA256 of the raw body>   (adapters/signing.py)
    X-Replenish-Timestamp: <unix seconds of this attempt>
    Idempotency-Key: <PO number>:<event>                              (the same on every retry)

Outcomes: 2xx delivered; 408, 429, 5xx, timeouts and connection errors → `DeliveryError`
(retried; Retry-After honoured); anything else (other 4xx, a redirect) → permanent, the row
kept as `failed` for an operator. Redirects are not followed. The secret never reaches a
log line or an error: reasons carry the status and the exception type only.
"""

import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any, Protocol, runtime_checkable

import httpx

from adapters.chat import DeliveryError, MessageRef
from adapters.signing import SIGNATURE_HEADER, signature

PLATFORM = "webhook"
EVENT_HEADER = "X-Replenish-Event"
TIMESTAMP_HEADER = "X-Replenish-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
TRANSIENT_STATUSES = frozenset({408, 429})  # and every 5xx
MAX_RETRY_AFTER = 24 * 3600.0  # a broken header must not park a PO for a year
_SNIPPET = 200

log = logging.getLogger(__name__)


@runtime_checkable
class JsonSender(Protocol):
    """Delivers an outbox row's JSON as it is (a webhook). Errors: DeliveryError."""

    platform: str

    def post_json(self, target: str, payload: Mapping[str, Any]) -> MessageRef: ...


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    secret: bytes = field(repr=False)  # kept out of repr(config), so logs never show it
    timeout: float = 10.0  # seconds, for connect, write, read and pool each


class WebhookSender:
    """`post_json(target, row)` → one signed POST of `row["body"]` to the configured URL."""

    platform = PLATFORM

    def __init__(self, config: WebhookConfig, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock

    def post_json(self, target: str, payload: Mapping[str, Any]) -> MessageRef:
        body = encode(payload["body"])
        headers = self.headers(body, str(payload["event"]), str(payload["idempotency_key"]))
        try:
            # One client per post: POs are few, and nothing is left open between rounds.
            with httpx.Client(timeout=self.config.timeout, follow_redirects=False) as client:
                response = client.post(self.config.url, content=body, headers=headers)
        except httpx.TimeoutException as error:
            reason = f"webhook timed out after {self.config.timeout:g}s ({type(error).__name__})"
            raise DeliveryError(reason) from error
        except httpx.TransportError as error:  # refused, reset, DNS, TLS…: try again later
            raise DeliveryError(f"webhook unreachable: {type(error).__name__}") from error
        _check(response, self.clock())
        return MessageRef(target, f"{payload['idempotency_key']} HTTP {response.status_code}")

    def headers(self, body: bytes, event: str, key: str) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(self.config.secret, body),
            EVENT_HEADER: event,
            TIMESTAMP_HEADER: str(int(self.clock())),
            IDEMPOTENCY_HEADER: key,
            "User-Agent": "Replenish-Webhook/1",
        }


def encode(body: Any) -> bytes:
    """The bytes that are signed and sent: compact UTF-8 JSON, the same on every retry."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _check(response: httpx.Response, now: float) -> None:
    """Raise the DeliveryError a non-2xx answer means (see the module docstring)."""
    status = response.status_code
    if 200 <= status < 300:
        return
    reason = f"webhook answered HTTP {status} {_phrase(status)}".strip()
    if status in TRANSIENT_STATUSES or 500 <= status < 600:
        wait = retry_after(response.headers.get("Retry-After"), now)
        raise DeliveryError(reason, retry_after=wait)
    # The body may explain (an unknown SKU…); logged, not stored, so that no number in it
    # reads as a status code to the dispatcher.
    log.warning("%s (not retried): %s", reason, _snippet(response.text))
    raise DeliveryError(f"{reason} [not retried]", permanent=True)


def retry_after(value: str | None, now: float) -> float | None:
    """Retry-After as seconds from `now` (delta-seconds or an HTTP date), capped; None when
    absent or unreadable (the outbox's backoff applies)."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        seconds = float(text)
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        seconds = (when - datetime.fromtimestamp(now, UTC)).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _phrase(status: int) -> str:
    """The standard phrase, not the server's own (which could read "rate limited")."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _snippet(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()[:_SNIPPET]
