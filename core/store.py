"""Engines, sessions and the unit of work.

SQLite is tuned for several processes sharing one file: WAL so readers never block the
writer, a busy timeout so a second writer waits instead of failing, foreign keys on, and
every write transaction opened with BEGIN IMMEDIATE so two writers queue up front rather
than deadlocking when both try to upgrade a read lock. PostgreSQL runs through psycopg 3.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlmodel import Session

import core.audit_chain  # noqa: F401 - chains every new AuditEvent at flush, in every session

SQLITE_BUSY_TIMEOUT_MS = 30_000
_BEGIN_OPTION = "replenish_begin"


def normalise_url(url: str | URL) -> URL:
    """Accept the URLs people paste (`postgres://…`) and pin PostgreSQL to psycopg 3."""
    parsed = make_url(str(url).replace("postgres://", "postgresql://", 1))
    if parsed.get_backend_name() == "postgresql" and parsed.drivername != "postgresql+psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    parsed = normalise_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed, pool_pre_ping=True, **kwargs)
    engine = sa.create_engine(
        parsed, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
    )
    _tune_sqlite(engine)
    return engine


def _tune_sqlite(engine: Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


@dataclass(frozen=True)
class Store:
    """The database as the rest of the program sees it: read sessions and units of work."""

    engine: Engine

    @classmethod
    def connect(cls, url: str | URL, **kwargs: Any) -> "Store":
        return cls(make_engine(url, **kwargs))

    @cached_property
    def writer(self) -> Engine:
        """The engine whose transactions take the write lock up front on SQLite."""
        if is_sqlite(self.engine):
            return self.engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
        return self.engine

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine) as session:
            yield session

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One write transaction: committed when the block ends, rolled back on error."""
        with Session(self.writer, expire_on_commit=False) as session, session.begin():
            session.connection()  # begin now: on SQLite this takes the write lock up front
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
