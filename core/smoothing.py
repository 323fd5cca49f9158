"""Exponential smoothing of daily demand for many SKUs at once: SES, Croston-SBA and TSB.

Series are rows of an (n_skus, n_days) array. The rows are cut into chunks, each chunk is
turned day-major (`Days`), and each method walks the days once updating every SKU of the
chunk together: n_days vectorised steps per chunk, never a Python loop per SKU.

A censored day (`observed` False: out of stock) is skipped: it updates nothing, is not a
zero demand and does not lengthen an interval between demands. With every day observed
the forecasts equal statsforecast's `SimpleExponentialSmoothing(alpha)`, `CrostonSBA()`
(alpha 0.1) and `TSB(alpha_d, alpha_p)`, initialisation included: a smoothed quantity
starts at the first value it sees, Croston's first interval counts from the first day, and
TSB's probability starts at the first day's 0 or 1. A series without demand forecasts 0.

The `*_fit` variants also return the in-sample one-step-ahead errors on observed days (from
the first day the method has a forecast), from which `core.forecast` derives a std.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

SBA_FACTOR = 0.95  # Syntetos–Boylan bias correction of Croston's ratio
CHUNK_ROWS = 8192  # SKUs per chunk: one day of the chunk stays in the L1/L2 cache
TRANSPOSE_ROWS = 512


@dataclass(frozen=True)
class Fit:
    level: np.ndarray  # (n,) forecast per day after the last observation
    sse: np.ndarray  # (n,) sum of squared one-step-ahead errors on observed days
    count: np.ndarray  # (n,) how many errors went into sse

    @property
    def rmse(self) -> np.ndarray:
        out = np.zeros_like(self.sse)
        return np.sqrt(np.divide(self.sse, self.count, out=out, where=self.count > 0))

    @staticmethod
    def concat(parts: list["Fit"]) -> "Fit":
        fields = ("level", "sse", "count")
        return Fit(
            *(np.concatenate([getattr(f, k) for f in parts] or [np.zeros(0)]) for k in fields)
        )


@dataclass(frozen=True)
class Days:
    """A chunk of c series, day-major, as the kernels read it, with per-series counts."""

    x: np.ndarray  # (T, c) demand >= 0; 0 on censored days
    m: np.ndarray  # (T, c) 1.0 on observed days, 0.0 on censored ones
    first_seen: np.ndarray  # (c,) first observed day (the last day if none)
    first_demand: np.ndarray  # (c,) first observed day with demand (the last day if none)
    observed: np.ndarray  # (c,) observed days
    demand_days: np.ndarray  # (c,) observed days with demand
    after_demand: np.ndarray  # (c,) observed days after the first demand

    @staticmethod
    def from_rows(y: np.ndarray, observed: np.ndarray) -> "Days":
        """From (c, T) rows of any floats: NaN days are censored, negative demand counts 0."""
        seen = observed & np.isfinite(y)
        return Days.clean(np.fmax(y, 0.0), seen)

    @staticmethod
    def clean(y: np.ndarray, seen: np.ndarray) -> "Days":
        """From (c, T) rows of finite demand >= 0 and the bool days that count.

        The counts come from the row-major bools, where they are cheap.
        """
        m = transposed(seen).astype(np.float64)
        x = transposed(y)
        x *= m
        demand = seen & (y > 0)
        first_demand = _first(demand)
        observed = np.count_nonzero(seen, axis=1).astype(np.float64)
        after = observed - _seen_through(seen, first_demand)
        return Days(
            x, m, _first(seen), first_demand, observed,
            np.count_nonzero(demand, axis=1).astype(np.float64), after,
        )  # fmt: skip

    def columns(self, keep: np.ndarray) -> "Days":
        """The series where `keep`; np.compress keeps them day-major (x[:, keep] would not)."""
        x, m = np.compress(keep, self.x, axis=1), np.compress(keep, self.m, axis=1)
        counts = (self.observed, self.demand_days, self.after_demand)
        return Days(
            x, m, self.first_seen[keep], self.first_demand[keep], *(c[keep] for c in counts)
        )

    def on(self, day: np.ndarray, values: np.ndarray | None = None) -> np.ndarray:
        """Per series, `values` (default x) on the given day."""
        return (self.x if values is None else values)[day, np.arange(self.x.shape[1])]


def _seen_through(seen: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Per row: observed days up to and including `day`, from the (few) censored ones."""
    rows, cols = np.divmod(np.flatnonzero(~seen), seen.shape[1])
    early = np.bincount(rows[cols <= day[rows]], minlength=len(seen))
    return day + 1.0 - early


Kernel = Callable[[Days], Fit]


def transposed(a: np.ndarray) -> np.ndarray:
    """A C-ordered transpose, done in blocks of rows: a whole transpose thrashes the cache."""
    out = np.empty(a.shape[::-1], dtype=a.dtype)
    for start in range(0, len(a), TRANSPOSE_ROWS):
        rows = slice(start, start + TRANSPOSE_ROWS)
        np.copyto(out[:, rows], a[rows].T)
    return out


def _first(event: np.ndarray) -> np.ndarray:
    """Per row of a bool (c, T) array: the first True day (the last day if none)."""
    return np.where(event.any(axis=1), event.argmax(axis=1), event.shape[1] - 1)


