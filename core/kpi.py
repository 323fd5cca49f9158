"""The KPIs the article names (庫存周轉率, 缺貨率, 補貨準確率, 緊急補貨響應時間, 銷售額增長率)
plus fill rate, each defined once, over any past period, for all SKUs, one supplier or one
category.

Days are the shop's local days (`tz`), both ends of a period included. Every KPI is built
from additive parts per day (`_daily_parts`) and one function turns parts into ratios
(`_ratios`), used for a whole period (`kpis`, parts summed) and for one row per day
(`kpi_series`, each day a period of its own): a trend chart and a report agree by
construction. A ratio whose denominator is zero is None (NaN in the series), never 0.

Stock on a day is the end-of-day on hand over all locations (core/stock_history.py); days
before a SKU's first snapshot are unknown and left out of every stock-based KPI.

- Inventory turnover (庫存周轉率) = COGS ÷ average inventory value, both at cost (the primary
  supplier's unit price, else the SKU's unit cost; SKUs with neither are left out).
  COGS = Σ units sold × cost; average inventory value = Σ end-of-day on hand (negative as 0)
  × cost ÷ the days with stock history. Both sides count only SKU-days whose stock is known,
  so a SKU counted on fewer days weighs in proportion on both sides. `inventory_turnover` is
  over the period, not annualised; `inventory_turnover_annualised` = it × 365 ÷ those days.
- Stockout rate (缺貨率) = stockout SKU-days ÷ active SKU-days. Active SKU-day: a SKU marked
  active whose stock that day is known; stockout: its end-of-day on hand is ≤ 0 (a day it
  sold out in the afternoon counts).
- Fill rate = units shipped ÷ units demanded, over active SKU-days. Shipped: units sold
  (SalesDay; the shop records no separate shipments). Lost sales are not recorded, so demand
  is estimated: on an in-stock day, what sold; on a stockout day, the larger of what sold and
  the SKU's recent rate (mean units per day over the previous 28 days, leaving out days it
  was out of stock with nothing sold; no such day → no estimate). An estimate, and a
  conservative one: demand held back by low stock before it hit zero is not seen.
- Sales growth (銷售額增長率) = (revenue − previous revenue) ÷ previous revenue, the previous
  period being the one of equal length just before (for one day: the day before). Revenue
  is SalesDay.revenue of the SKUs in scope, active or not.
- Replenishment accuracy as OTIF (補貨準確率) = PO lines received on time and in full ÷ PO
  lines received; a line is received when its PO's `received_at` falls in the period; on
  time: that local day ≤ the confirmed arrival (else the requested one; neither → late); in
  full: received_qty ≥ qty. Per supplier: the PO's supplier.
- Emergency response time (緊急補貨響應時間): for requests made in the period, the median and
  p90 (linear interpolation) in minutes of request → approval and approval → supplier
  confirmation, over the requests that reached that step (open ones are not counted yet:
  they are `emergencies` minus `approve_minutes.count`). Per supplier: the PO's supplier,
  else the SKU's primary one.
"""

from dataclasses import asdict, dataclass, fields
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlmodel import Session

from core.kpi_data import (
    Sales,
    emergencies,
    in_scope,
    load_sales,
    received_lines,
    sku_frame,
)
from core.stock_history import daily_on_hand, day_start

RATE_DAYS = 28  # the window behind a SKU's recent rate on a stockout day
DAYS_PER_YEAR = 365


@dataclass(frozen=True)
class Durations:
    """Minutes of one step of the emergency clock: how many, median, 90th percentile."""

    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class KpiSet:
    start: date
    end: date
    # 庫存周轉率
    inventory_turnover: float | None
    inventory_turnover_annualised: float | None
    cogs: float
    average_inventory_value: float
    stock_days: int
    # 缺貨率
    stockout_rate: float | None
    stockout_sku_days: int
    active_sku_days: int
    # fill rate
    fill_rate: float | None
    units_shipped: float
    units_demanded: float
    # 銷售額增長率
    sales_growth: float | None
    revenue: float
    previous_revenue: float
    # 補貨準確率 (OTIF)
    otif: float | None
    lines_otif: int
    lines_on_time: int
    lines_in_full: int
    lines_received: int
    # 緊急補貨響應時間
    emergencies: int
    approve_minutes: Durations
    confirm_minutes: Durations


_COUNTS = ("stock_days", "stockout_sku_days", "active_sku_days", "lines_otif", "lines_on_time")
_COUNTS += ("lines_in_full", "lines_received", "emergencies")


