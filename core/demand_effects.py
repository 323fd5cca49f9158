"""Multiplicative demand effects learnt from history: promotion uplift, weekday, holiday.

They are estimated from per-SKU totals over 14 day bins, weekday (Monday first) on an
ordinary day (bins 0..6) or on a Taiwan public holiday (7..13), so no estimator needs the
daily arrays again. Group codes (categories) are ints 0..k-1.

Each estimate is a credibility blend: a SKU's own ratio weighs by its evidence, counted
in days with demand (a lumpy SKU's units arrive in a few big lumps and prove little), and
the rest comes from its category's ratio of totals, shrunk toward the shop's, and that
toward a neutral value, by (actual + prior_units × prior) / (expected + prior_units).
"""

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

WEEKDAYS = 7
BINS = 2 * WEEKDAYS


@dataclass(frozen=True)
class BinTotals:
    """Observed units and days per SKU and day bin, (n, 14) each."""

    units: np.ndarray  # all observed days, promotion days as sold
    days: np.ndarray
    promo_units: np.ndarray  # the promotion days among them
    promo_days: np.ndarray
    demand_days: np.ndarray  # (n,) observed days with demand


@dataclass(frozen=True)
class PromoCells:
    """The (SKU, day) cells inside past promotion windows, sorted by SKU."""

    rows: np.ndarray
    cols: np.ndarray
    qty: np.ndarray  # as sold; 0 when out of stock
    given: np.ndarray  # the window's uplift, NaN if unknown
    seen: np.ndarray  # in stock that day

    def span(self, rows: slice) -> tuple[int, int]:
        """The cells of a chunk of rows, as an index range."""
        lo, hi = np.searchsorted(self.rows, [rows.start, rows.stop])
        return int(lo), int(hi)

    def by_bin(self, bins: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
        """(n, 14) sums of per-cell values by SKU and day bin."""
        index = self.rows * BINS + bins[self.cols]
        return np.bincount(index, weights=values, minlength=n * BINS).reshape(n, BINS)


def day_bins(dow: np.ndarray, holiday: np.ndarray) -> np.ndarray:
    """(T,) bin of each day: its weekday, + 7 on a public holiday."""
    return dow + WEEKDAYS * holiday.astype(np.intp)


def bin_sums(a: np.ndarray, dow: np.ndarray, holiday: np.ndarray) -> np.ndarray:
    """(c, 14) sums of the (c, T) daily values by day bin; the days are consecutive.

    The whole weeks are summed as a (c, weeks, 7) view; the few days before the first
    Monday, after the last Sunday or on a holiday are added (or moved) one by one.
    """
    c, t = a.shape
    start = int(-dow[0] % WEEKDAYS) if t else 0
    weeks = max(t - start, 0) // WEEKDAYS
    end = start + WEEKDAYS * weeks
    out = np.zeros((c, BINS))
    out[:, :WEEKDAYS] = np.einsum("cwd->cd", a[:, start:end].reshape(c, weeks, WEEKDAYS))
    bins = day_bins(dow, holiday)
    for day in np.flatnonzero((np.arange(t) < start) | (np.arange(t) >= end) | holiday):
        out[:, bins[day]] += a[:, day]
        if start <= day < end:  # counted with its weekday among the whole weeks
            out[:, dow[day]] -= a[:, day]
    return out


def bin_totals(
    qty: np.ndarray,
    available: np.ndarray,
    promo_uplift: np.ndarray,
    dow: np.ndarray,
    holiday: np.ndarray,
    chunks: Iterable[slice],
) -> tuple[BinTotals, PromoCells]:
    """One pass over the (n, T) history, chunk by chunk: bin totals and promotion cells."""
    n, t = qty.shape
    units, days, demand, found = np.empty((n, BINS)), np.empty((n, BINS)), np.empty(n), []
    for rows in chunks:
        kept = np.where(available[rows], qty[rows], 0.0)
        if not (qty[rows].min(initial=0.0) >= 0.0 and np.isfinite(kept.sum())):
            raise ValueError("qty must be finite and non-negative")
        units[rows] = bin_sums(kept, dow, holiday)
        days[rows] = bin_sums(available[rows].astype(np.float32), dow, holiday)
        demand[rows] = np.count_nonzero(kept, axis=1)
        skus, cols = np.divmod(np.flatnonzero(promo_uplift[rows] != 1.0), t)
        found.append((skus + rows.start, cols))
    skus = np.concatenate([f[0] for f in found] or [np.zeros(0, np.intp)])
    cols = np.concatenate([f[1] for f in found] or [np.zeros(0, np.intp)])
    seen = available[skus, cols]
    cell_qty = np.where(seen, qty[skus, cols], 0.0)
    cells = PromoCells(skus, cols, cell_qty, promo_uplift[skus, cols].astype(np.float64), seen)
    bins = day_bins(dow, holiday)
    promo_units = cells.by_bin(bins, cell_qty, n)
    promo_days = cells.by_bin(bins, seen.astype(np.float64), n)
    return BinTotals(units, days, promo_units, promo_days, demand), cells


def _ratio(
    actual: np.ndarray | float,
    expected: np.ndarray | float,
    prior: np.ndarray | float,
    prior_units: float,
) -> np.ndarray:
    return np.asarray((actual + prior_units * prior) / (expected + prior_units))


TINY = 1e-9  # units: a denominator this small is no evidence, only a route to overflow


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b > TINY)


