"""`replenish report daily|kpi|exceptions`: a report printed as text, its chart written to
`--out` as PNG or PDF (`--format`, or the file's extension). Nothing is queued."""

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from adapters.chat import Card
from adapters.text_table import table_lines
from bot.app import App
from bot.cli_common import (
    EXIT_REFUSED,
    ConfigOption,
    DbOption,
    LangOption,
    build_or_exit,
    console,
    errors,
)
from bot.i18n import t
from bot.report_cards import report_card
from bot.report_charts import report_image
from bot.reports import report_data
from core.models import utcnow

REPORT_HOUR = time(9, 0)  # --as-of D reports as the scheduler would, at 09:00 the day after


class ReportKind(StrEnum):
    DAILY = "daily"
    KPI = "kpi"
    EXCEPTIONS = "exceptions"


class ImageFormat(StrEnum):
    PNG = "png"
    PDF = "pdf"


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)


def report_command(
    kind: Annotated[ReportKind, typer.Argument(help="daily, kpi or exceptions.")] = (
        ReportKind.DAILY
    ),
    out: Annotated[Path | None, typer.Option("--out", help="Write the chart here.")] = None,
    fmt: Annotated[
        ImageFormat | None,
        typer.Option("--format", help="png or pdf (default: from --out's extension, else png)."),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The report's day (YYYY-MM-DD); yesterday.")
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    lang: LangOption = None,
) -> None:
    """Print a report (daily inventory, weekly KPIs, exceptions) and write its chart."""
    application = build_or_exit(db, config, lang)
    locale = application.locale
    now = _now(application, as_of)
    data = report_data(application, kind.value, now)
    _print_card(report_card(data, locale, application.settings.tz))
    if out is None:
        return
    chosen = fmt or (ImageFormat.PDF if out.suffix.lower() == ".pdf" else ImageFormat.PNG)
    image = report_image(data, locale, fmt=chosen.value)
    if image is None:
        errors.print(t("report.cli.no_chart", locale))
        raise typer.Exit(EXIT_REFUSED)
    out.write_bytes(image)
    console.print(t("report.cli.written", locale, path=out))


def _now(application: App, as_of: str | None) -> datetime:
    if as_of is None:
        return utcnow()
    try:
        day = date.fromisoformat(as_of)
    except ValueError as exc:
        errors.print(t("cli.bad_date", application.locale, option="--as-of", value=as_of))
        raise typer.Exit(EXIT_REFUSED) from exc
    return datetime.combine(day + timedelta(days=1), REPORT_HOUR, application.settings.tz)


def _print_card(card: Card) -> None:
    console.rule(card.title)
    if card.text:
        console.print(card.text, markup=False)
    for field in card.fields:
        console.print(f"{field.label}: {field.value}", markup=False)
    if card.table:
        for line in table_lines(card.table):
            console.print(line, markup=False)
    for line in card.footer:
        console.print(line, markup=False, style="dim")
