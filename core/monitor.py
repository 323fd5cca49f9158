"""The monitor pass: database state in, alerts opened/updated/resolved and draft POs out.

It is idempotent: a second pass over unchanged data changes nothing. Alerts are kept one
live row per dedupe key and resolved when their condition clears; draft POs are one per
supplier, and a SKU already on an open PO never gets a second line.
"""

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlmodel import Session, select

from core.alerts import notify_alert, wake_snoozed
from core.drafts import lock_drafting, open_draft, po_total
from core.models import (
    Alert,
    AlertStatus,
    AuditEvent,
    PoLine,
    PoStatus,
    PurchaseOrder,
    utcnow,
)
from core.outbox import notify, po_card
from core.picks import publish_pick_lists
from core.planner import PlanParams, plan
from core.signals import overdue_pos, sku_signals
from core.state import load_state, split_today

LIVE = (AlertStatus.OPEN, AlertStatus.SNOOZED)
DETAIL_COLUMNS = (
    "position",
    "reorder_point",
    "days_of_cover",
    "daily_demand",
    "order_qty",
    "lead_time_days",
    "pick_colour",
)


@dataclass
class MonitorResult:
    opened: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    drafted: list[dict[str, Any]] = field(default_factory=list)  # one per PO touched
    picks: list[str] = field(default_factory=list)  # partners sent a new pick list

    def as_dict(self) -> dict[str, Any]:
        return {
            "opened": self.opened,
            "updated": self.updated,
            "resolved": self.resolved,
            "drafted": self.drafted,
            "picks": self.picks,
        }


def monitor_pass(
    session: Session,
    as_of: date,
    *,
    tz: ZoneInfo,
    params: PlanParams | None = None,
    now: datetime | None = None,
    sku_ids: Collection[int] | None = None,
) -> tuple[MonitorResult, pd.DataFrame]:
    """Plan every SKU and bring alerts and draft POs in line with the plan (one transaction,
    the caller's unit of work).

    With `now` on the day after `as_of`, today's sales so far count for the surge check
    (the scheduled pass and the targeted one then agree, so neither undoes the other).
    With `sku_ids`, a targeted pass: only those SKUs, their alerts and draft lines; overdue
    POs and pick lists wait for the next full pass.
    """
    p = params or PlanParams()
    lock_drafting(session)  # one pass (or Draft PO press) at a time
    planned, open_po_skus = _plan(session, as_of, tz, p, now, sku_ids)
    result = MonitorResult()
    wanted = _wanted_alerts(session, planned, as_of, overdue=sku_ids is None)
    _reconcile_alerts(session, wanted, result, sku_ids)
    wake_snoozed(session, utcnow())
    _draft_orders(session, planned, open_po_skus, as_of, result)
    if sku_ids is None:  # dropship partners pick hot SKUs first: lists follow the colours
        result.picks = publish_pick_lists(session, planned, utcnow(), as_of=as_of).posted
    return result, planned


def _plan(
    session: Session,
    as_of: date,
    tz: ZoneInfo,
    p: PlanParams,
    now: datetime | None,
    sku_ids: Collection[int] | None,
) -> tuple[pd.DataFrame, frozenset[int]]:
    local = now.astimezone(tz) if now is not None else None
    if local is None or local.date() != as_of + timedelta(days=1):
        state = load_state(session, as_of, history_days=p.history_days, tz=tz, sku_ids=sku_ids)
        return plan(state, p), state.open_po_skus
    read = load_state(
        session, local.date(), history_days=p.history_days + 1, tz=tz, sku_ids=sku_ids
    )
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    state, today = split_today(read, (local - midnight).total_seconds() / 86_400)
    return plan(state, p, today), state.open_po_skus


def _wanted_alerts(
    session: Session, planned: pd.DataFrame, as_of: date, *, overdue: bool = True
) -> pd.DataFrame:
    live = sku_signals(planned)
    details = planned.set_index("sku_id")[list(DETAIL_COLUMNS)]
    live["details"] = [_details(details.loc[sku_id]) for sku_id in live["sku_id"]]
    columns = ["kind", "sku_id", "severity", "dedupe_key", "details"]
    if not overdue:
        return live[columns]
    late = overdue_pos(_open_pos(session), as_of)
    late = late.assign(
        sku_id=None,
        details=[
            {"po": number, "expected_arrival": str(day)}
            for number, day in zip(late["number"], late["expected_arrival"], strict=True)
        ],
    )
    return pd.concat([live[columns], late[columns]], ignore_index=True)


