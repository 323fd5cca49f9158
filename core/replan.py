"""Targeted re-plans: a feed that changes a SKU's stock or sales asks for it to be planned
again (in the import's own transaction, so the request commits with the data); the
replan job takes the waiting SKUs and runs one monitor pass over just those.

A request that arrives while its SKU is being planned is not lost: taking reads each
SKU's `requested_at`, and finishing deletes only rows not requested again since.
"""

from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from core.models import ReplanRequest, utcnow

_TABLE = ReplanRequest.__table__  # type: ignore[attr-defined]


def request_replan(session: Session, sku_ids: Collection[int], now: datetime | None = None) -> None:
    """Ask for these SKUs to be planned again (a newer request moves the time forward)."""
    if not sku_ids:
        return
    at = now or utcnow()
    rows = [{"sku_id": int(sku_id), "requested_at": at} for sku_id in sorted(sku_ids)]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(_TABLE).values(rows)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["sku_id"], set_={"requested_at": insert.excluded.requested_at}
        )
    )


def waiting(session: Session, limit: int) -> dict[int, datetime]:
    """The oldest waiting SKUs and when each was last asked for (PostgreSQL: rows another
    replan run holds are skipped)."""
    query = sa.select(_TABLE.c.sku_id, _TABLE.c.requested_at)
    query = query.order_by(_TABLE.c.requested_at, _TABLE.c.sku_id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return {int(sku_id): at for sku_id, at in session.execute(query).all()}


def finish(session: Session, taken: dict[int, datetime]) -> None:
    """Drop the requests the pass answered; one made again meanwhile stays."""
    for sku_id, at in taken.items():
        session.execute(
            sa.delete(_TABLE).where(_TABLE.c.sku_id == sku_id, _TABLE.c.requested_at <= at)
        )
