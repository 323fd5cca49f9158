"""When jobs run: fixed intervals on a clock-aligned grid, and times of day (optionally on
one weekday) in the shop's time zone.

Every schedule answers two questions the same way in every process: the APScheduler
trigger that fires it, and `previous(now)` — the scheduled time of the run due at `now`.
A job's lease is keyed on that time, so two schedulers started at different moments still
agree on it. That is why interval grids are anchored (to 2000-01-03 00:00 local time) rather
than counted from each process's start: every 15 minutes means :00, :15, :30 and :45.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

ANCHOR = datetime(2000, 1, 3)  # a Monday at midnight (local), the origin of interval grids
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Every:
    """Every `seconds`, on a grid anchored at ANCHOR in the shop's time zone."""

    seconds: int

    def _origin(self, tz: tzinfo) -> datetime:
        return ANCHOR.replace(tzinfo=tz).astimezone(UTC)

    def trigger(self, tz: tzinfo) -> BaseTrigger:
        # In UTC, so the grid is absolute time (a DST change never shifts it).
        return IntervalTrigger(seconds=self.seconds, start_date=self._origin(tz), timezone=UTC)

    def previous(self, now: datetime, tz: tzinfo) -> datetime:
        origin = self._origin(tz)
        step = timedelta(seconds=self.seconds)
        return origin + ((now.astimezone(UTC) - origin) // step) * step

    @property
    def period(self) -> timedelta:
        return timedelta(seconds=self.seconds)


@dataclass(frozen=True)
class At:
    """Every day (or one weekday, 0 = Monday) at hour:minute, in the shop's time zone."""

    hour: int
    minute: int
    weekday: int | None = None

    def trigger(self, tz: tzinfo) -> BaseTrigger:
        day = "*" if self.weekday is None else DAYS[self.weekday]
        return CronTrigger(
            day_of_week=day, hour=self.hour, minute=self.minute, second=0, timezone=tz
        )

    def previous(self, now: datetime, tz: tzinfo) -> datetime:
        local = now.astimezone(tz)
        at = local.replace(hour=self.hour, minute=self.minute, second=0, microsecond=0)
        if self.weekday is not None:
            at -= timedelta(days=(local.weekday() - self.weekday) % 7)
        if at > local:
            at -= self.period
        return at.astimezone(UTC)

    @property
    def period(self) -> timedelta:
        return timedelta(days=1 if self.weekday is None else 7)


Schedule = Every | At


def next_run(schedule: Schedule, now: datetime, tz: tzinfo) -> datetime | None:
    """The next time the scheduler will fire `schedule` after `now`."""
    fire = schedule.trigger(tz).get_next_fire_time(None, now + timedelta(microseconds=1))
    return fire.astimezone(UTC) if fire is not None else None


def parse_daily(text: str) -> At:
    """ "09:00" → every day at 09:00."""
    found = _CLOCK.match(text.strip())
    if found is None:
        raise ValueError(f"expected a time of day as HH:MM (e.g. 09:00), not {text!r}")
    return At(int(found[1]), int(found[2]))


def parse_weekly(text: str) -> At:
    """ "mon 09:00" → Mondays at 09:00 (mon, tue, … sun; full English names work too)."""
    day, _, clock = text.strip().partition(" ")
    weekday = day.lower()[:3]
    if weekday not in DAYS or (len(day) > 3 and not _is_day_name(day)):
        raise ValueError(f"expected a weekday and HH:MM (e.g. mon 09:00), not {text!r}")
    at = parse_daily(clock)
    return At(at.hour, at.minute, DAYS.index(weekday))


def _is_day_name(word: str) -> bool:
    names = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    return word.lower() in names
