"""`replenish po export --status approved --format csv|json [--out FILE]`: purchase orders for
the ERP/WMS to take in.

CSV: one row per PO line, UTF-8 with a BOM (Excel in Taiwan opens it right), text cells made
safe for spreadsheets (a leading =, +, -, @ gets a quote, core/tabular.escape_formula). The
headers are English and stable (COLUMNS) whatever the locale: other programs read them.
JSON: an array of POs, each with its lines. Money is a decimal string (exact), dates ISO,
`approved_at` ISO in the shop's time zone (`timezone`, Asia/Taipei by default).
"""

import csv
import io
import json
import sys
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import typer
from sqlmodel import Session

from bot.cli_common import EXIT_REFUSED, ConfigOption, DbOption, LangOption, build_or_exit, errors
from core.models import PoLine, PoStatus, PurchaseOrder, Sku, Supplier, SupplierTerm
from core.outbox import as_utc
from core.tabular import escape_formula

COLUMNS = (
    "po_number",
    "supplier_code",
    "supplier_name",
    "status",
    "emergency",
    "sku",
    "supplier_sku",
    "qty",
    "unit_price",
    "line_total",
    "currency",
    "requested_arrival",
    "expected_arrival",
    "approved_at",
)
PO_FIELDS = (
    "po_number",
    "supplier_code",
    "supplier_name",
    "status",
    "emergency",
    "currency",
    "requested_arrival",
    "expected_arrival",
    "approved_at",
)
LINE_FIELDS = ("sku", "supplier_sku", "qty", "unit_price", "line_total")
TEXT = {"po_number", "supplier_code", "supplier_name", "sku", "supplier_sku", "currency"}
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


def po_rows(session: Session, status: PoStatus, tz: ZoneInfo) -> list[dict[str, Any]]:
    """One dict per PO line (COLUMNS), in PO number then SKU order."""
    po, line, sku, supplier = (m.__table__ for m in (PurchaseOrder, PoLine, Sku, Supplier))  # type: ignore[attr-defined]
    term = SupplierTerm.__table__  # type: ignore[attr-defined]
    query = (
        sa.select(
            po.c.number,
            supplier.c.code,
            supplier.c.name,
            po.c.status,
            po.c.emergency,
            sku.c.code,
            term.c.supplier_sku,
            line.c.qty,
            line.c.unit_price,
            po.c.currency,
            po.c.requested_arrival,
            po.c.expected_arrival,
            po.c.approved_at,
        )
        .select_from(po)
        .join(line, line.c.po_id == po.c.id)
        .join(sku, sku.c.id == line.c.sku_id)
        .join(supplier, supplier.c.id == po.c.supplier_id)
        .outerjoin(
            term, sa.and_(term.c.supplier_id == po.c.supplier_id, term.c.sku_id == line.c.sku_id)
        )
        .where(po.c.status == status.value)
        .order_by(po.c.number, sku.c.code)
    )
    rows = []
    for record in session.execute(query).all():
        (number, s_code, s_name, st, emergency, sku_code, s_sku, qty, price, currency) = record[:10]
        requested, expected, approved = record[10:]
        unit_price = Decimal(price)
        rows.append(
            {
                "po_number": number,
                "supplier_code": s_code,
                "supplier_name": s_name,
                "status": st,
                "emergency": bool(emergency),
                "sku": sku_code,
                "supplier_sku": s_sku or "",
                "qty": int(qty),
                "unit_price": unit_price,
                "line_total": unit_price * int(qty),
                "currency": currency,
                "requested_arrival": requested,
                "expected_arrival": expected,
                "approved_at": as_utc(approved).astimezone(tz) if approved else None,
            }
        )
    return rows


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def to_csv(rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(
            escape_formula(_text(row[c])) if c in TEXT else _text(row[c]) for c in COLUMNS
        )
    return buffer.getvalue().encode("utf-8-sig")


def to_json(rows: list[dict[str, Any]]) -> bytes:
    orders: dict[str, dict[str, Any]] = {}
    for row in rows:
        order = orders.setdefault(
            row["po_number"],
            {field: _json(row[field]) for field in PO_FIELDS} | {"lines": [], "total": Decimal(0)},
        )
        order["lines"].append({field: _json(row[field]) for field in LINE_FIELDS})
        order["total"] += row["line_total"]
    documents = [order | {"total": str(order["total"])} for order in orders.values()]
    return (json.dumps(documents, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _json(value: object) -> object:
    if isinstance(value, bool | int) or value is None:
        return value
    return _text(value)
