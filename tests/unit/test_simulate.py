"""The simulator (core/simulate.py) and the perfect-foresight oracle (core/lotsizing.py)."""

import itertools
import json
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from core.lotsizing import lost_sales_wagner_whitin, residual_demand
from core.policy import cost_service_level
from core.simulate import minmax_policy, replay, scenario, simulate


def _frames(demand: dict[str, list[int]], start: str = "2026-01-05", **terms):
    """DEMAND rows (zero days left out, as the CSV does) and ITEMS for a few SKUs."""
    dates = pd.date_range(start, periods=len(next(iter(demand.values()))), freq="D")
    rows = [
        {"date": day, "sku": sku, "qty": qty}
        for sku, series in demand.items()
        for day, qty in zip(dates, series, strict=True)
        if qty
    ]
    # Keep the calendar whole even if the first or last day has no demand anywhere.
    rows += [{"date": dates[0], "sku": next(iter(demand)), "qty": 0}]
    rows += [{"date": dates[-1], "sku": next(iter(demand)), "qty": 0}]
    defaults = {
        "unit_cost": 100.0,
        "lead_time_days": 2,
        "moq": 1,
        "case_pack": 1,
        "initial_on_hand": 5,
        "order_cost": 50.0,
        "holding_rate": 0.365,  # 100 × 0.365 / 365 = 0.1 a unit a day
    }
    items = pd.DataFrame([{"sku": sku, **defaults, **terms} for sku in demand])
    return pd.DataFrame(rows), items


def _fixed(orders_by_day: dict[int, float]):
    """A policy that orders the given units (one SKU) on the given simulation days."""
    return lambda t, position, *_: np.array([orders_by_day.get(t, 0.0)])


def test_hand_checked_scenario() -> None:
    # Warm-up: days 0-1 (demand 9, 9: history only). Evaluated: days 2-5, demand 2, 4, 3, 1.
    # Start with 5 on hand; order 4 on day 2, L = 2, so it arrives at the start of day 4.
    # day 2: 5 - 2 = 3 left                      holding 3 × 0.1 = 0.3
    # day 3: demand 4, serve 3, lose 1 → 0 left    lost 1 × 100 = 100; stockout day
    # day 4: 0 + 4 arrive, demand 3 → 1 left      holding 0.1
    # day 5: demand 1 → 0 left                    stockout day
    # holding 0.4 + ordering 50 + lost sales 100 = 150.4; fill 9 / 10; stockouts 2 of 4.
    # Stock value 300, 0, 100, 0 → 100 a day; turnover = 900 sold × 365 / 4 days / 100.
    demand, items = _frames({"A": [9, 9, 2, 4, 3, 1]})
    result = replay(scenario(demand, items), _fixed({2: 4}), warmup=2, policy="fixed")
    assert result.days == 4
    assert result.holding_cost == pytest.approx(0.4)
    assert result.ordering_cost == 50.0
    assert result.lost_units == 1.0
    assert result.lost_sales_cost == 100.0
    assert result.total_cost == pytest.approx(150.4)
    assert result.fill_rate == pytest.approx(0.9)
    assert result.stockout_rate == 0.5
    assert result.orders_placed == 1
    assert result.avg_inventory_value == pytest.approx(100.0)
    assert result.inventory_turnover == pytest.approx(900 * 365 / 4 / 100)
    assert result.on_hand.tolist() == [[3, 0, 1, 0]]
    assert set(result.as_dict()) >= {"fill_rate", "stockout_rate", "total_cost", "policy"}
    assert json.loads(json.dumps(result.as_dict()))["total_cost"] == pytest.approx(150.4)


@pytest.mark.parametrize("lead", [0, 1, 3])
def test_an_order_arrives_at_the_start_of_day_t_plus_lead_time(lead: int) -> None:
    # No demand, nothing on hand; 7 units ordered on day 1 (first evaluated day).
    demand, items = _frames({"A": [1, 0, 0, 0, 0, 0]}, lead_time_days=lead, initial_on_hand=0)
    result = replay(scenario(demand, items), _fixed({1: 7}), warmup=1)
    expected = [0.0] * 5
    expected[lead:] = [7.0] * (5 - lead)
    assert result.on_hand[0].tolist() == expected


def test_arriving_stock_serves_that_days_demand() -> None:
    demand, items = _frames({"A": [0, 5, 5, 5]}, lead_time_days=1, initial_on_hand=5)
    result = replay(scenario(demand, items), _fixed({1: 5}), warmup=1)
    assert result.lost_units == 5  # day 3 only: day 2's demand met by the arrival
    assert result.on_hand[0].tolist() == [0, 0, 0]


