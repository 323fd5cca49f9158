"""Deliver the outbox to the chats: at least once, never dropped, honouring 429 Retry-After.

One round: claim the due rows (a lease, committed), then per row — outside any transaction —
render the card in the chat's locale and post it, or update the thread's earlier message in
place; then record the outcome in its own small transaction, so a crash mid-round loses
nothing (an unrecorded send is retried when its lease expires: at least once, so a crash
between the platform's answer and `mark_sent` can show a message twice).

A 429 reschedules that row for exactly Retry-After and pauses its platform for the rest of
the round; the platform's other claimed rows are given back untouched, due when the pause
ends. A row whose earlier thread message was not delivered this round waits for it.

A platform whose adapter is a `JsonSender` (the PO webhook) gets the row's JSON as it was
queued: no rendering, no update in place; every row is its own POST, in thread order.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from adapters.chat import Card, ChatAdapter, DeliveryError, MessageRef
from adapters.webhook import JsonSender
from core.models import OutboxMessage, utcnow
from core.outbox import (
    LEASE,
    MAX_ERROR,
    as_utc,
    claim,
    count_due_elsewhere,
    mark_retry,
    mark_sent,
    previous_ref,
    release,
    thread_of,
)
from core.store import Store

DEFAULT_LOCALE = "zh-TW"
# Rate limits and server errors pass; an adapter calling them permanent is overruled.
_TRANSIENT = re.compile(r"\b(?:429|5\d\d)\b|rate.?limit", re.IGNORECASE)

Render = Callable[[dict[str, Any], str], Card]
Adapter = ChatAdapter | JsonSender


@dataclass
class DispatchReport:
    """One round: `sent` new posts, `updated` in-place updates, `retried` rescheduled,
    `failed` permanently (kept in the table), `skipped` due but not attempted (platform
    paused by a 429, thread waiting on an earlier message, or no adapter for the platform)."""

    sent: int = 0
    updated: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def delivered(self) -> int:
        return self.sent + self.updated


def dispatch_outbox(
    store: Store,
    adapters: Mapping[str, Adapter],
    render: Render,
    *,
    now: datetime | None = None,
    limit: int = 50,
    locale_for: Callable[[str, str], str] | None = None,
    lease: timedelta = LEASE,
) -> DispatchReport:
    """Deliver up to `limit` due messages. `now` pins the clock (tests); else real time."""

    def clock() -> datetime:
        return as_utc(now) if now is not None else utcnow()

    report = DispatchReport()
    with store.unit_of_work() as session:
        taken = claim(session, clock(), limit=limit, lease=lease, platforms=set(adapters))
        report.skipped += taken.held + count_due_elsewhere(session, clock(), set(adapters))

    paused: dict[str, datetime] = {}  # platform → when its 429 pause ends
    waiting: dict[tuple[str, str, str], datetime] = {}  # thread → its undelivered message's time
    for message in taken.messages:
        assert message.id is not None
        thread = thread_of(message.dedupe_key)
        key = (message.platform, message.target, thread) if thread else None
        until = paused.get(message.platform) or (waiting.get(key) if key else None)
        if until is not None:
            with store.unit_of_work() as session:
                release(session, message.id, until)
            report.skipped += 1
            continue
        locale = locale_for(message.platform, message.target) if locale_for else DEFAULT_LOCALE
        try:
            ref, updated = _deliver(store, adapters[message.platform], message, render, locale)
        except DeliveryError as error:
            permanent = _is_permanent(error)
            with store.unit_of_work() as session:
                next_at = mark_retry(
                    session,
                    message.id,
                    clock(),
                    error=error.reason,
                    retry_after=error.retry_after,
                    permanent=permanent,
                )
            _count_failure(report, permanent=permanent, pending=next_at is not None)
            if next_at is not None and error.retry_after is not None:
                paused[message.platform] = next_at
            if next_at is not None and key:
                waiting[key] = next_at
            continue
        except Exception as error:  # network, a render bug…: retry with backoff, never drop
            with store.unit_of_work() as session:
                next_at = mark_retry(session, message.id, clock(), error=_describe(error))
            _count_failure(report, permanent=False, pending=next_at is not None)
            if next_at is not None and key:
                waiting[key] = next_at
            continue
        with store.unit_of_work() as session:
            mark_sent(session, message.id, ref.encode(), clock())
        if updated:
            report.updated += 1
        else:
            report.sent += 1
    return report


def _deliver(
    store: Store, adapter: Adapter, message: OutboxMessage, render: Render, locale: str
) -> tuple[MessageRef, bool]:
    """Send one message; (where it now lives, whether an earlier message was updated)."""
    if isinstance(adapter, JsonSender):
        return adapter.post_json(message.target, message.card), False
    with store.read() as session:
        previous = previous_ref(session, message)
    card = render(message.card, locale)
    if previous is not None:
        try:
            return adapter.update(MessageRef.decode(previous), card), True
        except DeliveryError as error:
            if not _is_permanent(error):
                raise
            # The earlier message is gone (deleted, too old to edit): post a fresh one.
    return adapter.post(message.target, card), False


def _is_permanent(error: DeliveryError) -> bool:
    return error.permanent and error.retry_after is None and not _TRANSIENT.search(error.reason)


def _count_failure(report: DispatchReport, *, permanent: bool, pending: bool) -> None:
    if permanent:
        report.failed += 1
    elif pending:  # not pending: another dispatcher delivered it meanwhile
        report.retried += 1


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:MAX_ERROR]
