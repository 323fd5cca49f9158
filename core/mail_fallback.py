"""E-mail fallback (seed: 郵件或短信通知): what is e-mailed, to whom, once.

Mail is one more outbox platform ("email", the target an address), so it is delivered like
a chat message: at least once, retried, a refused recipient kept as `failed`. This module
only queues; every row's dedupe key names what it is about and the address, so running a
pass twice queues nothing new (and a concurrent pass loses the insert race quietly):

- `mailalert:<alert id>:<address>`: a red alert (imminent stockout, critical, or pick colour
  red), to each alert owner (active manager or inventory clerk with an e-mail address).
- `mailfallback:<outbox id>:<address>`: a chat message pending or failed past the threshold,
  once, to the same owners. The chat row stays as it is and may still go through.
- `<key_prefix>:<address>`: whatever a feature hands `email_members` (emergency requests).

The card JSON is the chat card's, plus `mail`: why it is mailed and the reader's locale; the
bot's renderer adds the intro line and the subject.
"""

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from core.alerts import alert_json
from core.models import (
    Alert,
    AlertStatus,
    Member,
    OutboxMessage,
    OutboxStatus,
    PickColour,
    Role,
    utcnow,
)
from core.outbox import as_utc
from core.po_webhook import PLATFORM as WEBHOOK

PLATFORM = "email"
ALERT_OWNERS = (Role.MANAGER, Role.INVENTORY_CLERK)
RED_KINDS = frozenset({"imminent_stockout"})
RED_SEVERITIES = frozenset({"critical"})
# Chat messages older than this are not mailed: turning e-mail on does not send last
# month's failures. Bounded batches keep one pass short.
UNDELIVERED_HORIZON = timedelta(days=2)
BATCH = 200
_KEY_LENGTH = 200
_TARGET_LENGTH = 100  # OutboxMessage.target; a longer address cannot be queued
_IN_CHUNK = 500

CardFactory = Callable[[], dict[str, Any]]


@dataclass(frozen=True)
class Recipient:
    address: str
    locale: str


def recipients(session: Session, roles: Iterable[str]) -> list[Recipient]:
    """Active members holding any of `roles` with an e-mail address, one per address (the
    same person on Slack and Telegram gets one mail), in member order. Addresses longer
    than an outbox target (100) are left out; `add_member` refuses them."""
    wanted = {str(role) for role in roles}
    query = (
        select(Member)
        .where(col(Member.active).is_(True), col(Member.email) != "")
        .order_by(col(Member.id))
    )
    found: dict[str, Recipient] = {}
    for member in session.scalars(query):
        address = member.email.strip()
        if 0 < len(address) <= _TARGET_LENGTH and wanted.intersection(member.roles):
            found.setdefault(address.lower(), Recipient(address, member.locale))
    return list(found.values())


def is_red(alert: Alert) -> bool:
    """Red: a stockout before a reorder could arrive, a critical alert, or a red pick colour."""
    return (
        alert.kind in RED_KINDS
        or alert.severity in RED_SEVERITIES
        or (alert.details or {}).get("pick_colour") == PickColour.RED
    )


def queue_red_alerts(session: Session, now: datetime) -> int:
    """Each open red alert, once, to its owners. Returns the rows queued."""
    open_alerts = session.scalars(
        select(Alert).where(Alert.status == AlertStatus.OPEN).order_by(col(Alert.id))
    )
    items = [
        (f"mailalert:{alert.id}", _alert_card(session, alert))
        for alert in open_alerts
        if is_red(alert)
    ]
    people = recipients(session, ALERT_OWNERS)
    return _queue_all(session, items, people, reason="red_alert", now=now)


