"""The `replenish` command line."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bot import (
    cli_audit,
    cli_chat,
    cli_config,
    cli_engine,
    cli_feed,
    cli_jobs,
    cli_kpi,
    cli_members,
    cli_po,
    cli_report,
    cli_run,
    migrate,
    status,
)
from bot.app import App
from bot.cli_common import (
    EXIT_REFUSED,
    EXIT_REJECTED,
    ConfigOption,
    DbOption,
    LangOption,
    build_or_exit,
    console,
    errors,
)
from bot.demo import run_demo
from bot.i18n import t, table_error_text
from bot.importer import import_file
from core.ingest import SPECS, Kind
from core.tabular import TableError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Replenish: stock, forecasts and reorder decisions for group-buying shops.",
)
db_app = typer.Typer(no_args_is_help=True, help="Database schema (Alembic migrations).")
config_app = typer.Typer(no_args_is_help=True, help="Settings.")
app.add_typer(db_app, name="db")
app.add_typer(config_app, name="config")
cli_config.register(config_app)
cli_engine.register(app)
cli_members.register(app)
cli_chat.register(app)
cli_kpi.register(app)
cli_run.register(app)
cli_jobs.register(app)
cli_report.register(app)
cli_po.register(app)
cli_feed.register(app)
cli_audit.register(app)


@app.command("import")
def import_command(
    kind: Annotated[Kind, typer.Argument(help="What the file holds.")],
    file: Annotated[Path, typer.Argument(help="CSV or JSON, UTF-8 or Big5, may be .gz.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check only; write nothing.")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
    lang: LangOption = None,
) -> None:
    """Import skus, suppliers, terms, stock, sales, promotions or locations from a file."""
    application = build_or_exit(db, config, lang)
    locale = application.locale
    if not file.is_file():
        errors.print(t("cli.file_not_found", locale, path=file))
        raise typer.Exit(EXIT_REFUSED)
    try:
        result = import_file(application, kind, file, dry_run=dry_run)
    except TableError as exc:
        errors.print(
            t("cli.import.refused", locale, path=file, reason=table_error_text(exc, locale))
        )
        raise typer.Exit(EXIT_REFUSED) from exc
    summary = result.summary()
    if as_json:
        console.print_json(json.dumps(summary | {"dry_run": dry_run}, ensure_ascii=False))
    else:
        _print_import(summary, locale, dry_run)
    if result.report.rejected:
        raise typer.Exit(EXIT_REJECTED)


def _print_import(summary: dict[str, object], locale: str, dry_run: bool) -> None:
    console.print(t("cli.import.summary", locale, **summary))
    if summary["ignored_columns"]:
        columns = ", ".join(map(str, summary["ignored_columns"]))  # type: ignore[call-overload]
        console.print(t("cli.import.ignored", locale, columns=columns))
    if summary["rejects_file"]:
        console.print(t("cli.import.rejects_file", locale, path=summary["rejects_file"]))
    if dry_run:
        console.print(t("cli.import.dry_run", locale))


@app.command("formats")
def formats_command(
    kind: Annotated[Kind | None, typer.Argument(help="One kind; all when omitted.")] = None,
    lang: LangOption = None,
) -> None:
    """List the columns each import kind takes, with their Chinese and English aliases."""
    locale = lang or "zh-TW"
    for shown in [kind] if kind else list(Kind):
        table = Table(title=shown.value, title_justify="left")
        for header in ("cli.formats.column", "cli.formats.required", "cli.formats.aliases"):
            table.add_column(t(header, locale))
        for spec in SPECS[shown]:
            required = t("cli.formats.yes", locale) if spec.required else ""
            table.add_row(spec.name, required, ", ".join(spec.aliases[1:]))
        console.print(table)


@app.command("status")
def status_command(
    db: DbOption = None,
    config: ConfigOption = None,
    lang: LangOption = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show what the database holds."""
    application = build_or_exit(db, config, lang)
    snapshot = status.snapshot(application.store)
    if as_json:
        console.print_json(json.dumps(snapshot.as_dict(), ensure_ascii=False, default=str))
        return
    _print_status(application, snapshot)


def _print_status(application: App, snapshot: status.Snapshot) -> None:
    locale = application.locale
    url = application.store.engine.url.render_as_string(hide_password=True)
    console.print(t("cli.status.title", locale, url=url))
    table = Table()
    table.add_column(t("cli.status.table", locale))
    table.add_column(t("cli.status.rows", locale), justify="right")
    for name, count in snapshot.counts.items():
        table.add_row(t(f"entity.{name}", locale), f"{count:,}")
    console.print(table)
    if snapshot.first_sale:
        console.print(
            t(
                "cli.status.sales_range",
                locale,
                first=snapshot.first_sale,
                last=snapshot.last_sale,
                days=snapshot.sales_days,
            )
        )
    if snapshot.stock_as_of:
        as_of = snapshot.stock_as_of.astimezone(application.settings.tz)
        console.print(t("cli.status.stock_as_of", locale, as_of=f"{as_of:%Y-%m-%d %H:%M %Z}"))


@app.command("demo")
def demo_command(
    directory: Annotated[Path, typer.Option("--dir", help="Where the demo database goes.")] = Path(
        "demo"
    ),
    script: Annotated[
        Path | None,
        typer.Option("--script", help="Run these chat lines (with expect checks), then exit."),
    ] = None,
    lang: LangOption = None,
) -> None:
    """The sample shop in a console chat: fresh database, one monitor pass, then chat as any
    role (a pipe is read to its end; --script exits non-zero naming a failing line)."""
    code = run_demo(directory, lang, script)
    if code:
        raise typer.Exit(code)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument()] = "head",
    db: DbOption = None,
    config: ConfigOption = None,
    lang: LangOption = None,
) -> None:
    """Bring the database schema up to date (safe to run again)."""
    application = build_or_exit(db, config, lang, migrate_=False)
    migrate.upgrade(application.store, revision)
    current = migrate.current_revision(application.store)
    console.print(t("cli.db.upgraded", application.locale, revision=current))


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="e.g. base or -1")],
    db: DbOption = None,
    config: ConfigOption = None,
    lang: LangOption = None,
) -> None:
    """Step the schema back (destroys data in dropped tables)."""
    application = build_or_exit(db, config, lang, migrate_=False)
    migrate.downgrade(application.store, revision)
    current = migrate.current_revision(application.store)
    console.print(t("cli.db.downgraded", application.locale, revision=current or "base"))


@db_app.command("current")
def db_current(db: DbOption = None, config: ConfigOption = None, lang: LangOption = None) -> None:
    """Show the schema revision of the database and the one the code expects."""
    application = build_or_exit(db, config, lang, migrate_=False)
    store = application.store
    console.print(
        t(
            "cli.db.current",
            application.locale,
            current=migrate.current_revision(store) or "-",
            head=migrate.head_revision(store),
        )
    )


@config_app.command("show")
def config_show(config: ConfigOption = None, lang: LangOption = None) -> None:
    """Print the settings in force; secrets are shown masked."""
    application = build_or_exit(None, config, lang, migrate_=False)
    console.print(t("cli.config.title", application.locale))
    console.print_json(application.settings.model_dump_json())


if __name__ == "__main__":
    app()
