"""Several schedulers against one database (SQLite file and PostgreSQL): each scheduled run
happens once. Leases taken, kept, taken over after a crash, given back on failure; two
schedulers side by side; a daily run missed during downtime run once at start, never twice.

Each "process" is its own Store (its own engine and connections) on the same database."""

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlmodel import select

from bot.app import App
from bot.jobs import JobSpec, Outcome, job_named, run_once
from bot.scheduler import JobScheduler, missed_runs
from bot.settings import Settings
from bot.triggers import At, Every, Schedule
from core.ingest import Kind
from core.leases import (
    finish_lease,
    last_run,
    lease_for,
    prune_leases,
    release_lease,
    take_lease,
)
from core.models import AuditEvent, JobLease
from core.store import Store
from tests.integration.test_monitor import AS_OF, _import, _sales

TZ = ZoneInfo("Asia/Taipei")
T0 = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)  # Wednesday 10:00 in Taipei
TTL = timedelta(minutes=10)
RACERS = 6


@pytest.fixture
def processes(any_store: Store) -> Iterator[Callable[[], App]]:
    """`processes()` → another process's view of the same database (its own engine)."""
    opened: list[Store] = []

    def open_one() -> App:
        store = Store.connect(any_store.engine.url)
        opened.append(store)
        url = any_store.engine.url.render_as_string(hide_password=False)
        return App(Settings(database_url=url), store)

    yield open_one
    for store in opened:
        store.dispose()


def counting(
    job: str, schedule: Schedule, *, pause: float = 0.0, catch_up: bool = False, fail: bool = False
) -> JobSpec:
    """A leased job that leaves one audit row per run (so runs are counted in the database,
    across processes); `pause` widens the window two runs could overlap in."""

    def run(app: App, now: datetime) -> int:
        time.sleep(pause)
        if fail:
            raise RuntimeError("the report could not be built")
        with app.store.unit_of_work() as session:
            ran = {"now": now.isoformat()}
            session.add(AuditEvent(action="test.ran", entity="job", entity_id=job, data=ran))
        return 1

    return JobSpec(job, run, lambda _s: schedule, timedelta(minutes=5), TTL, catch_up=catch_up)


def runs(store: Store, job: str) -> int:
    with store.read() as session:
        return len(session.scalars(select(AuditEvent).where(AuditEvent.entity_id == job)).all())


def leases(store: Store, job: str) -> list[JobLease]:
    with store.read() as session:
        return list(session.scalars(select(JobLease).where(JobLease.job == job)))


# --- the lease itself -----------------------------------------------------------------------------


def test_a_lease_is_taken_once_and_kept_after_the_run(any_store: Store) -> None:
    assert last_run(any_store, "daily") is None
    assert take_lease(any_store, "daily", T0, "a", TTL, now=T0)
    assert not take_lease(any_store, "daily", T0, "b", TTL, now=T0)
    assert take_lease(any_store, "daily", T0 + timedelta(days=1), "b", TTL, now=T0)  # another run
    assert last_run(any_store, "daily") is None  # nothing finished yet
    assert finish_lease(any_store, "daily", T0, "a", now=T0 + timedelta(seconds=3))
    assert not take_lease(any_store, "daily", T0, "b", TTL, now=T0 + timedelta(days=9))
    done = last_run(any_store, "daily")
    assert done is not None
    assert (done.holder, done.scheduled_for.replace(tzinfo=UTC)) == ("a", T0)
    # The same instant written in another zone is the same run.
    assert not take_lease(any_store, "daily", T0.astimezone(TZ), "c", TTL, now=T0)


