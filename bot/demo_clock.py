"""The demo's clock and `/advance`: time moves, and the scheduler's jobs run for the span.

The clock is the `App.clock` the bot reads (plans as of yesterday, reports, KPIs), so moving
it moves the whole product; nothing patches the wall clock. `/advance 1d` steps through the
span an hour at a time. In each hour every job of the registry (bot/jobs.py) that fell due
runs once, as of its latest due time in that hour, through the same lease as a scheduler
(`bot.jobs.run_once`) — interval jobs coalesce to one run per hour, as APScheduler coalesces
missed runs. A shop's day ends with its WMS export: at 23:00 the day's sales are simulated
from the sample's pattern and imported (bot/demo_sales.py), before the 23:50 stock snapshot
and the next morning's monitor pass. One shortcut: a monitor pass over a business day it
already planned is skipped (it would plan the same numbers again, at ~2 s each).
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from adapters.chat import ChatAdapter
from bot.app import App
from bot.jobs import JOBS, JobSpec, Outcome, run_once
from core.models import utcnow

HOLDER = "demo"  # the lease holder of the demo's job runs
STEP = timedelta(hours=1)
MAX_SPAN = timedelta(days=14)
EXPORT_AT = time(23, 0)  # the nightly WMS export: the day's sales and stock
_SPAN = re.compile(r"(\d+)\s*([dhm])", re.IGNORECASE)
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


@dataclass
class DemoClock:
    """`App(clock=demo_clock)` reads it: the wall clock moved on by what `/advance` added
    (so it keeps running between commands, and is never behind the times the workflow
    stamps by the wall clock), or, while the jobs of an `/advance` run, the time pinned
    for each of them. Aware UTC."""

    offset: timedelta = timedelta(0)
    pinned: datetime | None = None
    wall: Callable[[], datetime] = utcnow

    @property
    def now(self) -> datetime:
        return self.pinned if self.pinned is not None else self.wall() + self.offset

    def __call__(self) -> datetime:
        return self.now

    def resume_at(self, moment: datetime) -> None:
        """Unpin, and run on from `moment` (never backwards)."""
        self.pinned = None
        self.offset = max(self.offset, moment - self.wall())


def parse_span(text: str) -> timedelta | None:
    """`1d`, `2h`, `30m`, `1d12h` → the span; None for anything else or over 14 days."""
    compact = re.sub(r"\s+", "", text)
    parts = _SPAN.findall(compact)
    if not parts or "".join(f"{n}{u}" for n, u in parts).lower() != compact.lower():
        return None
    span = sum((timedelta(**{_UNITS[u.lower()]: int(n)}) for n, u in parts), timedelta())
    return span if timedelta(0) < span <= MAX_SPAN else None


@dataclass
class Advanced:
    """What one `/advance` did: job runs by job id, and the days whose sales were made."""

    runs: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    days: list[date] = field(default_factory=list)


@dataclass
class Advancer:
    """Moves `clock` and runs the jobs. `simulate(day)` makes a day's sales and stock;
    `after_step()` runs after each hour (the console shows what was delivered)."""

    app: App
    clock: DemoClock
    adapters: Mapping[str, ChatAdapter]
    simulate: Callable[[date], object]
    after_step: Callable[[], None] = lambda: None
    jobs: tuple[JobSpec, ...] = JOBS
    planned_days: set[date] = field(default_factory=set)

    def advance(self, span: timedelta) -> Advanced:
        done = Advanced()
        start = self.clock.now
        end = start + span
        try:
            while start < end:
                stop = min(start + STEP, end)
                self._hour(start, stop, done)
                start = stop
                self.after_step()
        finally:
            self.clock.resume_at(start)
        return done

    def _hour(self, start: datetime, stop: datetime, done: Advanced) -> None:
        for day in self._exports(start, stop):
            self.clock.pinned = datetime.combine(day, EXPORT_AT, tzinfo=self.app.settings.tz)
            self.simulate(day)
            done.days.append(day)
        for due, spec in self._due(start, stop):
            self.clock.pinned = due
            self._run(spec, due, done)
        self.clock.pinned = stop

    def _exports(self, start: datetime, stop: datetime) -> list[date]:
        """Days whose 23:00 export falls in (start, stop]."""
        tz = self.app.settings.tz
        day, last = start.astimezone(tz).date(), stop.astimezone(tz).date()
        found = []
        while day <= last:
            at = datetime.combine(day, EXPORT_AT, tzinfo=tz)
            if start < at <= stop:
                found.append(day)
            day += timedelta(days=1)
        return found

    def _due(self, start: datetime, stop: datetime) -> list[tuple[datetime, JobSpec]]:
        """Each job's latest due time in (start, stop], in time order, then registry order."""
        settings, tz = self.app.settings.scheduler, self.app.settings.tz
        due = []
        for index, spec in enumerate(self.jobs):
            when = spec.schedule(settings).previous(stop, tz)
            if when > start:
                due.append((when, index, spec))
        return [(when, spec) for when, _, spec in sorted(due, key=lambda item: item[:2])]

    def _run(self, spec: JobSpec, due: datetime, done: Advanced) -> None:
        if spec.id == "monitor":
            business_day = due.astimezone(self.app.settings.tz).date() - timedelta(days=1)
            if business_day in self.planned_days:
                return
            self.planned_days.add(business_day)
        outcome: Outcome = run_once(
            self.app, spec, due, holder=HOLDER, now=due, adapters=self.adapters
        )
        if outcome.status == "ran":
            done.runs[spec.id] = done.runs.get(spec.id, 0) + 1
        elif outcome.status == "failed":
            done.failed.append(spec.id)
