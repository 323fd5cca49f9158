"""`replenish po export --status approved --format csv|json [--out FILE]`: purchase orders for
the ERP/WMS to take in.

CSV one row per PO line, JSON an array of POs with their lines, `approved_at` in the shop's
time zone (`timezone`, Asia/Taipei by default); the formats are core/po_export.py's.
"""

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from bot.cli_common import EXIT_REFUSED, ConfigOption, DbOption, LangOption, build_or_exit, errors
from core.models import PoStatus
from core.po_export import po_rows, to_csv, to_json  # shared with the PO webhook

BAD_STATUS = {
    "en": "Unknown status {status!r}; valid: {valid}.",
    "zh-TW": "不明的狀態 {status!r}；可用：{valid}。",
}


class Format(StrEnum):
    CSV = "csv"
    JSON = "json"


po_app = typer.Typer(no_args_is_help=True, help="Purchase orders.")


def register(app: typer.Typer) -> None:
    app.add_typer(po_app, name="po")


@po_app.command("export")
def export_command(
    status: Annotated[str, typer.Option("--status", help="Which POs (default approved).")] = (
        PoStatus.APPROVED.value
    ),
    format_: Annotated[Format, typer.Option("--format", help="csv or json.")] = Format.CSV,
    out: Annotated[Path | None, typer.Option("--out", help="File to write (default: stdout).")] = (
        None
    ),
    db: DbOption = None,
    config: ConfigOption = None,
    lang: LangOption = None,
) -> None:
    """Export POs of one status for the ERP/WMS: one CSV row per line, or JSON POs with lines."""
    valid = [s.value for s in PoStatus]
    if status not in valid:
        message = BAD_STATUS.get(lang or "zh-TW", BAD_STATUS["en"])
        errors.print(message.format(status=status, valid=", ".join(valid)), markup=False)
        raise typer.Exit(EXIT_REFUSED)
    application = build_or_exit(db, config, lang)
    with application.store.read() as session:
        rows = po_rows(session, PoStatus(status), application.settings.tz)
    data = to_csv(rows) if format_ is Format.CSV else to_json(rows)
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        out.write_bytes(data)
