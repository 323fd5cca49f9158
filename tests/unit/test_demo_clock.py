"""The demo clock and `/advance`'s plan: spans, the wall clock moved on (never back), and
which jobs run in an hour, in what order, as of when."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.app import App
from bot.demo_clock import Advancer, DemoClock, parse_span
from bot.settings import Settings

TAIPEI = ZoneInfo("Asia/Taipei")


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("1d", timedelta(days=1)),
        ("2h", timedelta(hours=2)),
        ("30m", timedelta(minutes=30)),
        ("1d12h", timedelta(days=1, hours=12)),
        (" 3 H ", timedelta(hours=3)),
        ("14d", timedelta(days=14)),
    ],
)
def test_spans_people_type(text: str, span: timedelta) -> None:
    assert parse_span(text) == span


@pytest.mark.parametrize("text", ["", "1", "d", "0h", "15d", "1w", "2h later", "-1d"])
def test_spans_refused(text: str) -> None:
    assert parse_span(text) is None


def test_the_clock_runs_with_the_wall_and_only_forward() -> None:
    wall = [datetime(2026, 11, 25, 9, 0, tzinfo=UTC)]
    clock = DemoClock(wall=lambda: wall[0])
    assert clock() == wall[0]
    clock.resume_at(wall[0] + timedelta(days=1))
    wall[0] += timedelta(minutes=5)
    assert clock() == datetime(2026, 11, 26, 9, 5, tzinfo=UTC)  # moved on, still running
    clock.pinned = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    assert clock() == clock.pinned  # while a job runs, its due time
    clock.resume_at(datetime(2026, 11, 20, tzinfo=UTC))  # never backwards
    assert clock() == datetime(2026, 11, 26, 9, 5, tzinfo=UTC)


def _advancer() -> Advancer:
    app = App(Settings(), store=None)  # type: ignore[arg-type]  # only the settings are read
    return Advancer(app, DemoClock(), {}, simulate=lambda _day: None)


def _local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TAIPEI).astimezone(UTC)


def test_an_hour_runs_each_due_job_once_in_time_then_registry_order() -> None:
    due = _advancer()._due(_local(26, 8), _local(26, 9))  # a Thursday, 08:00 → 09:00
    names = [(spec.id, when.astimezone(TAIPEI).strftime("%H:%M")) for when, spec in due]
    assert ("daily_report", "09:00") in names
    assert ("weekly_kpi", "09:00") not in names  # Mondays only
    assert ("stock_snapshot", "23:50") not in {(n, t) for n, t in names}
    assert [n for n, _ in names].count("sla_watchdog") == 1  # every minute, coalesced
    times = [when for when, _ in due]
    assert times == sorted(times)
    at_nine = [n for n, t in names if t == "09:00"]
    assert at_nine.index("monitor") < at_nine.index("outbox") < at_nine.index("daily_report")


def test_the_nightly_export_falls_in_the_hour_that_holds_23_00() -> None:
    advancer = _advancer()
    assert advancer._exports(_local(25, 22), _local(25, 23)) == [date(2026, 11, 25)]
    assert advancer._exports(_local(25, 23), _local(26, 0)) == []
    days = advancer._exports(_local(25, 9), _local(27, 9))
    assert days == [date(2026, 11, 25), date(2026, 11, 26)]
    late = [spec.id for _, spec in advancer._due(_local(25, 23), _local(26, 0))]
    assert "stock_snapshot" in late  # 23:50, after the 23:00 export
