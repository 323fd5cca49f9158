"""Issue 9, security: the audit table is append-only and hash-chained.

UPDATE, DELETE (and TRUNCATE on PostgreSQL) through the application's connection are
refused by triggers; tampering done around the triggers (dropped on SQLite, a superuser's
`session_replication_role = replica` on PostgreSQL) is found by `verify`, which names the
first broken row. Every test runs on SQLite and on PostgreSQL."""

import itertools
import threading
import time

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from core import audit_chain, audit_guard
from core.audit_chain import GENESIS, Break, row_hash, verify
from core.inbox import run_once
from core.models import AuditEvent, Sku
from core.store import Store, is_sqlite
from core.workflow import ApprovalRules, approve, submit_for_approval
from tests.shop import PO, Shop

RULES = ApprovalRules()


def write_events(store: Store, count: int, *, tag: str = "e") -> list[int]:
    """`count` audit rows in one unit of work, as a use case writes them."""
    with store.unit_of_work() as session:
        events = [
            AuditEvent(
                action="test.event",
                entity="test",
                entity_id=f"{tag}{i}",
                data={"i": i, "name": "鮮乳", "qty": [1, 2.5], "nested": {"b": 1, "a": None}},
            )
            for i in range(count)
        ]
        session.add_all(events)
        session.flush()
        return [event.id for event in events if event.id is not None]


def tamper(store: Store, sql: str, **params: object) -> None:
    """Change the table as someone going around the triggers would."""
    with store.engine.begin() as connection:
        if is_sqlite(store.engine):
            audit_guard.remove(connection)
            connection.execute(sa.text(sql), params)
            audit_guard.install(connection)
        else:  # a superuser session: triggers of ordinary tables do not fire
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
            connection.execute(sa.text(sql), params)


def check(store: Store, batch: int = audit_chain.VERIFY_BATCH) -> audit_chain.VerifyResult:
    with store.read() as session:
        return verify(session, batch=batch)


def audit_count(store: Store) -> int:
    with store.read() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) or 0


# --- the triggers --------------------------------------------------------------------------


def _change_audit_row(store: Store, how: str, event_id: int) -> None:
    with store.unit_of_work() as session:
        session.add(Sku(code="NEW", name="新品"))  # an honest change in the same transaction
        session.flush()
        if how == "orm":
            event = session.get(AuditEvent, event_id)
            assert event is not None
            event.data = {"i": 999}
            session.flush()
        else:
            update = sa.text("UPDATE auditevent SET action = 'x' WHERE id = :id")
            session.execute(update, {"id": event_id})


@pytest.mark.parametrize("how", ["orm", "sql"])
def test_an_update_is_refused_and_the_whole_unit_of_work_rolls_back(
    any_store: Store, how: str
) -> None:
    [first] = write_events(any_store, 1)
    with pytest.raises(sa.exc.IntegrityError, match="append-only"):
        _change_audit_row(any_store, how, first)
    with any_store.read() as session:
        assert session.scalars(select(Sku)).all() == []  # rolled back with it, never half done
        event = session.get(AuditEvent, first)
        assert event is not None
        assert (event.action, event.data["i"]) == ("test.event", 0)
    write_events(any_store, 1)  # the next unit of work is unaffected
    assert check(any_store).ok


def _delete_audit_row(store: Store, how: str, event_id: int) -> None:
    with store.unit_of_work() as session:
        if how == "orm":
            session.delete(session.get(AuditEvent, event_id))
            session.flush()
        elif how == "sql":
            session.execute(sa.text("DELETE FROM auditevent WHERE id = :id"), {"id": event_id})
        else:
            session.execute(sa.delete(AuditEvent))


@pytest.mark.parametrize("how", ["orm", "sql", "all"])
def test_a_delete_is_refused(any_store: Store, how: str) -> None:
    ids = write_events(any_store, 3)
    with pytest.raises(sa.exc.IntegrityError, match="append-only"):
        _delete_audit_row(any_store, how, ids[1])
    assert audit_count(any_store) == 3
    assert check(any_store).checked == 3


