"""Replenishment policy: safety stock, reorder point, EOQ, order quantity, cover, pick colour.

Every function takes a number or one number per SKU (numpy arrays or pandas Series, which
broadcast together) and answers in kind: a float (or int, or str) for scalars, a numpy array
for arrays. The planner calls each function once for all SKUs, so nothing here loops per SKU.

Units: demand per day; lead times in calendar days for the formulas (suppliers quote working
days: convert with `core.suppliers.calendar_lead_time`, so 春節 lengthens the lead time).

Invalid input (a negative demand, a service level of 1, a case pack of 0) raises ValueError
for the whole call, even when one SKU of many is at fault: a nonsense number is a bug
upstream, not something to guess around. NaN is not invalid: it propagates (and an unknown
position orders nothing).
"""

from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

Values = float | npt.ArrayLike  # a number, or one number per SKU
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_EPSILON = 1e-9  # float noise, so 24.000000001 units do not round up to another case


# --- helpers ------------------------------------------------------------------------------


def _floats(*values: Values) -> list[FloatArray]:
    return [np.asarray(value, dtype=np.float64) for value in values]


def _as_result(values: np.ndarray) -> float | FloatArray:
    return float(values) if values.ndim == 0 else values


def _refuse(bad: np.ndarray, message: str) -> None:
    """Raise ValueError if any element is bad, saying how many and where the first is."""
    if not np.any(bad):
        return
    if bad.ndim == 0:
        raise ValueError(message)
    first = np.unravel_index(int(np.argmax(bad)), bad.shape)
    where = first[0] if len(first) == 1 else first
    raise ValueError(f"{message} ({int(np.count_nonzero(bad))} values, first at index {where})")


def _refuse_negative(**named: np.ndarray) -> None:
    for name, values in named.items():
        _refuse(values < 0, f"{name} must not be negative")


def _z(service_level: FloatArray) -> FloatArray:
    """Standard normal quantile of each cycle service level."""
    outside = ~((service_level > 0) & (service_level < 1))  # NaN is outside too
    _refuse(outside, "service_level must be strictly between 0 and 1")
    # One quantile per distinct level (a shop has a handful), not one per SKU.
    levels, positions = np.unique(service_level, return_inverse=True)
    quantiles = np.array([NormalDist().inv_cdf(level) for level in levels.tolist()])
    return quantiles[positions].reshape(service_level.shape)


# --- the textbook formulas -----------------------------------------------------------------


def eoq(
    annual_demand: Values, order_cost: Values, holding_cost_per_unit_year: Values
) -> float | FloatArray:
    """Economic order quantity sqrt(2·D·S / H); 0 when there is no demand.

    Negative inputs, or H ≤ 0 with positive demand, raise ValueError (for arrays: if any
    element is so).
    """
    demand, cost, holding = _floats(annual_demand, order_cost, holding_cost_per_unit_year)
    _refuse_negative(annual_demand=demand, order_cost=cost, holding_cost_per_unit_year=holding)
    _refuse(
        (demand > 0) & (holding <= 0),
        "holding_cost_per_unit_year must be positive when there is demand",
    )
    with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 where demand is 0: masked
        quantity = np.where(demand == 0, 0.0, np.sqrt(2 * demand * cost / holding))
    return _as_result(quantity)


def safety_stock(
    service_level: Values,
    demand_std_per_day: Values,
    lead_time_days: Values,
    lead_time_std_days: Values = 0.0,
    mean_daily_demand: Values = 0.0,
) -> float | FloatArray:
    """z · σ_LT with σ_LT = sqrt(L·σ_d² + d²·σ_L²), z the quantile of the cycle service level.

    A service level below 0.5 gives a negative safety stock, as the formula says.
    """
    level, sigma, lead, lead_sigma, mean = _floats(
        service_level, demand_std_per_day, lead_time_days, lead_time_std_days, mean_daily_demand
    )
    _refuse_negative(
        demand_std_per_day=sigma,
        lead_time_days=lead,
        lead_time_std_days=lead_sigma,
        mean_daily_demand=mean,
    )
    sigma_lead_time = np.sqrt(lead * sigma**2 + mean**2 * lead_sigma**2)
    return _as_result(_z(level) * sigma_lead_time)


def reorder_point(
    mean_daily_demand: Values, lead_time_days: Values, safety_stock: Values
) -> float | FloatArray:
    """Demand over the lead time plus safety stock: d·L + SS."""
    mean, lead, buffer = _floats(mean_daily_demand, lead_time_days, safety_stock)
    return _as_result(mean * lead + buffer)


