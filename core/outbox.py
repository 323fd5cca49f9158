"""What the workflow tells the chats: a PO as a plain-JSON card, queued in the outbox.

The card is neutral data (`type`, `event`, the PO and its lines); the bot renders it in the
reader's locale and the adapters turn it into Block Kit or Telegram keyboards. Targets come
from ChatBinding purposes ("approvals", "buyers", "supplier"); each row has a deterministic
dedupe key, so a replayed step never queues a second message.

Delivery (the storage half; `bot/dispatch.py` does the sending) is at least once, never
dropped. A dispatcher *claims* due rows by moving `next_attempt_at` one lease ahead and
commits, sends outside any transaction, then records each outcome in its own transaction. A
second dispatcher skips claimed rows (PostgreSQL: FOR UPDATE SKIP LOCKED while the claim
commits; SQLite: the claim's BEGIN IMMEDIATE serialises claims), so in the normal case a
row is sent once. A dispatcher that dies mid-send leaves its lease to expire and the row is
sent again: a possible duplicate, never a loss. Permanent errors end as status `failed`,
kept for an operator. Rows of one *thread* (the dedupe key up to its second colon, e.g.
`po:PO20261125-001`, in one chat) go out in order, so a later card updates the earlier
message in place and a stale card never overwrites a newer one.
"""

import random
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.models import (
    ChatBinding,
    OutboxMessage,
    OutboxStatus,
    PoLine,
    PurchaseOrder,
    Sku,
    Supplier,
    SupplierTerm,
)


def po_card(session: Session, po: PurchaseOrder, event: str, **data: Any) -> dict[str, Any]:
    """A PO as plain JSON: what the bot's card builder renders (in the reader's locale)."""
    supplier = session.get(Supplier, po.supplier_id)
    rows = session.execute(
        select(PoLine, Sku, SupplierTerm.price_band_pct, SupplierTerm.supplier_sku)
        .join(Sku, col(Sku.id) == col(PoLine.sku_id))
        .outerjoin(
            SupplierTerm,
            sa.and_(
                col(SupplierTerm.sku_id) == col(PoLine.sku_id),
                col(SupplierTerm.supplier_id) == po.supplier_id,
            ),
        )
        .where(PoLine.po_id == po.id)
        .order_by(Sku.code)
    ).all()
    lines = [
        {
            "sku": sku.code,
            # The supplier's own code (事前協議), so a merged or renamed SKU of ours never
            # reaches the supplier as the wrong item.
            "supplier_sku": supplier_sku or sku.code,
            "name": sku.name,
            "qty": line.qty,
            "unit_price": str(line.unit_price),
            "proposed_price": None if line.proposed_price is None else str(line.proposed_price),
            "price_band_pct": band,
        }
        for line, sku, band, supplier_sku in rows
    ]
    at = data.pop("at", None)
    return {
        "type": "po",
        "event": event,
        "po": {
            "number": po.number,
            "status": po.status,
            "version": po.version,
            "supplier": supplier.code if supplier else None,
            "supplier_name": supplier.name if supplier else None,
            "emergency": po.emergency,
            "currency": po.currency,
            "total": str(po.total),
            "expected_arrival": str(po.expected_arrival) if po.expected_arrival else None,
            "requested_arrival": str(po.requested_arrival) if po.requested_arrival else None,
            "shipped_at": po.shipped_at.isoformat() if po.shipped_at else None,
            "tracking_number": po.tracking_number,
            "reason": po.reason,
            "lines": lines,
        },
        "at": at.isoformat() if isinstance(at, datetime) else at,
        **data,
    }


def notify(
    session: Session,
    po: PurchaseOrder,
    event: str,
    purposes: list[str],
    card: dict[str, Any],
    *,
    thread: str = "po",
) -> int:
    """One outbox row per bound chat; the supplier purpose only reaches this PO's supplier.
    Cards of one `thread` update one message in place; a reminder or an escalation names
    its own thread (e.g. "remind") so it arrives as a new message people are notified of."""
    chats = [
        binding
        for binding in chats_for(session, purposes)
        if binding.purpose != "supplier" or binding.supplier_id == po.supplier_id
    ]
    prefix = f"{thread}:{po.number}:{event}:{po.version}"
    return queue(session, chats, card, kind=f"{thread}.{event}", key_prefix=prefix)


DOCUMENT_KIND = "po.document"  # a PO's file for its supplier: posted once, never updated


def is_attachment(message: OutboxMessage) -> bool:
    return message.kind == DOCUMENT_KIND


