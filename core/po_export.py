"""Purchase orders as the ERP/WMS takes them in: the one serializer behind
`replenish po export` (CSV and JSON) and the PO webhook (core/po_webhook.py).

CSV: one row per PO line, UTF-8 with a BOM (Excel in Taiwan opens it right), text cells made
safe for spreadsheets (a leading =, +, -, @ gets a quote, core/tabular.escape_formula). The
headers are English and stable (COLUMNS) whatever the locale: other programs read them.
JSON: one document per PO, with its lines. Money is a decimal string (exact), dates ISO,
`approved_at` ISO in the shop's time zone.
"""

import csv
import io
import json
from collections.abc import Collection
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

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


def po_rows(
    session: Session,
    status: PoStatus | None,
    tz: ZoneInfo,
    *,
    numbers: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """One dict per PO line (COLUMNS), in PO number then SKU order: the POs of one `status`
    and/or the ones named in `numbers` (None: no filter on that)."""
    po, line = PurchaseOrder.__table__, PoLine.__table__  # type: ignore[attr-defined]
    sku, supplier = Sku.__table__, Supplier.__table__  # type: ignore[attr-defined]
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
        .order_by(po.c.number, sku.c.code)
    )
    if status is not None:
        query = query.where(po.c.status == status.value)
    if numbers is not None:
        query = query.where(po.c.number.in_(sorted(numbers)))
    return [_row(record, tz) for record in session.execute(query).all()]


def _row(record: Any, tz: ZoneInfo) -> dict[str, Any]:
    (number, s_code, s_name, st, emergency, sku_code, s_sku, qty, price, currency) = record[:10]
    requested, expected, approved = record[10:]
    unit_price = Decimal(price)
    return {
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


def text(value: object) -> str:
    """A cell as text: None empty, booleans lower-case, dates and times ISO."""
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
            escape_formula(text(row[c])) if c in TEXT else text(row[c]) for c in COLUMNS
        )
    return buffer.getvalue().encode("utf-8-sig")


def po_documents(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows grouped into one JSON-ready document per PO, its lines and its total."""
    orders: dict[str, dict[str, Any]] = {}
    for row in rows:
        order = orders.setdefault(
            row["po_number"],
            {field: _json(row[field]) for field in PO_FIELDS} | {"lines": [], "total": Decimal(0)},
        )
        order["lines"].append({field: _json(row[field]) for field in LINE_FIELDS})
        order["total"] += row["line_total"]
    return [order | {"total": str(order["total"])} for order in orders.values()]


def po_document(session: Session, number: str, tz: ZoneInfo) -> dict[str, Any] | None:
    """One PO as `po export --format json` writes it (None: no such PO, or no lines)."""
    documents = po_documents(po_rows(session, None, tz, numbers=[number]))
    return documents[0] if documents else None


def to_json(rows: list[dict[str, Any]]) -> bytes:
    documents = po_documents(rows)
    return (json.dumps(documents, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _json(value: object) -> object:
    if isinstance(value, bool | int) or value is None:
        return value
    return text(value)
