"""Exponential smoothing of daily demand for many SKUs at once: SES, Croston-SBA and TSB.

Series are rows of an (n_skus, n_days) array. Each method is one compiled (numba) pass over
the data, a few series side by side (see "the kernels" below), about 40 times faster than
statsforecast's per-series models. `Days` is the day-major chunk `core.forecast` builds;
the `*_days` functions run the same kernels on it through a transposed view.

A censored day (`observed` False: out of stock) is skipped: it updates nothing, is not a
zero demand and does not lengthen an interval between demands. With every day observed
the forecasts equal statsforecast's `SimpleExponentialSmoothing(alpha)`, `CrostonSBA()`
(alpha 0.1) and `TSB(alpha_d, alpha_p)`, initialisation included: a smoothed quantity
starts at the first value it sees, Croston's first interval counts from the first day, and
TSB's probability starts at the first day's 0 or 1. A series without demand forecasts 0.

The `*_fit` variants also return the in-sample one-step-ahead errors on observed days (from
the first day the method has a forecast), from which `core.forecast` derives a std.
"""

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from numba import njit

SBA_FACTOR = 0.95  # Syntetos–Boylan bias correction of Croston's ratio
CHUNK_ROWS = 8192  # SKUs per chunk of `core.forecast`'s day-major passes
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


@dataclass(frozen=True)
class Days:
    """A chunk of c series, day-major, with per-series counts."""

    x: np.ndarray  # (T, c) demand >= 0; 0 on censored days
    m: np.ndarray  # (T, c) 1.0 on observed days, 0.0 on censored ones
    observed: np.ndarray  # (c,) observed days
    demand_days: np.ndarray  # (c,) observed days with demand

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
        observed = np.count_nonzero(seen, axis=1).astype(np.float64)
        demand = np.count_nonzero(seen & (y > 0), axis=1).astype(np.float64)
        return Days(x, m, observed, demand)

    def columns(self, keep: np.ndarray) -> "Days":
        """The series where `keep`; np.compress keeps them day-major (x[:, keep] would not)."""
        x, m = np.compress(keep, self.x, axis=1), np.compress(keep, self.m, axis=1)
        return Days(x, m, self.observed[keep], self.demand_days[keep])


Kernel = Callable[[Days], Fit]


def transposed(a: np.ndarray) -> np.ndarray:
    """A C-ordered transpose, done in blocks of rows: a whole transpose thrashes the cache."""
    out = np.empty(a.shape[::-1], dtype=a.dtype)
    for start in range(0, len(a), TRANSPOSE_ROWS):
        rows = slice(start, start + TRANSPOSE_ROWS)
        np.copyto(out[:, rows], a[rows].T)
    return out


def row_chunks(n: int) -> Iterator[slice]:
    return (slice(start, min(start + CHUNK_ROWS, n)) for start in range(0, n, CHUNK_ROWS))


def chunks(y: np.ndarray, observed: np.ndarray | None) -> Iterator[Days]:
    """Day-major chunks of the rows of y (one row if y is 1-D)."""
    values, mask = _rows(y, observed)
    if mask is None:
        mask = np.ones(values.shape, dtype=bool)
    return (Days.from_rows(values[rows], mask[rows]) for rows in row_chunks(len(values)))


