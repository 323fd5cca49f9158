"""The conditions worth telling someone about, computed for every SKU at once.

Each signal has a dedupe key (kind + SKU code or PO number): the planner keeps one live
alert per key and resolves it when the condition clears.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import numpy as np
import pandas as pd


class SignalKind(StrEnum):
    LOW_STOCK = "low_stock"
    IMMINENT_STOCKOUT = "imminent_stockout"
    SURGE = "surge"
    SLOW_MOVER = "slow_mover"
    OVERDUE_PO = "overdue_po"
    PRICE_OUT_OF_BAND = "price_out_of_band"


SKU_KINDS = (
    SignalKind.IMMINENT_STOCKOUT,
    SignalKind.SURGE,
    SignalKind.LOW_STOCK,
    SignalKind.SLOW_MOVER,
)

SEVERITY = {
    SignalKind.IMMINENT_STOCKOUT: "critical",
    SignalKind.SURGE: "warning",
    SignalKind.LOW_STOCK: "warning",
    SignalKind.OVERDUE_PO: "warning",
    SignalKind.PRICE_OUT_OF_BAND: "warning",
    SignalKind.SLOW_MOVER: "info",
}


@dataclass(frozen=True)
class SignalParams:
    surge_window_days: int = 7
    surge_z: float = 3.0  # how far above the forecast band recent sales must be
    surge_ratio: float = 2.0  # … and at least this multiple of the forecast
    surge_min_units: float = 10.0  # so one order of two units is not a surge
    slow_window_days: int = 30  # 滯銷: no or little sales for this many days …
    slow_max_units: float = 2.0
    slow_min_cover_days: float = 90.0  # … while holding more than this many days of cover


def surging(
    recent_sales: np.ndarray,
    recent_available: np.ndarray,
    recent_expected: np.ndarray,
    std_daily: np.ndarray,
    params: SignalParams = SignalParams(),
) -> np.ndarray:
    """Recent sales significantly above the forecast band, with a minimum volume.

    All (n, window) arrays over the last days: what sold, whether it was in stock, and
    what the forecast expected (weekday and promotions included, so a promotion that
    sells as announced is no surge). Only in-stock days count, and the best day is left
    out of both sides: one big group order is not a surge, a run of strong days is.
    """
    sold = np.where(recent_available, recent_sales, 0.0)
    expected = np.where(recent_available, recent_expected, 0.0)
    best = sold.argmax(axis=1)[:, None]
    sold_rest = sold.sum(axis=1) - np.take_along_axis(sold, best, axis=1)[:, 0]
    expected_rest = expected.sum(axis=1) - np.take_along_axis(expected, best, axis=1)[:, 0]
    days = np.maximum(recent_available.sum(axis=1) - 1, 0)
    band = expected_rest + params.surge_z * std_daily * np.sqrt(days)
    return (
        (sold_rest > band)
        & (sold_rest >= params.surge_ratio * expected_rest)
        & (sold_rest >= params.surge_min_units)
        & (days > 0)
    )


def slow_moving(
    sales: np.ndarray, days_of_cover: np.ndarray, params: SignalParams = SignalParams()
) -> np.ndarray:
    recent = sales[:, -params.slow_window_days :].sum(axis=1)
    return (recent <= params.slow_max_units) & (days_of_cover > params.slow_min_cover_days)


def low_stock(position: np.ndarray, reorder_point: np.ndarray) -> np.ndarray:
    return position <= reorder_point


def imminent_stockout(
    days_of_cover: np.ndarray, lead_time_days: np.ndarray, mean_daily: np.ndarray
) -> np.ndarray:
    """Stock runs out before a replenishment ordered today could arrive."""
    return (days_of_cover < lead_time_days) & (mean_daily > 0)


def price_outside_band(agreed: float, proposed: float, band_pct: float) -> bool:
    """A supplier's price outside agreed ± band % needs the manager (價格浮動範圍)."""
    return abs(proposed - agreed) > agreed * band_pct / 100 + 1e-9


def sku_signals(plan: pd.DataFrame) -> pd.DataFrame:
    """One row per (SKU, condition) from a plan with the boolean signal columns.

    `plan` needs sku_id, sku and one boolean column per SKU-level SignalKind.
    """
    kinds = [k for k in SignalKind if k in plan.columns]
    long = plan.melt(id_vars=["sku_id", "sku"], value_vars=kinds, var_name="kind", value_name="on")
    live = long[long["on"].astype(bool)].drop(columns="on")
    live["severity"] = live["kind"].map(SEVERITY)
    live["dedupe_key"] = live["kind"] + ":" + live["sku"]
    return live.reset_index(drop=True)


def overdue_pos(open_pos: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Confirmed or sent POs whose expected arrival has passed without receipt."""
    late = open_pos[open_pos["expected_arrival"].notna() & (open_pos["expected_arrival"] < as_of)]
    return late.assign(
        kind=SignalKind.OVERDUE_PO.value,
        severity=SEVERITY[SignalKind.OVERDUE_PO],
        dedupe_key=SignalKind.OVERDUE_PO.value + ":" + late["number"],
    )