def test_warm_up_days_count_no_cost_and_see_all_demand() -> None:
    # Huge warm-up demand is not lost (there is no stock yet: it is history), and the
    # policy sees it as uncensored sales.
    demand, items = _frames({"A": [50, 50, 0, 0]}, initial_on_hand=3)
    seen = {}

    def spy(t, position, sales, stocked):
        seen[t] = (position.copy(), sales[:, :t].copy(), stocked[:, :t].copy())
        return np.zeros(1)

    result = replay(scenario(demand, items), spy, warmup=2)
    assert result.lost_units == 0
    assert result.days == 2
    assert result.holding_cost == pytest.approx(2 * 3 * 0.1)
    position, sales, stocked = seen[2]
    assert position.tolist() == [3.0]
    assert sales.tolist() == [[50, 50]]
    assert stocked.all()


def test_policy_sees_censored_sales_after_a_stockout() -> None:
    demand, items = _frames({"A": [1, 4, 6, 2]}, initial_on_hand=5, lead_time_days=5)
    seen = {}

    def spy(t, position, sales, stocked):
        seen[t] = (sales[:, :t].copy(), stocked[:, :t].copy())
        return np.zeros(1)

    replay(scenario(demand, items), spy, warmup=1)
    sales, stocked = seen[3]
    assert sales.tolist() == [[1, 4, 1]]  # day 2 demanded 6, only 1 was left
    assert stocked.tolist() == [[True, True, False]]


def test_promotions_become_announced_uplift_by_day() -> None:
    demand, items = _frames({"A": [1] * 5, "B": [1] * 5})
    promos = pd.DataFrame(
        {
            "sku": ["A", "A", "B", "Z"],
            "start": ["2026-01-06", "2026-01-07", "2026-01-09", "2026-01-05"],
            "end": ["2026-01-07", "2026-01-07", "2026-01-20", "2026-01-09"],
            "uplift": [2.0, 1.5, 3.0, 9.0],
            "name": ["a", "b", "c", "unknown sku"],
        }
    )
    uplift = scenario(demand, items, promos).uplift
    assert uplift.tolist() == [[1, 2, 3, 1, 1], [1, 1, 1, 1, 3]]


def test_demand_for_an_unknown_sku_is_refused() -> None:
    demand, items = _frames({"A": [1, 2]})
    with pytest.raises(ValueError, match="without items"):
        scenario(demand.assign(sku="B"), items)


def test_minmax_levels_come_from_the_warm_up_window() -> None:
    # Warm-up demand 2, 6, 2, 6: mean 4, sample std 2.3094; L = 4, service level 0.95.
    # min = z·σ·√L + d·L = 1.6449 × 2.3094 × 2 + 16 = 23.60; max = min + 14 × 4 = 79.60.
    demand, items = _frames({"A": [2, 6, 2, 6, 100, 100]}, lead_time_days=4, case_pack=10)
    sc = scenario(demand, items)
    decide = minmax_policy(sc, warmup=4, service_level=0.95)
    low = NormalDist().inv_cdf(0.95) * np.std([2, 6, 2, 6], ddof=1) * 2 + 16
    assert low == pytest.approx(23.597, abs=1e-3)
    assert decide(4, np.array([24.0]), None, None).tolist() == [0]  # above min: nothing
    # At 23: up to max = 79.6 needs 56.6 units, rounded up to whole cases of 10.
    assert decide(4, np.array([23.0]), None, None).tolist() == [60]
    assert decide(5, np.array([-5.0]), None, None).tolist() == [90]  # same levels later on


def test_minmax_respects_the_moq() -> None:
    demand, items = _frames({"A": [1, 1, 1, 1, 0]}, lead_time_days=1, moq=25, case_pack=6)
    decide = minmax_policy(scenario(demand, items), warmup=4, service_level=0.95)
    assert decide(4, np.array([0.0]), None, None).tolist() == [30]  # MOQ 25 → 5 cases


def test_cost_service_level_balances_holding_and_lost_sales() -> None:
    # 1 / (1 + 0.25 × 14 / 365) = 0.9905; ordered daily the cap 0.999; no demand the floor.
    levels = cost_service_level(np.array([0.25, 0.25, 0.25]), np.array([14.0, 1.0, np.inf]))
    assert levels.tolist() == pytest.approx([0.9905, 0.999, 0.5], abs=1e-4)


def test_cost_based_levels_hold_more_safety_stock_than_95_percent() -> None:
    rng = np.random.default_rng(7)
    qty = {f"S{i}": rng.poisson(5, 84).tolist() for i in range(3)}
    demand, items = _frames(qty, lead_time_days=4, initial_on_hand=40)
    plain = simulate(demand, items, policy="dynamic", warmup_days=28)
    costed = simulate(demand, items, policy="dynamic", warmup_days=28, service_level="cost")
    assert costed.avg_inventory_value > plain.avg_inventory_value
    assert costed.fill_rate >= plain.fill_rate


