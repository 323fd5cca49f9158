"""The KPI part of the reports, as plain card data. The KPIs themselves are `core.kpi`'s: this
module only picks which ones a report shows, in what unit, and rounds them for JSON.

- Daily report: yesterday's value of each KPI against the mean of its daily values over
  the 7 days before, and 30 days of daily values for the trend chart.
- Weekly KPI report: the 7 days ending yesterday against the 7 days before (each a period
  of its own, so ratios are ratios of sums), with the counts behind them and 30 days of trend.
"""

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlmodel import Session

from core.kpi import kpi_dict, kpi_series, kpis

# What the reports show, in order, and how each reads: pct (a ratio shown in %), times
# (inventory turnover, annualised so that a day and a week compare) or minutes.
KPI_UNITS: dict[str, str] = {
    "inventory_turnover_annualised": "times",
    "stockout_rate": "pct",
    "fill_rate": "pct",
    "sales_growth": "pct",
    "otif": "pct",
    "approve_minutes_median": "minutes",
    "confirm_minutes_median": "minutes",
}
WEEKLY_EXTRA = {"approve_minutes_p90": "minutes", "confirm_minutes_p90": "minutes"}
TREND = (  # the chart's panels: at most six read well under the at-risk bars
    "inventory_turnover_annualised",
    "stockout_rate",
    "fill_rate",
    "sales_growth",
    "otif",
    "approve_minutes_median",
)
COUNTS = ("stockout_sku_days", "active_sku_days", "lines_received", "lines_otif", "emergencies")
TREND_DAYS = 30
AVERAGE_DAYS = 7
DIGITS = 4


def daily_kpis(session: Session, as_of: date, tz: ZoneInfo) -> dict[str, Any]:
    """`kpis`: yesterday and the 7-day average; `trend`: the last 30 days, day by day."""
    series = kpi_series(session, as_of, TREND_DAYS, tz=tz)
    names = [name for name in KPI_UNITS if name in series.columns]
    last = series.iloc[-1]
    before = series.iloc[-1 - AVERAGE_DAYS : -1]
    return {
        "kpis": {
            "yesterday": {name: rounded(last[name]) for name in names},
            "average_7d": {name: rounded(before[name].mean()) for name in names},
        },
        "trend": trend(series),
    }


def weekly_kpis(session: Session, end: date, tz: ZoneInfo) -> dict[str, Any]:
    """This week (7 days ending `end`) against the week before, with the counts behind."""
    start = end - timedelta(days=AVERAGE_DAYS - 1)
    current = flat(kpi_dict(kpis(session, start, end, tz=tz)))
    previous = flat(
        kpi_dict(kpis(session, start - timedelta(days=7), end - timedelta(days=7), tz=tz))
    )
    names = [*KPI_UNITS, *WEEKLY_EXTRA]
    return {
        "start": str(start),
        "end": str(end),
        "kpis": {
            "current": {name: rounded(current.get(name)) for name in names},
            "previous": {name: rounded(previous.get(name)) for name in names},
        },
        "counts": {name: current.get(name) for name in COUNTS},
        "trend": trend(kpi_series(session, end, TREND_DAYS, tz=tz)),
    }


def flat(data: dict[str, Any]) -> dict[str, Any]:
    """`approve_minutes: {median, p90, count}` → `approve_minutes_median`, … (the series'
    column names), so a week and a day name each KPI alike."""
    out = dict(data)
    for step in ("approve_minutes", "confirm_minutes"):
        for part, value in (data.get(step) or {}).items():
            out[f"{step}_{part}"] = value
    return out


def trend(series: pd.DataFrame) -> dict[str, Any]:
    names = [name for name in TREND if name in series.columns]
    return {
        "days": [str(pd.Timestamp(day).date()) for day in series["day"]],
        "series": {name: [rounded(v) for v in series[name]] for name in names},
        "units": {name: KPI_UNITS[name] for name in names},
    }


def rounded(value: Any) -> float | None:
    """JSON-safe: None for missing or not finite, else rounded."""
    if value is None:
        return None
    number = float(value)
    if pd.isna(number) or number in (float("inf"), float("-inf")):
        return None
    return round(number, DIGITS)


def units(name: str) -> str:
    return KPI_UNITS.get(name) or WEEKLY_EXTRA.get(name) or "number"
