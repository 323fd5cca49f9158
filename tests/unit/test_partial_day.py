"""Today so far in the surge check (core/planner.surging_skus with a PartialDay): the
same morning's sales weigh more the earlier in the day they arrive."""

import numpy as np
import pandas as pd

from core.forecast import DemandHistory
from core.planner import PlanParams, surging_skus
from core.state import PartialDay

N, DAYS = 400, 84


def _history(seed: int) -> tuple[DemandHistory, np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.uniform(2, 30, N)
    qty = rng.poisson(base[:, None], (N, DAYS)).astype(float)
    qty[:, -7:] = rng.poisson(base[:, None] * rng.uniform(1, 2.5, (N, 1)), (N, 7))  # a lift
    dates = pd.date_range(end="2026-11-24", periods=DAYS, freq="D")
    ones = np.ones((N, DAYS))
    return DemandHistory(dates, qty, ones.astype(bool), ones), base


def _today(base: np.ndarray, elapsed: float, seed: int) -> PartialDay:
    sold = np.random.default_rng(seed).poisson(base * 0.8).astype(float)
    return PartialDay(sold, np.ones(N, bool), np.ones(N), elapsed)


def test_the_earlier_in_the_day_the_more_a_morning_counts() -> None:
    history, base = _history(7)
    flagged = {
        elapsed: surging_skus(history, PlanParams(), _today(base, elapsed, 8))
        for elapsed in (0.2, 0.5, 1.0)
    }
    assert (flagged[0.2] >= flagged[0.5]).all()
    assert (flagged[0.5] >= flagged[1.0]).all()
    assert flagged[0.2].sum() > flagged[1.0].sum()  # the share of the day matters here