def chats_for(
    session: Session, purposes: list[str], *, partner_id: int | None = None
) -> list[ChatBinding]:
    """The chats bound for any of `purposes` (one partner's, when `partner_id` is given)."""
    query = (
        select(ChatBinding)
        .where(col(ChatBinding.purpose).in_(purposes))
        .order_by(col(ChatBinding.id))
    )
    if partner_id is not None:
        query = query.where(ChatBinding.partner_id == partner_id)
    return list(session.scalars(query))


def queue(
    session: Session,
    chats: list[ChatBinding],
    card: dict[str, Any],
    *,
    kind: str,
    key_prefix: str,
) -> int:
    """One outbox row per chat. The dedupe key is `key_prefix:platform:chat`: its first two
    parts name the thread (later rows update that chat's first message in place), and a
    replayed step queues nothing twice. Each row says who reads it (`audience`): a
    supplier's group sees the same PO in its own card."""
    for binding in chats:
        session.add(
            OutboxMessage(
                platform=binding.platform,
                target=binding.chat_id,
                kind=kind[:40],
                card={**card, "audience": binding.purpose},
                dedupe_key=f"{key_prefix}:{binding.platform}:{binding.chat_id}"[:200],
            )
        )
    session.flush()
    return len(chats)


# --- delivery: claim, thread, outcome -------------------------------------------------------

LEASE = timedelta(minutes=5)  # must outlast one dispatch round, or a slow round is re-sent
BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_CAP = timedelta(minutes=15)
MAX_ERROR = 1000  # characters of last_error kept


