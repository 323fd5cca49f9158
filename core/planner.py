"""One plan for every SKU: forecast → supplier → policy → signals, pure on arrays.

`plan(state)` answers, per SKU, how much demand to expect over the supplier's lead time
plus the review period (weekday pattern, holidays and announced promotions included),
where the reorder point and order-up-to level sit, what to order from whom, how many days
the stock covers, the pick colour, and which conditions deserve an alert.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from core import policy, signals
from core.forecast import DemandHistory, Forecast, ForecastParams, forecast, horizon_demand
from core.policy import PolicyParams
from core.signals import SignalKind, SignalParams
from core.state import PartialDay, ShopState, promotion_uplift
from core.suppliers import calendar_lead_time, choose_suppliers

PLAN_COLUMNS = [
    "sku_id",
    "sku",
    "name",
    "on_hand",
    "reserved",
    "on_order",
    "position",
    "daily_demand",
    "demand_std",
    "demand_class",
    "method",
    "supplier_id",
    "supplier",
    "lead_time_days",
    "safety_stock",
    "reorder_point",
    "eoq",
    "order_up_to",
    "order_qty",
    "unit_price",
    "days_of_cover",
    "pick_colour",
    "signals",
]


@dataclass(frozen=True)
class PlanParams:
    forecast: ForecastParams = field(default_factory=ForecastParams)
    policy: PolicyParams = field(default_factory=PolicyParams)
    signals: SignalParams = field(default_factory=SignalParams)
    history_days: int = 365


@dataclass(frozen=True)
class Decision:
    """What the engine decided for n SKUs, and why (arrays in SKU order)."""

    forecast: Forecast
    surging: np.ndarray  # bool (n,)
    mean: np.ndarray  # daily demand planned over lead time + review
    std: np.ndarray
    orders: pd.DataFrame  # core.policy.plan_orders: safety stock … pick colour


def decide(
    history: DemandHistory,
    *,
    start: date,
    lead_time: np.ndarray,
    future_uplift: np.ndarray,
    on_hand: np.ndarray,
    on_order: np.ndarray | float,
    reserved: np.ndarray | float,
    unit_cost: np.ndarray,
    moq: np.ndarray,
    case_pack: np.ndarray,
    lead_time_std: np.ndarray | float = 0.0,
    params: PlanParams | None = None,
    fc: Forecast | None = None,
    today: PartialDay | None = None,
    **costs: np.ndarray,
) -> Decision:
    """The engine's decision from arrays: the one code path of `plan()` and the simulator.

    `lead_time` in calendar days; `future_uplift` (n, ≥ max lead time + review) from
    `start` (announced promotions, NaN = learnt uplift); `costs` are plan_orders'
    per-SKU order_cost / holding_rate / service_level overrides.
    """
    p = params or PlanParams()
    fc = fc if fc is not None else forecast(history, p.forecast)
    surging = surging_skus(history, p, today)
    mean, std = _lead_time_demand(fc, start, lead_time, p.policy.review_days, future_uplift)
    # A surge is expected to last through the lead time: plan on the recent rate.
    recent = _recent_rate(history, p.signals.surge_window_days)
    mean = np.where(surging, np.maximum(mean, recent), mean)
    orders = policy.plan_orders(
        mean_daily_demand=mean,
        demand_std_per_day=std,
        lead_time_days=lead_time,
        lead_time_std_days=lead_time_std,
        on_hand=on_hand,
        on_order=on_order,
        reserved=reserved,
        unit_cost=unit_cost,
        moq=moq,
        case_pack=case_pack,
        surging=surging,
        params=p.policy,
        **costs,
    )
    return Decision(fc, surging, mean, std, orders)


def plan(
    state: ShopState, params: PlanParams | None = None, today: PartialDay | None = None
) -> pd.DataFrame:
    """The plan for every active SKU, one row each, in `state.skus` order (`today`: the
    sales so far of the day after `state.as_of`, for the surge check only)."""
    p = params or PlanParams()
    history = DemandHistory(
        state.dates,
        state.sales,
        state.available,
        state.past_uplift,
        category=state.skus["category"].to_numpy(),
    )
    fc = forecast(history, p.forecast)
    suppliers = _suppliers(state, fc)
    lead_time = _calendar_lead_time(state, suppliers)
    start = state.as_of + timedelta(days=1)
    span = int((lead_time + p.policy.review_days).max()) if len(lead_time) else 1
    dates = pd.date_range(start, periods=span, freq="D")
    decision = decide(
        history,
        start=start,
        lead_time=lead_time,
        fc=fc,
        params=p,
        today=today,
        future_uplift=promotion_uplift(state.promotions, pd.Index(state.skus["sku_id"]), dates),
        lead_time_std=suppliers["lead_time_std_days"].fillna(0).to_numpy(float),
        on_hand=state.stock["on_hand"].to_numpy(float),
        on_order=state.stock["on_order"].to_numpy(float),
        reserved=state.stock["reserved"].to_numpy(float),
        unit_cost=_unit_cost(state, suppliers),
        moq=suppliers["moq"].fillna(1).to_numpy(float),
        case_pack=suppliers["case_pack"].fillna(1).to_numpy(float),
    )
    frame = _assemble(state, suppliers, lead_time, decision)
    return _with_signals(frame, state, decision, p.signals)


def surging_skus(
    history: DemandHistory, p: PlanParams, today: PartialDay | None = None
) -> np.ndarray:
    """SKUs whose last week (and today so far) beat what a forecast fitted without that
    week expected.

    The full forecast has already half-absorbed a week-old surge and would hide it; with
    less than two weeks of history before the window nothing counts as a surge. Today is
    expected only in proportion to the share of the day gone.
    """
    window = p.signals.surge_window_days
    n = history.qty.shape[0]
    if len(history.dates) - window < 2 * window:
        return np.zeros(n, dtype=bool)
    before = DemandHistory(
        history.dates[:-window],
        history.qty[:, :-window],
        history.available[:, :-window],
        history.promo_uplift[:, :-window],
        category=history.category,
    )
    fc = forecast(before, p.forecast)
    qty, available = history.qty[:, -window:], history.available[:, -window:]
    uplift = history.promo_uplift[:, -window:]
    if today is not None:
        qty = np.column_stack([qty, today.qty])
        available = np.column_stack([available, today.available])
        uplift = np.column_stack([uplift, today.uplift])
    expected = horizon_demand(fc, history.dates[-window].date(), qty.shape[1], future_uplift=uplift)
    if today is not None:
        expected[:, -1] *= today.elapsed
    return signals.surging(qty, available, expected, fc.std_daily, p.signals)


def _recent_rate(history: DemandHistory, window: int) -> np.ndarray:
    """Units per in-stock day over the last `window` days."""
    available = history.available[:, -window:]
    sold = np.where(available, history.qty[:, -window:], 0.0).sum(axis=1)
    return sold / np.maximum(available.sum(axis=1), 1)


def _suppliers(state: ShopState, fc: Forecast) -> pd.DataFrame:
    """The supplier for each SKU (rank 1, or a faster backup when the primary is too slow)."""
    position = _position(state)
    needs = pd.DataFrame(
        {
            "sku_id": state.skus["sku_id"],
            "days_of_cover": policy.days_of_cover(np.maximum(position, 0), fc.mean_daily),
            "mean_daily_demand": fc.mean_daily,
        }
    )
    chosen = choose_suppliers(needs, state.terms, order_date=state.as_of)
    names = state.terms.drop_duplicates("supplier_id").set_index("supplier_id")["supplier"]
    chosen["supplier"] = chosen["supplier_id"].map(names)
    return chosen.reset_index(drop=True)


def _position(state: ShopState) -> np.ndarray:
    stock = state.stock
    return np.asarray(
        policy.inventory_position(
            stock["on_hand"].to_numpy(float),
            stock["on_order"].to_numpy(float),
            stock["reserved"].to_numpy(float),
        )
    )


def _calendar_lead_time(state: ShopState, suppliers: pd.DataFrame) -> np.ndarray:
    """Working-day lead times as calendar days from today (春節 pushes them out)."""
    working = suppliers["lead_time_days"].astype("float64").to_numpy()
    known = np.isfinite(working)
    days = np.zeros(len(working))
    if known.any():
        days[known] = calendar_lead_time(state.as_of, working[known])
    return days


def _lead_time_demand(
    fc: Forecast, start: date, lead_time: np.ndarray, review_days: float, future_uplift: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean daily demand over each SKU's own lead time + review window, and its std."""
    cover = np.maximum(np.ceil(lead_time + review_days), 1).astype("int64")
    horizon = int(cover.max()) if len(cover) else 1
    daily = horizon_demand(fc, start, horizon, future_uplift=future_uplift[:, :horizon])
    total = np.take_along_axis(np.cumsum(daily, axis=1), (cover - 1)[:, None], axis=1)[:, 0]
    mean = total / cover
    scale = np.divide(mean, fc.mean_daily, out=np.ones_like(mean), where=fc.mean_daily > 0)
    return mean, fc.std_daily * np.maximum(scale, 1.0)


