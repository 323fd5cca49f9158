"""The reports (每日庫存報告, 異常事件報告, weekly KPIs): their data, and queuing them.

Each report is plain card data (`type: "report"`, numbers and codes, never images) queued in
the outbox for the chats bound to "reports"; `bot.report_cards.report_card` renders it and
draws its chart when it is delivered, in the reader's language. The scheduler calls
`send_daily_report`, `send_weekly_kpi` and `send_exceptions`; each returns how many outbox
rows it queued, and calling it again for the same period queues nothing more (the daily and
weekly reports by their dedupe keys, one per period and chat; exceptions by event, each
recorded as reported in the audit log when first sent).
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.engine import by_urgency, current_plan
from bot.report_exceptions import ExceptionEvent, open_exceptions
from bot.report_kpis import daily_kpis, weekly_kpis
from core.models import Alert, AuditEvent, OutboxMessage, PoStatus, PurchaseOrder
from core.outbox import as_utc, chats_for, queue

if TYPE_CHECKING:
    from bot.app import App

PURPOSE = "reports"
AT_RISK = 10
PO_NUMBERS = 5  # PO numbers named per group; the count covers the rest
MAX_EVENTS = 50  # exceptions carried in one card; the count covers the rest
WAITING_APPROVAL = (PoStatus.DRAFT, PoStatus.PENDING_APPROVAL)
REPORTED = "exception.reported"


# --- the scheduler's entry points ----------------------------------------------------------


def send_daily_report(app: App, now: datetime) -> int:
    """庫存日報 for the last complete day before `now`, once per day and chat."""
    as_of = local_day(app, now) - timedelta(days=1)
    prefix = f"report:daily-{as_of}"
    with app.store.read() as session:
        if not _unsent(session, prefix):
            return 0
    data = daily_data(app, now)
    with app.store.unit_of_work() as session:
        return _queue_once(session, data, kind="report.daily", key_prefix=prefix)


def send_weekly_kpi(app: App, now: datetime) -> int:
    """The KPIs of the 7 days before `now` against the 7 before them, once per week-end."""
    end = local_day(app, now) - timedelta(days=1)
    prefix = f"report:kpi-{end}"
    with app.store.read() as session:
        if not _unsent(session, prefix):
            return 0
    data = kpi_data(app, now)
    with app.store.unit_of_work() as session:
        return _queue_once(session, data, kind="report.kpi", key_prefix=prefix)


def send_exceptions(app: App, now: datetime) -> int:
    """One exception report listing what became an exception since the last one; nothing
    when there is nothing new. Events wait (unmarked) while no chat is bound to reports."""
    with app.store.unit_of_work() as session:
        chats = chats_for(session, [PURPOSE])
        if not chats:
            return 0
        events = _unreported(session, open_exceptions(session, local_day(app, now)))
        if not events:
            return 0
        data = exceptions_data(events, now)
        digest = hashlib.sha256("\n".join(e.key for e in events).encode()).hexdigest()[:16]
        queued = queue(
            session, chats, data, kind="report.exceptions", key_prefix=f"report:exc-{digest}"
        )
        _mark_reported(session, events, now)
        return queued


# --- report data ---------------------------------------------------------------------------


def daily_data(app: App, now: datetime) -> dict[str, Any]:
    """Everything the daily card shows, as plain JSON: pick colours and the SKUs most at
    risk (from the plan as of yesterday), alerts since the last report, POs waiting, and
    yesterday's KPIs against their 7-day average with 30 days of trend."""
    tz = app.settings.tz
    today = local_day(app, now)
    as_of = today - timedelta(days=1)
    planned = current_plan(app, as_of)
    with app.store.read() as session:
        since = _last_until(session, "report.daily", as_of) or as_utc(now) - timedelta(days=1)
        return {
            "type": "report",
            "report": "daily",
            "as_of": str(as_of),
            "since": since.isoformat(),
            "until": as_utc(now).isoformat(),
            **plan_section(planned),
            "alerts": alert_section(session, since, as_utc(now)),
            "pos": po_section(session, today),
            **daily_kpis(session, as_of, tz),
        }


def report_data(app: App, kind: str, now: datetime) -> dict[str, Any]:
    """A report as it would be queued at `now`, for `/replenish report` and the CLI; the
    exceptions are all those open now, reported before or not."""
    if kind == "exceptions":
        return current_exceptions(app, now)
    return kpi_data(app, now) if kind == "kpi" else daily_data(app, now)


def kpi_data(app: App, now: datetime) -> dict[str, Any]:
    """The 7 days before `now` against the 7 before them, with 30 days of trend."""
    end = local_day(app, now) - timedelta(days=1)
    with app.store.read() as session:
        return {"type": "report", "report": "kpi", **weekly_kpis(session, end, app.settings.tz)}


def exceptions_data(events: list[ExceptionEvent], now: datetime) -> dict[str, Any]:
    return {
        "type": "report",
        "report": "exceptions",
        "at": as_utc(now).isoformat(),
        "count": len(events),
        "events": [event.as_dict() for event in events[:MAX_EVENTS]],
    }


def current_exceptions(app: App, now: datetime) -> dict[str, Any]:
    """Every open exception (reported or not), for `/replenish report exceptions`."""
    with app.store.read() as session:
        return exceptions_data(open_exceptions(session, local_day(app, now)), now)