def as_utc(value: datetime) -> datetime:
    """Aware UTC. SQLite hands datetimes back naive (they were stored as UTC text)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def thread_of(dedupe_key: str | None) -> str | None:
    """`po:PO20261125-001:approve:3:slack:C1` → `po:PO20261125-001`; None when the key has
    no thread (fewer than three parts), so the message is always posted afresh."""
    if not dedupe_key:
        return None
    parts = dedupe_key.split(":", 2)
    return f"{parts[0]}:{parts[1]}" if len(parts) == 3 else None


def due(
    session: Session,
    now: datetime,
    *,
    limit: int,
    platforms: Collection[str] | None = None,
) -> list[OutboxMessage]:
    """Pending rows whose time has come, oldest first, locked for this transaction.

    PostgreSQL: FOR UPDATE SKIP LOCKED, so a concurrent claim skips them rather than
    waiting. SQLite renders no FOR UPDATE; the unit of work's BEGIN IMMEDIATE already
    serialises claims. `platforms` limits the rows to those a dispatcher can deliver.
    """
    if platforms is not None and not platforms:
        return []
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            col(OutboxMessage.next_attempt_at) <= as_utc(now),
        )
        .order_by(col(OutboxMessage.id))  # creation order keeps a thread's events in order
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if platforms is not None:
        query = query.where(col(OutboxMessage.platform).in_(sorted(platforms)))
    return list(session.scalars(query))


@dataclass(frozen=True)
class Claim:
    """What a dispatcher took: rows leased to it, and how many due rows wait on an earlier
    message of their thread (postponed to that message's next attempt)."""

    messages: list[OutboxMessage]
    held: int


def claim(
    session: Session,
    now: datetime,
    *,
    limit: int,
    lease: timedelta = LEASE,
    platforms: Collection[str] | None = None,
) -> Claim:
    """Lease the due rows to the caller until `now + lease`; commit before sending.

    A row whose thread still has an earlier pending row outside this batch (backing off,
    or leased by another dispatcher) is not taken: it is postponed to that row's next
    attempt, so it neither overtakes it nor occupies the batch round after round.
    """
    now = as_utc(now)
    rows = due(session, now, limit=limit, platforms=platforms)
    waiting = _earlier_pending(session, rows)
    taken: list[OutboxMessage] = []
    held = 0
    for row in rows:
        blockers = waiting.get(_thread_key(row), [])
        earlier = [as_utc(at) for row_id, at in blockers if row_id < (row.id or 0)]
        if earlier:
            row.next_attempt_at = max(as_utc(row.next_attempt_at), *earlier)
            held += 1
            continue
        row.next_attempt_at = now + lease
        taken.append(row)
    session.flush()
    return Claim(taken, held)


def count_due_elsewhere(session: Session, now: datetime, platforms: Collection[str]) -> int:
    """Due rows for platforms with no dispatcher here: they stay pending, untouched."""
    query = (
        select(sa.func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            col(OutboxMessage.next_attempt_at) <= as_utc(now),
            col(OutboxMessage.platform).not_in(sorted(platforms)),
        )
    )
    return int(session.scalar(query) or 0)


ThreadKey = tuple[str, str, str]


def _thread_key(row: OutboxMessage) -> ThreadKey | None:
    thread = thread_of(row.dedupe_key)
    return (row.platform, row.target, thread) if thread else None


def _earlier_pending(
    session: Session, rows: list[OutboxMessage]
) -> dict[ThreadKey | None, list[tuple[int, datetime]]]:
    """Pending rows outside `rows` sharing a thread with one of them: (id, next attempt)."""
    keys = {key for row in rows if (key := _thread_key(row)) is not None}
    if not keys:
        return {}
    batch = [row.id for row in rows]
    query = select(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.PENDING,
        col(OutboxMessage.id).not_in(batch),
        col(OutboxMessage.id) < max(row_id or 0 for row_id in batch),
        sa.or_(
            *(
                sa.and_(
                    col(OutboxMessage.platform) == platform,
                    col(OutboxMessage.target) == target,
                    col(OutboxMessage.dedupe_key).startswith(f"{thread}:", autoescape=True),
                )
                for platform, target, thread in keys
            )
        ),
    )
    found: dict[ThreadKey | None, list[tuple[int, datetime]]] = {}
    for other in session.scalars(query):
        found.setdefault(_thread_key(other), []).append((other.id or 0, other.next_attempt_at))
    return found


def previous_ref(session: Session, message: OutboxMessage) -> str | None:
    """The message_ref of the thread's newest sent message in the same chat, to update in
    place; None when the message has no thread, is an attachment (posted, never an update)
    or nothing of it was sent there yet."""
    thread = thread_of(message.dedupe_key)
    if thread is None or is_attachment(message):
        return None
    return session.scalars(
        select(OutboxMessage.message_ref)
        .where(
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.platform == message.platform,
            OutboxMessage.target == message.target,
            OutboxMessage.kind != DOCUMENT_KIND,  # a file is no card to update
            col(OutboxMessage.message_ref).is_not(None),
            col(OutboxMessage.dedupe_key).startswith(f"{thread}:", autoescape=True),
            col(OutboxMessage.id) != message.id,
        )
        .order_by(col(OutboxMessage.sent_at).desc(), col(OutboxMessage.id).desc())
        .limit(1)
    ).first()


def mark_sent(session: Session, message_id: int, ref: str, now: datetime) -> None:
    """Delivered: sent wins over anything, even a row another dispatcher re-claimed."""
    row = session.get(OutboxMessage, message_id, with_for_update=True)
    if row is None:
        return
    row.status = OutboxStatus.SENT
    row.message_ref = ref
    row.sent_at = as_utc(now)
    row.attempts += 1
    session.flush()


def backoff(attempts: int) -> timedelta:
    """5 s · 2^attempts capped at 15 min, with equal jitter (half fixed, half random) so
    dispatchers that failed together do not retry together, and the delay still grows."""
    base = min(BACKOFF_BASE * 2 ** min(attempts, 20), BACKOFF_CAP)
    return base * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not security


def mark_retry(
    session: Session,
    message_id: int,
    now: datetime,
    *,
    error: str,
    retry_after: float | None = None,
    permanent: bool = False,
) -> datetime | None:
    """Record a failed attempt. Returns the next attempt time, or None when nothing is
    pending any more (failed, or already sent by someone else).

    `retry_after` (the platform said when, HTTP 429) is honoured exactly and is never
    permanent; otherwise exponential backoff. A permanent error does not drop the message:
    it stays in the table as `failed` with its error, for an operator to see and re-queue.
    """
    row = session.get(OutboxMessage, message_id, with_for_update=True)
    if row is None or row.status != OutboxStatus.PENDING:
        return None
    row.last_error = error[:MAX_ERROR]
    attempts, row.attempts = row.attempts, row.attempts + 1
    if permanent and retry_after is None:
        row.status = OutboxStatus.FAILED
        session.flush()
        return None
    wait = timedelta(seconds=max(retry_after, 0.0)) if retry_after is not None else None
    row.next_attempt_at = as_utc(now) + (wait if wait is not None else backoff(attempts))
    session.flush()
    return as_utc(row.next_attempt_at)


def release(session: Session, message_id: int, until: datetime) -> None:
    """Give back a claimed row that was not attempted (platform paused, thread waiting):
    still pending, attempts untouched, due again at `until`."""
    session.execute(
        sa.update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == message_id,
            col(OutboxMessage.status) == OutboxStatus.PENDING,
        )
        .values(next_attempt_at=as_utc(until))
    )
