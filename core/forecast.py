"""Daily demand forecasts for every SKU at once, from a censored, promoted daily history.

Two passes over (n_skus, n_days) arrays, each in chunks of rows:
1. totals per SKU and day bin (weekday × public holiday) give the effects: the realised
   uplift of past promotions, the weekday profile and the holiday factor
   (`core.demand_effects`);
2. each chunk turns day-major, is de-promoted (divided by the window's uplift: given, or
   learnt when NaN) and de-seasoned (divided by weekday and holiday factors), classified by
   ADI and CV² (Syntetos–Boylan) and smoothed: SES for smooth and erratic SKUs, TSB (or
   Croston-SBA) for intermittent and lumpy ones (`core.smoothing`). Out-of-stock days are
   censored: skipped, never read as zero demand.

`mean_daily` is thus the rate of an average ordinary day. `std_daily` is the RMSE of the
same method's in-sample one-step-ahead errors on in-stock days, blended with a Poisson
prior (variance = mean) worth `std_prior_days` days, so a short history does not claim
certainty. `horizon_demand` puts the effects back on a future window: base × weekday ×
holiday × announced promotion uplift.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

from core import demand_effects as fx
from core import smoothing as sm
from core.calendar import is_holiday
from core.smoothing import croston_sba, ses, tsb

__all__ = [
    "DemandHistory",
    "Forecast",
    "ForecastParams",
    "classify",
    "croston_sba",
    "forecast",
    "holiday_effect",
    "horizon_demand",
    "learn_uplift",
    "ses",
    "tsb",
    "weekday_profile",
]

CLASSES = np.array(["smooth", "erratic", "intermittent", "lumpy", "none"])
MIN_DAY_FACTOR = 0.05  # below this a weekday/holiday is treated as closed, not as data
FULL_CHUNK_SHARE = 0.75  # a method smooths the whole chunk when it has this share of SKUs


@dataclass(frozen=True)
class DemandHistory:
    """Daily demand of n SKUs over T consecutive days, the last one being the as-of day."""

    dates: pd.DatetimeIndex
    qty: np.ndarray  # float (n, T), finite and >= 0; 0 where nothing sold
    available: np.ndarray  # bool (n, T); False = out of stock that day: censored
    # float (n, T): the uplift of a past promotion window on its days, 1.0 elsewhere;
    # NaN = inside a window whose uplift is unknown (learnt, see learn_uplift).
    promo_uplift: np.ndarray
    category: np.ndarray | None = None  # (n,) any labels; pools uplift and holiday effects

    def __post_init__(self) -> None:
        dates = pd.DatetimeIndex(self.dates)
        dates = (dates.tz_localize(None) if dates.tz is not None else dates).normalize()
        day_numbers = dates.to_numpy().astype("datetime64[D]").astype(np.int64)
        if len(dates) == 0 or (np.diff(day_numbers) != 1).any():
            raise ValueError("dates must be one or more consecutive days")
        arrays = {"qty": np.float64, "available": np.bool_, "promo_uplift": np.float64}
        object.__setattr__(self, "dates", dates)
        for name, dtype in arrays.items():  # frozen: set once, here, as the right dtype
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=dtype))
            if getattr(self, name).shape != (len(self.qty), len(dates)):
                raise ValueError(f"{name} has shape {getattr(self, name).shape}")
        if self.category is not None and len(self.category) != len(self.qty):
            raise ValueError("category needs one label per SKU")

    @property
    def groups(self) -> np.ndarray | None:
        """The categories as codes 0..k-1 (None without categories)."""
        if self.category is None:
            return None
        return np.unique(np.asarray(self.category), return_inverse=True)[1].ravel()


@dataclass(frozen=True)
class ForecastParams:
    alpha: float = 0.1  # SES; TSB demand size; Croston sizes and intervals
    beta: float = 0.1  # TSB demand probability
    # TSB by default: its probability decays on every day without demand, so a SKU that has
    # stopped selling (滯銷) forecasts toward 0 instead of keeping its last Croston ratio
    # until the next sale, and the shop stops reordering dead stock. TSB is also unbiased,
    # where Croston needs SBA's 0.95 correction.
    intermittent_method: Literal["croston_sba", "tsb"] = "tsb"
    adi_cutoff: float = 1.32
    cv2_cutoff: float = 0.49
    promo_days: Literal["deflate", "censor"] = "deflate"  # censor: skip promotion days
    weekday: bool = True
    holidays: bool = True
    # Credibility priors: demand days that weigh as much as the fallback (see demand_effects)
    weekday_prior_days: float = 100.0  # a SKU's weekday profile vs the shop's
    uplift_prior_days: float = 5.0  # a SKU's promotion uplift vs its category's
    uplift_prior_units: float = 20.0  # a category's uplift vs the shop's (units)
    holiday_prior_units: float = 50.0  # a category's holiday ratio vs the shop's (units)
    holiday_prior_days: float = 10.0  # holidays seen vs a ratio of 1
    default_uplift: float = 1.0  # when no past promotion says otherwise
    uplift_bounds: tuple[float, float] = (1.0, 10.0)
    std_prior_days: float = 7.0  # Poisson pseudo-days (variance = mean) in the std
    country: str = "TW"


@dataclass(frozen=True)
class Forecast:
    mean_daily: np.ndarray  # (n,) base rate of an average ordinary day, de-promoted
    std_daily: np.ndarray  # (n,) daily std around it: one-step-ahead RMSE + Poisson prior
    demand_class: np.ndarray  # (n,) smooth | erratic | intermittent | lumpy | none
    method: np.ndarray  # (n,) ses | croston_sba | tsb | none
    adi: np.ndarray  # (n,) observed days per demand day (inf without demand)
    cv2: np.ndarray  # (n,) squared coefficient of variation of the demand sizes
    weekday: np.ndarray = field(repr=False)  # (n, 7) Monday-first factors, mean 1
    holiday_factor: np.ndarray = field(repr=False)  # (n,) demand multiplier on holidays
    uplift: np.ndarray = field(repr=False)  # (n,) learnt uplift for an unknown promotion
    country: str = "TW"


@dataclass(frozen=True)
class _Effects:
    uplift: np.ndarray  # (n,) learnt
    applied: np.ndarray  # per promotion cell: the uplift divided out
    cells: fx.PromoCells
    weekday: np.ndarray  # (n, 7)
    holiday: np.ndarray  # (n,)
    dow: np.ndarray  # (T,)
    holiday_days: np.ndarray  # (T,) bool


def classify(
    qty: np.ndarray, available: np.ndarray, *, params: ForecastParams | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Syntetos–Boylan on in-stock days: (ADI, CV² of non-zero sizes, class) per SKU."""
    p = params or ForecastParams()
    parts = [_classify_days(days, p) for days in sm.chunks(qty, available)]
    adi, cv2, demand_class = _concat(parts, 3)
    return adi, cv2, demand_class


