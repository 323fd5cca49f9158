"""The bot's own clock: which jobs run by themselves, when, and how each run happens once.

Every job is a plain function `(app, now) -> result` — tests call it directly with the clock
they want — registered in JOBS with a stable id, a schedule built from the settings, a
misfire grace time and a lease TTL (bot/scheduler.py turns the registry into APScheduler
jobs; `replenish jobs list|run` reads it too).

A run of a leased job first takes the lease for (job id, scheduled time) in the database
(core/leases.py) and does nothing if another process has it: two schedulers side by side
send each report and each alert once. The outbox is the exception: it is not leased,
because delivery already claims each message row (core/outbox.claim leases the rows it
takes, committed before sending), so several processes delivering at once never send one
message twice — and every process that serves chat delivers its replies without waiting
for a scheduler.

misfire_grace_time — how late a run may still start when the scheduler itself was held up
(a suspended VM, a busy thread pool); after that the run is skipped (missed runs coalesce):
- frequent jobs: about one interval or less (outbox 5 s, sla_watchdog 30 s, monitor 5 min):
  the next run is near and does the same work, so a late one would only crowd it;
- daily and weekly jobs (reports, the stock snapshot): up to an hour before the next one is
  due (daily 23 h, weekly 6 d 23 h): a report is worth sending late, never skipped, never on
  top of the next. One missed while no scheduler ran at all is run once at the next start
  (bot/scheduler.py, `catch_up`), as of its own scheduled time.
"""

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel import Session

from bot.app import App, chat_adapters, deliver_outbox
from bot.dispatch import Adapter, DispatchReport
from bot.drop_folder import import_inbox
from bot.engine import replan_waiting, run_monitor
from bot.mail import email_fallback_step
from bot.reports import send_daily_report, send_exceptions, send_weekly_kpi
from bot.settings import SchedulerSettings
from bot.triggers import At, Every, Schedule, parse_daily, parse_weekly
from core.emergency_watchdog import emergency_watchdog
from core.leases import KEEP, finish_lease, lease_for, prune_leases, release_lease, take_lease
from core.models import utcnow
from core.monitor import MonitorResult
from core.picks import pick_watchdog
from core.stock_history import snapshot_stock
from core.supplier_backup import sla_pass

log = logging.getLogger(__name__)
Adapters = Mapping[str, Adapter]  # chats, e-mail and the PO webhook
JobFunction = Callable[..., object]  # (app, now) -> result; chat jobs also take adapters=
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class JobSpec:
    """One registered job. `lease_ttl` None: not leased, every process runs it (outbox).
    `catch_up`: a run missed while no scheduler ran is run once, late, at start-up; such a
    job is given its scheduled time as `now`, so a late run does the work of its own slot
    (the report of its day), and a repeat for that slot is recognisably the same run.
    `chat`: the function also takes `adapters=` (the process's chat adapters)."""

    id: str
    run: JobFunction
    schedule: Callable[[SchedulerSettings], Schedule]
    misfire_grace: timedelta
    lease_ttl: timedelta | None = None
    catch_up: bool = False
    chat: bool = False


# --- the jobs ----------------------------------------------------------------------------------


def monitor(app: App, now: datetime) -> MonitorResult:
    """One monitor pass over the last complete business day (alerts, draft POs, picks)."""
    as_of = now.astimezone(app.settings.tz).date() - timedelta(days=1)
    result, _ = run_monitor(app, as_of, now=now)
    return result


def replan(app: App, now: datetime) -> MonitorResult | None:
    """A targeted pass over the SKUs a feed just changed (not leased: the waiting rows are
    taken under lock, and passes run one at a time)."""
    return replan_waiting(app, now)


def outbox(app: App, now: datetime, adapters: Adapters | None = None) -> DispatchReport:
    """One delivery round (due rows claimed per row; see the module docstring)."""
    return deliver_outbox(app, chat_adapters(app) if adapters is None else adapters, now=now)


def stock_snapshot(app: App, now: datetime) -> int:
    """Carry every SKU's stock into the history of `now`'s local day (KPIs read it back)."""
    with app.store.unit_of_work() as session:
        return snapshot_stock(session, now, tz=app.settings.tz)


WatchdogStep = Callable[[App, Session, datetime], object]


def supplier_sla(app: App, session: Session, now: datetime) -> object:
    return sla_pass(session, now, sla_hours=app.settings.supplier.sla_working_hours)


def pick_lists(app: App, session: Session, now: datetime) -> object:
    picks = app.settings.picks
    watched = pick_watchdog(
        session,
        now,
        resend_after=timedelta(minutes=picks.resend_after_minutes),
        escalate_after=timedelta(minutes=picks.escalate_after_minutes),
    )
    return {"resent": watched.resent, "escalated": watched.escalated}


def emergencies(app: App, session: Session, now: datetime) -> object:
    chain = app.settings.emergency
    return emergency_watchdog(
        session,
        now,
        approve_within=timedelta(minutes=chain.approve_within_minutes),
        confirm_within=timedelta(minutes=chain.confirm_within_minutes),
        chain=tuple(tuple(level) for level in chain.approvers),
    )


# The SLA watchdog's passes, each in its own transaction (one failing never holds up the rest).
WATCHDOGS: dict[str, WatchdogStep] = {
    "emergency": emergencies,
    "supplier": supplier_sla,
    "picks": pick_lists,
    "email": email_fallback_step,  # last: mails what the passes above just raised
}


class WatchdogError(Exception):
    def __init__(self, names: list[str]) -> None:
        super().__init__(f"watchdog passes failed: {', '.join(names)}")