def test_dynamic_orders_ahead_of_an_announced_promotion() -> None:
    # Steady 10 a day; the campaign triples demand on days 50-53 and is announced.
    qty = [10] * 70
    qty[50:54] = [30] * 4
    demand, items = _frames({"A": qty}, lead_time_days=3, initial_on_hand=60, order_cost=20.0)
    promos = pd.DataFrame(
        {"sku": ["A"], "start": ["2026-02-24"], "end": ["2026-02-27"], "uplift": [3.0]}
    )
    assert scenario(demand, items, promos).uplift[0, 50:54].tolist() == [3.0] * 4
    blind = simulate(demand, items, policy="dynamic", warmup_days=28)
    told = simulate(demand, items, promos, policy="dynamic", warmup_days=28)
    before = slice(50 - 28 - 5, 50 - 28)  # orders placed in the five days before it
    assert told.orders[0, before].sum() > blind.orders[0, before].sum()
    assert told.lost_units < blind.lost_units


# --- the oracle --------------------------------------------------------------------------


def _brute_force(demand, lead, initial, order_cost, holding, lost_cost):
    """Least cost over every order plan (0 .. total demand units a day), simulated directly."""
    horizon, max_units = len(demand), int(demand.sum())
    useful = horizon - lead  # orders placed later arrive after the last day
    plans = np.array(list(itertools.product(range(max_units + 1), repeat=useful)), dtype=float)
    stock = np.full(len(plans), float(initial))
    total = (plans > 0).sum(axis=1) * order_cost
    for t in range(horizon):
        if t >= lead:
            stock += plans[:, t - lead]
        served = np.minimum(stock, demand[t])
        stock -= served
        total += (demand[t] - served) * lost_cost + stock * holding
    return total.min()


@pytest.mark.parametrize("seed", range(20))
def test_oracle_matches_brute_force_on_tiny_instances(seed: int) -> None:
    rng = np.random.default_rng(seed)
    horizon, lead = 5, int(rng.integers(0, 3))
    demand = rng.integers(0, 3, horizon).astype(float)
    initial = float(rng.integers(0, 4))
    order_cost = float(rng.choice([0.0, 1.0, 5.0, 20.0, 60.0]))
    # Holding may cost more than losing: serving from stock on hand is still forced.
    holding, lost_cost = float(rng.choice([0.5, 2.0, 6.0, 15.0])), float(rng.choice([3.0, 10.0]))
    best = _brute_force(demand, lead, initial, order_cost, holding, lost_cost)
    plan, cost = lost_sales_wagner_whitin(
        demand[None, :],
        lead_time=np.array([lead]),
        order_cost=np.array([order_cost]),
        holding_per_unit_day=np.array([holding]),
        lost_cost_per_unit=np.array([lost_cost]),
        initial_on_hand=np.array([initial]),
    )
    # The DP leaves out holding the initial stock, which every plan pays alike.
    left = initial - np.cumsum(demand - residual_demand(demand[None, :], np.array([initial]))[0])
    assert cost[0] + holding * left.sum() == pytest.approx(best)
    assert (plan[0, horizon - lead :] == 0).all()  # nothing placed that cannot arrive


def test_oracle_plan_replays_to_its_own_cost() -> None:
    rng = np.random.default_rng(3)
    qty = {f"S{i}": rng.poisson(rng.uniform(0.2, 6), 60).tolist() for i in range(6)}
    demand, items = _frames(qty, lead_time_days=3, initial_on_hand=4)
    sc = scenario(demand, items)
    result = simulate(demand, items, policy="oracle", warmup_days=10)
    residual = residual_demand(sc.demand[:, 10:], sc.initial_on_hand)
    served_from_start = sc.demand[:, 10:] - residual
    left = sc.initial_on_hand[:, None] - np.cumsum(served_from_start, axis=1)
    _, cost = lost_sales_wagner_whitin(
        sc.demand[:, 10:],
        lead_time=sc.lead_time,
        order_cost=sc.order_cost,
        holding_per_unit_day=sc.holding_per_day,
        lost_cost_per_unit=sc.unit_cost,
        initial_on_hand=sc.initial_on_hand,
    )
    initial_holding = (left * sc.holding_per_day[:, None]).sum()
    assert result.total_cost == pytest.approx(cost.sum() + initial_holding)


@pytest.mark.parametrize("seed", range(3))
def test_no_policy_beats_the_oracle(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n, days = 6, 98
    rate = rng.uniform(0.1, 8.0, n)
    qty = {f"S{i}": rng.poisson(rate[i], days).tolist() for i in range(n)}
    demand, items = _frames(qty)
    items = items.assign(
        lead_time_days=rng.integers(1, 8, n),
        moq=rng.integers(1, 12, n),
        case_pack=rng.choice([1, 6, 12], n),
        initial_on_hand=np.round(rate * 10),
        unit_cost=rng.uniform(20, 500, n).round(1),
        order_cost=rng.uniform(50, 400, n).round(),
    )
    results = {
        name: simulate(demand, items, policy=name, warmup_days=28)
        for name in ("oracle", "minmax", "dynamic")
    }
    assert results["oracle"].total_cost <= results["minmax"].total_cost
    assert results["oracle"].total_cost <= results["dynamic"].total_cost


def test_an_unknown_policy_is_refused() -> None:
    demand, items = _frames({"A": [1, 2, 3]})
    with pytest.raises(ValueError, match="policy"):
        simulate(demand, items, policy="magic", warmup_days=1)
