"""Refunds as negative sales lines on the order's own day, never more than the order has.

Why negative lines on the day of the sale: demand history is units sold per day (SalesDay,
read by core/state.py into the forecast), and core/demand_effects.bin_totals refuses a
negative day. A refunded unit was never demand, so it comes off the day it was sold; that
day then shows what the customer kept, and no day can go below zero. (Booked on the day it
came back, the sale would stay whole and the return day would go negative: the model has
no such day.) Each refund row copies the sold line's day, location, channel and price, so
revenue falls by what was sold, and lives under its own key `<order key>:refund:<id>`: an
order update, which replaces the sale lines, leaves it alone; a redelivered refund
replaces its own rows.

A refund never takes more than the order still has of that SKU at that location; the rest
is reported as unmatched (an order we never saw, a cancelled one, units refunded already).
When an update leaves an order with fewer units than its refunds take, the newest refund
rows give back the difference (`trim_refunds`).
"""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session

from core import fields as f
from core.fields import Problem
from core.models import SalesLine, Sku
from core.shop_events import (
    OrderEvent,
    OrderLine,
    OrderResult,
    RejectedLine,
    UnmatchedRefund,
    refund_key,
    refund_lines_of,
    remove_lines,
    sale_lines_of,
)

_COPIED = ("sku_id", "location_id", "channel", "ordered_at", "sale_date", "price")
Balance = dict[tuple[int, int], int]  # (sku id, location id) → units the order still has


def apply_refund(session: Session, event: OrderEvent, key: str, result: OrderResult) -> None:
    lines = SalesLine.__table__  # type: ignore[attr-defined]
    own = refund_key(key, event.refund_id)
    remove_lines(session, result, sa.and_(lines.c.order_id == own, lines.c.qty < 0))
    checked = _checked(session, event.lines, result)
    stored = _order_rows(session, key)
    balance = _balance(stored)
    new: list[dict[str, Any]] = []
    for line, sku_id, qty in checked:
        left = qty
        for sale in (r for r in stored if r.qty > 0 and r.sku_id == sku_id):
            take = min(left, balance[(sku_id, sale.location_id)])
            if take > 0:
                copied = {name: getattr(sale, name) for name in _COPIED}
                new.append({**copied, "order_id": own, "line_no": len(new) + 1, "qty": -take})
                balance[(sku_id, sale.location_id)] -= take
                left -= take
                result.days.add(sale.sale_date)
                result.skus.add(sale.code)
        if left:
            result.unmatched.append(UnmatchedRefund(line.line_id, line.sku.strip(), left))
    if new:
        session.execute(sa.insert(lines), new)
    result.stored += len(new)


def trim_refunds(session: Session, key: str, result: OrderResult) -> None:
    """Refund rows taking more than the order now has give it back, newest first."""
    lines = SalesLine.__table__  # type: ignore[attr-defined]
    stored = _order_rows(session, key)
    balance = _balance(stored)
    for row in sorted((r for r in stored if r.qty < 0), key=lambda r: r.id, reverse=True):
        where = (row.sku_id, row.location_id)
        back = min(-balance[where], -row.qty)
        if back <= 0:
            continue
        if back == -row.qty:
            session.execute(sa.delete(lines).where(lines.c.id == row.id))
        else:
            session.execute(sa.update(lines).where(lines.c.id == row.id).values(qty=row.qty + back))
        balance[where] += back
        result.days.add(row.sale_date)
        result.skus.add(row.code)


def _order_rows(session: Session, key: str) -> Sequence[sa.Row[Any]]:
    """The order's sale lines and refund lines, each with its SKU code."""
    lines = SalesLine.__table__  # type: ignore[attr-defined]
    skus = Sku.__table__  # type: ignore[attr-defined]
    query = (
        sa.select(lines, skus.c.code)
        .join(skus, skus.c.id == lines.c.sku_id)
        .where(sa.or_(sale_lines_of(key), refund_lines_of(key)))
        .order_by(lines.c.order_id, lines.c.line_no)
    )
    return session.execute(query).all()


def _balance(rows: Sequence[sa.Row[Any]]) -> Balance:
    balance: Balance = defaultdict(int)
    for row in rows:
        balance[(row.sku_id, row.location_id)] += row.qty
    return balance


def _checked(
    session: Session, lines: Sequence[OrderLine], result: OrderResult
) -> list[tuple[OrderLine, int, int]]:
    """(line, SKU id, units) for each refund line the import's rules accept; the others
    are reported as rejected, with the same problem codes as an import."""
    if not lines:
        return []
    codes = f.code("sku", pd.Series([line.sku for line in lines], dtype=str))
    units = f.positive_quantity("qty", pd.Series([line.qty for line in lines], dtype=str))
    known = _sku_ids(session, set(codes.values))
    accepted: list[tuple[OrderLine, int, int]] = []
    for i, line in enumerate(lines):
        code, qty = codes.values.iloc[i], units.values.iloc[i]
        problem = (
            _missing("sku", code)
            or _problem_at(codes.problems, i)
            or _missing("qty", line.qty.strip())
            or _problem_at(units.problems, i)
            or (None if code in known else Problem("unknown_sku", "sku", code))
        )
        if problem is not None:
            result.rejected.append(RejectedLine(line.line_id, line.sku, problem))
        else:
            accepted.append((line, known[code], int(qty)))
    return accepted


def _problem_at(problems: pd.Series, i: int) -> Problem | None:
    found = problems.iloc[i]
    return found if isinstance(found, Problem) else None  # None or NaN: no problem


def _missing(name: str, value: str) -> Problem | None:
    return Problem("missing", name, "") if value == "" else None


def _sku_ids(session: Session, codes: set[str]) -> dict[str, int]:
    skus = Sku.__table__  # type: ignore[attr-defined]
    found = session.execute(sa.select(skus.c.code, skus.c.id).where(skus.c.code.in_(codes)))
    return {code: sku_id for code, sku_id in found}