def sla_watchdog(app: App, now: datetime) -> dict[str, object]:
    """Chase what waits on a person: supplier confirmations, pick-list acknowledgements…"""
    done: dict[str, object] = {}
    failed: list[str] = []
    for name, step in WATCHDOGS.items():
        try:
            with app.store.unit_of_work() as session:
                done[name] = step(app, session, now)
        except Exception:
            log.exception("sla_watchdog: the %s pass failed", name)
            failed.append(name)
    if failed:
        raise WatchdogError(failed)
    return done


# --- the registry ------------------------------------------------------------------------------


def monitor_every(settings: SchedulerSettings) -> Schedule:
    return Every(settings.monitor_interval_minutes * 60)


def daily_report_at(settings: SchedulerSettings) -> At:
    return parse_daily(settings.daily_report_time)


def weekly_kpi_at(settings: SchedulerSettings) -> At:
    return parse_weekly(settings.weekly_kpi)


def snapshot_at(_settings: SchedulerSettings) -> At:
    return At(23, 50)  # late in the local day, after its stock imports


def every(seconds: int) -> Callable[[SchedulerSettings], Schedule]:
    return lambda _settings: Every(seconds)


DAILY_GRACE, WEEKLY_GRACE = timedelta(days=1) - HOUR, timedelta(days=7) - HOUR
REPORT_TTL = timedelta(minutes=30)  # a report run takes seconds; a crashed one is retaken after

# id, function, schedule (from the settings), misfire grace, lease TTL (none: every process),
# catch_up (missed during downtime: run once at start). Adding a job is one line here.
JOBS: tuple[JobSpec, ...] = (
    JobSpec("monitor", monitor, monitor_every, timedelta(minutes=5), timedelta(minutes=10)),
    JobSpec("outbox", outbox, every(5), timedelta(seconds=5), chat=True),
    JobSpec("replan", replan, every(15), timedelta(seconds=15)),
    JobSpec("sla_watchdog", sla_watchdog, every(60), timedelta(seconds=30), timedelta(minutes=2)),
    JobSpec("daily_report", send_daily_report, daily_report_at, DAILY_GRACE, REPORT_TTL, True),
    JobSpec("weekly_kpi", send_weekly_kpi, weekly_kpi_at, WEEKLY_GRACE, REPORT_TTL, True),
    JobSpec("stock_snapshot", stock_snapshot, snapshot_at, DAILY_GRACE, REPORT_TTL, True),
    JobSpec("exceptions", send_exceptions, every(300), timedelta(minutes=5), REPORT_TTL),
    JobSpec("drop_folder", import_inbox, every(60), timedelta(seconds=30), timedelta(minutes=5)),
)


def job_named(name: str, jobs: tuple[JobSpec, ...] = JOBS) -> JobSpec | None:
    return next((spec for spec in jobs if spec.id == name), None)


# --- one run -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What became of one run: `ran`; `held` by another process (`holder`); `failed`
    (`error`, lease given back); `stopping` (the process is shutting down: not started)."""

    job: str
    scheduled_for: datetime
    status: Literal["ran", "held", "failed", "stopping"]
    result: object = None
    error: Exception | None = None
    holder: str | None = None


def run_once(
    app: App,
    spec: JobSpec,
    scheduled_for: datetime,
    *,
    holder: str,
    now: datetime | None = None,
    adapters: Adapters | None = None,
    stopping: threading.Event | None = None,
) -> Outcome:
    """Run `spec` for `scheduled_for` unless another holder has that run (leased jobs).
    `now` pins the clock (tests); else real time. The job gets that clock as its `now`, or
    its scheduled time if it is a `catch_up` job. A failure is logged, its lease given
    back (so that run may be retried) and reported, never raised."""
    clock = now or utcnow()
    if stopping is not None and stopping.is_set():
        return Outcome(spec.id, scheduled_for, "stopping")
    if spec.lease_ttl is None:
        return _call(app, spec, scheduled_for, clock, adapters)
    if not take_lease(app.store, spec.id, scheduled_for, holder, spec.lease_ttl, now=clock):
        held = lease_for(app.store, spec.id, scheduled_for)
        return Outcome(spec.id, scheduled_for, "held", holder=held.holder if held else None)
    try:
        if stopping is not None and stopping.is_set():
            release_lease(app.store, spec.id, scheduled_for, holder)
            return Outcome(spec.id, scheduled_for, "stopping")
        job_now = scheduled_for if spec.catch_up else clock
        outcome = _call(app, spec, scheduled_for, job_now, adapters)
    except BaseException:  # interrupted (KeyboardInterrupt, SystemExit): give the run back
        release_lease(app.store, spec.id, scheduled_for, holder)
        raise
    if outcome.status == "failed":
        release_lease(app.store, spec.id, scheduled_for, holder)
        return outcome
    finish_lease(app.store, spec.id, scheduled_for, holder, now=clock if now else None)
    prune_leases(app.store, spec.id, clock - KEEP)
    return outcome


def _call(
    app: App, spec: JobSpec, scheduled_for: datetime, now: datetime, adapters: Adapters | None
) -> Outcome:
    try:
        result = spec.run(app, now, adapters=adapters) if spec.chat else spec.run(app, now)
    except Exception as error:
        log.exception("job %s (scheduled %s) failed", spec.id, scheduled_for.isoformat())
        return Outcome(spec.id, scheduled_for, "failed", error=error)
    return Outcome(spec.id, scheduled_for, "ran", result=result)
