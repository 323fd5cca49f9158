"""Report cards: the daily inventory report, the weekly KPIs and the exception report, from
the plain data `bot.reports` queues, in the reader's locale, with the chart drawn now.

One card, one image: the daily report's chart puts the at-risk bars and the KPI trends in
one figure (`bot.report_charts`). When no CJK font is installed the chart's labels are in
English and a zh-TW card says so in its footer.
"""

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from adapters.chat import Card, Field, Image, Table, Tone
from bot.charts import cjk_font
from bot.formats import DASH, canonical_locale, day, joined, money, number, to_decimal, when
from bot.i18n import t
from bot.report_charts import report_image
from bot.report_kpis import COUNTS as KPI_COUNTS
from bot.report_kpis import units

REDDEST = 5
EVENT_LINES = 20
EVENT_ICONS = {
    "po_declined": "❌",
    "po_overdue": "⏰",
    "price_escalation": "💲",
    "stockout": "🚫",
    "delivery_failed": "📭",
}


def report_card(data: Mapping[str, Any], locale: str, tz: ZoneInfo) -> Card:
    loc = canonical_locale(locale)
    kind = data.get("report")
    if kind == "exceptions":
        return exceptions_card(data, loc, tz)
    if kind == "kpi":
        return kpi_card(data, loc)
    return daily_card(data, loc, tz)


# --- daily ---------------------------------------------------------------------------------


def daily_card(data: Mapping[str, Any], loc: str, tz: ZoneInfo) -> Card:
    kpis = data.get("kpis") or {}
    return Card(
        title=t("report.daily.title", loc, day=day(data.get("as_of"), loc)),
        text="\n".join(_daily_lines(data, loc)),
        fields=_po_fields(data.get("pos") or {}, loc),
        table=_kpi_table(kpis.get("yesterday"), kpis.get("average_7d"), "daily", loc),
        image=_image(data, loc, t("report.daily.chart_alt", loc, n=len(data.get("at_risk") or []))),
        footer=(
            t("report.daily.window", loc, since=when(data.get("since"), loc, tz)),
            *_font_note(loc),
        ),
    )


def _daily_lines(data: Mapping[str, Any], loc: str) -> list[str]:
    colours = data.get("colours") or {}
    lines = [t("report.daily.colours", loc, skus=data.get("skus", 0), **_counts(colours))]
    reddest = [i for i in data.get("at_risk") or [] if i.get("colour") == "red"][:REDDEST]
    if reddest:
        named = [
            t(
                "report.daily.red_item",
                loc,
                sku=i.get("sku"),
                name=i.get("name") or "",
                cover=number(i.get("days_of_cover"), loc),
            )
            for i in reddest
        ]
        lines.append(t("report.daily.reddest", loc, items=joined(named, loc)))
    alerts = data.get("alerts") or {}
    new, resolved = alerts.get("new") or {}, alerts.get("resolved") or {}
    lines.append(
        t("report.daily.alerts", loc, new=sum(new.values()), resolved=sum(resolved.values()))
    )
    if new:
        lines.append(t("report.daily.new_kinds", loc, kinds=_kinds(new, loc)))
    return lines


def _counts(colours: Mapping[str, Any]) -> dict[str, int]:
    return {c: int(colours.get(c) or 0) for c in ("red", "orange", "green")}


def _kinds(counts: Mapping[str, int], loc: str) -> str:
    return joined((f"{t(f'signal.{kind}', loc)} {n}" for kind, n in counts.items()), loc)


def _po_fields(pos: Mapping[str, Any], loc: str) -> tuple[Field, ...]:
    return tuple(
        Field(t(f"report.po.{group}", loc), _po_value(pos.get(group) or {}, loc))
        for group in ("approval", "confirmation", "overdue")
    )


def _po_value(found: Mapping[str, Any], loc: str) -> str:
    count = int(found.get("count") or 0)
    numbers = [str(n) for n in found.get("numbers") or []]
    if not numbers:
        return str(count)
    more = "…" if count > len(numbers) else ""
    return t("report.po.numbers", loc, count=count, numbers=joined(numbers, loc), more=more)


# --- KPIs --------------------------------------------------------------------------------------


def kpi_card(data: Mapping[str, Any], loc: str) -> Card:
    kpis = data.get("kpis") or {}
    start, end = day(data.get("start"), loc), day(data.get("end"), loc)
    return Card(
        title=t("report.kpi.title", loc, start=start, end=end),
        text="\n".join((t("report.kpi.text", loc), _counts_line(data.get("counts") or {}, loc))),
        table=_kpi_table(kpis.get("current"), kpis.get("previous"), "weekly", loc),
        image=_image(data, loc, t("report.kpi.chart_alt", loc)),
        footer=_font_note(loc),
    )