def _unit_cost(state: ShopState, suppliers: pd.DataFrame) -> np.ndarray:
    """What holding a unit costs: the agreed purchase price, else the SKU's own cost."""
    price = suppliers["unit_price"].astype("float64").to_numpy()
    return np.where(np.isfinite(price), price, state.skus["unit_cost"].fillna(0).to_numpy())


def _assemble(
    state: ShopState, suppliers: pd.DataFrame, lead_time: np.ndarray, decision: Decision
) -> pd.DataFrame:
    stock, fc = state.stock, decision.forecast
    frame = pd.DataFrame(
        {
            "sku_id": state.skus["sku_id"].to_numpy(),
            "sku": state.skus["code"].to_numpy(),
            "name": state.skus["name"].to_numpy(),
            "on_hand": stock["on_hand"].to_numpy(),
            "reserved": stock["reserved"].to_numpy(),
            "on_order": stock["on_order"].to_numpy(),
            "daily_demand": decision.mean,
            "demand_std": decision.std,
            "demand_class": fc.demand_class,
            "method": fc.method,
            "supplier_id": suppliers["supplier_id"].to_numpy(),
            "supplier": suppliers["supplier"].to_numpy(),
            "lead_time_days": lead_time,
            "unit_price": suppliers["unit_price"].to_numpy(),
        }
    )
    for column in (
        "position",
        "safety_stock",
        "reorder_point",
        "eoq",
        "order_up_to",
        "order_qty",
        "days_of_cover",
        "pick_colour",
    ):
        frame[column] = decision.orders[column].to_numpy()
    no_supplier = frame["supplier_id"].isna()
    frame.loc[no_supplier, "order_qty"] = 0  # nothing can be ordered without terms
    return frame


def _with_signals(
    frame: pd.DataFrame, state: ShopState, decision: Decision, params: SignalParams
) -> pd.DataFrame:
    cover = frame["days_of_cover"].to_numpy(float)
    mean = decision.mean
    frame[SignalKind.LOW_STOCK.value] = signals.low_stock(
        frame["position"].to_numpy(float), frame["reorder_point"].to_numpy(float)
    ) & (mean > 0)
    frame[SignalKind.IMMINENT_STOCKOUT.value] = signals.imminent_stockout(
        cover, frame["lead_time_days"].to_numpy(float), mean
    )
    frame[SignalKind.SURGE.value] = decision.surging
    frame[SignalKind.SLOW_MOVER.value] = signals.slow_moving(state.sales, cover, params)
    kinds = [k.value for k in signals.SKU_KINDS]
    flags = frame[kinds].to_numpy()
    frame["signals"] = [[k for k, on in zip(kinds, row, strict=True) if on] for row in flags]
    return frame[PLAN_COLUMNS + kinds]
