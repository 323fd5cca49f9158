"""Exactly-once handling of chat interactions (InboxEvent), and refusals as answers.

A press is recorded by its platform identity in the same transaction as its effect. The
InboxEvent row is inserted *first*, so a concurrent duplicate fails on the unique key and
its whole transaction rolls back; `run_once` then answers it from the stored response.
"""

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.models import AuditEvent, InboxEvent, utcnow
from core.permissions import DomainError
from core.store import Store

Response = dict[str, Any]
MAX_KEY = 300  # InboxEvent.event_key


def interaction_key(team: str, user: str, action_id: str, message_ts: str, action_ts: str) -> str:
    """The platform's identity of one press: a retry or redelivery carries the same one."""
    key = ":".join((team, user, action_id, message_ts, action_ts))
    if len(key) <= MAX_KEY:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def attempt(session: Session, action: Callable[[], Response]) -> Response:
    """Run `action` in a savepoint. A DomainError undoes its changes and becomes the answer
    `{"error": {"code", "params"}}`; an audited refusal leaves an audit row."""
    try:
        with session.begin_nested():
            return action()
    except DomainError as error:
        if error.audited and error.audit_ref is not None:
            actor_id, entity, entity_id = error.audit_ref
            details = error.as_dict()
            event = AuditEvent(
                actor_id=actor_id,
                action=f"refused.{error.code}",
                entity=entity,
                entity_id=entity_id,
                data=details["params"] | error.audit_extra,
            )
            if error.audit_at is not None:
                event.at = error.audit_at
            session.add(event)
            session.flush()
        return {"error": error.as_dict()}


def handle_once(
    session: Session, platform: str, event_key: str, action: Callable[[], Response]
) -> Response:
    """The stored answer for a key already handled; else run `action` (through `attempt`)
    and store its answer, all in the caller's transaction."""
    done = _stored(session, platform, event_key)
    if done is not None:
        return done
    event = InboxEvent(platform=platform, event_key=event_key)
    session.add(event)
    session.flush()  # a concurrent duplicate fails here or at commit, on the unique key
    event.response = attempt(session, action)
    session.flush()
    return event.response


def run_once(
    store: Store, platform: str, event_key: str, action: Callable[[Session], Response]
) -> Response:
    """`handle_once` in its own unit of work; a duplicate that lost the race on the unique
    key is answered from the winner's stored response."""
    try:
        with store.unit_of_work() as session:
            return handle_once(session, platform, event_key, lambda: action(session))
    except IntegrityError:
        with store.read() as session:
            stored = _stored(session, platform, event_key)
        if stored is None:
            raise
        return stored


def _stored(session: Session, platform: str, event_key: str) -> Response | None:
    found = session.scalars(
        select(InboxEvent).where(InboxEvent.platform == platform, InboxEvent.event_key == event_key)
    ).first()
    return dict(found.response) if found is not None else None


# --- raw updates: stored before the webhook answers, processed once ------------------------

RECEIVED, PROCESSING, DONE = "received", "processing", "done"


def store_raw(store: Store, platform: str, event_key: str, payload: dict[str, Any]) -> bool:
    """Keep an incoming update before acknowledging it; False when it was already stored
    (a redelivery), which the caller acknowledges without processing again."""
    try:
        with store.unit_of_work() as session:
            if _raw(session, platform, event_key):
                return False
            session.add(
                InboxEvent(platform=platform, event_key=event_key, payload=payload, status=RECEIVED)
            )
        return True
    except IntegrityError:  # a concurrent delivery of the same update stored it first
        return False


def claim_raw(store: Store, platform: str, event_key: str) -> bool:
    """Take a stored update for processing; False when someone else has it or it is done."""
    with store.unit_of_work() as session:
        claimed = session.execute(
            sa.update(InboxEvent)
            .where(
                InboxEvent.platform == platform,
                InboxEvent.event_key == event_key,
                InboxEvent.status == RECEIVED,
            )
            .values(status=PROCESSING)
        )
        return bool(claimed.rowcount)  # type: ignore[attr-defined]


def finish_raw(store: Store, platform: str, event_key: str, response: Response) -> None:
    with store.unit_of_work() as session:
        session.execute(
            sa.update(InboxEvent)
            .where(InboxEvent.platform == platform, InboxEvent.event_key == event_key)
            .values(status=DONE, response=response, processed_at=utcnow())
        )


def unfinished(store: Store, platform: str, *, older_than: datetime) -> list[InboxEvent]:
    """Updates stored but never finished (a crash between the answer and the work): handed
    back to `received` so they are processed again; their effects are keyed, so a second
    run applies nothing twice."""
    with store.unit_of_work() as session:
        rows = list(
            session.scalars(
                select(InboxEvent).where(
                    InboxEvent.platform == platform,
                    col(InboxEvent.status).in_((RECEIVED, PROCESSING)),
                    col(InboxEvent.received_at) <= older_than,
                )
            )
        )
        for row in rows:
            row.status = RECEIVED
        session.flush()
        for row in rows:
            session.expunge(row)
        return rows


def _raw(session: Session, platform: str, event_key: str) -> bool:
    return (
        session.scalars(
            select(InboxEvent.id).where(
                InboxEvent.platform == platform, InboxEvent.event_key == event_key
            )
        ).first()
        is not None
    )