def kpis(
    session: Session,
    start: date,
    end: date,
    *,
    tz: ZoneInfo,
    supplier_id: int | None = None,
    category: str | None = None,
) -> KpiSet:
    """Every KPI over the local days `start`…`end` (both included)."""
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    length = (end - start).days + 1
    parts = _Parts.load(session, start, end, length, tz, supplier_id, category)
    total = parts.daily.sum().to_frame().T
    total["previous_revenue"] = parts.revenue_before.sum()
    row = _ratios(total).iloc[0]
    return KpiSet(
        start=start,
        end=end,
        approve_minutes=durations(parts.minutes["approve_minutes"]),
        confirm_minutes=durations(parts.minutes["confirm_minutes"]),
        **{name: _plain(name, row[name]) for name in _SCALARS},
    )


def kpi_series(
    session: Session,
    end: date,
    days: int,
    *,
    tz: ZoneInfo,
    supplier_id: int | None = None,
    category: str | None = None,
) -> pd.DataFrame:
    """One row per day of the `days` ending `end` (a `day` column), each day's KPIs as
    `kpis(day, day)` would give them; the emergency durations as `approve_minutes_median`,
    `approve_minutes_p90`, `confirm_minutes_median`, `confirm_minutes_p90`."""
    if days < 1:
        raise ValueError("days must be at least 1")
    start = end - timedelta(days=days - 1)
    parts = _Parts.load(session, start, end, 1, tz, supplier_id, category)
    daily = parts.daily.copy()
    before = pd.concat([parts.revenue_before, daily["revenue"]])
    daily["previous_revenue"] = before.shift(1).loc[daily.index]
    series = _ratios(daily)
    for step in ("approve_minutes", "confirm_minutes"):
        grouped = parts.minutes.dropna(subset=[step]).groupby("day")[step]
        series[f"{step}_median"] = grouped.median().reindex(series.index)
        series[f"{step}_p90"] = grouped.quantile(0.9).reindex(series.index)
    return series.rename_axis("day").reset_index()


def kpi_dict(k: KpiSet) -> dict[str, Any]:
    """The KPIs as JSON-safe data: ISO dates, plain numbers (floats to 6 decimals), None for an
    undefined ratio, each emergency step as {count, median, p90}."""
    data = {name: _rounded(value) for name, value in asdict(k).items()}
    data["start"], data["end"] = k.start.isoformat(), k.end.isoformat()
    return data


def _rounded(value: Any) -> Any:
    """Floats to 6 decimals (no 87751.29999999999 in a report); nested durations too."""
    if isinstance(value, dict):
        return {name: _rounded(item) for name, item in value.items()}
    return round(value, 6) if isinstance(value, float) else value


# --- the definitions ---------------------------------------------------------------------------


def _div(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return numerator / denominator.where(denominator > 0)


def _ratios(parts: pd.DataFrame) -> pd.DataFrame:
    """Every ratio KPI from its additive parts, one row per period (a day or a whole period)."""
    out = parts.copy()
    average = _div(parts["inventory_value"], parts["stock_days"])
    out["average_inventory_value"] = average.fillna(0.0)
    out["inventory_turnover"] = _div(parts["cogs"], average)
    annualised = out["inventory_turnover"] * DAYS_PER_YEAR
    out["inventory_turnover_annualised"] = _div(annualised, parts["stock_days"])
    out["stockout_rate"] = _div(parts["stockout_sku_days"], parts["active_sku_days"])
    out["fill_rate"] = _div(parts["units_shipped"], parts["units_demanded"])
    growth = parts["revenue"] - parts["previous_revenue"]
    out["sales_growth"] = _div(growth, parts["previous_revenue"])
    out["otif"] = _div(parts["lines_otif"], parts["lines_received"])
    return out.drop(columns="inventory_value")


def durations(minutes: pd.Series) -> Durations:
    """Count, median and p90 (linear interpolation) of one step's minutes; NaN = not reached."""
    known = minutes.dropna()
    if known.empty:
        return Durations(0, None, None)
    return Durations(len(known), float(known.median()), float(known.quantile(0.9)))


def _daily_stock_parts(
    qty: np.ndarray, on_hand: np.ndarray, active: np.ndarray, cost: np.ndarray
) -> dict[str, np.ndarray]:
    """Per-day sums over SKUs; the first RATE_DAYS columns only feed the recent rate."""
    known = ~np.isnan(on_hand)
    out = known & (on_hand <= 0)
    rate = _recent_rate(qty, ~(out & (qty == 0)))
    demand = np.where(out, np.maximum(qty, rate), qty)
    counted = known & active[:, None]
    valued = known & ~np.isnan(cost)[:, None]
    price = np.nan_to_num(cost)[:, None]
    level = np.clip(np.nan_to_num(on_hand), 0, None)
    parts = {
        "active_sku_days": counted.sum(axis=0),
        "stockout_sku_days": (out & counted).sum(axis=0),
        "units_shipped": np.where(counted, qty, 0.0).sum(axis=0),
        "units_demanded": np.where(counted, demand, 0.0).sum(axis=0),
        "cogs": np.where(valued, qty * price, 0.0).sum(axis=0),
        "inventory_value": np.where(valued, level * price, 0.0).sum(axis=0),
        "stock_days": valued.any(axis=0).astype("int64"),
    }
    return {name: values[RATE_DAYS:] for name, values in parts.items()}


def _recent_rate(qty: np.ndarray, counted: np.ndarray) -> np.ndarray:
    """Mean units per counted day over the RATE_DAYS days before each day (0 if none)."""
    n, days = qty.shape
    sold = np.zeros((n, days + 1))
    seen = np.zeros((n, days + 1))
    np.cumsum(np.where(counted, qty, 0.0), axis=1, out=sold[:, 1:])
    np.cumsum(counted, axis=1, out=seen[:, 1:])
    now = np.arange(days)
    back = np.maximum(now - RATE_DAYS, 0)
    total, count = sold[:, now] - sold[:, back], seen[:, now] - seen[:, back]
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0)


