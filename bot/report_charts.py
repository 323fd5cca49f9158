"""The report charts (matplotlib, Agg): the ten SKUs most at risk and the KPI trends.

They are drawn from the report's plain card data when the card is delivered, so an outbox
row holds numbers, never PNG bytes. The daily report is one image: the at-risk bars on top,
one small panel per KPI below. Chinese labels need a CJK font (`bot.charts.cjk_font`); with
none installed every label is English and SKU names are left out (codes stay), so a chart
never shows empty boxes. `fmt="pdf"` gives the same figure as a PDF page.
"""

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no screen on servers; must precede pyplot

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from bot.charts import chart_locale, cjk_font
from bot.i18n import t

BAR_COLOURS = {"red": "#C44E52", "orange": "#DD8452", "green": "#55A868"}
REORDER_COLOUR = "#BBBBBB"
LINE_COLOUR = "#4C72B0"
NAME_CHARS = 10  # of a SKU name beside its code, where CJK can be drawn
DPI = 100


def report_image(data: Mapping[str, Any], locale: str, *, fmt: str = "png") -> bytes | None:
    """The report's chart in `fmt` (png or pdf); None when the report has nothing to draw."""
    lang = chart_locale(locale)
    return draw(data, lang, cjk_font() if lang != "en" else None, fmt=fmt)


def draw(data: Mapping[str, Any], lang: str, font: str | None, *, fmt: str = "png") -> bytes | None:
    """`lang` labels in `font` (None: DejaVu Sans only). `report_image` picks both so that
    every glyph exists; a test calls this directly to prove a wrong pick is caught."""
    at_risk = list(data.get("at_risk") or [])
    panels = trend_panels(data.get("trend") or {})
    if not at_risk and not panels:
        return None
    families = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    with plt.rc_context({"font.family": families, "font.size": 9}):
        figure = _figure(at_risk, panels, data, lang)
        try:
            buffer = io.BytesIO()
            figure.savefig(buffer, format=fmt, dpi=DPI)
            return buffer.getvalue()
        finally:
            plt.close(figure)


Panel = tuple[str, str, list[str], list[float | None]]  # name, unit, day labels, values


def trend_panels(trend: Mapping[str, Any]) -> list[Panel]:
    """One panel per KPI series that has at least one value, in the order given."""
    days = [str(d)[5:10].replace("-", "/") for d in trend.get("days") or []]
    units = trend.get("units") or {}
    panels: list[Panel] = []
    for name, values in (trend.get("series") or {}).items():
        clean = [_finite(v) for v in values]
        if any(v is not None for v in clean) and len(clean) == len(days):
            panels.append((name, str(units.get(name, "number")), days, clean))
    return panels


def _finite(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _figure(at_risk: list[Any], panels: list[Panel], data: Mapping[str, Any], lang: str) -> Figure:
    columns = 3 if len(panels) > 4 else max(min(len(panels), 2), 1)
    trend_rows = math.ceil(len(panels) / columns) if panels else 0
    bar_rows = 2 if at_risk else 0
    figure = plt.figure(figsize=(9.0, 2.2 * bar_rows + 2.3 * trend_rows + 0.6), dpi=DPI)
    grid = figure.add_gridspec(bar_rows + trend_rows, columns)
    if at_risk:
        _at_risk(figure.add_subplot(grid[0:2, :]), at_risk, lang)
    for index, panel in enumerate(panels):
        row, column = divmod(index, columns)
        _trend(figure.add_subplot(grid[bar_rows + row, column]), panel, lang)
    figure.suptitle(_title(data, lang), fontsize=11)
    figure.tight_layout()
    return figure


def _title(data: Mapping[str, Any], lang: str) -> str:
    if data.get("report") == "kpi":
        return t("report.chart.kpi_title", lang, start=data.get("start"), end=data.get("end"))
    return t("report.chart.daily_title", lang, day=data.get("as_of"))


def _at_risk(axis: Axes, items: list[Mapping[str, Any]], lang: str) -> None:
    """Position (coloured by pick colour) over the reorder point (grey), most urgent on top."""
    items = items[::-1]  # barh draws bottom-up
    rows = range(len(items))
    positions = [_finite(i.get("position")) or 0.0 for i in items]
    points = [_finite(i.get("reorder_point")) or 0.0 for i in items]
    colours = [BAR_COLOURS.get(str(i.get("colour")), LINE_COLOUR) for i in items]
    axis.barh(rows, points, height=0.8, color=REORDER_COLOUR, label=t("report.chart.rop", lang))
    axis.barh(rows, positions, height=0.45, color=colours, label=t("report.chart.position", lang))
    axis.set_yticks(list(rows), [sku_label(i, lang, len(items) - n) for n, i in enumerate(items)])
    for row, position, point in zip(rows, positions, points, strict=True):
        axis.annotate(
            f"{position:,.0f} / {point:,.0f}",
            (max(position, point, 0.0), row),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=7,
            color="#555555",
        )
    axis.margins(x=0.12)
    axis.axvline(0, color="#333333", linewidth=0.8)
    axis.set_title(t("report.chart.at_risk", lang, n=len(items)), loc="left")
    axis.legend(loc="lower right", fontsize="small", frameon=False)
    axis.grid(axis="x", alpha=0.3)


def sku_label(item: Mapping[str, Any], lang: str, rank: int) -> str:
    """`MLK-028 台東初鹿鮮乳…` where CJK can be drawn; else the code alone (or `#3` for a
    code that is not plain ASCII)."""
    code = str(item.get("sku") or "")
    if lang == "en":
        return code if code and code.isascii() else f"#{rank}"
    name = str(item.get("name") or "")
    short = name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"
    return f"{code} {short}".strip()


def _trend(axis: Axes, panel: Panel, lang: str) -> None:
    name, unit, days, values = panel
    xs = [n for n, v in enumerate(values) if v is not None]
    ys = [v for v in values if v is not None]
    axis.plot(xs, ys, color=LINE_COLOUR, marker="." if len(xs) < 12 else None, linewidth=1.4)
    axis.set_title(t(f"report.kpi.{name}", lang), loc="left", fontsize=9)
    axis.set_xlim(-0.5, len(days) - 0.5)
    ticks = _ticks(len(days))
    axis.set_xticks(ticks, [days[n] for n in ticks], fontsize=7)
    axis.yaxis.set_major_locator(MaxNLocator(4))
    if unit == "pct":  # decimals chosen from the axis range: 1.5%, not 2% twice
        axis.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    else:
        axis.ticklabel_format(axis="y", useOffset=False, style="plain")
    axis.tick_params(axis="y", labelsize=7)
    axis.grid(alpha=0.3)


def _ticks(count: int, most: int = 4) -> Sequence[int]:
    if count <= most:
        return list(range(count))
    step = math.ceil((count - 1) / (most - 1))
    return sorted({*range(0, count, step), count - 1})
