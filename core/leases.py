"""Job leases: one JobLease row per (job, scheduled run) decides which process runs it.

Several schedulers may run side by side (two `replenish run` processes, a dedicated
`replenish scheduler` next to web workers). Each fires the same job at the same scheduled
time; the first to insert the (job, scheduled_for) row runs it, the others see the row and
do nothing. The row stays after the run (`finished_at` set), so the same scheduled time is
never run twice — which is also how a missed daily report is sent once after downtime.

- Taking: `INSERT … ON CONFLICT DO NOTHING RETURNING id` (SQLite ≥ 3.35 and PostgreSQL). A
  loser neither raises nor spoils the caller's transaction, and on PostgreSQL a concurrent
  insert of the same key waits for the winner's commit, then does nothing.
- Taking over: a holder that crashed leaves its row unfinished. Once `expires_at` has
  passed, one guarded UPDATE moves the row to the new holder:
  `WHERE job = … AND scheduled_for = … AND finished_at IS NULL AND expires_at < now`.
  Of two processes racing for it exactly one matches: PostgreSQL re-checks the WHERE on the
  locked row after the first commits, SQLite serialises writers (BEGIN IMMEDIATE). A
  finished lease is never taken over: that run happened. The TTL must therefore outlast a
  run (a holder still working past it could see its run repeated).
- Giving back: a run that fails or is interrupted deletes its own unfinished row
  (`release_lease`), so that scheduled time can be tried again (by another scheduler's late
  firing, or the catch-up at the next start).

Scheduled times are stored in UTC: SQLite keeps no offset, so one instant must always be
written the same way for the unique key to hold.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from core.models import JobLease, utcnow
from core.outbox import as_utc
from core.store import Store

_TABLE: sa.Table = JobLease.__table__  # type: ignore[attr-defined]
KEEP = timedelta(days=35)  # finished rows older than this are pruned (the newest is kept)


@contextmanager
def _session(target: Session | Store) -> Iterator[Session]:
    """The caller's session (their transaction), or a unit of work committed on exit."""
    if isinstance(target, Store):
        with target.unit_of_work() as session:
            yield session
    else:
        yield target


def take_lease(
    target: Session | Store,
    job: str,
    scheduled_for: datetime,
    holder: str,
    ttl: timedelta,
    *,
    now: datetime | None = None,
) -> bool:
    """True when `holder` now holds (job, scheduled_for): a new row, or an expired unfinished
    one taken over. False when another holder has it (running or finished).

    With a Store the lease is committed before this returns (others see it at once); with a
    Session it becomes visible when the caller commits."""
    at = as_utc(now or utcnow())
    key = as_utc(scheduled_for)
    values = {"holder": holder, "acquired_at": at, "expires_at": at + ttl, "finished_at": None}
    with _session(target) as session:
        if _insert_new(session, {"job": job, "scheduled_for": key, **values}):
            return True
        taken = session.execute(
            sa.update(_TABLE)
            .where(
                _TABLE.c.job == job,
                _TABLE.c.scheduled_for == key,
                _TABLE.c.finished_at.is_(None),
                _TABLE.c.expires_at < at,
            )
            .values(**values)
        )
        return taken.rowcount == 1  # type: ignore[attr-defined]


def _insert_new(session: Session, values: dict[str, object]) -> bool:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        insert: sa.Insert = (
            postgresql.insert(_TABLE)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["job", "scheduled_for"])
        )
    elif dialect == "sqlite":
        insert = (
            sqlite.insert(_TABLE)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["job", "scheduled_for"])
        )
    else:
        raise NotImplementedError(f"job leases need SQLite or PostgreSQL, not {dialect}")
    return session.execute(insert.returning(_TABLE.c.id)).first() is not None


def finish_lease(
    target: Session | Store,
    job: str,
    scheduled_for: datetime,
    holder: str,
    *,
    now: datetime | None = None,
) -> bool:
    """Mark the run done (kept: that scheduled time never runs again). False when `holder`
    no longer holds it (it expired and was taken over)."""
    with _session(target) as session:
        done = session.execute(
            sa.update(_TABLE)
            .where(*_held(job, scheduled_for, holder))
            .values(finished_at=as_utc(now or utcnow()))
        )
        return done.rowcount == 1  # type: ignore[attr-defined]


def release_lease(target: Session | Store, job: str, scheduled_for: datetime, holder: str) -> bool:
    """Give an unfinished run back (it failed, or the process is stopping before it ran):
    the row goes, so that scheduled time may be run again."""
    with _session(target) as session:
        gone = session.execute(sa.delete(_TABLE).where(*_held(job, scheduled_for, holder)))
        return gone.rowcount == 1  # type: ignore[attr-defined]


def _held(job: str, scheduled_for: datetime, holder: str) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        _TABLE.c.job == job,
        _TABLE.c.scheduled_for == as_utc(scheduled_for),
        _TABLE.c.holder == holder,
        _TABLE.c.finished_at.is_(None),
    )


def lease_for(target: Session | Store, job: str, scheduled_for: datetime) -> JobLease | None:
    """The row for one scheduled run, if any process took it."""
    with _session(target) as session:
        return session.scalars(
            select(JobLease).where(
                JobLease.job == job, JobLease.scheduled_for == as_utc(scheduled_for)
            )
        ).first()


def last_run(target: Session | Store, job: str) -> JobLease | None:
    """The latest finished run of `job` (by scheduled time), or None if it never ran."""
    with _session(target) as session:
        return session.scalars(
            select(JobLease)
            .where(JobLease.job == job, col(JobLease.finished_at).is_not(None))
            .order_by(col(JobLease.scheduled_for).desc())
            .limit(1)
        ).first()


def prune_leases(target: Session | Store, job: str, before: datetime) -> int:
    """Delete `job`'s rows scheduled before `before`, but never its newest row (`last_run`
    and the once-only rule for the latest scheduled time both read it)."""
    newest = sa.select(sa.func.max(_TABLE.c.scheduled_for)).where(_TABLE.c.job == job)
    with _session(target) as session:
        gone = session.execute(
            sa.delete(_TABLE).where(
                _TABLE.c.job == job,
                _TABLE.c.scheduled_for < as_utc(before),
                _TABLE.c.scheduled_for < newest.scalar_subquery(),
            )
        )
        return int(gone.rowcount)  # type: ignore[attr-defined]
