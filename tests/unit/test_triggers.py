"""Schedules: the scheduled time of a run is the same in every process (the lease key), and
the settings that name times are checked when read."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pydantic
import pytest

from bot.jobs import JOBS, daily_report_at, job_named, monitor_every, weekly_kpi_at
from bot.settings import SchedulerSettings, Settings
from bot.triggers import At, Every, next_run, parse_daily, parse_weekly

TZ = ZoneInfo("Asia/Taipei")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)  # type: ignore[misc]


WEDNESDAY = local(2026, 3, 4, 10, 7, 30)


def test_an_interval_is_a_clock_grid_not_counted_from_each_start() -> None:
    quarter = Every(15 * 60)
    assert quarter.previous(WEDNESDAY, TZ) == local(2026, 3, 4, 10, 0)
    assert quarter.previous(local(2026, 3, 4, 10, 15), TZ) == local(2026, 3, 4, 10, 15)
    assert next_run(quarter, WEDNESDAY, TZ) == local(2026, 3, 4, 10, 15)
    # Two processes started 7 s apart fire on the same grid, so they agree on the run.
    trigger = quarter.trigger(TZ)
    first = trigger.get_next_fire_time(None, WEDNESDAY)
    second = trigger.get_next_fire_time(None, WEDNESDAY + timedelta(seconds=7))
    assert first == second == local(2026, 3, 4, 10, 15)
    assert quarter.previous(first, TZ) == first  # the firing's own time is its scheduled time


def test_every_minute_and_every_five_seconds() -> None:
    assert Every(60).previous(WEDNESDAY, TZ) == local(2026, 3, 4, 10, 7)
    assert Every(5).previous(WEDNESDAY, TZ) == local(2026, 3, 4, 10, 7, 30)
    assert Every(5).previous(WEDNESDAY + timedelta(seconds=4.9), TZ) == WEDNESDAY


def test_a_daily_time_before_and_after_it_has_come() -> None:
    nine = parse_daily("09:00")
    assert nine == At(9, 0)
    assert nine.previous(WEDNESDAY, TZ) == local(2026, 3, 4, 9, 0)
    assert nine.previous(local(2026, 3, 4, 8, 59), TZ) == local(2026, 3, 3, 9, 0)
    assert nine.previous(local(2026, 3, 4, 9, 0), TZ) == local(2026, 3, 4, 9, 0)
    assert next_run(nine, WEDNESDAY, TZ) == local(2026, 3, 5, 9, 0)
    assert nine.previous(WEDNESDAY, TZ).tzinfo == UTC  # stored as UTC (the lease key)


def test_a_weekly_time_is_the_last_such_weekday() -> None:
    monday = parse_weekly("mon 09:00")
    assert monday == At(9, 0, 0)
    assert monday.previous(WEDNESDAY, TZ) == local(2026, 3, 2, 9, 0)
    assert monday.previous(local(2026, 3, 2, 8, 0), TZ) == local(2026, 2, 23, 9, 0)
    assert monday.previous(local(2026, 3, 2, 9, 30), TZ) == local(2026, 3, 2, 9, 0)
    assert next_run(monday, WEDNESDAY, TZ) == local(2026, 3, 9, 9, 0)
    assert parse_weekly("Friday 17:30") == At(17, 30, 4)


@pytest.mark.parametrize("text", ["9", "24:00", "09:60", "nine", ""])
def test_a_bad_time_of_day_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        parse_daily(text)


@pytest.mark.parametrize("text", ["09:00", "xyz 09:00", "monx 09:00", "mon 9h"])
def test_a_bad_weekly_time_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        parse_weekly(text)


def test_scheduler_settings_defaults_and_validation() -> None:
    settings = Settings().scheduler
    assert settings == SchedulerSettings(
        enabled=True, monitor_interval_minutes=15, daily_report_time="09:00", weekly_kpi="mon 09:00"
    )
    assert monitor_every(settings) == Every(900)
    assert daily_report_at(settings) == At(9, 0)
    assert weekly_kpi_at(settings) == At(9, 0, 0)
    with pytest.raises(pydantic.ValidationError, match="HH:MM"):
        SchedulerSettings(daily_report_time="25:00")
    with pytest.raises(pydantic.ValidationError, match="weekday"):
        SchedulerSettings(weekly_kpi="someday 09:00")
    with pytest.raises(pydantic.ValidationError):
        SchedulerSettings(monitor_interval_minutes=0)


def test_scheduler_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLENISH_SCHEDULER__MONITOR_INTERVAL_MINUTES", "5")
    monkeypatch.setenv("REPLENISH_SCHEDULER__ENABLED", "false")
    settings = Settings().scheduler
    assert (settings.monitor_interval_minutes, settings.enabled) == (5, False)


def test_the_registry() -> None:
    ids = [spec.id for spec in JOBS]
    assert len(ids) == len(set(ids))
    expected = {"monitor", "outbox", "sla_watchdog", "daily_report", "weekly_kpi", "drop_folder"}
    assert expected <= set(ids)
    caught_up = {spec.id for spec in JOBS if spec.catch_up}
    assert caught_up == {"daily_report", "weekly_kpi", "stock_snapshot"}  # late, not skipped
    outbox = job_named("outbox")
    assert outbox is not None
    assert outbox.lease_ttl is None  # row claims, not a lease (see bot/jobs.py)
    for spec in JOBS:
        grace = spec.misfire_grace.total_seconds()
        assert grace > 0
        period = spec.schedule(SchedulerSettings()).period.total_seconds()
        assert grace <= period  # a late run never lands on top of the next one
        if spec.lease_ttl is not None:
            assert spec.lease_ttl.total_seconds() >= 60