def test_a_crashed_holders_expired_lease_is_taken_over_once(any_store: Store) -> None:
    assert take_lease(any_store, "daily", T0, "crashed", TTL, now=T0)
    assert not take_lease(any_store, "daily", T0, "b", TTL, now=T0 + TTL - timedelta(seconds=1))
    later = T0 + TTL + timedelta(seconds=1)
    assert take_lease(any_store, "daily", T0, "b", TTL, now=later)
    assert not take_lease(any_store, "daily", T0, "c", TTL, now=later)  # b holds it now
    assert not finish_lease(any_store, "daily", T0, "crashed")  # woke up: no longer its run
    assert finish_lease(any_store, "daily", T0, "b")
    # A finished run is never taken over, however old.
    assert not take_lease(any_store, "daily", T0, "c", TTL, now=T0 + timedelta(days=30))
    [row] = leases(any_store, "daily")
    assert row.holder == "b"


def test_a_released_lease_can_be_taken_again(any_store: Store) -> None:
    assert take_lease(any_store, "daily", T0, "a", TTL, now=T0)
    assert not release_lease(any_store, "daily", T0, "b")  # only the holder gives it back
    assert release_lease(any_store, "daily", T0, "a")
    assert take_lease(any_store, "daily", T0, "b", TTL, now=T0)


def test_a_lease_in_a_rolled_back_transaction_is_not_held(any_store: Store) -> None:
    def run_that_fails() -> None:
        with any_store.unit_of_work() as session:
            assert take_lease(session, "daily", T0, "a", TTL, now=T0)
            assert not take_lease(session, "daily", T0, "a2", TTL, now=T0)  # same transaction
            raise RuntimeError("the run's own writes failed")

    with pytest.raises(RuntimeError):
        run_that_fails()
    assert lease_for(any_store, "daily", T0) is None
    assert take_lease(any_store, "daily", T0, "b", TTL, now=T0)


def test_old_leases_are_pruned_but_the_newest_is_kept(any_store: Store) -> None:
    for days in (60, 50, 40):
        when = T0 - timedelta(days=days)
        assert take_lease(any_store, "weekly", when, "a", TTL, now=when)
        assert finish_lease(any_store, "weekly", when, "a", now=when)
    assert prune_leases(any_store, "weekly", T0 - timedelta(days=35)) == 2
    assert prune_leases(any_store, "weekly", T0) == 0  # the newest stays, however old
    [kept] = leases(any_store, "weekly")
    assert kept.scheduled_for.replace(tzinfo=UTC) == T0 - timedelta(days=40)


# --- racing processes -----------------------------------------------------------------------------


def race(apps: list[App], attempt: Callable[[App], Outcome]) -> list[Outcome]:
    """Every app attempts at the same moment, each from its own thread."""
    start = threading.Barrier(len(apps))
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def one(app: App) -> None:
        start.wait()
        outcome = attempt(app)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=one, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


@pytest.mark.parametrize("lease", ["fresh", "expired"])
def test_racing_processes_give_exactly_one_run(
    processes: Callable[[], App], any_store: Store, lease: str
) -> None:
    job = counting("daily_report", At(9, 0), pause=0.2)
    if lease == "expired":  # the last holder crashed an hour ago: all race to take it over
        assert take_lease(any_store, job.id, T0, "crashed", TTL, now=T0 - timedelta(hours=1))
    apps = [processes() for _ in range(RACERS)]
    outcomes = race(apps, lambda app: run_once(app, job, T0, holder=f"p{id(app)}", now=T0))
    assert sorted(o.status for o in outcomes) == ["held"] * (RACERS - 1) + ["ran"]
    assert runs(any_store, job.id) == 1
    [row] = leases(any_store, job.id)
    assert row.finished_at is not None
    assert row.holder != "crashed"


def test_two_schedulers_side_by_side_run_each_scheduled_time_once(
    processes: Callable[[], App], any_store: Store
) -> None:
    job = counting("every_second", Every(1), pause=0.3)  # each run overlaps the other's
    schedulers = [JobScheduler(processes(), [job]) for _ in range(2)]
    for scheduler in schedulers:
        scheduler.start()
    try:
        time.sleep(4.5)
    finally:
        for scheduler in schedulers:
            scheduler.stop()
    outcomes = [o for s in schedulers for o in s.outcomes if o.status != "stopping"]
    ran = [o.scheduled_for for o in outcomes if o.status == "ran"]
    assert len(ran) >= 3
    assert len(ran) == len(set(ran))  # no scheduled time ran twice
    held = [o.scheduled_for for o in outcomes if o.status == "held"]
    assert set(held) <= set(ran)  # the other scheduler fired too, and stood back
    assert held  # both really fired for the same times
    assert runs(any_store, job.id) == len(ran)


