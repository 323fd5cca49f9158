"""Taiwan's working calendar: public holidays (the `holidays` package) and working days.

Supplier lead times are counted in working days, so an order placed before 春節 arrives
after the closure, not during it. Weekends are Saturday and Sunday.
"""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import pandas as pd

WEEKMASK = "1111100"  # Monday to Friday


@lru_cache(maxsize=32)
def _holidays(years: tuple[int, ...], country: str) -> tuple[date, ...]:
    return tuple(sorted(holidays.country_holidays(country, years=list(years))))


def public_holidays(years: Iterable[int], country: str = "TW") -> np.ndarray:
    """Public holidays of the given years as datetime64[D], sorted."""
    return np.array(_holidays(tuple(sorted(set(years))), country), dtype="datetime64[D]")


def is_holiday(days: pd.DatetimeIndex | pd.Series, country: str = "TW") -> np.ndarray:
    """True for each day that is a public holiday (weekends are not, by themselves)."""
    values = pd.DatetimeIndex(days).values.astype("datetime64[D]")
    if values.size == 0:
        return np.zeros(0, dtype=bool)
    years = range(int(str(values.min())[:4]), int(str(values.max())[:4]) + 1)
    return np.isin(values, public_holidays(years, country))


def add_working_days(
    start: np.ndarray | date, days: np.ndarray | float, country: str = "TW"
) -> np.ndarray:
    """The working day `days` working days after `start` (vectorised; partial days round up).

    An order placed on a non-working day starts counting from the next working day.
    """
    starts = np.asarray(start, dtype="datetime64[D]")
    counts = np.ceil(np.asarray(days, dtype="float64")).astype("int64")
    first_year = int(str(starts.min())[:4])
    calendar = np.busdaycalendar(
        weekmask=WEEKMASK, holidays=public_holidays(range(first_year, first_year + 3), country)
    )
    return np.busday_offset(starts, counts, roll="forward", busdaycal=calendar)


def calendar_days_between(start: np.ndarray | date, end: np.ndarray) -> np.ndarray:
    return (
        np.asarray(end, dtype="datetime64[D]") - np.asarray(start, dtype="datetime64[D]")
    ).astype("int64")


# --- working hours (supplier SLAs) ----------------------------------------------------------

TAIPEI = ZoneInfo("Asia/Taipei")
OFFICE_HOURS = (time(9), time(18))  # a supplier's office day in Taiwan


def local_today(tz: ZoneInfo = TAIPEI) -> date:
    return datetime.now(tz).date()


def is_working_day(day: date, country: str = "TW") -> bool:
    return day.weekday() < 5 and day not in _holidays((day.year,), country)


def working_hours_between(start: datetime, end: datetime, tz: ZoneInfo = TAIPEI) -> float:
    """Office hours (09:00–18:00 on Taiwan working days) between two aware datetimes: an SLA
    clock that stops overnight, at weekends and on public holidays. 0 when end ≤ start."""
    start, end = start.astimezone(tz), end.astimezone(tz)
    seconds = 0.0
    day = start.date()
    while day <= end.date():
        if is_working_day(day):
            opens = datetime.combine(day, OFFICE_HOURS[0], tz)
            closes = datetime.combine(day, OFFICE_HOURS[1], tz)
            seconds += max((min(end, closes) - max(start, opens)).total_seconds(), 0.0)
        day += timedelta(days=1)
    return seconds / 3600