def row_chunks(n: int) -> Iterator[slice]:
    return (slice(start, min(start + CHUNK_ROWS, n)) for start in range(0, n, CHUNK_ROWS))


def chunks(y: np.ndarray, observed: np.ndarray | None) -> Iterator[Days]:
    """Day-major chunks of the rows of y (one row if y is 1-D)."""
    values = np.atleast_2d(np.asarray(y, dtype=np.float64))
    mask = np.ones(values.shape, dtype=bool) if observed is None else np.atleast_2d(observed)
    if mask.shape != values.shape:
        raise ValueError(f"observed has shape {mask.shape}, y has {values.shape}")
    return (Days.from_rows(values[rows], mask[rows]) for rows in row_chunks(len(values)))


def _fit_rows(kernel: Kernel, y: np.ndarray, observed: np.ndarray | None) -> Fit:
    return Fit.concat([kernel(days) for days in chunks(y, observed)])


def ses_days(d: Days, alpha: float) -> Fit:
    level = d.on(d.first_seen)  # starting there makes the first update a no-op, as in SES
    sse, err, step = (np.zeros(len(level)) for _ in range(3))
    for xt, mt in zip(d.x, d.m, strict=True):
        np.subtract(xt, level, out=err)
        err *= mt
        level += np.multiply(err, alpha, out=step)
        err *= err
        sse += err
    return Fit(level, sse, np.maximum(d.observed - 1.0, 0.0))


def tsb_days(d: Days, alpha_d: float, alpha_p: float) -> Fit:
    demand = np.sign(d.x)  # x >= 0: 1.0 on demand days
    p = d.on(d.first_seen, demand)  # the probability starts at the first day's 0 or 1
    first_size = d.on(d.first_demand)
    z = first_size.copy()
    sse, err, step = (np.zeros(len(z)) for _ in range(3))
    for xt, mt, dt in zip(d.x, d.m, demand, strict=True):
        np.subtract(xt, np.multiply(p, z, out=step), out=err)
        err *= mt
        err *= err
        sse += err
        np.subtract(dt, p, out=err)
        err *= mt
        p += np.multiply(err, alpha_p, out=step)
        np.subtract(xt, z, out=err)
        err *= dt
        z += np.multiply(err, alpha_d, out=step)
    # Before the first demand p is 0 (or the first day is the demand): only the first
    # demand's own error, a forecast the method did not have yet, needs taking out.
    sse -= np.where(d.first_demand > d.first_seen, first_size**2, 0.0)
    return Fit(p * z, np.maximum(sse, 0.0), d.after_demand)


def croston_sba_days(d: Days, alpha: float) -> Fit:
    demand = np.sign(d.x)
    z = d.on(d.first_demand)
    has = z > 0
    interval = np.maximum(d.observed - d.after_demand, 1.0)  # days up to the first demand
    since, sse, err, step = (np.zeros(len(z)) for _ in range(4))
    for t, (xt, mt, dt) in enumerate(zip(d.x, d.m, demand, strict=True)):
        np.divide(z, interval, out=step)
        np.subtract(xt, np.multiply(step, SBA_FACTOR, out=step), out=err)
        err *= mt
        err[d.first_demand >= t] = 0.0  # no forecast yet
        err *= err
        sse += err
        since += mt
        np.subtract(since, interval, out=err)
        err *= dt
        interval += np.multiply(err, alpha, out=step)
        np.subtract(xt, z, out=err)
        err *= dt
        z += np.multiply(err, alpha, out=step)
        since *= 1.0 - dt
    level = np.where(has, SBA_FACTOR * z / interval, 0.0)
    return Fit(level, sse, d.after_demand)


def ses_fit(y: np.ndarray, alpha: float, *, observed: np.ndarray | None = None) -> Fit:
    return _fit_rows(lambda d: ses_days(d, alpha), y, observed)


def croston_sba_fit(y: np.ndarray, alpha: float, *, observed: np.ndarray | None = None) -> Fit:
    return _fit_rows(lambda d: croston_sba_days(d, alpha), y, observed)


def tsb_fit(
    y: np.ndarray, alpha_d: float, alpha_p: float, *, observed: np.ndarray | None = None
) -> Fit:
    return _fit_rows(lambda d: tsb_days(d, alpha_d, alpha_p), y, observed)


def ses(y: np.ndarray, alpha: float, *, observed: np.ndarray | None = None) -> np.ndarray:
    """SES level after the last observed day, per row (0 for a row never observed)."""
    return ses_fit(y, alpha, observed=observed).level


def croston_sba(y: np.ndarray, alpha: float, *, observed: np.ndarray | None = None) -> np.ndarray:
    """Croston's size/interval ratio × 0.95, sizes and intervals smoothed with `alpha`."""
    return croston_sba_fit(y, alpha, observed=observed).level


def tsb(
    y: np.ndarray, alpha_d: float, alpha_p: float, *, observed: np.ndarray | None = None
) -> np.ndarray:
    """Teunter–Syntetos–Babai: smoothed demand probability × smoothed demand size."""
    return tsb_fit(y, alpha_d, alpha_p, observed=observed).level
