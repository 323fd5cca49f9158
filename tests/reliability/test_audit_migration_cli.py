"""Issue 9, security: migration 0005 chains the audit rows a database already holds, its
downgrade takes the triggers and columns away again, and `replenish audit verify` reports
in the reader's language with exit 0 (intact) or 1 (broken, or unguarded)."""

import json

import pytest
import sqlalchemy as sa
import typer
from sqlmodel import select
from typer.testing import CliRunner

from bot import cli_audit, migrate
from core import audit_guard
from core.audit_chain import GENESIS, row_hash, verify
from core.models import AuditEvent, Member
from core.store import Store, is_sqlite
from tests.reliability.test_audit_append_only import tamper, write_events

OLD_ROWS = 2_100  # more than two of the migration's 1,000-row pages


def _insert_old_rows(store: Store, actor_id: int) -> None:
    """Audit rows as schema 0004 holds them: no hash columns, an actor or none, mixed data."""
    with store.engine.begin() as connection:
        rows = [
            {
                "actor": actor_id if i % 3 == 0 else None,
                "entity_id": f"PO{i}",
                "data": json.dumps({"i": i, "reason": "缺貨", "qty": [i, i / 2]}),
            }
            for i in range(OLD_ROWS)
        ]
        connection.execute(
            sa.text(
                "INSERT INTO auditevent (at, actor_id, action, entity, entity_id, data) VALUES"
                " (CURRENT_TIMESTAMP, :actor, 'po.approved', 'purchase_order', :entity_id, :data)"
            ),
            rows,
        )


def _columns(store: Store) -> set[str]:
    return {column["name"] for column in sa.inspect(store.engine).get_columns("auditevent")}


def _guarded(store: Store) -> bool:
    with store.engine.connect() as connection:
        return audit_guard.guards_present(connection)


def test_0005_chains_the_rows_a_database_already_holds(any_store: Store) -> None:
    with any_store.unit_of_work() as session:
        amy = Member(platform="slack", user_id="U-amy", roles=["manager"])
        session.add(amy)
    assert amy.id is not None
    migrate.downgrade(any_store, "0004")
    _insert_old_rows(any_store, amy.id)
    migrate.upgrade(any_store)
    with any_store.read() as session:
        result = verify(session)
        rows = session.scalars(select(AuditEvent).order_by(AuditEvent.id).limit(3)).all()
    assert (result.ok, result.checked) == (True, OLD_ROWS)
    assert rows[0].prev_hash == GENESIS
    fields = rows[1].model_dump(include={"at", "actor_id", "action", "entity", "entity_id", "data"})
    assert rows[1].hash == row_hash(rows[0].hash, **fields)
    assert _guarded(any_store)
    [new_id] = write_events(any_store, 1)  # the application carries on from the backfill
    with any_store.read() as session:
        new = session.get(AuditEvent, new_id)
        assert new is not None
        assert new.prev_hash == result.head
        assert verify(session).checked == OLD_ROWS + 1


def test_0005_drops_its_server_defaults(any_store: Store) -> None:
    """A row written around the application, without its hash, fails rather than hides."""
    insert = sa.text(
        "INSERT INTO auditevent (at, action, entity, entity_id, data)"
        " VALUES (CURRENT_TIMESTAMP, 'x', 'y', 'z', '{}')"
    )
    with (
        any_store.engine.connect() as connection,
        pytest.raises(sa.exc.IntegrityError, match="hash"),
    ):
        connection.execute(insert)


def test_downgrade_removes_the_triggers_and_columns(any_store: Store) -> None:
    write_events(any_store, 3)
    migrate.downgrade(any_store, "0004")
    assert not _guarded(any_store)
    assert {"prev_hash", "hash"} & _columns(any_store) == set()
    if not is_sqlite(any_store.engine):
        with any_store.engine.connect() as connection:
            function = connection.execute(
                sa.text("SELECT count(*) FROM pg_proc WHERE proname = :name"),
                {"name": audit_guard.PG_FUNCTION},
            )
            assert function.scalar() == 0
    with any_store.engine.begin() as connection:  # at 0004 the table is an ordinary table
        connection.execute(sa.text("UPDATE auditevent SET action = 'edited' WHERE id = 1"))
        connection.execute(sa.text("DELETE FROM auditevent WHERE id = 2"))
    migrate.upgrade(any_store)  # and back: the two rows left are chained afresh
    assert _guarded(any_store)
    with any_store.read() as session:
        assert verify(session).checked == 2


# --- replenish audit verify ----------------------------------------------------------------


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    cli_audit.register(app)
    return app


def _verify_cli(cli: typer.Typer, store: Store, *lang: str) -> tuple[int, str, str]:
    url = store.engine.url.render_as_string(hide_password=False)
    done = CliRunner().invoke(cli, ["audit", "verify", "--db", url, *lang])
    return done.exit_code, done.stdout, done.stderr


def test_cli_reports_an_intact_trail_with_its_count(cli: typer.Typer, any_store: Store) -> None:
    write_events(any_store, 3)
    with any_store.read() as session:
        head = verify(session).head
    code, out, err = _verify_cli(cli, any_store)
    assert (code, err) == (0, "")
    assert "稽核紀錄完整：已檢查 3 筆" in out
    assert head in out
    code, out, _ = _verify_cli(cli, any_store, "--lang", "en")
    assert code == 0
    assert "Audit trail intact: 3 rows checked" in out


def test_cli_names_the_first_broken_row(cli: typer.Typer, any_store: Store) -> None:
    ids = write_events(any_store, 4)
    tamper(any_store, "DELETE FROM auditevent WHERE id = :id", id=ids[1])
    code, _, err = _verify_cli(cli, any_store, "--lang", "en")
    assert code == 1
    assert f"Audit row {ids[2]}: its prev_hash does not match" in err
    assert f"(row {ids[0]})" in err
    tamper(any_store, "UPDATE auditevent SET entity_id = 'forged' WHERE id = :id", id=ids[0])
    code, _, err = _verify_cli(cli, any_store)
    assert code == 1
    assert f"稽核紀錄第 {ids[0]} 筆遭改動" in err


def test_cli_fails_when_the_triggers_are_gone(cli: typer.Typer, store: Store) -> None:
    write_events(store, 2)
    with store.engine.begin() as connection:
        audit_guard.remove(connection)
    code, out, err = _verify_cli(cli, store, "--lang", "en")
    assert code == 1
    assert "2 rows checked" in out  # the chain itself is fine
    assert "triggers that refuse UPDATE and DELETE are missing or disabled" in err
