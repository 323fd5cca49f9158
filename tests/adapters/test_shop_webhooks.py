"""POST /webhooks/shopify and /webhooks/{source} (feeds.toml) through the real ASGI app
(bot.app.http_app), with Shopify's documented payload shapes signed as Shopify signs them;
every effect is read back from the database."""

import asyncio
import base64
import hashlib
import hmac
import json
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import select

from adapters.shop_webhooks import Signature
from bot.app import App, http_app
from bot.settings import FeedsSettings, Settings
from bot.shop_webhooks import webhook_endpoint
from core.imports import import_bytes
from core.ingest import Kind
from core.models import InboxEvent, Location, ReplanRequest, SalesDay, SalesLine, Sku
from core.store import Store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SHOPIFY = FIXTURES / "shopify"
MAPPING = FIXTURES / "shop_mapping"
SECRET = "shpss_a1b2c3d4e5f6"
DAY = date(2026, 11, 21)  # 2026-11-20T23:30-05:00 is the 21st in Taipei


def _app(store: Store, **feeds: Any) -> App:
    settings = Settings(
        database_url=str(store.engine.url), feeds=FeedsSettings(shopify_secret=SECRET, **feeds)
    )
    return App(settings, store)


@pytest.fixture
def app(store: Store, tz: Any) -> App:
    skus = b"sku,name\nMILK,Milk 1L\nTEA,Green tea\n"
    import_bytes(store, Kind.SKUS, skus, name="skus.csv", tz=tz)
    locations = b"location,name,kind\nWH,Main,warehouse\nDS,Partner,dropship\n"
    import_bytes(store, Kind.LOCATIONS, locations, name="locations.csv", tz=tz)
    return _app(store)


def _post(app: App, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=http_app(app, None))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            sent = {"content-type": "application/json", **headers}
            return await client.post(path, content=body, headers=sent)

    return asyncio.run(go())


def _shopify_hmac(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _shopify(
    app: App, topic: str, fixture: str, webhook_id: str, **override: str
) -> httpx.Response:
    body = (SHOPIFY / fixture).read_bytes()
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": _shopify_hmac(body),
        "X-Shopify-Shop-Domain": "tw-groupbuy.myshopify.com",
        "X-Shopify-API-Version": "2025-01",
        "X-Shopify-Webhook-Id": webhook_id,
    }
    return _post(app, "/webhooks/shopify", body, {**headers, **override})


def _lines(store: Store) -> list[tuple[str, str, int]]:
    with store.read() as session:
        rows = session.execute(
            sa.select(SalesLine.order_id, Sku.code, SalesLine.qty)
            .join(Sku, Sku.id == SalesLine.sku_id)
            .order_by(SalesLine.order_id, SalesLine.line_no)
        ).all()
    return [tuple(row) for row in rows]


def _demand(store: Store) -> dict[tuple[str, date], int]:
    with store.read() as session:
        rows = session.execute(
            sa.select(Sku.code, SalesDay.day, SalesDay.qty).join(Sku, Sku.id == SalesDay.sku_id)
        ).all()
    return {(code, day): qty for code, day, qty in rows}


def _replan_requested(store: Store) -> set[str]:
    with store.read() as session:
        query = select(Sku.code).join(ReplanRequest, ReplanRequest.sku_id == Sku.id)
        return set(session.scalars(query))


def _count(store: Store, model: type) -> int:
    with store.read() as session:
        return session.scalar(select(sa.func.count()).select_from(model)) or 0


ORDER_KEY = "shopify:820982911946154508"