def plan_section(planned: pd.DataFrame) -> dict[str, Any]:
    colours = planned["pick_colour"].value_counts() if not planned.empty else pd.Series()
    urgent = by_urgency(planned).head(AT_RISK) if not planned.empty else planned
    return {
        "skus": len(planned),
        "colours": {c: int(colours.get(c, 0)) for c in ("red", "orange", "green")},
        "at_risk": [
            {
                "sku": str(row["sku"]),
                "name": str(row["name"]),
                "colour": str(row["pick_colour"]),
                "position": plain_number(row["position"]),
                "reorder_point": plain_number(row["reorder_point"]),
                "days_of_cover": plain_number(row["days_of_cover"]),
            }
            for row in urgent.to_dict("records")
        ],
    }


def plain_number(value: Any) -> float | str | None:
    """JSON-safe: rounded, "inf" for the engine's infinite cover, None for missing."""
    if value is None or pd.isna(value):
        return None
    number = float(value)
    if number in (float("inf"), float("-inf")):
        return "inf" if number > 0 else "-inf"
    return round(number, 1)


def alert_section(session: Session, since: datetime, until: datetime) -> dict[str, Any]:
    def by_kind(column: Any) -> dict[str, int]:
        rows = session.execute(
            select(Alert.kind, sa.func.count())
            .where(column > since, column <= until)
            .group_by(Alert.kind)
            .order_by(Alert.kind)
        ).all()
        return {str(kind): int(n) for kind, n in rows}

    return {"new": by_kind(col(Alert.opened_at)), "resolved": by_kind(col(Alert.resolved_at))}


def po_section(session: Session, today: date) -> dict[str, Any]:
    """POs waiting on us (approval), on the supplier (confirmation), and overdue."""
    on_order = col(PurchaseOrder.status).in_((PoStatus.SENT, PoStatus.CONFIRMED))
    groups: dict[str, sa.ColumnElement[bool]] = {
        "approval": col(PurchaseOrder.status).in_(WAITING_APPROVAL),
        "confirmation": col(PurchaseOrder.status) == PoStatus.SENT,
        "overdue": sa.and_(on_order, col(PurchaseOrder.expected_arrival) < today),
    }
    section = {}
    for name, condition in groups.items():
        numbers = list(
            session.scalars(
                select(PurchaseOrder.number)
                .where(condition)
                .order_by(col(PurchaseOrder.emergency).desc(), PurchaseOrder.number)
            )
        )
        section[name] = {"count": len(numbers), "numbers": numbers[:PO_NUMBERS]}
    return section


# --- helpers -----------------------------------------------------------------------------------


def local_day(app: App, now: datetime) -> date:
    return as_utc(now).astimezone(app.settings.tz).date()


def _keys(session: Session, prefix: str) -> dict[str, str]:
    """Dedupe key → chat, for every reports chat."""
    return {
        f"{prefix}:{chat.platform}:{chat.chat_id}"[:200]: chat.chat_id
        for chat in chats_for(session, [PURPOSE])
    }


def _unsent(session: Session, prefix: str) -> bool:
    keys = list(_keys(session, prefix))
    if not keys:
        return False
    found = session.scalars(
        select(OutboxMessage.dedupe_key).where(col(OutboxMessage.dedupe_key).in_(keys))
    ).all()
    return len(set(found)) < len(keys)


def _queue_once(session: Session, data: dict[str, Any], *, kind: str, key_prefix: str) -> int:
    """Queue for the reports chats that do not have this period's report yet."""
    chats = chats_for(session, [PURPOSE])
    keys = [f"{key_prefix}:{chat.platform}:{chat.chat_id}"[:200] for chat in chats]
    found = set(
        session.scalars(
            select(OutboxMessage.dedupe_key).where(col(OutboxMessage.dedupe_key).in_(keys))
        ).all()
    )
    missing = [chat for chat, key in zip(chats, keys, strict=True) if key not in found]
    return queue(session, missing, data, kind=kind, key_prefix=key_prefix)


def _last_until(session: Session, kind: str, before: date) -> datetime | None:
    """When the previous report (of an earlier day) ended: where this one starts."""
    for card in session.scalars(
        select(OutboxMessage.card)
        .where(OutboxMessage.kind == kind)
        .order_by(col(OutboxMessage.id).desc())
        .limit(50)
    ):
        if str(card.get("as_of") or "") < str(before) and card.get("until"):
            return as_utc(datetime.fromisoformat(str(card["until"])))
    return None


def _unreported(session: Session, events: list[ExceptionEvent]) -> list[ExceptionEvent]:
    keys = [event.key for event in events]
    if not keys:
        return []
    seen = set(
        session.scalars(
            select(AuditEvent.entity_id).where(
                AuditEvent.action == REPORTED, col(AuditEvent.entity_id).in_(keys)
            )
        ).all()
    )
    return [event for event in events if event.key not in seen]


def _mark_reported(session: Session, events: list[ExceptionEvent], now: datetime) -> None:
    session.add_all(
        AuditEvent(
            at=as_utc(now),
            action=REPORTED,
            entity="exception",
            entity_id=event.key,
            data={"kind": event.kind},
        )
        for event in events
    )
    session.flush()
