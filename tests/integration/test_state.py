"""The planner's view of the database: the fast sales matrix equals a plain pandas pivot."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from core.imports import import_bytes
from core.ingest import Kind
from core.models import SalesDay, Sku
from core.state import load_state
from core.store import Store

TZ = ZoneInfo("Asia/Taipei")
FIRST = date(2026, 9, 1)


def _random_sales(seed: int, days: int = 80) -> str:
    rng = np.random.default_rng(seed)
    lines = ["order_id,line,sku,qty,timestamp,channel"]
    for number in range(600):
        day = FIRST + timedelta(days=int(rng.integers(0, days)))
        sku = f"S{int(rng.integers(0, 12)):02d}"
        channel = rng.choice(["line", "fb", "shop"])  # same SKU and day on several channels
        hour = int(rng.integers(0, 24))
        lines.append(f"O{number},1,{sku},{int(rng.integers(1, 9))},{day} {hour:02d}:30,{channel}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def sales_store(any_store: Store) -> Store:
    skus = "sku,name\n" + "".join(f"S{i:02d},商品{i}\n" for i in range(12))
    for kind, text in ((Kind.SKUS, skus), (Kind.SALES, _random_sales(5))):
        assert import_bytes(any_store, kind, text.encode(), tz=TZ).rejected == 0
    return any_store


def _pivot(store: Store, dates: pd.DatetimeIndex) -> np.ndarray:
    """The obvious way: every SalesDay row into pandas, pivoted."""
    with store.read() as session:
        rows = session.execute(sa.select(SalesDay.sku_id, SalesDay.day, SalesDay.qty)).all()
        ids = session.scalars(sa.select(Sku.id).order_by(Sku.id)).all()
    frame = pd.DataFrame(rows, columns=["sku_id", "day", "qty"])
    frame["day"] = pd.to_datetime(frame["day"])
    table = frame.pivot_table(index="sku_id", columns="day", values="qty", aggfunc="sum")
    return table.reindex(index=ids, columns=dates).fillna(0).to_numpy()


@pytest.mark.parametrize("as_of", [date(2026, 11, 19), date(2026, 10, 10)])
def test_sales_matrix_equals_a_pandas_pivot(sales_store: Store, as_of: date) -> None:
    with sales_store.read() as session:
        state = load_state(session, as_of, history_days=60, tz=TZ)
    expected = _pivot(sales_store, state.dates)
    assert state.sales.shape == (12, 60)
    assert state.sales.sum() > 0
    np.testing.assert_array_equal(state.sales, expected)