def test_signed_order_becomes_sales_and_unknown_sku_is_reported(
    app: App, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    answer = _shopify(app, "orders/create", "orders_create.json", "wh-1")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["event"], body["stored"], body["affected_skus"]) == ("order", 2, ["MILK", "TEA"])
    [rejected] = body["rejected"]
    assert (rejected["line_id"], rejected["sku"], rejected["code"]) == (
        "141249953214522975",
        "GIFTBOX",
        "unknown_sku",
    )
    assert "GIFTBOX" in caplog.text
    assert _lines(store) == [(ORDER_KEY, "MILK", 2), (ORDER_KEY, "TEA", 1)]
    assert _demand(store) == {("MILK", DAY): 2, ("TEA", DAY): 1}
    with store.read() as session:
        channel, price, location = session.execute(
            sa.select(SalesLine.channel, SalesLine.price, Location.code).join(
                Location, Location.id == SalesLine.location_id
            )
        ).first()
    assert (channel, f"{price:.2f}", location) == ("shopify", "89.00", "WH")
    assert _replan_requested(store) == {"MILK", "TEA"}  # in the event's own transaction


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Shopify-Hmac-Sha256": ""},  # missing
        {"X-Shopify-Hmac-Sha256": _shopify_hmac(b"{}")},  # another body's
        {
            "X-Shopify-Hmac-Sha256": _shopify_hmac(
                (SHOPIFY / "orders_create.json").read_bytes(), "wrong"
            )
        },
    ],
    ids=["missing", "tampered", "wrong-secret"],
)
def test_bad_signature_is_401_and_nothing_is_stored(
    app: App, store: Store, headers: dict[str, str]
) -> None:
    answer = _shopify(app, "orders/create", "orders_create.json", "wh-1", **headers)
    assert answer.status_code == 401
    assert answer.json()["error"] == "bad_signature"
    assert (_count(store, SalesLine), _count(store, InboxEvent)) == (0, 0)


def test_tampered_body_with_the_original_signature_is_401(app: App, store: Store) -> None:
    body = (SHOPIFY / "orders_create.json").read_bytes()
    tampered = body.replace(b'"quantity": 2', b'"quantity": 200')
    headers = {"X-Shopify-Topic": "orders/create", "X-Shopify-Hmac-Sha256": _shopify_hmac(body)}
    answer = _post(app, "/webhooks/shopify", tampered, headers)
    assert answer.status_code == 401
    assert _count(store, SalesLine) == 0


def test_update_replaces_the_line_and_cancellation_removes_it(app: App, store: Store) -> None:
    _shopify(app, "orders/create", "orders_create.json", "wh-1")
    updated = _shopify(app, "orders/updated", "orders_updated.json", "wh-2")
    assert updated.status_code == 200, updated.text
    assert (updated.json()["stored"], updated.json()["removed"]) == (2, 2)
    assert _lines(store) == [(ORDER_KEY, "MILK", 3), (ORDER_KEY, "TEA", 1)]
    assert _demand(store) == {("MILK", DAY): 3, ("TEA", DAY): 1}

    cancelled = _shopify(app, "orders/updated", "orders_cancelled.json", "wh-3")
    assert cancelled.json()["event"] == "cancel"
    assert (cancelled.json()["removed"], cancelled.json()["affected_skus"]) == (2, ["MILK", "TEA"])
    assert _lines(store) == []
    assert _demand(store) == {}


def test_refund_reduces_demand_on_the_day_of_the_sale(app: App, store: Store) -> None:
    _shopify(app, "orders/create", "orders_create.json", "wh-1")
    answer = _shopify(app, "refunds/create", "refunds_create.json", "wh-9")
    assert answer.status_code == 200, answer.text
    assert (answer.json()["event"], answer.json()["stored"]) == ("refund", 1)
    assert _demand(store) == {("MILK", DAY): 1, ("TEA", DAY): 1}
    # a later update of the order (Shopify sends one after a refund) keeps the refund
    _shopify(app, "orders/updated", "orders_updated.json", "wh-10")
    assert _demand(store) == {("MILK", DAY): 2, ("TEA", DAY): 1}


def test_redelivered_webhook_is_applied_once(app: App, store: Store) -> None:
    first = _shopify(app, "orders/create", "orders_create.json", "wh-1")
    _shopify(app, "orders/updated", "orders_updated.json", "wh-2")
    with store.unit_of_work() as session:
        session.execute(sa.delete(ReplanRequest))
    again = _shopify(app, "orders/create", "orders_create.json", "wh-1")  # Shopify's retry
    assert again.status_code == 200
    assert again.json() == first.json()
    assert _lines(store) == [(ORDER_KEY, "MILK", 3), (ORDER_KEY, "TEA", 1)]  # not reverted
    assert _replan_requested(store) == set()
    with store.read() as session:
        keys = set(session.scalars(select(InboxEvent.event_key)))
    assert keys == {"shopify:wh-1", "shopify:wh-2"}


def test_unknown_topic_is_200_and_ignored(app: App, store: Store) -> None:
    answer = _shopify(app, "products/update", "orders_create.json", "wh-5")
    assert answer.status_code == 200
    assert answer.json() == {"ok": True, "source": "shopify", "ignored": True}
    assert _count(store, SalesLine) == 0


