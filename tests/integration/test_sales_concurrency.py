"""Sales imports at once on one day (a shop's webhooks, a WMS push): every one lands and
the day's totals are the sum of all of them. On PostgreSQL the SalesDay rebuild of two
writers used to collide on its unique key (found by benchmarks/ingest_speed.py)."""

from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from core.imports import import_bytes
from core.ingest import Kind
from core.models import SalesDay, SalesLine
from core.store import Store

TZ = ZoneInfo("Asia/Taipei")
WRITERS, ORDERS = 8, 12


def _orders(writer: int) -> bytes:
    lines = ["order_id,line,sku,qty,timestamp,price"]
    for n in range(ORDERS):
        for line, sku in enumerate(("A1", "B2"), start=1):
            lines.append(f"W{writer}-{n},{line},{sku},{writer + 1},2026-11-24 10:{n:02d},100")
    return ("\n".join(lines) + "\n").encode()


def test_concurrent_sales_imports_on_one_day_all_land(any_store: Store) -> None:
    import_bytes(any_store, Kind.LOCATIONS, b"location,name,kind\nWH,WH,warehouse\n", tz=TZ)
    import_bytes(any_store, Kind.SKUS, b"sku,name\nA1,Towel\nB2,Brush\n", tz=TZ)
    with ThreadPoolExecutor(WRITERS) as pool:
        reports = list(
            pool.map(
                lambda w: import_bytes(any_store, Kind.SALES, _orders(w), tz=TZ), range(WRITERS)
            )
        )
    assert [r.imported for r in reports] == [ORDERS * 2] * WRITERS
    expected = sum(ORDERS * (w + 1) for w in range(WRITERS))  # per SKU
    with any_store.read() as session:
        lines = session.scalar(sa.select(sa.func.count()).select_from(SalesLine))
        per_sku = dict(
            session.execute(
                sa.select(SalesDay.sku_id, sa.func.sum(SalesDay.qty)).group_by(SalesDay.sku_id)
            ).all()
        )
    assert lines == WRITERS * ORDERS * 2
    assert sorted(per_sku.values()) == [expected, expected]
