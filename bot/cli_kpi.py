"""`replenish kpi --from --to [--supplier CODE] [--category X] [--json]`: the KPIs of any past
period (core/kpi.py defines them), as a table in the reader's language or as JSON."""

import json
from datetime import datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table
from sqlmodel import select

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
from bot.engine import default_as_of
from bot.i18n import t
from bot.kpi_text import kpi_rows, kpi_scope, kpi_title
from core.kpi import kpi_dict, kpis
from core.models import Supplier

DEFAULT_DAYS = 30


def register(app: typer.Typer) -> None:
    app.command("kpi")(kpi_command)


def kpi_command(
    start: Annotated[
        datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="First day (default: 30 days back)."),
    ] = None,
    end: Annotated[
        datetime | None,
        typer.Option("--to", formats=["%Y-%m-%d"], help="Last day (default: yesterday)."),
    ] = None,
    supplier: Annotated[
        str | None, typer.Option("--supplier", help="Supplier code: its SKUs and POs.")
    ] = None,
    category: Annotated[str | None, typer.Option("--category", help="SKU category.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the KPIs as JSON.")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
    lang: LangOption = None,
) -> None:
    """Inventory turnover, stockout rate, fill rate, sales growth, OTIF and emergency response
    time over a period (local days, both ends included), for all SKUs, a supplier or a category."""
    application = build_or_exit(db, config, lang)
    ui = application.locale
    last = end.date() if end else default_as_of(application)
    first = start.date() if start else last - timedelta(days=DEFAULT_DAYS - 1)
    if last < first:
        errors.print(t("cli.kpi.bad_period", ui, start=first, end=last))
        raise typer.Exit(EXIT_REFUSED)
    supplier_id = _supplier_id(application, supplier) if supplier else None
    with application.store.read() as session:
        k = kpis(
            session,
            first,
            last,
            tz=application.settings.tz,
            supplier_id=supplier_id,
            category=category,
        )
    if as_json:
        data = kpi_dict(k) | {"supplier": supplier, "category": category}
        console.print_json(json.dumps(data, ensure_ascii=False))
        return
    console.print(kpi_title(first, last, ui) + " · " + kpi_scope(ui, supplier, category))
    console.print(_table(kpi_rows(k, ui), ui))
    console.print(t("kpi.note", ui))


def _supplier_id(application: App, code: str) -> int:
    with application.store.read() as session:
        found = session.scalars(select(Supplier.id).where(Supplier.code == code)).first()
    if found is None:
        errors.print(t("cli.kpi.unknown_supplier", application.locale, code=code))
        raise typer.Exit(EXIT_REFUSED)
    return found


def _table(rows: list[tuple[str, str, str]], ui: str) -> Table:
    table = Table()
    table.add_column(t("kpi.col.name", ui))
    table.add_column(t("kpi.col.value", ui), justify="right")
    table.add_column(t("kpi.col.basis", ui))
    for row in rows:
        table.add_row(*row)
    return table
