"""POST /ingest/{kind} through the real ASGI app (bot.app.http_app): tokens, signatures,
idempotency keys, size limits and both body formats, read back from the database."""

import asyncio
import json
from collections.abc import Callable, MutableMapping
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import select

from adapters.ingest import IngestEndpoint, token_hash
from adapters.signing import signature
from bot.app import App, http_app
from bot.feeds import feed_endpoint
from bot.settings import FeedsSettings, Settings
from core.models import InboxEvent, SalesLine, Sku, StockLevel
from core.store import Store

TOKEN = "wms-token-for-tests"
SECRET = "feed-signing-secret"

Post = Callable[..., httpx.Response]


def _app(store: Store, **feeds: Any) -> App:
    settings = Settings(
        database_url=str(store.engine.url),
        locale="en",
        feeds=FeedsSettings(tokens={"wms": token_hash(TOKEN)}, **feeds),
    )
    return App(settings, store)


def _poster(app: App) -> Post:
    def post(
        kind: str,
        body: bytes | str,
        *,
        token: str | None = TOKEN,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = {"content-type": content_type, **(headers or {})}
        if token is not None:
            sent["authorization"] = f"Bearer {token}"
        data = body.encode() if isinstance(body, str) else body

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=http_app(app, None))
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
                return await c.post(f"/ingest/{kind}", content=data, headers=sent)

        return asyncio.run(go())

    return post


@pytest.fixture
def post(store: Store) -> Post:
    return _poster(_app(store))


SKUS = [{"sku": "MILK", "name": "Milk 1L"}, {"sku": "TEA", "name": "Green tea"}]


def _skus(store: Store) -> dict[str, str]:
    with store.read() as session:
        return {s.code: s.name for s in session.scalars(select(Sku))}


def _stock(store: Store) -> dict[int, int]:
    with store.read() as session:
        return {s.sku_id: s.on_hand for s in session.scalars(select(StockLevel))}


def test_json_then_csv_import_skus_then_stock(store: Store, post: Post) -> None:
    answer = post("skus", json.dumps(SKUS))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["ok"] is True
    assert (body["accepted"], body["rejected"], body["imported"]) == ([1, 2], [], 2)
    assert _skus(store) == {"MILK": "Milk 1L", "TEA": "Green tea"}

    csv = "sku,on_hand\nMILK,40\nTEA,-3\nNOPE,5\n"
    answer = post("stock", csv, content_type="text/csv; charset=utf-8")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["accepted"] == [2]  # CSV rows are numbered by line, the header is line 1
    assert [(r["row"], r["code"], r["field"]) for r in body["rejected"]] == [
        (3, "negative", "on_hand"),
        (4, "unknown_sku", "sku"),
    ]
    assert all(r["problem"] and r["problem"].isascii() for r in body["rejected"])
    assert list(_stock(store).values()) == [40]


def test_every_row_rejected_is_422_and_row_missing_a_field_is_a_reject(post: Post) -> None:
    answer = post("skus", json.dumps([{"sku": "MILK", "name": ""}]))
    assert answer.status_code == 422
    [reject] = answer.json()["rejected"]
    assert (reject["row"], reject["code"], reject["field"]) == (1, "missing", "name")

    answer = post("skus", json.dumps([{"sku": "MILK"}]))  # no row names it at all
    assert answer.status_code == 422
    assert answer.json()["error"] == "missing_columns"
    assert "name" in answer.json()["message"]


@pytest.mark.parametrize("token", [None, "wrong", ""])
def test_bad_or_missing_token_is_401(store: Store, post: Post, token: str | None) -> None:
    answer = post("skus", json.dumps(SKUS), token=token)
    assert answer.status_code == 401
    assert answer.json()["error"] == "unauthorized"
    assert _skus(store) == {}


def test_signature_when_a_secret_is_set(store: Store) -> None:
    post = _poster(_app(store, hmac_secret=SECRET))
    body = json.dumps(SKUS).encode()
    good = signature(SECRET.encode(), body)
    tampered = json.dumps([{"sku": "MILK", "name": "Evil"}]).encode()
    for sent, header in ((body, None), (body, "sha256=" + "0" * 64), (tampered, good)):
        headers = {"x-replenish-signature": header} if header else {}
        answer = post("skus", sent, headers=headers)
        assert answer.status_code == 401
        assert answer.json()["error"] == "bad_signature"
    assert _skus(store) == {}
    answer = post("skus", body, headers={"x-replenish-signature": good})
    assert answer.status_code == 200
    assert set(_skus(store)) == {"MILK", "TEA"}


def test_replayed_idempotency_key_is_applied_once(store: Store, post: Post) -> None:
    post("skus", json.dumps(SKUS))
    lines = "order_id,sku,qty,timestamp\nA1,MILK,2,2026-11-20 10:00\nA1,TEA,1,2026-11-20 10:00\n"
    key = {"idempotency-key": "batch-0001"}
    first = post("sales", lines, content_type="text/csv", headers=key)
    assert first.status_code == 200, first.text
    assert first.json()["imported"] == 2
    with store.unit_of_work() as session:  # a line removed since: a replay must not bring it
        session.execute(sa.delete(SalesLine))
    again = post("sales", lines, content_type="text/csv", headers=key)
    assert again.status_code == 200
    assert again.json() == first.json()
    with store.read() as session:
        assert session.scalar(select(sa.func.count()).select_from(SalesLine)) == 0
        [event] = session.scalars(select(InboxEvent).where(InboxEvent.platform == "ingest"))
        assert event.event_key == "wms:batch-0001"
    other = post("sales", lines, content_type="text/csv", headers={"idempotency-key": "b-2"})
    assert other.json()["imported"] == 2


def test_oversized_body_is_413(store: Store) -> None:
    post = _poster(_app(store, max_body_bytes=100))
    answer = post("skus", json.dumps(SKUS * 10))
    assert answer.status_code == 413
    assert answer.json()["error"] == "too_large"
    assert _skus(store) == {}


def test_oversized_body_stops_reading_early(store: Store) -> None:
    endpoint = feed_endpoint(_app(store, max_body_bytes=1000))
    assert isinstance(endpoint, IngestEndpoint)
    chunks = [{"type": "http.request", "body": b"x" * 600, "more_body": True}] * 50
    read: list[dict[str, Any]] = []
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        read.append(chunks[len(read)])
        return read[-1]

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/ingest/skus",
        "headers": [(b"authorization", f"Bearer {TOKEN}".encode())],
    }
    asyncio.run(endpoint(scope, receive, send))
    assert sent[0]["status"] == 413
    assert len(read) == 2


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ('[{"sku": "MILK", "name": "Milk"', "bad_json"),
        ('{"sku": "MILK"}', "json_shape"),
        (b"\xff\xfe\x00garbage\xff", "bad_encoding"),
    ],
)
def test_malformed_body_is_400(store: Store, post: Post, body: str | bytes, code: str) -> None:
    answer = post("skus", body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == code
    assert answer.json()["message"]
    assert _skus(store) == {}


def test_unknown_kind_is_404(post: Post) -> None:
    answer = post("orders", json.dumps(SKUS))
    assert answer.status_code == 404
    assert answer.json()["error"] == "unknown_kind"


def test_not_mounted_without_tokens(store: Store) -> None:
    app = App(Settings(database_url=str(store.engine.url)), store)
    assert feed_endpoint(app) is None