def order_up_to_level(
    mean_daily_demand: Values, lead_time_days: Values, review_days: Values, safety_stock: Values
) -> float | FloatArray:
    """Stock that lasts until the order after next can arrive: d·(L + R) + SS."""
    mean, lead, review, buffer = _floats(
        mean_daily_demand, lead_time_days, review_days, safety_stock
    )
    return _as_result(mean * (lead + review) + buffer)


def inventory_position(on_hand: Values, on_order: Values, reserved: Values) -> float | FloatArray:
    """On hand + on order − reserved: stock already ordered counts, so it is never re-ordered."""
    hand, ordered, held = _floats(on_hand, on_order, reserved)
    return _as_result(hand + ordered - held)


# --- the order ----------------------------------------------------------------------------


def order_quantity(
    position: Values,
    reorder_point: Values,
    order_up_to: Values,
    eoq: Values,
    moq: Values,
    case_pack: Values,
) -> int | IntArray:
    """Units to order: 0 above the reorder point, else max(EOQ, order_up_to − position),
    raised to the MOQ, rounded up to whole cases (so also ≥ MOQ when MOQ is not whole cases).

    Nothing is ordered when nothing is needed (a dead SKU at its reorder point of 0 does
    not buy an MOQ every day). An unknown (NaN) EOQ is ignored; an unknown position orders
    nothing.
    """
    pos, rop, level, lot, minimum, pack = _floats(
        position, reorder_point, order_up_to, eoq, moq, case_pack
    )
    _refuse(~(pack >= 1) | (pack != np.floor(pack)), "case_pack must be a whole number ≥ 1")
    _refuse(~(minimum >= 0), "moq must not be negative")
    need = np.where(pos <= rop, np.fmax(lot, level - pos), 0.0)
    need = np.where(need > 0, np.maximum(need, minimum), 0.0)
    _refuse(need >= 2.0**53, "order quantity out of range (an infinite EOQ or order-up-to?)")
    units = np.ceil(need - _EPSILON).astype(np.int64)
    packs = pack.astype(np.int64)
    quantity = -(-units // packs) * packs  # integer ceiling: exact, unlike float division
    return int(quantity) if quantity.ndim == 0 else quantity


def days_of_cover(position_or_available: Values, mean_daily_demand: Values) -> float | FloatArray:
    """Days the stock lasts at the mean rate: inf without demand, 0 with nothing available."""
    stock, mean = _floats(position_or_available, mean_daily_demand)
    _refuse_negative(mean_daily_demand=mean)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # inf is the answer
        cover = np.where(stock <= 0, 0.0, np.where(mean == 0, np.inf, stock / mean))
    return _as_result(cover)


def pick_colour(
    days_of_cover: Values,
    lead_time_days: Values,
    position: Values,
    reorder_point: Values,
    surging: bool | npt.ArrayLike,
) -> str | npt.NDArray[np.str_]:
    """Pick priority for dropship partners (熱銷品優先處理): red, orange or green.

    red: a stockout is expected before a replenishment ordered now can arrive, or the SKU
    is surging; orange: at or below the reorder point; green: otherwise.
    """
    cover, lead, pos, rop = _floats(days_of_cover, lead_time_days, position, reorder_point)
    hot = np.asarray(surging, dtype=bool)
    red, orange = np.broadcast_arrays((cover < lead) | hot, pos <= rop)
    colour = np.select([red, orange], ["red", "orange"], default="green")
    return str(colour) if colour.ndim == 0 else colour


# --- the plan -----------------------------------------------------------------------------


ServiceLevel = float | Literal["cost"]
MIN_SERVICE_LEVEL, MAX_SERVICE_LEVEL = 0.5, 0.999


@dataclass(frozen=True)
class PolicyParams:
    """The knobs a manager owns; the defaults are the ones agreed in the engine issue."""

    # Cycle service level, P(no stockout in a cycle); "cost": per SKU from its cost ratio.
    service_level: ServiceLevel = 0.95
    review_days: float = 1  # the monitor re-plans daily
    order_cost: float = 300.0  # TWD per order line
    holding_rate: float = 0.25  # per year, fraction of unit cost
    days_per_year: float = 365.0  # annualises daily demand for EOQ

    def __post_init__(self) -> None:
        if self.service_level != "cost" and not 0 < self.service_level < 1:
            raise ValueError("service_level must be strictly between 0 and 1")
        if min(self.review_days, self.order_cost, self.holding_rate) < 0:
            raise ValueError("review_days, order_cost and holding_rate must not be negative")
        if self.days_per_year <= 0:
            raise ValueError("days_per_year must be positive")


DEFAULT_PARAMS = PolicyParams()


def _per_sku(*values: Values) -> list[FloatArray]:
    """Per-SKU inputs as equally long 1-d arrays (a number stands for every SKU)."""
    return [np.atleast_1d(array) for array in np.broadcast_arrays(*_floats(*values))]


def _lot_size(
    mean: FloatArray,
    unit_cost: FloatArray,
    order_cost: FloatArray,
    holding_rate: FloatArray,
    days_per_year: float,
) -> FloatArray:
    """EOQ per SKU; 0 (no lot-size floor) where there is no positive holding cost to weigh."""
    holding = unit_cost * holding_rate
    priced = holding > 0
    lots = eoq(mean * days_per_year, order_cost, np.where(priced, holding, 1.0))
    return np.where(priced, lots, 0.0)


def cost_service_level(holding_rate: Values, cycle_days: Values) -> FloatArray:
    """The cycle service level at which holding and lost sales balance, a lost sale costing
    the unit cost: P(no stockout in a cycle) = 1 / (1 + holding_rate · cycle / 365)
    (Hadley–Whitin, lost sales: P(stockout) = hQ / (hQ + pD)), within [0.5, 0.999].

    A SKU ordered every 14 days at 25 % a year gets 0.990; one ordered daily 0.999.
    """
    with np.errstate(invalid="ignore"):  # inf cycles (no demand) give 0 → clipped to 0.5
        level = 1.0 / (1.0 + np.asarray(holding_rate) * np.asarray(cycle_days) / 365.0)
    return np.clip(np.nan_to_num(level), MIN_SERVICE_LEVEL, MAX_SERVICE_LEVEL)


def _service_levels(
    setting: ServiceLevel | FloatArray,
    lots: FloatArray,
    moq: FloatArray,
    mean: FloatArray,
    holding_rate: FloatArray,
    review_days: float,
) -> FloatArray | float:
    if not isinstance(setting, str):
        return setting
    batch = np.maximum.reduce([lots, moq, mean * review_days])
    cycle = np.divide(batch, mean, out=np.full(len(batch), np.inf), where=mean > 0)
    return cost_service_level(holding_rate, cycle)


def plan_orders(
    *,
    mean_daily_demand: Values,
    demand_std_per_day: Values,
    lead_time_days: Values,
    lead_time_std_days: Values,
    on_hand: Values,
    on_order: Values,
    reserved: Values,
    unit_cost: Values,
    moq: Values,
    case_pack: Values,
    surging: bool | npt.ArrayLike,
    params: PolicyParams = DEFAULT_PARAMS,
    index: pd.Index | None = None,
    order_cost: Values | None = None,
    holding_rate: Values | None = None,
    service_level: Values | None = None,
) -> pd.DataFrame:
    """The policy for every SKU at once: one row per SKU (lead times in calendar days).

    `order_cost`, `holding_rate` and `service_level` override `params` per SKU.
    """
    mean, sigma, lead, lead_sigma, hand, ordered, held, cost, minimum, pack, hot = _per_sku(
        mean_daily_demand,
        demand_std_per_day,
        lead_time_days,
        lead_time_std_days,
        on_hand,
        on_order,
        reserved,
        unit_cost,
        moq,
        case_pack,
        surging,
    )
    ordering, holding = _per_sku(
        params.order_cost if order_cost is None else order_cost,
        params.holding_rate if holding_rate is None else holding_rate,
        mean,
    )[:2]
    lots = _lot_size(mean, cost, ordering, holding, params.days_per_year)
    setting = params.service_level if service_level is None else np.asarray(service_level)
    levels = _service_levels(setting, lots, minimum, mean, holding, params.review_days)
    buffer = safety_stock(levels, sigma, lead, lead_sigma, mean)
    rop = reorder_point(mean, lead, buffer)
    level = order_up_to_level(mean, lead, params.review_days, buffer)
    position = inventory_position(hand, ordered, held)
    cover = days_of_cover(position, mean)
    columns = {
        "safety_stock": buffer,
        "reorder_point": rop,
        "eoq": lots,
        "order_up_to": level,
        "position": position,
        "order_qty": order_quantity(position, rop, level, lots, minimum, pack),
        "days_of_cover": cover,
        # Without demand no stockout is expected, whatever the (zero) cover says.
        "pick_colour": pick_colour(
            np.where(mean > 0, cover, np.inf), lead, position, rop, hot.astype(bool)
        ),
    }
    return pd.DataFrame(columns, index=index)
