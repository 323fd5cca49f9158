"""Schema migrations through Alembic, run from the program rather than the alembic CLI."""

from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from core.store import Store, is_sqlite


class SchemaOutOfDateError(RuntimeError):
    def __init__(self, current: str | None, head: str) -> None:
        super().__init__(f"database schema is at {current or 'nothing'}, code expects {head}")
        self.current, self.head = current, head


def alembic_config(store: Store) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("migrations")))
    config.set_main_option("sqlalchemy.url", store.engine.url.render_as_string(False))
    return config


def upgrade(store: Store, revision: str = "head") -> None:
    _run(store, lambda config: command.upgrade(config, revision))


def downgrade(store: Store, revision: str) -> None:
    _run(store, lambda config: command.downgrade(config, revision))


def _run(store: Store, action: Callable[[Config], None]) -> None:
    config = alembic_config(store)
    with store.writer.begin() as connection:
        config.attributes["connection"] = connection
        action(config)


def head_revision(store: Store) -> str:
    head = ScriptDirectory.from_config(alembic_config(store)).get_current_head()
    assert head is not None, "migrations/ holds no revision"
    return head


def current_revision(store: Store) -> str | None:
    with store.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_fresh_sqlite(store: Store) -> bool:
    """A SQLite file that does not exist yet or holds no tables at all."""
    if not is_sqlite(store.engine):
        return False
    database = store.engine.url.database
    if database and database != ":memory:" and not Path(database).exists():
        return True
    return not inspect(store.engine).get_table_names()


def ensure_schema(store: Store) -> None:
    """Create a fresh SQLite database on first use; refuse to run on an old schema."""
    if is_fresh_sqlite(store):
        upgrade(store)
        return
    current, head = current_revision(store), head_revision(store)
    if current != head:
        raise SchemaOutOfDateError(current, head)