def _details(row: pd.Series) -> dict[str, Any]:
    """JSON-safe and rounded, so an unchanged condition compares equal on the next pass."""
    return {str(name): _json_safe(value) for name, value in row.items()}


def _json_safe(value: object) -> object:
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int | float) or hasattr(value, "item"):
        number = float(value)  # type: ignore[arg-type]
        if math.isfinite(number):
            return round(number, 2)
        return None if math.isnan(number) else "inf"
    return str(value)


def _open_pos(session: Session) -> pd.DataFrame:
    query = select(PurchaseOrder.number, PurchaseOrder.expected_arrival).where(
        PurchaseOrder.status.in_((PoStatus.SENT, PoStatus.CONFIRMED))
    )
    return pd.DataFrame(session.execute(query).all(), columns=["number", "expected_arrival"])


def _reconcile_alerts(
    session: Session,
    wanted: pd.DataFrame,
    result: MonitorResult,
    sku_ids: Collection[int] | None = None,
) -> None:
    query = select(Alert).where(Alert.status.in_(LIVE))
    if sku_ids is not None:  # a targeted pass judges its own SKUs' alerts only
        query = query.where(Alert.sku_id.in_(sorted(sku_ids)))  # type: ignore[union-attr]
    live = {a.dedupe_key: a for a in session.scalars(query)}
    now = utcnow()
    told: list[tuple[Alert, str]] = []  # (alert, event) for the alerts channel
    for row in wanted.itertuples(index=False):
        alert = live.pop(row.dedupe_key, None)
        if alert is None:
            alert = Alert(
                kind=row.kind,
                sku_id=_int_or_none(row.sku_id),
                severity=row.severity,
                dedupe_key=row.dedupe_key,
                details=row.details,
                opened_at=now,
                updated_at=now,
            )
            session.add(alert)
            result.opened.append(row.dedupe_key)
            told.append((alert, "opened"))
        elif alert.details != row.details or alert.severity != row.severity:
            if alert.severity != row.severity:  # louder or quieter: worth a fresh card
                told.append((alert, "updated"))
            # keep the PO a Draft PO press made, and the emergency order one opened
            made = {k: alert.details[k] for k in ("po", "emergency") if alert.details.get(k)}
            alert.details = row.details | made
            alert.severity, alert.updated_at = row.severity, now
            result.updated.append(row.dedupe_key)
    for key, alert in live.items():  # conditions that cleared
        alert.status, alert.resolved_at, alert.updated_at = AlertStatus.RESOLVED, now, now
        result.resolved.append(key)
        told.append((alert, "resolved"))
    session.flush()
    for alert, event in told:
        notify_alert(session, alert, event)
    _audit(session, "alert.opened", "alert", result.opened)
    _audit(session, "alert.resolved", "alert", result.resolved)


def _int_or_none(value: object) -> int | None:
    return None if value is None or pd.isna(value) else int(value)  # type: ignore[call-overload]


def _draft_orders(
    session: Session,
    planned: pd.DataFrame,
    open_po_skus: frozenset[int],
    as_of: date,
    result: MonitorResult,
) -> None:
    needed = planned[
        (planned["order_qty"] > 0)
        & planned["supplier_id"].notna()
        & ~planned["sku_id"].isin(open_po_skus)
    ]
    for supplier_id, lines in needed.groupby("supplier_id", sort=True):
        po = open_draft(session, int(supplier_id), as_of)
        for line in lines.itertuples(index=False):
            session.add(
                PoLine(
                    po_id=po.id,
                    sku_id=int(line.sku_id),
                    qty=int(line.order_qty),
                    unit_price=Decimal(str(line.unit_price)),
                )
            )
        session.flush()
        po.total = po_total(session, po)
        session.flush()
        notify(session, po, "drafted", ["approvals"], po_card(session, po, "drafted"))
        result.drafted.append(
            {
                "po": po.number,
                "supplier": str(lines["supplier"].iloc[0]),
                "lines": len(lines),
                "total": float(po.total),
            }
        )
        _audit(
            session,
            "po.drafted",
            "purchase_order",
            [po.number],
            lines=[str(sku) for sku in lines["sku"]],
        )


def _audit(session: Session, action: str, entity: str, ids: Iterable[str], **data: Any) -> None:
    for entity_id in ids:
        session.add(AuditEvent(action=action, entity=entity, entity_id=entity_id, data=data))
