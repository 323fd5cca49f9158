"""The scheduler one process runs: the registry's jobs (bot/jobs.py) on an APScheduler 3
BackgroundScheduler, each run going through the lease (bot/jobs.run_once).

Every job is added with `coalesce=True` (missed firings collapse into one run),
`max_instances=1` (never two runs of one job at once in a process; the lease does the same
across processes) and its own `misfire_grace_time` (see bot/jobs.py).

Catch-up after downtime: APScheduler keeps its jobs in memory, so a daily report due while
no scheduler ran is not known to it. At start, for each `catch_up` job the last scheduled
time before now is compared with the lease table: with no row for it (nobody ran it) the
run is submitted at once, late, for *that* scheduled time. Its lease decides, so a second
start — or a second scheduler starting at the same moment — never sends it again.

Stopping: `stop()` first marks the scheduler as stopping (a run not yet begun gives its
lease back and does nothing), then shuts APScheduler down waiting for the running jobs to
finish; nothing is cut off half-way.
"""

import logging
import os
import socket
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from bot.app import App
from bot.jobs import JOBS, Adapters, JobSpec, Outcome, run_once
from bot.triggers import Schedule, next_run
from core.leases import last_run, lease_for
from core.models import JobLease, utcnow
from core.outbox import as_utc

log = logging.getLogger(__name__)


def process_holder() -> str:
    """Who holds a lease: host, process id and a random tag (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:200]


def missed_runs(app: App, jobs: Sequence[JobSpec], now: datetime) -> list[tuple[JobSpec, datetime]]:
    """The catch-up jobs' last scheduled times before `now` that no process ran (no lease
    row), or whose holder crashed (unfinished and expired)."""
    settings, tz = app.settings.scheduler, app.settings.tz
    missed: list[tuple[JobSpec, datetime]] = []
    for spec in jobs:
        if not spec.catch_up or spec.lease_ttl is None:
            continue
        when = spec.schedule(settings).previous(now, tz)
        row = lease_for(app.store, spec.id, when)
        if row is None or (row.finished_at is None and as_utc(row.expires_at) < as_utc(now)):
            missed.append((spec, when))
    return missed


class JobScheduler:
    """The registry's jobs in this process. `leased=False` keeps only the jobs every process
    runs (the outbox): a web worker started with `--no-scheduler`."""

    def __init__(
        self,
        app: App,
        jobs: Sequence[JobSpec] = JOBS,
        *,
        adapters: Adapters | None = None,
        holder: str | None = None,
        leased: bool = True,
    ) -> None:
        self.app = app
        self.jobs = tuple(spec for spec in jobs if leased or spec.lease_ttl is None)
        self.adapters = adapters
        self.holder = holder or process_holder()
        self.stopping = threading.Event()
        self.outcomes: list[Outcome] = []  # the latest runs, newest last (for tests, status)
        self._outcomes_lock = threading.Lock()
        self._scheduler = BackgroundScheduler(
            timezone=app.settings.tz,
            executors={"default": ThreadPoolExecutor(max_workers=len(self.jobs) + 2)},
        )

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def start(self, now: datetime | None = None) -> list[tuple[JobSpec, datetime]]:
        """Add every job, submit the missed runs, start firing; returns the missed runs."""
        settings, tz = self.app.settings.scheduler, self.app.settings.tz
        for spec in self.jobs:
            schedule = spec.schedule(settings)
            self._scheduler.add_job(
                self._fire,
                schedule.trigger(tz),
                args=[spec, schedule],
                id=spec.id,
                name=spec.id,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=int(spec.misfire_grace.total_seconds()),
            )
        missed = missed_runs(self.app, self.jobs, now or utcnow())
        for spec, when in missed:
            log.info("catching up %s, missed at %s", spec.id, when.isoformat())
            self._scheduler.add_job(
                self._run,
                args=[spec, when],
                id=f"{spec.id}:catch-up",
                name=f"{spec.id} (catch-up)",
                misfire_grace_time=None,  # late is the point
            )
        self._scheduler.start()
        return missed

    def stop(self, *, wait: bool = True) -> None:
        """Take no new runs; let the running ones finish (wait) and return."""
        self.stopping.set()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=wait)

    def _fire(self, spec: JobSpec, schedule: Schedule) -> None:
        """An APScheduler firing: the run due now is the schedule's latest time ≤ now."""
        self._run(spec, schedule.previous(utcnow(), self.app.settings.tz))

    def _run(self, spec: JobSpec, scheduled_for: datetime) -> None:
        outcome = run_once(
            self.app,
            spec,
            scheduled_for,
            holder=self.holder,
            adapters=self.adapters,
            stopping=self.stopping,
        )
        with self._outcomes_lock:
            self.outcomes = [*self.outcomes[-99:], outcome]
        log.debug("%s at %s: %s", spec.id, scheduled_for.isoformat(), outcome.status)


@dataclass(frozen=True)
class JobRow:
    """One line of `replenish jobs list`."""

    spec: JobSpec
    schedule: Schedule
    next_run: datetime | None
    last: JobLease | None


def job_rows(app: App, now: datetime, jobs: Sequence[JobSpec] = JOBS) -> list[JobRow]:
    settings, tz = app.settings.scheduler, app.settings.tz
    rows = []
    for spec in jobs:
        schedule = spec.schedule(settings)
        last = last_run(app.store, spec.id) if spec.lease_ttl is not None else None
        rows.append(JobRow(spec, schedule, next_run(schedule, now, tz), last))
    return rows
