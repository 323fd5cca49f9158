"""What a shop webhook tells us, in neutral terms, and the keys its lines are stored under.

An `OrderEvent` is one order as the shop sees it now, its cancellation, or one refund
(core/shop_orders.py applies it). Lines are SalesLine rows: an order's sale lines under
`<source>:<order id>`, each refund's lines under `<order key>:refund:<refund id>`.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session

from core.fields import Problem
from core.models import SalesLine, Sku

# The keys fit SalesLine.order_id (100): 30 + 1 + 40 + len(":refund:") + 20 = 99; longer
# order or refund ids are hashed.
SOURCE_MAX = 30
_ORDER_MAX, _REFUND_MAX = 40, 20


class EventKind(StrEnum):
    ORDER = "order"  # created or updated: these are now the order's lines
    CANCEL = "cancel"  # the order no longer counts as demand
    REFUND = "refund"  # these quantities came back


@dataclass(frozen=True)
class OrderLine:
    """One line as the platform wrote it; the import checks and types the cells."""

    line_id: str
    sku: str
    qty: str
    price: str = ""
    location: str = ""  # a location code; empty: the default location


@dataclass(frozen=True)
class OrderEvent:
    source: str  # "shopify" or a feeds.toml source; also the sales channel
    kind: EventKind
    order_id: str
    ordered_at: str = ""  # ISO 8601; an offset is honoured, none means the shop's time
    lines: tuple[OrderLine, ...] = ()
    refund_id: str = ""


@dataclass(frozen=True)
class RejectedLine:
    line_id: str
    sku: str
    problem: Problem


@dataclass(frozen=True)
class UnmatchedRefund:
    """Refunded units the order does not have (never seen, cancelled, refunded already)."""

    line_id: str
    sku: str
    qty: int


@dataclass
class OrderResult:
    stored: int = 0  # lines written (sale lines, or refund lines)
    removed: int = 0  # stored lines taken away (replaced or cancelled)
    skus: set[str] = field(default_factory=set)  # SKU codes whose demand changed
    rejected: list[RejectedLine] = field(default_factory=list)
    unmatched: list[UnmatchedRefund] = field(default_factory=list)
    # Days whose lines were removed or refunded: to rebuild (the import rebuilds its own).
    days: set[date] = field(default_factory=set)

    @property
    def affected_skus(self) -> list[str]:
        return sorted(self.skus)


def order_key(source: str, order_id: str) -> str:
    """SalesLine.order_id of an order's sale lines (refunds: `refund_key`)."""
    return f"{source}:{_bounded(order_id, _ORDER_MAX)}"


def refund_key(order: str, refund_id: str) -> str:
    return f"{order}:refund:{_bounded(refund_id, _REFUND_MAX)}"


def _bounded(part: str, limit: int) -> str:
    """An id as it is, or hashed when it would make the key too long for its column."""
    if len(part) <= limit:
        return part
    return "h" + hashlib.sha256(part.encode()).hexdigest()[: limit - 1]


def sale_lines_of(key: str) -> sa.ColumnElement[bool]:
    lines = SalesLine.__table__.c  # type: ignore[attr-defined]
    return sa.and_(lines.order_id == key, lines.qty > 0)


def refund_lines_of(key: str) -> sa.ColumnElement[bool]:
    """Every refund of the order; `qty < 0` so an order whose own id looks like a refund
    key of another is never taken for one."""
    lines = SalesLine.__table__.c  # type: ignore[attr-defined]
    return sa.and_(lines.order_id.startswith(f"{key}:refund:", autoescape=True), lines.qty < 0)


def remove_lines(session: Session, result: OrderResult, where: sa.ColumnElement[bool]) -> None:
    """Delete the matching lines; their days and SKUs count as changed."""
    lines = SalesLine.__table__  # type: ignore[attr-defined]
    skus = Sku.__table__  # type: ignore[attr-defined]
    found = session.execute(
        sa.select(lines.c.sale_date, skus.c.code)
        .join(skus, skus.c.id == lines.c.sku_id)
        .where(where)
    ).all()
    if not found:
        return
    session.execute(sa.delete(lines).where(where))
    result.removed += len(found)
    result.days.update(day for day, _ in found)
    result.skus.update(code for _, code in found)
