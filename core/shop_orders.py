"""Shop order events (core/shop_events.py) into sales, in the caller's transaction.

`apply_order_event` is the one way a webhook's lines become sales: it returns what was
stored, removed, refused, and the SKU codes whose demand changed, so the caller can
re-plan exactly those after the commit.

How an event maps onto the sales model (SalesLine → SalesDay → forecast):
- An order's lines are stored under the order key, numbered 1..n in payload order. The
  sales import never updates a stored (order id, line) pair (it counts it as a duplicate),
  so an order event first *removes* every stored sale line of the order, then stores the
  payload's lines through the very import `replenish import` uses (core/imports.py): same
  checks, unknown SKUs rejected, SalesDay rebuilt. An update with a new quantity therefore
  leaves one line, with the new quantity; a line gone from the order is gone from demand.
- A cancelled order keeps nothing: its sale lines and its refunds are removed.
- A refund becomes negative lines on the order's own day (core/shop_refunds.py).
Days whose lines were removed or refunded are rebuilt here; the import rebuilds its own.
"""

import json
from collections.abc import Iterable
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from core.fields import Problem
from core.imports import import_in_session
from core.ingest import Kind
from core.models import SalesLine, Sku
from core.sales import lock_sales, rebuild_sales_days
from core.shop_events import (
    EventKind,
    OrderEvent,
    OrderLine,
    OrderResult,
    RejectedLine,
    order_key,
    refund_lines_of,
    remove_lines,
    sale_lines_of,
)
from core.shop_refunds import apply_refund, trim_refunds


def apply_order_event(
    session: Session, event: OrderEvent, *, tz: ZoneInfo, default_location: str = "WH"
) -> OrderResult:
    """Apply one event; see the module docstring."""
    key = order_key(event.source, event.order_id)
    result = OrderResult()
    lock_sales(session.connection())  # before its first delete: the import locks likewise
    if event.kind is EventKind.REFUND:
        apply_refund(session, event, key, result)
    else:
        remove_lines(session, result, sale_lines_of(key))
        if event.kind is EventKind.CANCEL:
            remove_lines(session, result, refund_lines_of(key))
        else:
            _store_lines(session, event, key, result, tz=tz, default_location=default_location)
            trim_refunds(session, key, result)  # an update may now sell less than was refunded
    rebuild_sales_days(session.connection(), result.days)
    return result


def _store_lines(
    session: Session,
    event: OrderEvent,
    key: str,
    result: OrderResult,
    *,
    tz: ZoneInfo,
    default_location: str,
) -> None:
    """The event's lines through the sales import; what it refuses is reported per line."""
    lines, repeated = _unique_lines(event.lines)
    result.rejected.extend(repeated)
    if not lines:
        return
    report = import_in_session(
        session,
        Kind.SALES,
        _sales_rows(event, key, lines),
        name="webhook.json",
        tz=tz,
        default_location=default_location,
    )
    refused = {int(row["row"]): row["problem"] for row in report.rejects.to_dict("records")}
    result.rejected.extend(
        RejectedLine(line.line_id, line.sku, refused[number])
        for number, line in enumerate(lines, start=1)
        if number in refused
    )
    result.stored += report.imported
    result.skus.update(_stored_codes(session, key))


def _unique_lines(lines: Iterable[OrderLine]) -> tuple[list[OrderLine], list[RejectedLine]]:
    """A line id given twice in one payload: the first counts, the repeat is reported."""
    kept: list[OrderLine] = []
    seen: set[str] = set()
    repeated: list[RejectedLine] = []
    for line in lines:
        if line.line_id and line.line_id in seen:
            problem = Problem("duplicate_key", "line", line.line_id)
            repeated.append(RejectedLine(line.line_id, line.sku, problem))
            continue
        seen.add(line.line_id)
        kept.append(line)
    return kept, repeated


def _sales_rows(event: OrderEvent, key: str, lines: list[OrderLine]) -> bytes:
    """The lines as a JSON table of the sales import's own columns."""
    rows = [
        {
            "order_id": key,
            "line": str(number),
            "sku": line.sku,
            "qty": line.qty,
            "timestamp": event.ordered_at,
            "channel": event.source,
            "price": line.price,
            "location": line.location,
        }
        for number, line in enumerate(lines, start=1)
    ]
    return json.dumps(rows, ensure_ascii=False).encode()


def _stored_codes(session: Session, key: str) -> set[str]:
    """The SKU codes as stored (the import normalises full-width codes)."""
    lines = SalesLine.__table__  # type: ignore[attr-defined]
    skus = Sku.__table__  # type: ignore[attr-defined]
    query = (
        sa.select(skus.c.code)
        .join(lines, lines.c.sku_id == skus.c.id)
        .where(sale_lines_of(key))
        .distinct()
    )
    return set(session.scalars(query))