def _concat(parts: Sequence[tuple[np.ndarray, ...]], width: int) -> tuple[np.ndarray, ...]:
    return tuple(np.concatenate([part[i] for part in parts] or [np.zeros(0)]) for i in range(width))


def _classify_days(d: sm.Days, p: ForecastParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """classify() on a day-major chunk."""
    count = d.demand_days
    has = count > 0
    adi = np.divide(d.observed, count, out=np.full(len(count), np.inf), where=has)
    mean = d.x.sum(axis=0) / np.maximum(count, 1.0)
    var = np.einsum("ij,ij->j", d.x, d.x) / np.maximum(count, 1.0) - mean**2
    square = mean**2
    cv2 = np.divide(np.maximum(var, 0.0), square, out=np.zeros_like(var), where=square > 0)
    index = (adi >= p.adi_cutoff) * 2 + (cv2 >= p.cv2_cutoff)
    return adi, cv2, np.where(has, CLASSES[index], "none")


def forecast(history: DemandHistory, params: ForecastParams | None = None) -> Forecast:
    """Classify and forecast every SKU of the history (see the module docstring)."""
    p = params or ForecastParams()
    effects = _effects(history, p)
    parts = [_forecast_rows(history, effects, rows, p) for rows in sm.row_chunks(len(history.qty))]
    level, sse, count, method, adi, cv2, demand_class = _concat(parts, 7)
    std = np.sqrt((sse + p.std_prior_days * level) / (count + p.std_prior_days))
    return Forecast(
        mean_daily=level,
        std_daily=std,
        demand_class=demand_class.astype(str),
        method=method.astype(str),
        adi=adi,
        cv2=cv2,
        weekday=effects.weekday,
        holiday_factor=effects.holiday,
        uplift=effects.uplift,
        country=p.country,
    )


def _forecast_rows(
    history: DemandHistory, effects: _Effects, rows: slice, p: ForecastParams
) -> tuple[np.ndarray, ...]:
    """Pass 2 on a chunk of rows: (level, sse, count, method, adi, cv2, class)."""
    factor = effects.weekday[rows].T[effects.dow]  # (T, c)
    factor[effects.holiday_days] *= effects.holiday[rows]
    seen = _usable(history.available[rows], factor, effects, rows, p)
    np.maximum(factor, MIN_DAY_FACTOR, out=factor)  # the days below it are censored now
    days = sm.Days.clean(history.qty[rows], seen)
    if p.promo_days == "deflate":
        lo, hi = effects.cells.span(rows)
        days.x[effects.cells.cols[lo:hi], effects.cells.rows[lo:hi] - rows.start] /= (
            effects.applied[lo:hi]
        )
    np.divide(days.x, factor, out=days.x)
    adi, cv2, demand_class = _classify_days(days, p)
    return (*_smooth(days, demand_class, p), adi, cv2, demand_class)


def _smooth(d: sm.Days, demand_class: np.ndarray, p: ForecastParams) -> tuple[np.ndarray, ...]:
    """Each SKU's method on its columns: (level, sse, count, method)."""
    n = len(demand_class)
    level, sse, count = np.zeros(n), np.zeros(n), np.zeros(n)
    method = np.full(n, "none", dtype=object)
    smooth = np.isin(demand_class, ["smooth", "erratic"])
    sparse = np.isin(demand_class, ["intermittent", "lumpy"])
    for cols, name in ((smooth, "ses"), (sparse, p.intermittent_method)):
        share = cols.mean() if n else 0.0
        if share > 0:
            # Copying most of a chunk costs more than smoothing a few SKUs for nothing.
            whole = share > FULL_CHUNK_SHARE
            fit = _kernel(name, p)(d if whole else d.columns(cols))
            pick = cols if whole else slice(None)
            level[cols], sse[cols], count[cols] = fit.level[pick], fit.sse[pick], fit.count[pick]
            method[cols] = name
    return level, sse, count, method


def _usable(
    available: np.ndarray, factor: np.ndarray, effects: _Effects, rows: slice, p: ForecastParams
) -> np.ndarray:
    """The days that inform the base rate: in stock, and not censored by the effects.

    A promotion day is dropped in "censor" mode; a day whose weekday × holiday factor is
    almost 0 (the SKU all but never sells then) says nothing about the rate of other days.
    """
    dead = effects.weekday[rows].min() * min(effects.holiday[rows].min(), 1.0) < MIN_DAY_FACTOR
    if p.promo_days != "censor" and not dead:
        return available
    seen = available.copy()
    if p.promo_days == "censor":
        lo, hi = effects.cells.span(rows)
        seen[effects.cells.rows[lo:hi] - rows.start, effects.cells.cols[lo:hi]] = False
    if dead:
        seen &= factor.T >= MIN_DAY_FACTOR
    return seen


def _kernel(name: str, p: ForecastParams) -> sm.Kernel:
    if name == "ses":
        return lambda d: sm.ses_days(d, p.alpha)
    if name == "croston_sba":
        return lambda d: sm.croston_sba_days(d, p.alpha)
    if name == "tsb":
        return lambda d: sm.tsb_days(d, p.alpha, p.beta)
    raise ValueError(f"unknown method {name!r}")


def _effects(history: DemandHistory, p: ForecastParams) -> _Effects:
    """Pass 1: the promotion, weekday and holiday effects of every SKU."""
    n = len(history.qty)
    dow = history.dates.day_of_week.to_numpy()
    holiday_days = is_holiday(history.dates, p.country) if p.holidays else np.zeros(len(dow), bool)
    totals, cells = fx.bin_totals(
        history.qty, history.available, history.promo_uplift, dow, holiday_days,
        sm.row_chunks(n),
    )  # fmt: skip
    groups = history.groups
    uplift = fx.promotion_uplift(
        totals, groups, prior_days=p.uplift_prior_days, prior_units=p.uplift_prior_units,
        default=p.default_uplift, bounds=p.uplift_bounds,
    )  # fmt: skip
    applied = np.where(np.isnan(cells.given), uplift[cells.rows], cells.given)
    # Sums taken in different orders: a difference that should be 0 can come out -1e-156.
    units, days = np.maximum(totals.units - totals.promo_units, 0.0), totals.days
    if p.promo_days == "censor":
        days = days - totals.promo_days
    else:
        units = units + cells.by_bin(fx.day_bins(dow, holiday_days), cells.qty / applied, n)
    weekday = np.ones((n, fx.WEEKDAYS))
    if p.weekday:
        week = slice(0, fx.WEEKDAYS)  # ordinary days only
        weekday = fx.weekday_factors(
            units[:, week], days[:, week], totals.demand_days, p.weekday_prior_days
        )
    holiday = np.ones(n)
    if p.holidays:
        holiday = fx.holiday_factors(
            units, days, weekday, groups, holidays_seen=int(holiday_days.sum()),
            prior_units=p.holiday_prior_units, prior_days=p.holiday_prior_days,
        )  # fmt: skip
    return _Effects(uplift, applied, cells, weekday, holiday, dow, holiday_days)


def learn_uplift(
    history: DemandHistory,
    categories: np.ndarray | None = None,
    *,
    params: ForecastParams | None = None,
) -> np.ndarray:
    """(n,) realised uplift of each SKU's past promotions: own, else category, else shop."""
    return _effects(_with_category(history, categories), params or ForecastParams()).uplift


def weekday_profile(history: DemandHistory, *, params: ForecastParams | None = None) -> np.ndarray:
    """(n, 7) Monday-first weekday factors, averaging 1; sparse SKUs lean on the shop's."""
    return _effects(history, replace(params or ForecastParams(), weekday=True)).weekday


def holiday_effect(
    history: DemandHistory,
    categories: np.ndarray | None = None,
    *,
    params: ForecastParams | None = None,
) -> np.ndarray:
    """(n,) holiday-to-ordinary-day demand ratio of each SKU's category, shrunk toward 1."""
    p = replace(params or ForecastParams(), holidays=True)
    return _effects(_with_category(history, categories), p).holiday


def _with_category(history: DemandHistory, categories: np.ndarray | None) -> DemandHistory:
    return history if categories is None else replace(history, category=np.asarray(categories))


def horizon_demand(
    forecast: Forecast,
    start: date,
    days: int,
    *,
    future_uplift: np.ndarray | None = None,
    weekday_profile: np.ndarray | None = None,
    holiday_factor: np.ndarray | float | None = None,
) -> np.ndarray:
    """(n, days) expected demand from `start`: base × weekday × holiday × promotion uplift.

    `future_uplift` (n, days) or (days,): announced promotions' uplift, 1.0 outside them,
    NaN where the uplift is unknown (the SKU's learnt uplift is used). The weekday profile
    ((n, 7) or (7,)) and holiday factor ((n,) or scalar) default to the forecast's own.
    """
    n = len(forecast.mean_daily)
    dates = pd.date_range(start, periods=days, freq="D")
    weekday = forecast.weekday if weekday_profile is None else weekday_profile
    weekday = np.broadcast_to(weekday, (n, fx.WEEKDAYS))
    holiday = forecast.holiday_factor if holiday_factor is None else holiday_factor
    holiday = np.broadcast_to(np.asarray(holiday, dtype=np.float64), (n,))
    on_holiday = is_holiday(dates, forecast.country)
    out = forecast.mean_daily[:, None] * weekday[:, dates.day_of_week.to_numpy()]
    out = out * np.where(on_holiday, holiday[:, None], 1.0)
    if future_uplift is not None:
        uplift = np.broadcast_to(np.asarray(future_uplift, dtype=np.float64), (n, days))
        out = out * np.where(np.isnan(uplift), forecast.uplift[:, None], uplift)
    return out