def _rows(y: np.ndarray, observed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    values = np.atleast_2d(np.asarray(y, dtype=np.float64))
    if observed is None:
        return values, None
    mask = np.atleast_2d(np.asarray(observed, dtype=bool))
    if mask.shape != values.shape:
        raise ValueError(f"observed has shape {mask.shape}, y has {values.shape}")
    return values, mask


# --- the kernels -------------------------------------------------------------------------
# A kernel takes (n, T) demand y in any memory layout (rows, or the transposed view of a
# day-major `Days` chunk) and m, the observed days, of any dtype (None: all observed). It
# copies BLOCK series at a time day-major into a buffer that stays in the L1 cache, then
# walks the days updating the block's series side by side: they are independent, so the
# compiler vectorises across them and the CPU overlaps their dependency chains. Starting a
# series (first observed day, first demand) is a select, not a branch: demand days are
# random, and a mispredicted branch costs more than an update. The arithmetic is operation
# for operation that of the former day-major numpy kernels: same results to the last bit.
# error_model="numpy": a division by zero gives inf, not a check and branch that stops
# vectorising.

BLOCK = 16  # series side by side: two cache lines of each day, in the L1 cache


@njit(cache=True, error_model="numpy")
def _block(y: np.ndarray, m: np.ndarray | None, start: int, x: np.ndarray) -> None:
    """Rows start.. of y, day-major into x: demand >= 0, -1.0 on censored days (NaN or not
    observed). The last row is repeated past the end of y, so a block is always full."""
    last = len(y) - 1
    for t in range(y.shape[1]):
        for b in range(BLOCK):
            j = min(start + b, last)
            v = y[j, t]
            seen = math.isfinite(v)
            if m is not None:
                seen = seen and m[j, t] != 0
            x[t, b] = max(v, 0.0) if seen else -1.0


@njit(cache=True, error_model="numpy")
def _store(out: np.ndarray, start: int, *fields: np.ndarray) -> None:
    stop = min(start + BLOCK, out.shape[1])
    for k, field in enumerate(fields):
        out[k, start:stop] = field[: stop - start]


@njit(cache=True, error_model="numpy")
def _ses(y: np.ndarray, m: np.ndarray | None, alpha: float) -> np.ndarray:
    n, days = y.shape
    out, x = np.zeros((3, n)), np.empty((days, BLOCK))
    level, sse, seen = np.empty(BLOCK), np.empty(BLOCK), np.empty(BLOCK)
    for start in range(0, n, BLOCK):
        _block(y, m, start, x)
        level[:], sse[:], seen[:] = 0.0, 0.0, 0.0
        for t in range(days):
            for b in range(BLOCK):
                xt = max(x[t, b], 0.0)
                mt = 1.0 if x[t, b] >= 0.0 else 0.0
                lv = xt if seen[b] == 0.0 else level[b]  # so the first update is a no-op
                err = (xt - lv) * mt
                level[b] = lv + err * alpha
                sse[b] += err * err
                seen[b] += mt
        _store(out, start, level, sse, np.maximum(seen - 1.0, 0.0))
    return out


@njit(cache=True, error_model="numpy")
def _tsb(y: np.ndarray, m: np.ndarray | None, alpha_d: float, alpha_p: float) -> np.ndarray:
    n, days = y.shape
    out, x = np.zeros((3, n)), np.empty((days, BLOCK))
    p, z, sse, after = np.empty(BLOCK), np.empty(BLOCK), np.empty(BLOCK), np.empty(BLOCK)
    state = np.empty(BLOCK)  # 0 before the first observed day, 1 after, 2 after a demand
    first = np.empty(BLOCK)  # the squared first demand, if it was an error the method made
    for start in range(0, n, BLOCK):
        _block(y, m, start, x)
        p[:], z[:], sse[:], after[:], state[:], first[:] = 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
        for t in range(days):
            for b in range(BLOCK):
                xt = max(x[t, b], 0.0)
                mt = 1.0 if x[t, b] >= 0.0 else 0.0
                d, s = (1.0 if xt > 0.0 else 0.0), state[b]
                after[b] += mt if s == 2.0 else 0.0
                pb = d if s == 0.0 else p[b]  # the probability starts at the first day's 0/1
                zb = xt if s < 2.0 and d > 0.0 else z[b]  # the size at the first demand
                # p is 0 before the first demand (unless that is the first day): the first
                # demand's own error, a forecast the method did not have yet, comes out.
                first[b] = xt * xt if s == 1.0 and d > 0.0 else first[b]
                err = (xt - pb * zb) * mt
                sse[b] += err * err
                p[b] = pb + (d - pb) * mt * alpha_p
                z[b] = zb + (xt - zb) * d * alpha_d
                state[b] = max(s, 2.0 * d, mt)
        _store(out, start, p * z, np.maximum(sse - first, 0.0), after)
    return out


@njit(cache=True, error_model="numpy")
def _croston_sba(y: np.ndarray, m: np.ndarray | None, alpha: float) -> np.ndarray:
    n, days = y.shape
    out, x = np.zeros((3, n)), np.empty((days, BLOCK))
    z, interval, since = np.empty(BLOCK), np.empty(BLOCK), np.empty(BLOCK)
    sse, after = np.empty(BLOCK), np.empty(BLOCK)
    for start in range(0, n, BLOCK):
        _block(y, m, start, x)
        z[:], interval[:], since[:], sse[:], after[:] = 0.0, 1.0, 0.0, 0.0, 0.0
        for t in range(days):
            for b in range(BLOCK):
                xt = max(x[t, b], 0.0)
                mt = 1.0 if x[t, b] >= 0.0 else 0.0
                d, zb, qb = (1.0 if xt > 0.0 else 0.0), z[b], interval[b]
                started = zb > 0.0  # no forecast before the first demand
                err = (xt - zb / qb * SBA_FACTOR) * mt if started else 0.0
                sse[b] += err * err
                after[b] += mt if started else 0.0
                sb = since[b] + mt
                first = not started and d > 0.0  # the first interval counts from day 0
                zb, qb = (xt if first else zb), (sb if first else qb)
                interval[b] = qb + (sb - qb) * d * alpha
                z[b] = zb + (xt - zb) * d * alpha
                since[b] = sb * (1.0 - d)
        level = np.where(z > 0.0, SBA_FACTOR * z / interval, 0.0)
        _store(out, start, level, sse, after)
    return out


def _by_rows(
    kernel: Callable[..., np.ndarray], y: np.ndarray, observed: np.ndarray | None, *args: float
) -> Fit:
    return Fit(*kernel(*_rows(y, observed), *args))


def _by_days(kernel: Callable[..., np.ndarray], d: Days, *args: float) -> Fit:
    return Fit(*kernel(d.x.T, d.m.T, *args))


def ses_days(d: Days, alpha: float) -> Fit:
    return _by_days(_ses, d, alpha)


def tsb_days(d: Days, alpha_d: float, alpha_p: float) -> Fit:
    return _by_days(_tsb, d, alpha_d, alpha_p)


def croston_sba_days(d: Days, alpha: float) -> Fit:
    return _by_days(_croston_sba, d, alpha)


def ses_fit(y: np.ndarray, alpha: float, *, observed: np.ndarray | None = None) -> Fit:
    return _by_rows(_ses, y, observed, alpha)


def croston_sba_fit(y: np.ndarray, alpha: float, *, observed: np.ndarray | None = None) -> Fit:
    return _by_rows(_croston_sba, y, observed, alpha)


def tsb_fit(
    y: np.ndarray, alpha_d: float, alpha_p: float, *, observed: np.ndarray | None = None
) -> Fit:
    return _by_rows(_tsb, y, observed, alpha_d, alpha_p)


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
