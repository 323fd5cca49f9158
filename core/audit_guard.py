"""The audit table is append-only: database triggers refuse every UPDATE and DELETE.

The refusal lives in the database, not in our code, so it holds for every program that
connects with the application's role (a psql session included), and both dialects raise
an integrity error, which SQLAlchemy surfaces as `sa.exc.IntegrityError`:

- PostgreSQL: one row-level `BEFORE UPDATE OR DELETE` trigger, and a statement-level
  `BEFORE TRUNCATE` trigger, because TRUNCATE fires no row trigger. DROP TABLE / DROP SCHEMA
  (what the downgrade and the tests' clean-up do) remain possible for the table's owner.
- SQLite: `BEFORE UPDATE` and `BEFORE DELETE` triggers with RAISE(ABORT). SQLite has no
  TRUNCATE; DROP TABLE drops the triggers before its implicit delete, so none fires.

Migration 0005 installs the triggers; `SQLModel.metadata.create_all` does too (the
listeners below), so no way of creating the schema leaves them out. Caution for later
migrations: an Alembic batch operation on `auditevent` under SQLite copies the table and
loses its triggers, so such a migration must call `install` again. `guards_present` lets
`replenish audit verify` notice a missing or disabled trigger.
"""

from typing import Any

import sqlalchemy as sa

TABLE = "auditevent"
PG_FUNCTION = "auditevent_append_only"
PG_TRIGGERS = ("auditevent_append_only", "auditevent_no_truncate")
SQLITE_TRIGGERS = ("auditevent_no_update", "auditevent_no_delete")

# restrict_violation (23001): an integrity error, as SQLite's RAISE(ABORT) in a trigger is.
_PG_INSTALL = (
    f"""
    CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{TABLE} is append-only: % refused', TG_OP
            USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    f"""
    CREATE TRIGGER {PG_TRIGGERS[0]} BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()
    """,
    f"""
    CREATE TRIGGER {PG_TRIGGERS[1]} BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()
    """,
)
_PG_REMOVE = (
    *(f"DROP TRIGGER IF EXISTS {name} ON {TABLE}" for name in PG_TRIGGERS),
    f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()",
)
_SQLITE_INSTALL = tuple(
    f"""
    CREATE TRIGGER {name} BEFORE {verb} ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: {verb} refused'); END
    """
    for name, verb in zip(SQLITE_TRIGGERS, ("UPDATE", "DELETE"), strict=True)
)
_SQLITE_REMOVE = tuple(f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS)


def _statements(
    connection: sa.Connection, pg: tuple[str, ...], lite: tuple[str, ...]
) -> tuple[str, ...]:
    name = connection.dialect.name
    if name == "postgresql":
        return pg
    if name == "sqlite":
        return lite
    raise NotImplementedError(f"no append-only triggers for {name}")


def install(connection: sa.Connection) -> None:
    """Create the triggers on `auditevent` (which must exist and hold none of them yet)."""
    for statement in _statements(connection, _PG_INSTALL, _SQLITE_INSTALL):
        connection.execute(sa.text(statement))  # text: psycopg would read % as a placeholder


def remove(connection: sa.Connection) -> None:
    """Drop the triggers (and PostgreSQL's function); a missing one is not an error."""
    for statement in _statements(connection, _PG_REMOVE, _SQLITE_REMOVE):
        connection.execute(sa.text(statement))


def guards_present(connection: sa.Connection) -> bool:
    """Every trigger exists and, on PostgreSQL, is enabled (ALTER TABLE … DISABLE TRIGGER)."""
    if connection.dialect.name == "postgresql":
        query = sa.text(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = to_regclass(:table)"
            " AND tgname = ANY(:names) AND tgenabled <> 'D'"
        )
        names: tuple[str, ...] = PG_TRIGGERS
        found = connection.execute(query, {"table": TABLE, "names": list(names)}).scalar()
    else:
        names = SQLITE_TRIGGERS
        query = sa.text(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
            " AND tbl_name = :table AND name IN :names"
        ).bindparams(sa.bindparam("names", expanding=True))
        found = connection.execute(query, {"table": TABLE, "names": list(names)}).scalar()
    return found == len(names)


def attach(table: sa.Table) -> None:
    """Make `metadata.create_all` / `drop_all` create and drop the triggers with the table."""

    def _after_create(target: sa.Table, connection: sa.Connection, **_kw: Any) -> None:
        install(connection)

    def _before_drop(target: sa.Table, connection: sa.Connection, **_kw: Any) -> None:
        remove(connection)

    sa.event.listen(table, "after_create", _after_create)
    sa.event.listen(table, "before_drop", _before_drop)
