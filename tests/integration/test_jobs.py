"""The scheduled jobs called directly, as plain functions, with the clock the test gives them."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from bot import jobs
from bot.app import App
from bot.jobs import (
    WatchdogError,
    job_named,
    monitor,
    outbox,
    run_once,
    sla_watchdog,
    stock_snapshot,
)
from bot.settings import Settings
from core.ingest import Kind
from core.leases import lease_for
from core.models import StockLevel
from core.outbox import as_utc
from core.store import Store
from core.workflow import submit_for_approval
from tests.integration.test_emergency import _open, em
from tests.integration.test_monitor import AS_OF, TZ, _import
from tests.integration.test_outbox_dispatch import FakeChat
from tests.integration.test_supplier_flow import FRIDAY, MONDAY, _at, _sent, _sent_at, sup
from tests.shop import PO, Shop

__all__ = ["em", "sup"]  # fixtures, used by name
NOTHING: dict[str, list[str]] = {"reminded": [], "backup_offered": []}
QUIET_EMERGENCY: dict[str, list[int]] = {"reminded": [], "escalated": [], "backup_offered": []}


def app_for(store: Store) -> App:
    return App(Settings(), store)


def test_the_monitor_plans_as_of_the_last_complete_day_in_taipei(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[date] = []

    def run_monitor(_app: App, as_of: date, *, now: datetime) -> tuple[None, None]:
        seen.append(as_of)
        assert now.astimezone(TZ).date() == as_of + timedelta(days=1)  # today so far
        return None, None

    monkeypatch.setattr(jobs, "run_monitor", run_monitor)
    monitor(app_for(store), datetime(2026, 11, 24, 17, 0, tzinfo=UTC))  # 01:00 on the 25th
    monitor(app_for(store), datetime(2026, 11, 24, 15, 59, tzinfo=UTC))  # 23:59 on the 24th
    assert seen == [date(2026, 11, 24), date(2026, 11, 23)]


def test_the_sla_watchdog_chases_by_the_clock_it_is_given(sup: Shop) -> None:
    _sent(sup)
    _sent_at(sup, PO, _at(FRIDAY, 16))
    app = app_for(sup.store)  # 4 working hours to confirm
    picks: dict[str, list[str]] = {"resent": [], "escalated": []}
    quiet = {"emergency": QUIET_EMERGENCY, "supplier": NOTHING, "picks": picks, "email": 0}
    assert sla_watchdog(app, _at(MONDAY, 10, 59)) == quiet
    assert sla_watchdog(app, _at(MONDAY, 11))["supplier"] == {
        "reminded": [PO],
        "backup_offered": [],
    }
    assert sla_watchdog(app, _at(MONDAY, 11, 1)) == quiet  # once
    assert sla_watchdog(app, _at(MONDAY, 15))["supplier"] == {
        "reminded": [],
        "backup_offered": [PO],
    }


def test_one_failing_watchdog_pass_does_not_hold_up_the_others(
    sup: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sent(sup)
    _sent_at(sup, PO, _at(FRIDAY, 16))

    def broken(_app: App, _session: Session, _now: datetime) -> object:
        raise RuntimeError("pick lists unreadable")

    monkeypatch.setattr(jobs, "WATCHDOGS", {"picks": broken, "supplier": jobs.supplier_sla})
    app = app_for(sup.store)
    with pytest.raises(WatchdogError, match="picks"):
        sla_watchdog(app, _at(MONDAY, 11))
    assert sup.po().reminded_at is not None  # the supplier pass ran and committed

    spec = job_named("sla_watchdog")
    assert spec is not None
    minute = _at(MONDAY, 12)
    outcome = run_once(app, spec, minute, holder="a", now=minute)
    assert outcome.status == "failed"
    assert lease_for(sup.store, "sla_watchdog", minute) is None  # given back: retried


def test_the_outbox_delivers_what_is_due_at_the_time_it_is_given(shop: Shop) -> None:
    shop.run("clerk", submit_for_approval, PO)  # a card for the approvals channel
    app = app_for(shop.store)
    slack = FakeChat("slack")
    adapters: dict[str, Any] = {"slack": slack}
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    assert outbox(app, an_hour_ago, adapters=adapters).delivered == 0  # not due yet then
    assert slack.calls == []
    report = outbox(app, datetime.now(UTC) + timedelta(seconds=1), adapters=adapters)
    assert report.delivered >= 1
    assert slack.calls
    assert outbox(app, datetime.now(UTC) + timedelta(seconds=2), adapters=adapters).delivered == 0


def test_the_stock_snapshot_dates_the_history_by_the_clock_it_is_given(store: Store) -> None:
    _import(store, Kind.LOCATIONS, "location,name,kind\nWH,主倉,warehouse\n")
    _import(store, Kind.SKUS, "sku,name\nMILK,鮮乳\nTEA,紅茶\n")
    stock = f"sku,location,on_hand,as_of\nMILK,WH,12,{AS_OF} 22:00\nTEA,WH,0,{AS_OF} 22:00\n"
    _import(store, Kind.STOCK, stock)
    app = app_for(store)
    evening = datetime(2026, 11, 25, 23, 50, tzinfo=TZ)
    assert stock_snapshot(app, evening) == 2
    assert stock_snapshot(app, evening + timedelta(minutes=5)) == 0  # once a day

    # Run late (after downtime), the snapshot is still the one of its own evening.
    spec = job_named("stock_snapshot")
    assert spec is not None
    next_evening = evening + timedelta(days=1)
    late = next_evening + timedelta(hours=9)
    assert run_once(app, spec, next_evening, holder="a", now=late).result == 2
    with store.read() as session:
        stamps = {as_utc(row.as_of) for row in session.scalars(select(StockLevel))}
    assert next_evening.astimezone(UTC) in stamps
    assert late.astimezone(UTC) not in stamps


def test_the_sla_watchdog_chases_emergency_approvals_by_the_settings(em: Shop) -> None:
    start = datetime.now(UTC)
    request = _open(em, start)
    app = app_for(em.store)  # emergency.approve_within_minutes: 30
    assert sla_watchdog(app, start + timedelta(minutes=29))["emergency"] == QUIET_EMERGENCY
    chased = sla_watchdog(app, start + timedelta(minutes=30))["emergency"]
    assert chased == {"reminded": [request.id], "escalated": [], "backup_offered": []}
