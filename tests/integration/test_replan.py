"""Targeted re-plans: orders that reach POST /ingest/sales are planned again by the replan
job within seconds (a surge alert in the outbox after one targeted pass), today's sales
so far count for surges in scheduled and targeted passes alike, and a request made while
its SKU is being planned survives."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlmodel import select

from adapters.ingest import token_hash
from bot.app import App, http_app
from bot.jobs import job_named, monitor, replan
from bot.settings import FeedsSettings, Settings
from core.members import bind_chat
from core.models import Alert, AlertStatus, OutboxMessage, ReplanRequest, Sku
from core.replan import finish, request_replan, waiting
from core.store import Store
from tests.integration.test_monitor import AS_OF, TZ, shop  # noqa: F401 (fixture)

TOKEN = "pos-token-for-tests"
TODAY = AS_OF + timedelta(days=1)
TEN_AM = datetime(TODAY.year, TODAY.month, TODAY.day, 10, tzinfo=TZ)  # 42 % of today gone


def _app(store: Store) -> App:
    settings = Settings(
        database_url=str(store.engine.url),
        locale="en",
        feeds=FeedsSettings(tokens={"pos": token_hash(TOKEN)}),
    )
    app = App(settings, store)
    with store.unit_of_work() as session:
        bind_chat(session, None, purpose="alerts", platform="slack", chat_id="C-ALERTS")
    return app


def _post_sales(app: App, lines: list[dict[str, Any]]) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=http_app(app, None))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.post(
                "/ingest/sales",
                content=json.dumps(lines).encode(),
                headers={"authorization": f"Bearer {TOKEN}", "content-type": "application/json"},
            )

    return asyncio.run(go())


def _soap_orders(qty: int, *, days: int, today_at: int | None = None) -> list[dict[str, Any]]:
    """`qty` units of SOAP (usually 2 a day) on each of the last `days` complete days, and
    once more today at `today_at` o'clock."""
    stamps = [f"{AS_OF - timedelta(days=d)} 15:00" for d in range(days)]
    if today_at is not None:
        stamps.append(f"{TODAY} {today_at:02d}:00")
    return [
        {"order_id": f"RUSH-{n}", "line": 1, "sku": "SOAP", "qty": qty, "timestamp": stamp}
        for n, stamp in enumerate(stamps)
    ]


def _live(store: Store, kind: str = "surge") -> list[str]:
    with store.read() as session:
        alerts = session.scalars(
            select(Alert).where(Alert.kind == kind, Alert.status == AlertStatus.OPEN)
        )
        return sorted(alert.dedupe_key for alert in alerts)


def _surge_messages(store: Store) -> list[str]:
    with store.read() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "alert.opened"))
        return [row.target for row in rows if "surge" in json.dumps(row.card)]


def test_orders_posted_raise_a_surge_in_one_targeted_pass(shop: Store) -> None:  # noqa: F811
    app = _app(shop)
    monitor(app, TEN_AM.astimezone(UTC))  # the scheduled pass: nothing surges yet
    assert _live(shop) == []

    answer = _post_sales(app, _soap_orders(12, days=4, today_at=9))
    assert answer.status_code == 200, answer.text
    with shop.read() as session:
        waiting_skus = session.scalars(select(ReplanRequest.sku_id)).all()
        soap = session.scalars(select(Sku.id).where(Sku.code == "SOAP")).one()
    assert waiting_skus == [soap]

    result = replan(app, TEN_AM.astimezone(UTC) + timedelta(seconds=15))
    assert result is not None
    assert result.opened == ["surge:SOAP"]
    assert _surge_messages(shop) == ["C-ALERTS"]
    with shop.read() as session:
        assert session.scalars(select(ReplanRequest)).all() == []  # answered
    assert replan(app, TEN_AM.astimezone(UTC) + timedelta(seconds=30)) is None  # nothing waits

    # the next scheduled pass sees today the same way: it keeps the alert, sends nothing new
    monitor(app, TEN_AM.astimezone(UTC) + timedelta(minutes=15))
    assert _live(shop) == ["surge:SOAP"]
    assert _surge_messages(shop) == ["C-ALERTS"]


def test_a_targeted_pass_leaves_other_skus_alerts_alone(shop: Store) -> None:  # noqa: F811
    app = _app(shop)
    monitor(app, TEN_AM.astimezone(UTC))
    before = {kind: _live(shop, kind) for kind in ("low_stock", "imminent_stockout", "slow_mover")}
    assert any(before.values())  # MILK and TEA need stock in this shop
    with shop.unit_of_work() as session:
        soap = session.scalars(select(Sku.id).where(Sku.code == "SOAP")).one()
        request_replan(session, [soap])
    result = replan(app, TEN_AM.astimezone(UTC))
    assert result is not None
    assert result.resolved == []
    assert result.opened == []
    assert {kind: _live(shop, kind) for kind in before} == before


def test_one_strong_day_is_no_surge_until_today_is_strong_too(shop: Store) -> None:  # noqa: F811
    """The best day is left out (one group order is no surge): a strong yesterday alone
    raises nothing; a strong morning after it makes a run, flagged before noon."""
    app = _app(shop)
    _post_sales(app, _soap_orders(20, days=1))
    monitor(app, TEN_AM.astimezone(UTC))
    assert _live(shop) == []
    _post_sales(app, [_order("AM-1", 1, 8)])  # an ordinary morning
    assert replan(app, TEN_AM.astimezone(UTC)) is not None
    assert _live(shop) == []
    _post_sales(app, [_order("AM-2", 20, 9)])
    replan(app, TEN_AM.astimezone(UTC))
    assert _live(shop) == ["surge:SOAP"]


def _order(number: str, qty: int, hour: int) -> dict[str, Any]:
    stamp = f"{TODAY} {hour:02d}:00"
    return {"order_id": number, "line": 1, "sku": "SOAP", "qty": qty, "timestamp": stamp}


def test_a_request_made_during_the_pass_is_kept(shop: Store) -> None:  # noqa: F811
    with shop.unit_of_work() as session:
        soap, milk = (
            session.scalars(select(Sku.id).where(Sku.code == code)).one()
            for code in ("SOAP", "MILK")
        )
        request_replan(session, [soap, milk], now=TEN_AM)
    with shop.unit_of_work() as session:
        taken = waiting(session, 10)
        assert set(taken) == {soap, milk}
    with shop.unit_of_work() as session:
        request_replan(session, [soap], now=TEN_AM + timedelta(seconds=5))  # new data meanwhile
    with shop.unit_of_work() as session:
        finish(session, taken)
    with shop.read() as session:
        assert session.scalars(select(ReplanRequest.sku_id)).all() == [soap]


def test_the_replan_job_is_registered_every_fifteen_seconds() -> None:
    spec = job_named("replan")
    assert spec is not None
    assert spec.lease_ttl is None
    assert spec.schedule(Settings().scheduler).seconds == 15  # type: ignore[attr-defined]