@pytest.mark.pg
def test_truncate_is_refused_on_postgresql(pg_store: Store) -> None:
    write_events(pg_store, 2)
    with pytest.raises(sa.exc.IntegrityError, match="TRUNCATE refused"):  # noqa: SIM117
        with pg_store.unit_of_work() as session:
            session.execute(sa.text("TRUNCATE auditevent"))
    assert audit_count(pg_store) == 2


def test_a_migrated_database_has_its_guards(any_store: Store) -> None:
    with any_store.engine.connect() as connection:
        assert audit_guard.guards_present(connection)
        audit_guard.remove(connection)
        assert not audit_guard.guards_present(connection)
        connection.rollback()


def test_create_all_makes_the_triggers_too(any_store: Store) -> None:
    """A schema made from the models, not by Alembic, is append-only as well."""
    SQLModel.metadata.drop_all(any_store.engine)
    with any_store.engine.connect() as connection:
        assert "auditevent" not in sa.inspect(connection).get_table_names()
    SQLModel.metadata.create_all(any_store.engine)
    with any_store.engine.connect() as connection:
        assert audit_guard.guards_present(connection)
    [event_id] = write_events(any_store, 1)
    with pytest.raises(sa.exc.IntegrityError), any_store.unit_of_work() as session:
        session.execute(sa.delete(AuditEvent).where(AuditEvent.id == event_id))


# --- the chain as the application writes it ------------------------------------------------


def test_an_empty_table_verifies(any_store: Store) -> None:
    result = check(any_store)
    assert (result.ok, result.checked, result.head) == (True, 0, GENESIS)


def test_each_row_links_to_the_one_before(any_store: Store) -> None:
    write_events(any_store, 3)
    write_events(any_store, 2, tag="f")
    with any_store.read() as session:
        rows = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert rows[0].prev_hash == GENESIS
    for before, row in itertools.pairwise(rows):
        assert row.prev_hash == before.hash
    for row in rows:  # hashes are of what the database gives back
        fields = row.model_dump(include={"at", "actor_id", "action", "entity", "entity_id", "data"})
        assert row.hash == row_hash(row.prev_hash, **fields)
    assert check(any_store, batch=2) == audit_chain.VerifyResult(5, rows[-1].hash)


def _write_then_fail_in_a_savepoint(session: Session) -> None:
    with session.begin_nested():
        session.add(AuditEvent(action="undone", entity="t", entity_id="2"))
        session.flush()
        raise RuntimeError("undo")


def test_a_rolled_back_savepoint_leaves_no_fork(any_store: Store) -> None:
    with any_store.unit_of_work() as session:
        kept = AuditEvent(action="kept", entity="t", entity_id="1")
        session.add(kept)
        session.flush()
        with pytest.raises(RuntimeError, match="undo"):
            _write_then_fail_in_a_savepoint(session)
        after = AuditEvent(action="after", entity="t", entity_id="3")
        session.add(after)
    assert after.prev_hash == kept.hash
    assert check(any_store).checked == 2


def test_a_workflow_writes_a_valid_chain(shop: Shop) -> None:
    """Real use cases (members, a refusal, a submission, an approval), no call site aware."""
    shop.run("clerk", submit_for_approval, PO)
    refused = shop.respond(
        "clerk", approve, PO, rules=RULES
    )  # a clerk may not approve: refused, audited
    assert "error" in refused
    approved = run_once(
        shop.store,
        "slack",
        "k-amy",
        lambda session: approve(session, shop.member(session, "amy"), PO, rules=RULES).as_dict(),
    )
    assert approved["status"] == "approved"
    result = check(shop.store, batch=3)
    assert result.ok, result
    assert result.checked == audit_count(shop.store) >= 8  # 5 members + 3 steps


# --- tampering found ------------------------------------------------------------------------


def test_an_altered_row_is_named(any_store: Store) -> None:
    ids = write_events(any_store, 5)
    tamper(any_store, "UPDATE auditevent SET entity_id = 'forged' WHERE id = :id", id=ids[2])
    result = check(any_store, batch=2)  # the row sits across a page boundary
    assert (result.broken_id, result.reason, result.checked) == (ids[2], Break.HASH, 3)
    assert not result.ok