def test_signed_but_unusable_bodies_are_400(app: App, store: Store) -> None:
    for body in (b'{"line_items": [', b'{"line_items": []}'):
        headers = {"X-Shopify-Topic": "orders/create", "X-Shopify-Hmac-Sha256": _shopify_hmac(body)}
        answer = _post(app, "/webhooks/shopify", body, headers)
        assert answer.status_code == 400
        assert answer.json()["error"] in ("bad_json", "bad_payload")
    assert _count(store, SalesLine) == 0


def test_oversized_body_is_413(store: Store) -> None:
    app = _app(store, max_body_bytes=500)
    answer = _shopify(app, "orders/create", "orders_create.json", "wh-1")
    assert answer.status_code == 413
    assert answer.json()["error"] == "too_large"
    assert (_count(store, SalesLine), _count(store, InboxEvent)) == (0, 0)


def test_not_mounted_without_a_secret_or_mapping(store: Store) -> None:
    app = App(Settings(database_url=str(store.engine.url)), store)
    assert webhook_endpoint(app) is None
    body = (SHOPIFY / "orders_create.json").read_bytes()
    answer = _post(app, "/webhooks/shopify", body, {"X-Shopify-Hmac-Sha256": _shopify_hmac(body)})
    assert answer.status_code == 404
    assert _count(store, SalesLine) == 0


# --- a platform mapped in feeds.toml -----------------------------------------------------

TGSHOP_SECRET = "tgshop-signing-secret"


def _tgshop(app: App, fixture: str, delivery: str) -> httpx.Response:
    body = (MAPPING / fixture).read_bytes()
    sign = Signature("X-Shop-Signature", TGSHOP_SECRET.encode(), "hex", "sha256=")
    headers = {"X-Shop-Signature": sign.sign(body), "X-Shop-Delivery-Id": delivery}
    return _post(app, "/webhooks/tgshop", body, headers)


def test_mapped_source_end_to_end(app: App, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TGSHOP_WEBHOOK_SECRET", TGSHOP_SECRET)
    mapped = _app(store, mapping_file=MAPPING / "feeds.toml")
    created = _tgshop(mapped, "order_created.json", "d-1")
    assert created.status_code == 200, created.text
    assert created.json()["affected_skus"] == ["MILK", "TEA"]
    key = "tgshop:TG2611210001"
    assert _lines(store) == [(key, "MILK", 2), (key, "TEA", 1)]
    with store.read() as session:
        places = session.execute(
            sa.select(Sku.code, Location.code, SalesLine.channel)
            .join(Sku, Sku.id == SalesLine.sku_id)
            .join(Location, Location.id == SalesLine.location_id)
        ).all()
    assert sorted(places) == [("MILK", "WH", "tgshop"), ("TEA", "DS", "tgshop")]

    returned = _tgshop(mapped, "order_returned.json", "d-2")  # qty -1: taken back, negated
    assert (returned.json()["event"], returned.json()["stored"]) == ("refund", 1)
    assert _demand(store) == {("MILK", DAY): 1, ("TEA", DAY): 1}  # 09:58 Taipei, no zone given

    body = (MAPPING / "order_created.json").read_bytes()
    forged = _post(mapped, "/webhooks/tgshop", body, {"X-Shop-Signature": "sha256=" + "0" * 64})
    assert forged.status_code == 401
    assert _tgshop(mapped, "order_created.json", "d-1").json() == created.json()  # redelivery
    assert _demand(store)[("MILK", DAY)] == 1


def test_mapped_source_secret_from_settings(store: Store, app: App) -> None:
    mapped = _app(
        store, mapping_file=MAPPING / "feeds.toml", webhook_secrets={"tgshop": TGSHOP_SECRET}
    )
    assert _tgshop(mapped, "order_created.json", "d-1").json()["stored"] == 2


def test_unlisted_event_is_ignored(store: Store, app: App, tmp_path: Path) -> None:
    payload = json.loads((MAPPING / "order_created.json").read_text(encoding="utf-8"))
    payload["event"] = "member.created"
    (tmp_path / "member.json").write_text(json.dumps(payload), encoding="utf-8")
    mapped = _app(
        store, mapping_file=MAPPING / "feeds.toml", webhook_secrets={"tgshop": TGSHOP_SECRET}
    )
    body = (tmp_path / "member.json").read_bytes()
    sign = Signature("X-Shop-Signature", TGSHOP_SECRET.encode(), "hex", "sha256=")
    answer = _post(mapped, "/webhooks/tgshop", body, {"X-Shop-Signature": sign.sign(body)})
    assert answer.json()["ignored"] is True
    assert _count(store, SalesLine) == 0
