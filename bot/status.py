"""What the database holds, for `replenish status` and the demo."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from core.models import (
    Location,
    Promotion,
    PurchaseOrder,
    SalesDay,
    SalesLine,
    Sku,
    StockLevel,
    Supplier,
    SupplierTerm,
)
from core.store import Store

COUNTED: tuple[type[SQLModel], ...] = (
    Location,
    Sku,
    Supplier,
    SupplierTerm,
    StockLevel,
    SalesLine,
    SalesDay,
    Promotion,
    PurchaseOrder,
)


@dataclass(frozen=True)
class Snapshot:
    counts: dict[str, int]
    first_sale: date | None
    last_sale: date | None
    sales_days: int
    stock_as_of: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts,
            "first_sale": self.first_sale,
            "last_sale": self.last_sale,
            "sales_days": self.sales_days,
            "stock_as_of": self.stock_as_of,
        }


def snapshot(store: Store) -> Snapshot:
    with store.read() as session:
        counts = {
            model.__tablename__: session.scalar(  # type: ignore[attr-defined]
                sa.select(sa.func.count()).select_from(model)
            )
            or 0
            for model in COUNTED
        }
        first, last, days = session.execute(
            sa.select(
                sa.func.min(SalesDay.day),
                sa.func.max(SalesDay.day),
                sa.func.count(sa.distinct(SalesDay.day)),
            )
        ).one()
        as_of = session.scalar(sa.select(sa.func.max(StockLevel.as_of)))
    return Snapshot(counts, first, last, days or 0, as_of)