@pytest.fixture
def stocked(any_store: Store) -> Store:
    """tests/integration/test_monitor.py's shop: MILK low, TEA out of stock."""
    _import(any_store, Kind.LOCATIONS, "location,name,kind\nWH,主倉,warehouse\n")
    _import(
        any_store, Kind.SKUS, "sku,name,category,unit_cost\nMILK,鮮乳,乳品,50\nTEA,紅茶,飲料,20\n"
    )
    _import(any_store, Kind.SUPPLIERS, "supplier,name\nS1,鮮乳坊\n")
    _import(
        any_store,
        Kind.TERMS,
        "supplier,sku,unit_price,lead_time_days,moq,case_pack,rank\nS1,MILK,50,3,24,12,1\n"
        "S1,TEA,20,3,10,10,1\n",
    )
    _import(
        any_store,
        Kind.STOCK,
        "sku,location,on_hand,reserved,as_of\n"
        f"MILK,WH,12,0,{AS_OF} 22:00\nTEA,WH,0,0,{AS_OF} 22:00\n",
    )
    _import(any_store, Kind.SALES, _sales({"MILK": 10, "TEA": 5}))
    return any_store


def test_two_schedulers_monitoring_open_each_alert_once(
    processes: Callable[[], App], stocked: Store
) -> None:
    monitor = job_named("monitor")
    assert monitor is not None
    now = datetime(2026, 11, 25, 10, 0, tzinfo=TZ)  # as of the 24th
    scheduled = Every(900).previous(now, TZ)
    apps = [processes(), processes()]
    outcomes = race(
        apps, lambda app: run_once(app, monitor, scheduled, holder=str(id(app)), now=now)
    )
    assert sorted(o.status for o in outcomes) == ["held", "ran"]
    [ran] = [o for o in outcomes if o.status == "ran"]
    assert ran.result.opened  # type: ignore[attr-defined]
    with stocked.read() as session:
        opened = session.scalars(select(AuditEvent).where(AuditEvent.action == "alert.opened"))
        keys = [event.entity_id for event in opened]
    assert len(keys) == len(set(keys)) == len(ran.result.opened)  # type: ignore[attr-defined]


# --- downtime, crashes, failures, stopping --------------------------------------------------------

DAILY = At(9, 0)
TODAY_9 = datetime(2026, 3, 4, 9, 0, tzinfo=TZ)
AFTER_DOWNTIME = datetime(2026, 3, 4, 15, 0, tzinfo=TZ)  # down from 08:00 to 15:00