def _counts_line(counts: Mapping[str, Any], loc: str) -> str:
    values = {name: number(counts.get(name), loc, 0) for name in KPI_COUNTS}
    return t("report.kpi.counts", loc, **values)


def _kpi_table(
    now: Mapping[str, Any] | None, before: Mapping[str, Any] | None, period: str, loc: str
) -> Table | None:
    if not now:
        return None
    before = before or {}
    columns = ("name", period, f"{period}_ref", "change")
    header = tuple(t(f"report.kpi.col.{c}", loc) for c in columns)
    rows = tuple(
        (
            t(f"report.kpi.{name}", loc),
            kpi_value(name, value, loc),
            kpi_value(name, before.get(name), loc),
            _change(name, value, before.get(name)),
        )
        for name, value in now.items()
        if value is not None or before.get(name) is not None  # no data either side: no row
    )
    return Table(header, rows)


def kpi_value(name: str, value: Any, loc: str) -> str:
    """A KPI as people read it: rates in %, turnover as ×, response times in minutes."""
    amount = to_decimal(value)
    if amount is None:
        return DASH
    unit = units(name)
    if unit == "pct":
        return f"{number(amount * 100, loc)}%"
    if unit == "times":
        return t("report.kpi.times", loc, n=number(amount, loc))
    if unit == "minutes":
        return t("report.kpi.minutes", loc, n=number(amount, loc, 0))
    if unit == "money":
        return money(amount, loc)
    return number(amount, loc, 2)


def _change(name: str, now: Any, before: Any) -> str:
    """▲/▼ with the difference (percentage points for rates); blank when either is missing."""
    a, b = to_decimal(now), to_decimal(before)
    if a is None or b is None or not a.is_finite() or not b.is_finite():
        return ""
    diff = a - b
    if diff == 0:
        return "＝"
    arrow = "▲" if diff > 0 else "▼"
    unit = units(name)
    size = abs(diff) * 100 if unit == "pct" else abs(diff)
    suffix = " pp" if unit == "pct" else ""
    return f"{arrow}{number(size, 'en', 1 if unit != 'minutes' else 0)}{suffix}"


# --- exceptions ----------------------------------------------------------------------------


def exceptions_card(data: Mapping[str, Any], loc: str, tz: ZoneInfo) -> Card:
    events = list(data.get("events") or [])
    count = int(data.get("count") or len(events))
    if not count:
        return Card(
            title=t("report.exc.title_none", loc), text=t("report.exc.none", loc), tone=Tone.GREEN
        )
    lines = [event_line(event, loc) for event in events[:EVENT_LINES]]
    more = count - len(lines)
    footer = [t("report.exc.at", loc, at=when(data.get("at"), loc, tz))]
    if more > 0:
        footer.insert(0, t("report.exc.more", loc, n=more))
    return Card(
        title=t("report.exc.title", loc, n=count),
        text="\n".join(lines),
        tone=Tone.RED,
        footer=tuple(footer),
    )


def event_line(event: Mapping[str, Any], loc: str) -> str:
    kind = str(event.get("kind") or "")
    params = {k: ("" if v is None else v) for k, v in event.items() if k not in ("kind", "key")}
    if kind == "po_overdue":
        params["expected_arrival"] = day(event.get("expected_arrival"), loc)
    if kind == "price_escalation":
        params["proposed"] = money(event.get("proposed"), loc)
        params["agreed"] = money(event.get("agreed"), loc)
    if kind == "po_declined" and not event.get("reason"):
        kind = "po_declined_plain"
    icon = EVENT_ICONS.get(kind.removesuffix("_plain"), "•")
    return f"{icon} {t(f'report.exc.{kind}', loc, **params)}"


# --- shared --------------------------------------------------------------------------------


def _image(data: Mapping[str, Any], loc: str, alt: str) -> Image | None:
    png = report_image(data, loc)
    if png is None:
        return None
    period = data.get("as_of") or data.get("end") or ""
    return Image(png, alt, filename=f"report-{data.get('report')}-{period}.png")


def _font_note(loc: str) -> tuple[str, ...]:
    return (t("report.chart.english_only", loc),) if loc != "en" and not cjk_font() else ()