def test_a_rewritten_row_with_a_recomputed_hash_breaks_the_next_link(any_store: Store) -> None:
    ids = write_events(any_store, 4)
    with any_store.read() as session:
        row = session.get(AuditEvent, ids[1])
        assert row is not None
        fields = row.model_dump(include={"at", "actor_id", "action", "entity", "entity_id"})
        forged = row_hash(row.prev_hash, **fields, data={"i": 1, "forged": True})
    tamper(
        any_store,
        "UPDATE auditevent SET data = :data, hash = :hash WHERE id = :id",
        data='{"i": 1, "forged": true}',
        hash=forged,
        id=ids[1],
    )
    result = check(any_store)
    assert (result.broken_id, result.reason, result.previous_id) == (ids[2], Break.LINK, ids[1])


@pytest.mark.parametrize(("deleted", "broken", "previous"), [(2, 3, 1), (0, 1, None)])
def test_a_deleted_row_is_found_at_the_next_one(
    any_store: Store, deleted: int, broken: int, previous: int | None
) -> None:
    ids = write_events(any_store, 5)
    tamper(any_store, "DELETE FROM auditevent WHERE id = :id", id=ids[deleted])
    result = check(any_store, batch=2)
    expected_previous = None if previous is None else ids[previous]
    assert (result.broken_id, result.reason, result.previous_id) == (
        ids[broken],
        Break.LINK,
        expected_previous,
    )


def test_an_inserted_row_is_found(any_store: Store) -> None:
    ids = write_events(any_store, 3)
    with any_store.read() as session:
        head = audit_chain.head_hash(session.connection())
    tamper(  # a row slipped in at the end with a made-up hash
        any_store,
        "INSERT INTO auditevent (at, action, entity, entity_id, data, prev_hash, hash)"
        " VALUES (CURRENT_TIMESTAMP, 'po.approved', 'purchase_order', 'PO1', '{}', :p, :h)",
        p=head,
        h="f" * 64,
    )
    result = check(any_store)
    assert (result.reason, result.previous_id, result.checked) == (Break.HASH, ids[2], 4)


# --- concurrency -----------------------------------------------------------------------------


def _writer(store: Store, start: threading.Barrier, name: str, errors: list[BaseException]) -> None:
    try:
        start.wait(10)
        for round_ in range(4):
            with store.unit_of_work() as session:
                for i in range(3):  # several flushes per transaction, with pauses between
                    session.add(AuditEvent(action="t", entity=name, entity_id=f"{round_}.{i}"))
                    session.flush()
                    time.sleep(0.002)
    except BaseException as exc:  # reported by the test
        errors.append(exc)


def test_parallel_writers_keep_one_linear_chain(any_store: Store) -> None:
    writers = 8
    start, errors = threading.Barrier(writers), []
    threads = [
        threading.Thread(target=_writer, args=(any_store, start, f"w{n}", errors))
        for n in range(writers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    result = check(any_store, batch=7)
    assert result.ok, result
    assert result.checked == writers * 4 * 3
    with any_store.read() as session:
        links = session.scalars(select(AuditEvent.prev_hash)).all()
    assert len(set(links)) == len(links)  # nobody shares a predecessor: no fork


@pytest.mark.pg
def test_without_the_lock_parallel_writers_would_fork(
    pg_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: the lock is what keeps the chain linear on PostgreSQL."""
    monkeypatch.setattr(audit_chain, "lock_chain", lambda _connection: None)
    both_flushed = threading.Barrier(2)

    def write(name: str) -> None:
        with pg_store.unit_of_work() as session:
            session.add(AuditEvent(action="t", entity=name, entity_id="1"))
            session.flush()  # both read the same head before either commits
            both_flushed.wait(10)

    threads = [threading.Thread(target=write, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    result = check(pg_store)
    assert (result.broken_id is not None, result.reason) == (True, Break.LINK)