def queue_undelivered(
    session: Session,
    now: datetime,
    after: timedelta,
    *,
    horizon: timedelta = UNDELIVERED_HORIZON,
    limit: int = BATCH,
) -> int:
    """Chat messages still pending or failed `after` their creation (and younger than
    `horizon`), each mailed once to the alert owners. The chat rows are not touched."""
    now = as_utc(now)
    mail = aliased(OutboxMessage)
    prefix = sa.literal("mailfallback:") + sa.cast(col(OutboxMessage.id), sa.String) + ":%"
    mailed = sa.exists().where(col(mail.platform) == PLATFORM, col(mail.dedupe_key).like(prefix))
    stuck = session.scalars(
        select(OutboxMessage)
        .where(
            # Mail itself, and the ERP's webhook (no chat message; the exception report
            # shows its failures), are not mailed.
            col(OutboxMessage.platform).not_in((PLATFORM, WEBHOOK)),
            col(OutboxMessage.status).in_((OutboxStatus.PENDING, OutboxStatus.FAILED)),
            col(OutboxMessage.created_at) <= now - after,
            col(OutboxMessage.created_at) > now - horizon,
            ~mailed,
        )
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    ).all()
    people = recipients(session, ALERT_OWNERS)
    items = [(f"mailfallback:{row.id}", _undelivered_card(row)) for row in stuck]
    return _queue_all(session, items, people, reason="undelivered", now=now)


def email_members(
    session: Session,
    roles: Collection[str],
    card_json: dict[str, Any],
    key_prefix: str,
    *,
    reason: str = "emergency",
    now: datetime | None = None,
) -> int:
    """Mail `card_json` (a renderable chat card) to the active members holding any of
    `roles`, once per address: the rows' keys are `<key_prefix>:<address>`, so calling it
    again with the same prefix queues nothing. `reason` picks the subject and intro
    (`mail.subject.<reason>`). Returns the rows queued."""
    people = recipients(session, roles)
    items = [(key_prefix, lambda: dict(card_json))]
    return _queue_all(session, items, people, reason=reason, now=now or utcnow())


# --- cards -----------------------------------------------------------------------------------


def _alert_card(session: Session, alert: Alert) -> CardFactory:
    return lambda: alert_json(session, alert, "opened")


def _undelivered_card(row: OutboxMessage) -> CardFactory:
    def card() -> dict[str, Any]:
        meta = {
            "platform": row.platform,
            "target": row.target,
            "since": as_utc(row.created_at).isoformat(),
            "status": row.status,
        }
        return {**row.card, "mail": meta}

    return card


# --- queueing --------------------------------------------------------------------------------


def _queue_all(
    session: Session,
    items: list[tuple[str, CardFactory]],
    people: list[Recipient],
    *,
    reason: str,
    now: datetime,
) -> int:
    """One row per (item, recipient) not queued before; cards are built only when needed."""
    if not items or not people:
        return 0
    existing = _existing_keys(session, [_key(prefix, p) for prefix, _ in items for p in people])
    queued = 0
    for prefix, make_card in items:
        todo = [person for person in people if _key(prefix, person) not in existing]
        if not todo:
            continue
        card = make_card()
        meta = {**card.get("mail", {}), "reason": reason}
        for person in todo:
            mail_card = {**card, "mail": {**meta, "locale": person.locale}}
            queued += _insert(
                session, person, mail_card, f"mail.{reason}", _key(prefix, person), now
            )
    return queued


def _key(prefix: str, person: Recipient) -> str:
    return f"{prefix}:{person.address}"[:_KEY_LENGTH]


def _existing_keys(session: Session, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), _IN_CHUNK):
        chunk = keys[start : start + _IN_CHUNK]
        query = select(OutboxMessage.dedupe_key).where(col(OutboxMessage.dedupe_key).in_(chunk))
        found.update(key for key in session.scalars(query) if key)
    return found


def _insert(
    session: Session, person: Recipient, card: dict[str, Any], kind: str, key: str, now: datetime
) -> int:
    """1 when queued; 0 when a concurrent pass queued the same key first."""
    row = OutboxMessage(
        platform=PLATFORM,
        target=person.address,
        kind=kind[:40],
        card=card,
        dedupe_key=key,
        created_at=as_utc(now),
        next_attempt_at=as_utc(now),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return 0
    return 1
