"""SQLite is tuned for several processes: WAL, busy timeout, foreign keys, BEGIN IMMEDIATE."""

import threading
import time

import pytest
import sqlalchemy as sa

from core.models import Location, Sku, StockLevel
from core.store import Store, normalise_url


def _pragma(store: Store, name: str) -> object:
    with store.engine.connect() as connection:
        return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_sqlite_pragmas(store: Store) -> None:
    assert _pragma(store, "journal_mode") == "wal"
    assert _pragma(store, "foreign_keys") == 1
    assert _pragma(store, "busy_timeout") == 30_000


def test_foreign_keys_are_enforced(store: Store) -> None:
    with pytest.raises(sa.exc.IntegrityError), store.unit_of_work() as session:
        session.add(StockLevel(sku_id=999, location_id=999, on_hand=1, as_of=sa.func.now()))


def _add_sku_then_fail(store: Store) -> None:
    with store.unit_of_work() as session:
        session.add(Sku(code="A1", name="鮮乳"))
        session.flush()
        raise RuntimeError("boom")


def test_unit_of_work_rolls_back_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError):
        _add_sku_then_fail(store)
    with store.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Sku)) == 0


def test_writers_queue_instead_of_failing(store: Store) -> None:
    """Two write transactions at once: the second waits for the first (BEGIN IMMEDIATE)."""
    first_holds_lock = threading.Event()
    order: list[str] = []

    def first() -> None:
        with store.unit_of_work() as session:
            session.add(Location(code="A"))
            session.flush()
            first_holds_lock.set()
            time.sleep(0.3)
            order.append("first")

    thread = threading.Thread(target=first)
    thread.start()
    first_holds_lock.wait(5)
    with store.unit_of_work() as session:
        order.append("second")
        session.add(Location(code="B"))
    thread.join()
    assert order == ["first", "second"]
    with store.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Location)) == 2


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_urls_are_normalised_to_psycopg3(given: str, expected: str) -> None:
    assert normalise_url(given).render_as_string(hide_password=False) == expected
