"""The engine as the product runs it: settings → parameters, the plan and monitor pass."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import pandas as pd

from core.monitor import MonitorResult, monitor_pass
from core.planner import PlanParams, plan
from core.policy import PolicyParams
from core.replan import finish, waiting
from core.state import load_state

if TYPE_CHECKING:
    from bot.app import App

REPLAN_BATCH = 2_000  # SKUs per targeted pass; more wait for the next run (seconds later)


def plan_params(app: App) -> PlanParams:
    s = app.settings.planning
    return PlanParams(
        policy=PolicyParams(
            service_level=s.service_level,
            review_days=s.review_days,
            order_cost=s.order_cost,
            holding_rate=s.holding_rate,
        ),
        history_days=s.history_days,
    )


def default_as_of(app: App) -> date:
    """The last complete business day in the shop's time zone, by the app's clock."""
    return app.today() - timedelta(days=1)


def current_plan(app: App, as_of: date) -> pd.DataFrame:
    params = plan_params(app)
    with app.store.read() as session:
        state = load_state(session, as_of, history_days=params.history_days, tz=app.settings.tz)
    return plan(state, params)


def run_monitor(
    app: App, as_of: date, *, now: datetime | None = None
) -> tuple[MonitorResult, pd.DataFrame]:
    """One full monitor pass (`now` on the day after `as_of`: today so far counts for
    surges, see core/monitor.py)."""
    with app.store.unit_of_work() as session:
        return monitor_pass(session, as_of, tz=app.settings.tz, params=plan_params(app), now=now)


def replan_waiting(app: App, now: datetime, *, limit: int = REPLAN_BATCH) -> MonitorResult | None:
    """One targeted pass over the SKUs feeds asked to re-plan (core/replan.py); None when
    nothing waits. The requests are answered in the pass's own transaction."""
    as_of = now.astimezone(app.settings.tz).date() - timedelta(days=1)
    with app.store.unit_of_work() as session:
        taken = waiting(session, limit)
        if not taken:
            return None
        result, _ = monitor_pass(
            session, as_of, tz=app.settings.tz, params=plan_params(app), now=now, sku_ids=taken
        )
        finish(session, taken)
        return result


def by_urgency(planned: pd.DataFrame) -> pd.DataFrame:
    """Red before orange before green; within a colour, the least cover first."""
    rank = planned["pick_colour"].map({"red": 0, "orange": 1, "green": 2})
    return (
        planned.assign(_rank=rank)
        .sort_values(["_rank", "days_of_cover", "sku"])
        .drop(columns="_rank")
    )
