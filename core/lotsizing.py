"""Wagner–Whitin lot sizing with a lost-sales option: the perfect-foresight floor.

Given each SKU's future daily demand, choose when to order and how much so that ordering,
holding and lost-sales costs are least, when an order placed on day t arrives at the start
of day t + L and may be left unplaced (the demand lost) when serving it costs more than
losing it. MOQ and case pack are ignored: no real policy can do better than this plan.

The recursion (Aksen et al. 2003, "uncapacitated lot sizing with lost sales"): with the
initial stock consumed first (first in, first out), let r_u be the demand left on day u. An
optimal plan serves whole days in blocks, each block s..k-1 from one order arriving on day
s ≥ L that holds exactly the block's demand (zero stock between blocks), and loses whole
days outside the blocks. With f(k) the least cost of days 0..k-1:

    f(k) = min( f(k-1) + p·r_{k-1},                                  (day k-1 is lost)
                min_{L ≤ s < k} f(s) + K + h·Σ_{u=s}^{k-1} (u - s)·r_u )  (block s..k-1)

Prefix sums turn the inner sum into O(1), so each k is one vectorised step over every
candidate s and every SKU at once: O(n·T²) work in numpy, O(T) Python steps.
"""

from __future__ import annotations

import numpy as np


def residual_demand(demand: np.ndarray, initial_on_hand: np.ndarray) -> np.ndarray:
    """Demand (n, T) left after the initial stock serves the earliest days first."""
    before = np.cumsum(demand, axis=1) - demand
    from_stock = np.clip(initial_on_hand[:, None] - before, 0.0, demand)
    return demand - from_stock


def lost_sales_wagner_whitin(
    demand: np.ndarray,
    *,
    lead_time: np.ndarray,
    order_cost: np.ndarray,
    holding_per_unit_day: np.ndarray,
    lost_cost_per_unit: np.ndarray,
    initial_on_hand: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The optimal plan: (orders (n, T) by the day they are placed, least cost per SKU).

    The cost excludes holding the initial stock, which every plan pays alike. Orders whose
    arrival would fall after day T-1 are never placed.
    """
    demand = np.asarray(demand, dtype=float)
    n, horizon = demand.shape
    lead = np.asarray(lead_time, dtype=np.int64)
    order_cost = np.broadcast_to(np.asarray(order_cost, dtype=float), (n,))[:, None]
    holding = np.broadcast_to(np.asarray(holding_per_unit_day, dtype=float), (n,))[:, None]
    lost = np.broadcast_to(np.asarray(lost_cost_per_unit, dtype=float), (n,))
    r = residual_demand(demand, np.asarray(initial_on_hand, dtype=float))
    days = np.arange(horizon)
    units = np.concatenate([np.zeros((n, 1)), np.cumsum(r, axis=1)], axis=1)  # A[j]
    moments = np.concatenate([np.zeros((n, 1)), np.cumsum(r * days, axis=1)], axis=1)  # B[j]
    cost = np.zeros((n, horizon + 1))
    choice = np.full((n, horizon + 1), -1, dtype=np.int64)  # -1: lose day k-1; s: block s..k-1
    for k in range(1, horizon + 1):
        s = days[:k]
        block_holding = (moments[:, k : k + 1] - moments[:, :k]) - s * (
            units[:, k : k + 1] - units[:, :k]
        )
        serve = cost[:, :k] + order_cost + holding * block_holding
        serve[s[None, :] < lead[:, None]] = np.inf  # cannot arrive before day L
        best = np.argmin(serve, axis=1)
        best_cost = serve[np.arange(n), best]
        lose = cost[:, k - 1] + lost * r[:, k - 1]
        use_block = best_cost < lose
        cost[:, k] = np.where(use_block, best_cost, lose)
        choice[:, k] = np.where(use_block, best, -1)
    return _orders_from_choices(choice, units, lead), cost[:, horizon]


def _orders_from_choices(choice: np.ndarray, units: np.ndarray, lead: np.ndarray) -> np.ndarray:
    n, horizon = choice.shape[0], choice.shape[1] - 1
    orders = np.zeros((n, horizon))
    for i in range(n):
        k = horizon
        while k > 0:
            s = int(choice[i, k])
            if s < 0:
                k -= 1
                continue
            orders[i, s - lead[i]] = units[i, k] - units[i, s]
            k = s
    return orders
