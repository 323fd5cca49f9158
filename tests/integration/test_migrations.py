"""Alembic upgrade/downgrade on SQLite and PostgreSQL, and no drift from the models."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import core.models  # noqa: F401 - registers the tables
from bot import migrate
from core.store import Store


def _drift(store: Store) -> list[object]:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)


def _tables(store: Store) -> set[str]:
    return set(sa.inspect(store.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_creates_every_model_table_without_drift(any_store: Store) -> None:
    assert _tables(any_store) == set(SQLModel.metadata.tables)
    assert migrate.current_revision(any_store) == migrate.head_revision(any_store)
    assert _drift(any_store) == []


def test_downgrade_to_base_and_back(any_store: Store) -> None:
    migrate.downgrade(any_store, "base")
    assert _tables(any_store) == set()
    assert migrate.current_revision(any_store) is None
    migrate.upgrade(any_store)
    assert _tables(any_store) == set(SQLModel.metadata.tables)
    assert _drift(any_store) == []


def test_fresh_sqlite_file_is_created_on_first_use(sqlite_url: str) -> None:
    store = Store.connect(sqlite_url)
    assert migrate.is_fresh_sqlite(store)
    migrate.ensure_schema(store)
    assert migrate.current_revision(store) == migrate.head_revision(store)
    migrate.ensure_schema(store)  # a second use changes nothing
    store.dispose()


def test_an_old_schema_is_refused_not_silently_used(store: Store) -> None:
    migrate.downgrade(store, "base")
    with store.engine.begin() as connection:  # a database from some other program
        connection.exec_driver_sql("CREATE TABLE unrelated (id INTEGER)")
    with pytest.raises(migrate.SchemaOutOfDateError) as caught:
        migrate.ensure_schema(store)
    assert caught.value.current is None
    assert caught.value.head == migrate.head_revision(store)


def test_0002_upgrades_a_database_that_already_holds_rows(any_store: Store) -> None:
    """Columns added by 0002 are NOT NULL: rows written under 0001 must get their defaults."""
    migrate.downgrade(any_store, "0001")
    with any_store.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO supplier (code, name, contact_name, phone, emergency_contact,"
                " emergency_phone, email) VALUES ('S1', 'x', '', '', '', '', '')"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO purchaseorder (number, supplier_id, status, emergency, currency,"
                " total, reason, created_at, version) VALUES ('PO1', 1, 'sent', false, 'TWD',"
                " 0, '', CURRENT_TIMESTAMP, 1)"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO inboxevent (platform, event_key, received_at, response)"
                " VALUES ('slack', 'k', CURRENT_TIMESTAMP, '{}')"
            )
        )
    migrate.upgrade(any_store)
    with any_store.engine.connect() as connection:
        po = connection.execute(sa.text("SELECT tracking_number FROM purchaseorder")).one()
        inbox = connection.execute(sa.text("SELECT status, payload FROM inboxevent")).one()
    assert po.tracking_number == ""
    assert inbox.status == "done"
    assert inbox.payload in ({}, "{}")
    assert _drift(any_store) == []
