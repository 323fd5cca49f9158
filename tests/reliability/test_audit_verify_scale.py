"""`verify` over 100,000 audit rows reads them a page at a time: memory stays flat.

Slow (run by `make soak`): the rows are written with their chain computed here and
inserted in bulk, then verified under tracemalloc."""

import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from core.audit_chain import GENESIS, row_hash, verify
from core.models import AuditEvent
from core.store import Store

ROWS = 100_000
START = datetime(2026, 11, 1, tzinfo=UTC)


def _chained_rows() -> list[dict[str, object]]:
    rows, prev = [], GENESIS
    for i in range(ROWS):
        fields = {
            "at": START + timedelta(seconds=i),
            "actor_id": None,
            "action": "po.approved",
            "entity": "purchase_order",
            "entity_id": f"PO{i:06d}",
            "data": {"i": i, "reason": "補貨", "qty": [i % 7, i / 3]},
        }
        digest = row_hash(prev, **fields)
        rows.append({**fields, "prev_hash": prev, "hash": digest})
        prev = digest
    return rows


@pytest.mark.slow
def test_verify_reads_100k_rows_in_pages(store: Store) -> None:
    with store.unit_of_work() as session:
        session.execute(sa.insert(AuditEvent.__table__), _chained_rows())  # type: ignore[attr-defined]
    tracemalloc.start()
    try:
        with store.read() as session:
            result = verify(session)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (result.ok, result.checked) == (True, ROWS)
    assert peak < 30 * 2**20, f"peak {peak / 2**20:.1f} MiB"  # all rows at once: far more
