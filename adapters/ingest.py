"""POST /ingest/{kind}: rows pushed by a warehouse or shop system, as a JSON array or CSV.

The endpoint only speaks HTTP: it checks the per-source bearer token (against SHA-256
hashes, in constant time), the optional HMAC-SHA256 body signature, the body size (read in
chunks, stopped as soon as it is over the limit) and the kind, then hands the raw body to
the `ingest` callable the bot gives it (so adapters never import the bot). The callable
answers a dict, or raises `IngestRefused` for a body it cannot use (bad JSON, no rows).
"""

import asyncio
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, Collection, Mapping, MutableMapping
from typing import Any, Protocol

from adapters.signing import SIGNATURE_HEADER, verify

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

PATH_PREFIX = "/ingest/"
IDEMPOTENCY_HEADER = "idempotency-key"
MAX_IDEMPOTENCY_KEY = 200


class Ingest(Protocol):
    def __call__(
        self,
        kind: str,
        body: bytes,
        content_type: str,
        source: str,
        *,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]: ...


class IngestRefused(Exception):  # noqa: N818 (reads as what happened)
    """The whole body is unusable: `status` (4xx), an English `code` and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def token_hash(token: str) -> str:
    """What `feeds.tokens` stores for a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


class IngestEndpoint:
    """An ASGI app for `/ingest/{kind}`; `tokens` maps a source name to its token's hash."""

    def __init__(
        self,
        ingest: Ingest,
        *,
        tokens: Mapping[str, str],
        kinds: Collection[str],
        hmac_secret: bytes | None = None,
        max_body_bytes: int = 5_000_000,
    ) -> None:
        self.ingest = ingest
        self.tokens = {name: digest.lower() for name, digest in tokens.items()}
        self.kinds = frozenset(kinds)
        self.hmac_secret = hmac_secret
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            answer = await self._handle(scope, receive)
        except IngestRefused as refused:
            await reply(send, refused.status, error_answer(refused.code, refused.message))
            return
        nothing_taken = answer.get("rejected") and not answer.get("accepted")
        await reply(send, 422 if nothing_taken else 200, answer)

    async def _handle(self, scope: Scope, receive: Receive) -> dict[str, Any]:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if scope["method"] != "POST":
            raise IngestRefused(405, "method_not_allowed", "use POST")
        source = self.source(headers.get("authorization", ""))
        if source is None:
            raise IngestRefused(401, "unauthorized", "missing or unknown bearer token")
        kind = scope["path"].removeprefix(PATH_PREFIX).strip("/")
        if kind not in self.kinds:
            known = ", ".join(sorted(self.kinds))
            raise IngestRefused(404, "unknown_kind", f"unknown kind {kind!r}; use {known}")
        body = await self._body(headers, receive)
        if not self._signed(headers.get(SIGNATURE_HEADER.lower(), ""), body):
            raise IngestRefused(401, "bad_signature", "missing or wrong body signature")
        key = headers.get(IDEMPOTENCY_HEADER, "").strip() or None
        if key is not None and len(key) > MAX_IDEMPOTENCY_KEY:
            too_long = f"Idempotency-Key is over {MAX_IDEMPOTENCY_KEY} characters"
            raise IngestRefused(400, "bad_idempotency_key", too_long)
        content_type = headers.get("content-type", "")
        return await asyncio.to_thread(
            self.ingest, kind, body, content_type, source, idempotency_key=key
        )

    def source(self, authorization: str) -> str | None:
        """The source whose token this is; every hash is compared, in constant time."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        presented = token_hash(token.strip()).encode()
        found = None
        for name, digest in self.tokens.items():
            if hmac.compare_digest(presented, digest.encode()):
                found = name
        return found

    def _signed(self, header: str, body: bytes) -> bool:
        if self.hmac_secret is None:
            return True
        return verify(self.hmac_secret, header, body)

    async def _body(self, headers: Mapping[str, str], receive: Receive) -> bytes:
        return await read_body(headers, receive, self.max_body_bytes)


async def read_body(headers: Mapping[str, str], receive: Receive, max_bytes: int) -> bytes:
    """The body, read in chunks; refused (413) as soon as it is over the limit."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _too_large(max_bytes: int) -> IngestRefused:
    limit = f"the body is over the limit of {max_bytes} bytes"
    return IngestRefused(413, "too_large", limit)


def error_answer(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": code, "message": message}


async def reply(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json; charset=utf-8")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
