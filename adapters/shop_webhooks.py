"""POST /webhooks/{source}: order events pushed by a shop platform (Shopify, or one mapped
in feeds.toml), verified by the platform's own HMAC signature before anything is parsed.

The endpoint only speaks HTTP: the path names the source; the body is read within the size
limit (413), its signature checked in constant time (401: nothing parsed, nothing stored),
the JSON parsed (400), then the `handle` callable the bot gives it answers. Shop platforms
retry every answer but a 2xx (Shopify drops a subscription that keeps failing), so a payload
that is understood but partly unusable (an unknown SKU) is still a 200 that says so.
"""

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from adapters.ingest import IngestRefused, Receive, Scope, Send, error_answer, read_body, reply

PATH_PREFIX = "/webhooks/"
Encoding = Literal["hex", "base64"]


@dataclass(frozen=True)
class Signature:
    """HMAC-SHA256 of the raw body with `secret`, sent in `header` as hex or base64 (after
    an optional `prefix` such as "sha256=")."""

    header: str
    secret: bytes = field(repr=False)
    encoding: Encoding = "base64"
    prefix: str = ""

    def sign(self, body: bytes) -> str:
        digest = hmac.new(self.secret, body, hashlib.sha256).digest()
        text = base64.b64encode(digest).decode() if self.encoding == "base64" else digest.hex()
        return self.prefix + text

    def verify(self, headers: Mapping[str, str], body: bytes) -> bool:
        presented = headers.get(self.header.lower(), "").strip()
        if not presented:
            return False
        expected = self.sign(body)
        if self.encoding == "hex":  # hex digits may come in either case; base64 may not
            presented, expected = presented.lower(), expected.lower()
        return hmac.compare_digest(presented.encode(), expected.encode())


class WebhookHandler(Protocol):
    def __call__(self, source: str, payload: Any, headers: Mapping[str, str]) -> dict[str, Any]: ...


class WebhookEndpoint:
    """An ASGI app for `/webhooks/{source}`; `signatures` names the sources it serves.

    `handle` gets the parsed JSON and the lower-cased headers; it may raise
    `IngestRefused` for a payload it cannot use (answered with its status)."""

    def __init__(
        self,
        handle: WebhookHandler,
        *,
        signatures: Mapping[str, Signature],
        max_body_bytes: int = 5_000_000,
    ) -> None:
        self.handle = handle
        self.signatures = dict(signatures)
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            answer = await self._handle(scope, receive)
        except IngestRefused as refused:
            await reply(send, refused.status, error_answer(refused.code, refused.message))
            return
        await reply(send, 200, answer)

    async def _handle(self, scope: Scope, receive: Receive) -> dict[str, Any]:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if scope["method"] != "POST":
            raise IngestRefused(405, "method_not_allowed", "use POST")
        source = scope["path"].removeprefix(PATH_PREFIX).strip("/")
        signature = self.signatures.get(source)
        if signature is None:
            raise IngestRefused(404, "unknown_source", f"no webhook source {source!r}")
        body = await read_body(headers, receive, self.max_body_bytes)
        if not signature.verify(headers, body):
            raise IngestRefused(401, "bad_signature", f"missing or wrong {signature.header}")
        payload = _json(body)
        return await asyncio.to_thread(self.handle, source, payload, headers)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise IngestRefused(400, "bad_json", f"not valid JSON: {error}") from error