def _pooled(
    actual: np.ndarray,
    expected: np.ndarray,
    groups: np.ndarray | None,
    neutral: float,
    prior_units: float,
) -> np.ndarray:
    """Per SKU: the group's ratio (itself shrunk to the shop's, and that to `neutral`)."""
    shop = _ratio(actual.sum(), expected.sum(), neutral, prior_units)
    if groups is None:
        return np.full(len(actual), float(shop))
    group = _ratio(
        np.bincount(groups, weights=actual),
        np.bincount(groups, weights=expected),
        shop,
        prior_units,
    )
    return group[groups]


def shop_weekday(units: np.ndarray, days: np.ndarray) -> np.ndarray:
    """(7,) weekday factors of all SKUs pooled, from (n, 7) totals: the weekdays with data
    average 1, a weekday without any (a history shorter than a week) is 1."""
    known = days.sum(axis=0) > 0
    rate = _safe_div(units.sum(axis=0), days.sum(axis=0))
    mean = rate[known].mean() if known.any() else 0.0
    return np.where(known, rate / mean, 1.0) if mean > 0 else np.ones(WEEKDAYS)


def _credible(
    own: np.ndarray, prior: np.ndarray, evidence: np.ndarray, prior_days: float
) -> np.ndarray:
    weight = evidence / (evidence + prior_days)
    return weight * own + (1.0 - weight) * prior


def weekday_factors(
    units: np.ndarray, days: np.ndarray, demand_days: np.ndarray, prior_days: float
) -> np.ndarray:
    """(n, 7) per-SKU weekday factors from (n, 7) totals, shrunk to the shop's, mean 1."""
    rate = _safe_div(units.sum(axis=1), days.sum(axis=1))
    own = _safe_div(_safe_div(units, days), rate[:, None])
    evidence = np.where(days > 0, demand_days[:, None], 0.0)
    factors = _credible(own, shop_weekday(units, days), evidence, prior_days)
    mean = factors.mean(axis=1, keepdims=True)
    return np.divide(factors, mean, out=np.ones_like(factors), where=mean > 0)


def promotion_uplift(
    totals: BinTotals,
    groups: np.ndarray | None,
    *,
    prior_days: float,
    prior_units: float,
    default: float,
    bounds: tuple[float, float],
) -> np.ndarray:
    """(n,) realised uplift of past promotion days over the SKU's ordinary days.

    Expected promotion units are the SKU's ordinary rate on those days, weighted by the
    shop's weekday profile so a weekend campaign is not credited with the weekend. The
    evidence is the demand days the SKU would have had on those days.
    """
    ordinary_units = np.maximum(totals.units - totals.promo_units, 0.0)  # no -1e-156 rounding
    ordinary_days = totals.days - totals.promo_days
    weight = np.tile(shop_weekday(_fold(ordinary_units), _fold(ordinary_days)), 2)
    rate = _safe_div(ordinary_units.sum(axis=1), ordinary_days @ weight)
    actual = np.where(rate > 0, totals.promo_units.sum(axis=1), 0.0)
    expected = rate * (totals.promo_days @ weight)
    pooled = _pooled(actual, expected, groups, default, prior_units)
    frequency = _safe_div(totals.demand_days, totals.days.sum(axis=1))
    evidence = np.where(expected > 0, totals.promo_days.sum(axis=1) * frequency, 0.0)
    own = _safe_div(actual, expected)
    return np.clip(_credible(own, pooled, evidence, prior_days), *bounds)


def _fold(totals: np.ndarray) -> np.ndarray:
    """(n, 14) → (n, 7): holidays and ordinary days of the same weekday together."""
    return totals[:, :WEEKDAYS] + totals[:, WEEKDAYS:]


def holiday_factors(
    units: np.ndarray,
    days: np.ndarray,
    weekday: np.ndarray,
    groups: np.ndarray | None,
    *,
    holidays_seen: int,
    prior_units: float,
    prior_days: float,
) -> np.ndarray:
    """(n,) demand on public holidays relative to ordinary days, per category, toward 1.

    `units` (n, 14) are de-promoted; each bin is divided by the SKU's weekday factor. A SKU
    has too few holidays to learn from, so the ratio is its category's (or the shop's),
    shrunk toward 1 by the number of holidays seen, H / (H + prior_days).
    """
    ordinary = _safe_div(units[:, :WEEKDAYS], weekday).sum(axis=1)
    rate = _safe_div(ordinary, days[:, :WEEKDAYS].sum(axis=1))
    actual = np.where(rate > 0, _safe_div(units[:, WEEKDAYS:], weekday).sum(axis=1), 0.0)
    expected = rate * days[:, WEEKDAYS:].sum(axis=1)
    ratio = _pooled(actual, expected, groups, 1.0, prior_units)
    return 1.0 + (ratio - 1.0) * holidays_seen / (holidays_seen + prior_days)