def wait_until(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def start_and_settle(app: App, job: JobSpec, now: datetime) -> list[tuple[JobSpec, datetime]]:
    """A scheduler started at `now` (as far as catch-up is concerned), then stopped once its
    catch-up runs are done."""
    scheduler = JobScheduler(app, [job])
    missed = scheduler.start(now=now)
    try:
        wait_until(lambda: len(scheduler.outcomes) >= len(missed))
    finally:
        scheduler.stop()
    return missed


def test_a_daily_run_missed_in_downtime_runs_once_at_start_and_never_again(
    processes: Callable[[], App], any_store: Store
) -> None:
    job = counting("daily_report", DAILY, catch_up=True)
    yesterday = TODAY_9 - timedelta(days=1)
    assert take_lease(any_store, job.id, yesterday, "before", TTL, now=yesterday)
    assert finish_lease(any_store, job.id, yesterday, "before", now=yesterday)

    missed = start_and_settle(processes(), job, AFTER_DOWNTIME)
    assert [(spec.id, when) for spec, when in missed] == [(job.id, TODAY_9)]
    assert runs(any_store, job.id) == 1
    today = lease_for(any_store, job.id, TODAY_9)
    assert today is not None
    assert today.finished_at is not None

    # A second start (a restart, or another scheduler) finds the run done.
    assert start_and_settle(processes(), job, AFTER_DOWNTIME + timedelta(minutes=30)) == []
    assert run_once(processes(), job, TODAY_9, holder="late", now=AFTER_DOWNTIME).status == "held"
    assert runs(any_store, job.id) == 1


def test_schedulers_starting_together_catch_up_once(
    processes: Callable[[], App], any_store: Store
) -> None:
    job = counting("weekly_kpi", At(9, 0, 0), catch_up=True, pause=0.2)
    schedulers = [JobScheduler(processes(), [job]) for _ in range(3)]
    monday = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
    try:
        missed = [scheduler.start(now=AFTER_DOWNTIME) for scheduler in schedulers]
        assert [(job, monday)] in missed  # the first to start saw the run missing
        assert all(m in ([], [(job, monday)]) for m in missed)
        wait_until(
            lambda: all(len(s.outcomes) >= len(m) for s, m in zip(schedulers, missed, strict=True))
        )
    finally:
        for scheduler in schedulers:
            scheduler.stop()
    assert runs(any_store, job.id) == 1


def test_a_crashed_holders_run_is_taken_over_at_the_next_start(
    processes: Callable[[], App], any_store: Store
) -> None:
    job = counting("daily_report", DAILY, catch_up=True)
    assert take_lease(any_store, job.id, TODAY_9, "crashed", TTL, now=TODAY_9)
    assert missed_runs(processes(), [job], TODAY_9 + TTL / 2) == []  # may still be running
    missed = start_and_settle(processes(), job, TODAY_9 + TTL * 2)
    assert [when for _, when in missed] == [TODAY_9]
    assert runs(any_store, job.id) == 1
    [row] = leases(any_store, job.id)
    assert row.holder != "crashed"
    assert row.finished_at is not None


def test_a_failed_run_gives_its_lease_back(processes: Callable[[], App], any_store: Store) -> None:
    broken = counting("daily_report", DAILY, fail=True)
    outcome = run_once(processes(), broken, TODAY_9, holder="a", now=TODAY_9)
    assert outcome.status == "failed"
    assert isinstance(outcome.error, RuntimeError)
    assert lease_for(any_store, broken.id, TODAY_9) is None  # to be tried again
    fixed = counting("daily_report", DAILY)
    assert run_once(processes(), fixed, TODAY_9, holder="b", now=TODAY_9).status == "ran"


def test_a_stopping_scheduler_starts_no_new_run(
    processes: Callable[[], App], any_store: Store
) -> None:
    job = counting("daily_report", DAILY)
    stopping = threading.Event()
    stopping.set()
    outcome = run_once(processes(), job, TODAY_9, holder="a", now=TODAY_9, stopping=stopping)
    assert outcome.status == "stopping"
    assert lease_for(any_store, job.id, TODAY_9) is None
    assert runs(any_store, job.id) == 0


def test_stop_lets_the_running_job_finish(processes: Callable[[], App], any_store: Store) -> None:
    job = counting("slow", Every(1), pause=1.5)
    scheduler = JobScheduler(processes(), [job])
    scheduler.start()
    wait_until(lambda: lease_count(any_store, job.id) >= 1)  # a run has begun
    scheduler.stop()  # waits for it
    assert not scheduler.running
    rows = leases(any_store, job.id)
    assert all(row.finished_at is not None for row in rows)  # none cut off half-way
    assert runs(any_store, job.id) == len(rows)


def lease_count(store: Store, job: str) -> int:
    with store.read() as session:
        count = session.scalar(sa.select(sa.func.count()).where(JobLease.job == job))
    return int(count or 0)
