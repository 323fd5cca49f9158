"""The engine as the product runs it: settings → parameters, the plan and monitor pass."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import pandas as pd

from core.monitor import MonitorResult, monitor_pass
from core.planner import PlanParams, plan
from core.policy import PolicyParams
from core.state import load_state

if TYPE_CHECKING:
    from bot.app import App


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
    """The last complete business day in the shop's time zone."""
    return datetime.now(app.settings.tz).date() - timedelta(days=1)


def current_plan(app: App, as_of: date) -> pd.DataFrame:
    params = plan_params(app)
    with app.store.read() as session:
        state = load_state(session, as_of, history_days=params.history_days, tz=app.settings.tz)
    return plan(state, params)


def run_monitor(app: App, as_of: date) -> tuple[MonitorResult, pd.DataFrame]:
    with app.store.unit_of_work() as session:
        return monitor_pass(session, as_of, tz=app.settings.tz, params=plan_params(app))


def by_urgency(planned: pd.DataFrame) -> pd.DataFrame:
    """Red before orange before green; within a colour, the least cover first."""
    rank = planned["pick_colour"].map({"red": 0, "orange": 1, "green": 2})
    return (
        planned.assign(_rank=rank)
        .sort_values(["_rank", "days_of_cover", "sku"])
        .drop(columns="_rank")
    )
