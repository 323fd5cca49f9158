"""`replenish plan`, `replenish monitor` and `replenish simulate`: the engine on the CLI."""

import json
import math
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from bot import engine, simulation_inputs
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
from core.monitor import MonitorResult
from core.simulate import ITEM_COLUMNS, simulate

AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="Plan as of the end of this day (YYYY-MM-DD).")
]
JSON_FIELDS = [
    "sku",
    "on_hand",
    "on_order",
    "daily_demand",
    "demand_std",
    "demand_class",
    "lead_time_days",
    "safety_stock",
    "reorder_point",
    "eoq",
    "order_qty",
    "supplier",
    "days_of_cover",
    "pick_colour",
    "signals",
]


def register(app: typer.Typer) -> None:
    app.command("plan")(plan_command)
    app.command("monitor")(monitor_command)
    app.command("simulate")(simulate_command)


def _as_of(application: App, text: str | None) -> date:
    if text is None:
        return engine.default_as_of(application)
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.print(t("cli.bad_date", application.locale, option="--as-of", value=text))
        raise typer.Exit(EXIT_REFUSED) from None


def plan_command(
    as_json: Annotated[bool, typer.Option("--json", help="Every SKU as JSON.")] = False,
    as_of: AsOfOption = None,
    top: Annotated[int, typer.Option("--top", help="Show the N most urgent SKUs.")] = 20,
    db: DbOption = None,
    config: ConfigOption = None,
    lang: LangOption = None,
) -> None:
    """Forecast, reorder point, order quantity and pick colour for every SKU."""
    application = build_or_exit(db, config, lang)
    planned = engine.by_urgency(engine.current_plan(application, _as_of(application, as_of)))
    if as_json:
        rows = [_json_row(row) for row in planned[JSON_FIELDS].to_dict("records")]
        print(json.dumps(rows, ensure_ascii=False))
        return
    console.print(plan_table(planned.head(top), application.locale))


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    return {key: _json_value(value) for key, value in row.items()}


def _json_value(value: Any) -> Any:
    """Plain JSON: numpy scalars unwrapped, floats rounded, NaN null, infinity "inf"."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return round(value, 3) if math.isfinite(value) else "inf"
    return value


COLOUR_STYLE = {"red": "bold red", "orange": "dark_orange", "green": "green"}


def plan_table(planned: pd.DataFrame, locale: str) -> Table:
    columns = [
        "sku",
        "name",
        "on_hand",
        "on_order",
        "daily_demand",
        "demand_class",
        "lead_time_days",
        "reorder_point",
        "order_qty",
        "supplier",
        "days_of_cover",
        "pick_colour",
        "signals",
    ]
    table = Table(title=t("cli.plan.title", locale), title_justify="left")
    for column in columns:
        table.add_column(
            t(f"plan.{column}", locale), justify=_justify(column), no_wrap=column != "name"
        )
    for row in planned.to_dict("records"):
        style = COLOUR_STYLE.get(str(row["pick_colour"]), "")
        table.add_row(*(_cell(column, row[column], locale) for column in columns), style=style)
    return table


def _justify(column: str) -> Any:
    text = {"sku", "name", "demand_class", "supplier", "pick_colour", "signals"}
    return "left" if column in text else "right"


def _cell(column: str, value: Any, locale: str) -> str:
    if column == "signals":
        return t("list.separator", locale).join(t(f"signal.{kind}", locale) for kind in value)
    if column in ("pick_colour", "demand_class"):
        return t(f"{column}.{value}", locale)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "∞" if value > 0 else "-"
        return f"{value:,.1f}"
    return "" if value is None or value is pd.NA else str(value)


def monitor_command(
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
    as_of: AsOfOption = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
    lang: LangOption = None,
) -> None:
    """Run a monitor pass: open, update and resolve alerts, draft POs per supplier."""
    application = build_or_exit(db, config, lang)
    if not once:  # repeating passes is the scheduler's job (`replenish scheduler`)
        errors.print(t("cli.monitor.need_once", application.locale))
        raise typer.Exit(EXIT_REFUSED)
    result, _ = engine.run_monitor(application, _as_of(application, as_of))
    if as_json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
        return
    print_monitor(result, application.locale)


def print_monitor(result: MonitorResult, locale: str) -> None:
    console.print(
        t(
            "cli.monitor.summary",
            locale,
            opened=len(result.opened),
            updated=len(result.updated),
            resolved=len(result.resolved),
            drafted=len(result.drafted),
        )
    )
    for po in result.drafted:
        console.print(t("cli.monitor.drafted", locale, **po))


class Policy(StrEnum):
    DYNAMIC = "dynamic"
    MINMAX = "minmax"
    ORACLE = "oracle"


def simulate_command(
    demand: Annotated[Path, typer.Option("--demand", help="DEMAND.csv: date,sku,qty")],
    items: Annotated[Path, typer.Option("--items", help="ITEMS.csv: " + ",".join(ITEM_COLUMNS))],
    policy: Annotated[Policy, typer.Option("--policy")] = Policy.DYNAMIC,
    promotions: Annotated[
        Path | None, typer.Option("--promotions", help="PROMOS.csv: sku,start,end,uplift,name")
    ] = None,
    warmup_days: Annotated[int, typer.Option("--warmup-days", min=1)] = 56,
    service_level: Annotated[float, typer.Option("--service-level", min=0.5, max=0.999)] = 0.95,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    lang: LangOption = None,
) -> None:
    """Replay a demand history through a policy and report its costs and service."""
    locale = lang or "zh-TW"
    try:
        frames = simulation_inputs.read_all(demand, items, promotions)
        result = simulate(
            *frames, policy=policy.value, warmup_days=warmup_days, service_level=service_level
        )
    except simulation_inputs.InputError as exc:
        errors.print(t("cli.simulate.bad_input", locale, file=exc.file, reason=exc.reason))
        raise typer.Exit(EXIT_REFUSED) from exc
    except ValueError as exc:
        errors.print(t("cli.simulate.bad_input", locale, file="", reason=str(exc)))
        raise typer.Exit(EXIT_REFUSED) from exc
    metrics = result.as_dict()
    if as_json:
        print(json.dumps(metrics, ensure_ascii=False))
        return
    table = Table(title=t("cli.simulate.title", locale, policy=policy.value), title_justify="left")
    table.add_column(t("cli.simulate.metric", locale))
    table.add_column(t("cli.simulate.value", locale), justify="right")
    for name, value in metrics.items():
        shown = f"{value:,.4f}" if isinstance(value, float) else str(value)
        table.add_row(t(f"metric.{name}", locale), shown)
    console.print(table)