# --- loading the parts ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Parts:
    daily: pd.DataFrame  # additive parts per local day of the period (index: day)
    revenue_before: pd.Series  # revenue per day of the `previous` days before the period
    minutes: pd.DataFrame  # emergency requests in the period: day, approve/confirm minutes

    @classmethod
    def load(
        cls,
        session: Session,
        start: date,
        end: date,
        previous: int,
        tz: ZoneInfo,
        supplier_id: int | None,
        category: str | None,
    ) -> "_Parts":
        """The parts of every day `start`…`end`, and the revenue of `previous` days before."""
        skus = sku_frame(session)
        scope = skus[in_scope(skus, supplier_id, category)]
        first = start - timedelta(days=max(RATE_DAYS, previous))
        sales = load_sales(session, pd.Index(scope["sku_id"]), first, end)
        daily = _stock_and_sales(session, scope, sales, start, end, tz)
        begin, after = day_start(start, tz), day_start(end + timedelta(days=1), tz)
        lines = _filtered(received_lines(session, begin, after, tz), skus, supplier_id, category)
        daily = daily.join(_line_parts(lines, daily.index))
        requests = emergencies(session, begin, after, tz)
        primary = requests["sku_id"].map(skus.set_index("sku_id")["supplier_id"])
        requests["supplier_id"] = requests["supplier_id"].fillna(primary)
        requests = _filtered(requests, skus, supplier_id, category)
        daily["emergencies"] = requests.groupby("day").size().reindex(daily.index, fill_value=0)
        offset = (start - first).days
        before = pd.Series(
            sales.daily_revenue[offset - previous : offset],
            index=pd.date_range(end=start - timedelta(days=1), periods=previous, freq="D"),
        )
        return cls(daily, before, requests[["day", "approve_minutes", "confirm_minutes"]])


def _stock_and_sales(
    session: Session, scope: pd.DataFrame, sales: Sales, start: date, end: date, tz: ZoneInfo
) -> pd.DataFrame:
    """Stock and sales parts per day of the period (the grid starts RATE_DAYS earlier)."""
    grid = pd.date_range(start - timedelta(days=RATE_DAYS), end, freq="D")
    on_hand = daily_on_hand(session, pd.Index(scope["sku_id"]), grid, tz)
    qty = sales.qty[:, (grid[0].date() - sales.first).days :]
    active, cost = scope["active"].to_numpy(), scope["cost"].to_numpy(dtype="float64")
    daily = pd.DataFrame(_daily_stock_parts(qty, on_hand, active, cost), index=grid[RATE_DAYS:])
    daily["revenue"] = sales.daily_revenue[(start - sales.first).days :]
    return daily


def _filtered(
    frame: pd.DataFrame, skus: pd.DataFrame, supplier_id: int | None, category: str | None
) -> pd.DataFrame:
    """PO lines or emergency requests of one supplier (their own `supplier_id` column) and of
    the SKUs of one category."""
    keep = frame["sku_id"].isin(skus.loc[in_scope(skus, None, category), "sku_id"])
    if supplier_id is not None:
        keep &= (frame["supplier_id"] == supplier_id).fillna(False).astype(bool)
    return frame[keep]


def _line_parts(lines: pd.DataFrame, period: pd.DatetimeIndex) -> pd.DataFrame:
    flags = lines.assign(
        lines_received=1,
        lines_on_time=lines["on_time"].astype("int64"),
        lines_in_full=lines["in_full"].astype("int64"),
        lines_otif=(lines["on_time"] & lines["in_full"]).astype("int64"),
    )
    columns = ["lines_otif", "lines_on_time", "lines_in_full", "lines_received"]
    return flags.groupby("day")[columns].sum().reindex(period, fill_value=0)


def _plain(name: str, value: object) -> Any:
    """A numpy scalar as int (counts) or float; NaN as None."""
    number = float(value)  # type: ignore[arg-type]
    if np.isnan(number):
        return None
    return round(number) if name in _COUNTS else number


_SCALARS = [f.name for f in fields(KpiSet) if f.type not in (date, Durations)]
