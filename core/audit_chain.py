"""A hash chain over the audit table: every row carries its predecessor's hash.

`hash` is the SHA-256 (hex) of a canonical JSON of the row's own fields and `prev_hash`,
which is the hash of the row before it in id order ("0" * 64 for the first row). Altering a
row's content breaks its own hash; deleting or inserting a row (or rewriting one and its
hash) breaks the next row's `prev_hash`. `verify` walks the table and names the first
broken row. Deleting the newest rows leaves a shorter valid chain, so `verify` also reports
the head hash: noted somewhere else, it shows the end was not cut off.

The id is not hashed: it is unknown until the INSERT, and sequences leave gaps after
rolled-back transactions. The chain order is the id order all the same, because rows get
their ids in the order they were hashed (see `_chain_new_events`).

Every new AuditEvent is chained at flush by a `before_flush` listener on all sessions,
registered once when this module is imported (core/store.py does), so no call site
changes. Rows written with a Core INSERT bypass it and fail `verify`.

Concurrency: two transactions must not both read the same head. PostgreSQL: each takes a
transaction-scoped advisory lock before reading the head, held until commit or rollback,
so audit writers queue from their first audit row on (the read-committed default sees the
previous writer's rows once the lock is granted). SQLite: a write transaction holds the
database's single write lock (the store opens units of work with BEGIN IMMEDIATE), and a
deferred transaction that read an older head cannot commit a write (SQLITE_BUSY).
"""

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, UOWTransaction

from core.audit_guard import attach
from core.models import AuditEvent

GENESIS = "0" * 64
# pg_advisory_xact_lock key for audit writers: "rplnaudt" as a signed 64-bit integer.
AUDIT_LOCK_KEY = int.from_bytes(b"rplnaudt", "big")
VERIFY_BATCH = 1000

_T = AuditEvent.__table__  # type: ignore[attr-defined]
_HASHED = (_T.c.at, _T.c.actor_id, _T.c.action, _T.c.entity, _T.c.entity_id, _T.c.data)


def row_hash(
    prev_hash: str,
    *,
    at: datetime,
    actor_id: int | None,
    action: str,
    entity: str,
    entity_id: str,
    data: Any,
) -> str:
    """SHA-256 of the row as canonical JSON: sorted keys, no spaces, ASCII, UTC microseconds.

    `data` goes through a JSON round trip first, so the hash is of what the database stores
    and gives back (tuples as lists, integer keys as strings)."""
    document = {
        "prev": prev_hash,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "data": json.loads(json.dumps(data)),
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _event_hash(prev_hash: str, row: Any) -> str:
    return row_hash(
        prev_hash,
        at=row.at,
        actor_id=row.actor_id,
        action=row.action,
        entity=row.entity,
        entity_id=row.entity_id,
        data=row.data,
    )


def head_hash(connection: sa.Connection) -> str:
    """The newest row's hash, GENESIS for an empty table."""
    newest = connection.execute(sa.select(_T.c.hash).order_by(_T.c.id.desc()).limit(1))
    return newest.scalar() or GENESIS


def lock_chain(connection: sa.Connection) -> None:
    """Queue behind other audit writers until this transaction ends (PostgreSQL)."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(AUDIT_LOCK_KEY)))


def _chain_new_events(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    new = [obj for obj in session.new if isinstance(obj, AuditEvent)]
    if not new:
        return
    # The unit of work inserts one table's rows in the order they were added (insert_order),
    # and the database numbers them in that order: hash them in the same order.
    new.sort(key=lambda obj: sa.inspect(obj).insert_order)
    connection = session.connection()
    lock_chain(connection)
    prev = head_hash(connection)
    for event in new:
        event.prev_hash = prev
        event.hash = prev = _event_hash(prev, event)


sa.event.listen(Session, "before_flush", _chain_new_events)
attach(_T)  # create_all makes the append-only triggers too


class Break(StrEnum):
    HASH = "hash"  # the row's content does not give its hash: the row was altered
    LINK = "link"  # prev_hash is not the previous row's hash: a row was deleted or inserted


@dataclass(frozen=True)
class VerifyResult:
    checked: int  # rows checked, the broken one included
    head: str  # the last good row's hash
    broken_id: int | None = None
    reason: Break | None = None
    previous_id: int | None = None  # the row before the broken one, if any

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def _rows(session: Session, batch: int) -> Iterator[Sequence[Any]]:
    """Every row in id order, `batch` at a time (keyset pages: memory stays flat)."""
    columns = (_T.c.id, _T.c.prev_hash, _T.c.hash, *_HASHED)
    after = 0
    while True:
        query = sa.select(*columns).where(_T.c.id > after).order_by(_T.c.id).limit(batch)
        page = session.execute(query).all()
        if not page:
            return
        yield page
        after = page[-1].id


def verify(session: Session, *, batch: int = VERIFY_BATCH) -> VerifyResult:
    """Walk the chain in id order; stop at the first row whose hash or link is wrong."""
    checked, prev, previous_id = 0, GENESIS, None
    for page in _rows(session, batch):
        for row in page:
            checked += 1
            reason = None
            if _event_hash(row.prev_hash, row) != row.hash:
                reason = Break.HASH
            elif row.prev_hash != prev:
                reason = Break.LINK
            if reason is not None:
                return VerifyResult(checked, prev, row.id, reason, previous_id)
            prev, previous_id = row.hash, row.id
    return VerifyResult(checked, prev)
