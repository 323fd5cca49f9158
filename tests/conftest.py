"""Shared fixtures: a migrated SQLite store per test, and PostgreSQL when it is there.

PostgreSQL tests use REPLENISH_TEST_PG_URL (default: the local server). Each test run
creates its own scratch database and drops it at the end. Without a reachable server the
tests skip with the reason, except under CI=true, where they fail instead.

Every test may reach loopback only (tests/network_guard.py); Slack is `fake_slack`.
"""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import settings

from bot.migrate import upgrade
from core.store import Store, normalise_url
from tests.fakes.slack import FAKE_TOKEN, FakeSlack
from tests.fakes.telegram import FakeTelegram

# Loaded here so the guard covers the whole session, collection included.
pytest_plugins = ["tests.network_guard", "tests.shop"]

# Property tests assert behaviour, not speed (speed lives in benchmarks/): no per-example
# deadline, which a loaded machine would trip for no fault of the code.
settings.register_profile("replenish", deadline=None)
settings.load_profile("replenish")

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TAIPEI = ZoneInfo("Asia/Taipei")


@pytest.fixture
def tz() -> ZoneInfo:
    return TAIPEI


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'replenish.db'}"


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    """A migrated SQLite database in a temporary folder."""
    migrated = Store.connect(sqlite_url)
    upgrade(migrated)
    yield migrated
    migrated.dispose()


def _pg_admin_url() -> sa.URL:
    return normalise_url(os.environ.get("REPLENISH_TEST_PG_URL", DEFAULT_PG_URL))


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[sa.URL]:
    """A scratch PostgreSQL database for this test session, dropped afterwards."""
    admin_url = _pg_admin_url()
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect():
            pass
    except Exception as exc:  # any failure to connect means "no server here"
        admin.dispose()
        reason = f"PostgreSQL not reachable at {admin_url.render_as_string()}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true requires PostgreSQL)")
        pytest.skip(reason)
    name = f"replenish_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield admin_url.set(database=name)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def pg_store(pg_server_url: sa.URL) -> Iterator[Store]:
    """A migrated, empty PostgreSQL schema for one test."""
    scratch = Store.connect(pg_server_url)
    with scratch.engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    upgrade(scratch)
    yield scratch
    scratch.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def any_store(request: pytest.FixtureRequest) -> Store:
    """The same test on SQLite and on PostgreSQL."""
    name = "store" if request.param == "sqlite" else "pg_store"
    return request.getfixturevalue(name)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A fake Slack Web API on 127.0.0.1 expecting `fake_slack.token`; stopped afterwards."""
    with FakeSlack(token=FAKE_TOKEN) as fake:
        yield fake


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    """A fake Telegram Bot API on 127.0.0.1 for `fake_telegram.token`; stopped afterwards.

    PTB: `Bot(fake_telegram.token, base_url=fake_telegram.base_url)`.
    """
    with FakeTelegram() as fake:
        yield fake
