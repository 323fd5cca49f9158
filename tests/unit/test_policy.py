"""core.policy: textbook cases, refusals, and properties over random SKUs."""

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.policy import (
    PolicyParams,
    days_of_cover,
    eoq,
    inventory_position,
    order_quantity,
    order_up_to_level,
    pick_colour,
    plan_orders,
    reorder_point,
    safety_stock,
)
from core.suppliers import TERM_COLUMNS, calendar_lead_time, choose_suppliers, expected_arrival

Z95 = 1.6448536269514722

units = st.floats(min_value=0, max_value=1e4, allow_nan=False)
stock = st.floats(min_value=-500, max_value=5e3, allow_nan=False)
service_levels = st.floats(min_value=0.01, max_value=0.999)
packs = st.integers(min_value=1, max_value=48)
moqs = st.integers(min_value=0, max_value=200)
unit_costs = st.one_of(st.just(0.0), st.floats(min_value=0.01, max_value=2e3))  # TWD


# --- textbook cases ------------------------------------------------------------------------


def test_eoq_textbook() -> None:
    assert eoq(1200, 100, 6) == pytest.approx(200)


def test_eoq_is_zero_without_demand_even_without_holding_cost() -> None:
    assert eoq(0, 100, 6) == 0
    assert eoq(0, 100, 0) == 0


def test_safety_stock_textbook() -> None:
    assert safety_stock(0.95, 10, 4) == pytest.approx(Z95 * 20)
    assert round(safety_stock(0.95, 10, 4), 1) == 32.9


def test_safety_stock_with_lead_time_variability() -> None:
    # σ_LT = sqrt(4·10² + 50²·1²) = sqrt(2900)
    assert safety_stock(0.95, 10, 4, 1, 50) == pytest.approx(Z95 * math.sqrt(2900))


def test_safety_stock_is_zero_without_variability() -> None:
    assert safety_stock(0.99, 0, 7, 0, 20) == 0


def test_reorder_point_and_order_up_to_level() -> None:
    assert reorder_point(50, 4, 32.9) == pytest.approx(232.9)
    assert order_up_to_level(50, 4, 1, 32.9) == pytest.approx(282.9)


def test_inventory_position_nets_on_order_and_reserved() -> None:
    assert inventory_position(100, 50, 30) == 120
    assert inventory_position(0, 0, 5) == -5


def test_scalars_come_back_as_plain_numbers() -> None:
    assert type(eoq(1200, 100, 6)) is float
    assert type(order_quantity(0, 10, 20, 0, 1, 1)) is int
    assert type(pick_colour(10, 2, 50, 10, False)) is str


# --- order quantity --------------------------------------------------------------------------


def test_no_order_above_the_reorder_point() -> None:
    assert order_quantity(101, 100, 300, 50, 1, 1) == 0


def test_order_at_the_reorder_point_covers_up_to_level() -> None:
    assert order_quantity(100, 100, 300, 50, 1, 1) == 200


def test_eoq_wins_when_larger_than_the_gap() -> None:
    assert order_quantity(90, 100, 150, 120, 1, 1) == 120


def test_moq_then_case_pack_even_when_moq_is_not_whole_cases() -> None:
    assert order_quantity(0, 5, 7, 0, 10, 4) == 12  # 7 → MOQ 10 → 3 cases of 4
    assert order_quantity(0, 5, 7, 0, 1, 6) == 12  # 7 → 2 cases of 6


def test_nothing_needed_orders_nothing_despite_moq() -> None:
    assert order_quantity(0, 0, 0, 0, 50, 10) == 0


def test_float_noise_does_not_add_a_case() -> None:
    assert order_quantity(0, 1, 24 + 1e-12, 0, 1, 12) == 24


def test_unknown_eoq_is_ignored() -> None:
    assert order_quantity(0, 5, 30, math.nan, 1, 1) == 30


def test_order_quantity_vectorised() -> None:
    quantity = order_quantity(np.array([10, 30, 0]), 20, 100, 30, 95, 4)
    assert quantity.dtype == np.int64
    assert quantity.tolist() == [96, 0, 100]


# --- cover and colour ------------------------------------------------------------------------


def test_days_of_cover() -> None:
    assert days_of_cover(100, 10) == 10
    assert days_of_cover(5, 0) == math.inf
    assert days_of_cover(0, 0) == 0
    assert days_of_cover(-3, 2) == 0


def test_pick_colours() -> None:
    assert pick_colour(3, 5, 80, 100, False) == "red"  # runs out before an order lands
    assert pick_colour(30, 5, 500, 100, True) == "red"  # surging
    assert pick_colour(30, 5, 100, 100, False) == "orange"  # at the reorder point
    assert pick_colour(30, 5, 101, 100, False) == "green"


def test_pick_colour_vectorised() -> None:
    colours = pick_colour(
        np.array([1, 5, 5, 5]), 2, np.array([0, 3, 4, 4]), 3, np.array([False, False, False, True])
    )
    assert colours.tolist() == ["red", "orange", "green", "red"]


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("demand", "cost", "holding"), [(-1, 100, 6), (1200, -1, 6), (1200, 100, -6), (1200, 100, 0)]
)
def test_eoq_refuses_bad_input(demand: float, cost: float, holding: float) -> None:
    with pytest.raises(ValueError, match="must"):
        eoq(demand, cost, holding)


def test_eoq_refuses_an_array_with_one_bad_element_and_says_where() -> None:
    with pytest.raises(ValueError, match="first at index 2"):
        eoq(np.array([10.0, 0.0, 5.0]), 100, np.array([1.0, 0.0, 0.0]))


@pytest.mark.parametrize("level", [0, 1, -0.5, 1.5, math.nan])
def test_safety_stock_refuses_service_levels_outside_0_1(level: float) -> None:
    with pytest.raises(ValueError, match="service_level"):
        safety_stock(level, 10, 4)


def test_safety_stock_refuses_negative_spread() -> None:
    with pytest.raises(ValueError, match="demand_std_per_day"):
        safety_stock(0.95, -1, 4)
    with pytest.raises(ValueError, match="lead_time_days"):
        safety_stock(np.array([0.9, 0.95]), 1, np.array([3, -4]))


@pytest.mark.parametrize(("moq", "pack"), [(1, 0), (1, 2.5), (-1, 1), (1, math.nan)])
def test_order_quantity_refuses_bad_moq_or_case_pack(moq: float, pack: float) -> None:
    with pytest.raises(ValueError, match=r"case_pack|moq"):
        order_quantity(0, 10, 20, 0, moq, pack)


def test_order_quantity_refuses_an_unbounded_order() -> None:
    with pytest.raises(ValueError, match="out of range"):
        order_quantity(0, 5, 10, math.inf, 1, 1)


def test_days_of_cover_refuses_negative_demand() -> None:
    with pytest.raises(ValueError, match="mean_daily_demand"):
        days_of_cover(10, -1)


@pytest.mark.parametrize(
    "changes", [{"service_level": 1.0}, {"order_cost": -1.0}, {"days_per_year": 0.0}]
)
def test_policy_params_refuse_nonsense(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        PolicyParams(**changes)


# --- properties ------------------------------------------------------------------------------


@given(stock, units, units, units, moqs, packs)
def test_order_is_whole_cases_and_at_least_moq(
    position: float, extra: float, above: float, lot: float, moq: int, pack: int
) -> None:
    rop = position + extra
    quantity = order_quantity(position, rop, rop + above, lot, moq, pack)
    assert quantity % pack == 0
    assert quantity >= max(lot, rop + above - position) - 1e-6  # at the reorder point: order
    if quantity > 0:
        assert quantity >= moq


@given(service_levels, service_levels, units, st.floats(0, 60), st.floats(0, 10), units)
def test_higher_service_level_never_lowers_the_reorder_point(
    low: float, high: float, sigma: float, lead: float, lead_sigma: float, mean: float
) -> None:
    low, high = sorted((low, high))
    rops = [
        reorder_point(mean, lead, safety_stock(level, sigma, lead, lead_sigma, mean))
        for level in (low, high)
    ]
    assert rops[1] >= rops[0] - 1e-9


@given(units, units, units, units, st.floats(0, 1e3), units, moqs, packs)
def test_netting_more_on_order_never_raises_the_order(
    on_hand: float,
    on_order: float,
    more: float,
    rop: float,
    above: float,
    lot: float,
    moq: int,
    pack: int,
) -> None:
    def order(ordered: float) -> int:
        position = inventory_position(on_hand, ordered, 0)
        return order_quantity(position, rop, rop + above, lot, moq, pack)

    assert order(on_order + more) <= order(on_order)


sku_inputs = st.fixed_dictionaries(
    {
        "mean_daily_demand": units,
        "demand_std_per_day": units,
        "lead_time_days": st.integers(0, 30),
        "lead_time_std_days": st.floats(0, 5),
        "on_hand": stock,
        "on_order": units,
        "reserved": st.floats(0, 500),
        "unit_cost": unit_costs,
        "moq": moqs,
        "case_pack": packs,
        "surging": st.booleans(),
    }
)


@settings(max_examples=50)
@given(st.lists(sku_inputs, min_size=1, max_size=12), service_levels)
def test_vectorised_equals_scalar(skus: list[dict], level: float) -> None:
    params = PolicyParams(service_level=level)
    arrays = {name: np.array([sku[name] for sku in skus]) for name in skus[0]}
    plan = plan_orders(**arrays, params=params)
    for i, sku in enumerate(skus):
        assert plan.iloc[i].to_dict() == plan_orders(**sku, params=params).iloc[0].to_dict()
    mean, lead = arrays["mean_daily_demand"], arrays["lead_time_days"]
    ss = safety_stock(level, arrays["demand_std_per_day"], lead, arrays["lead_time_std_days"], mean)
    assert ss.tolist() == [
        safety_stock(level, *values)
        for values in zip(
            arrays["demand_std_per_day"], lead, arrays["lead_time_std_days"], mean, strict=True
        )
    ]
    assert eoq(mean * 365, 300, 25).tolist() == [eoq(d * 365, 300, 25) for d in mean]


def test_per_sku_service_levels() -> None:
    levels = np.array([0.9, 0.95, 0.9, 0.99])
    together = safety_stock(levels, 10, 4)
    assert together.tolist() == [safety_stock(level, 10, 4) for level in levels]


# --- the plan --------------------------------------------------------------------------------


def test_plan_orders_columns_and_a_hand_checked_sku() -> None:
    plan = plan_orders(
        mean_daily_demand=[10.0, 0.0],
        demand_std_per_day=[3.0, 0.0],
        lead_time_days=[7, 7],
        lead_time_std_days=0.0,
        on_hand=[20, 0],
        on_order=[5, 0],
        reserved=[5, 0],
        unit_cost=[100.0, 0.0],
        moq=[1, 1],
        case_pack=[6, 1],
        surging=False,
        index=pd.Index([11, 12], name="sku_id"),
    )
    assert list(plan.columns) == [
        "safety_stock",
        "reorder_point",
        "eoq",
        "order_up_to",
        "position",
        "order_qty",
        "days_of_cover",
        "pick_colour",
    ]
    first = plan.loc[11]
    ss = Z95 * 3 * math.sqrt(7)
    assert first["safety_stock"] == pytest.approx(ss)
    assert first["reorder_point"] == pytest.approx(70 + ss)
    assert first["eoq"] == pytest.approx(math.sqrt(2 * 3650 * 300 / 25))
    assert first["order_up_to"] == pytest.approx(80 + ss)
    assert first["position"] == 20
    assert first["order_qty"] == 6 * math.ceil(max(first["eoq"], 80 + ss - 20) / 6)
    assert first["pick_colour"] == "red"  # 2 days of cover, 7 days of lead time
    dead = plan.loc[12]  # no demand, no stock, no price: nothing to order, nothing urgent
    assert (dead["eoq"], dead["order_qty"], dead["pick_colour"]) == (0, 0, "orange")


# --- working-day lead times ------------------------------------------------------------------


def test_lead_time_over_lunar_new_year() -> None:
    # Ordered Friday 24 Jan 2025: 27–31 Jan are holidays, so 3 working days end on 5 Feb.
    assert expected_arrival(date(2025, 1, 24), 3) == date(2025, 2, 5)
    assert calendar_lead_time(date(2025, 1, 24), 3) == 12


def test_lead_time_in_an_ordinary_week() -> None:
    assert calendar_lead_time(date(2025, 3, 3), 5) == 7


def test_lead_times_vectorised() -> None:
    days = calendar_lead_time(date(2025, 1, 24), np.array([3, 1, 0]))
    assert days.tolist() == [12, 10, 0]


# --- supplier choice -------------------------------------------------------------------------


def needs_frame(covers: dict[int, float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"sku_id": list(covers), "days_of_cover": list(covers.values()), "mean_daily_demand": 1.0}
    )


def terms_frame(rows: list[tuple[int, int, int, int]]) -> pd.DataFrame:
    """(sku_id, supplier_id, rank, lead_time_days) rows with plain other terms."""
    frame = pd.DataFrame(rows, columns=["sku_id", "supplier_id", "rank", "lead_time_days"])
    return frame.assign(lead_time_std_days=0.0, unit_price=10.0, moq=1, case_pack=1)


def chosen(result: pd.DataFrame) -> dict[int, tuple[object, str]]:
    return {
        int(row.sku_id): (None if pd.isna(row.supplier_id) else int(row.supplier_id), row.reason)
        for row in result.itertuples()
    }


TERMS = terms_frame(
    [(1, 10, 1, 5), (1, 11, 2, 2), (2, 10, 1, 5), (2, 11, 2, 4), (3, 10, 1, 5), (9, 12, 1, 1)]
)


def test_primary_by_default() -> None:
    assert chosen(choose_suppliers(needs_frame({1: 10.0}), TERMS)) == {1: (10, "primary")}


def test_faster_backup_closes_the_gap() -> None:
    assert chosen(choose_suppliers(needs_frame({1: 3.0}), TERMS)) == {1: (11, "faster_backup")}


def test_primary_stays_when_the_backup_would_not_close_the_gap() -> None:
    assert chosen(choose_suppliers(needs_frame({2: 3.0}), TERMS)) == {2: (10, "primary")}


def test_declined_primary_hands_over_to_the_next_rank() -> None:
    result = choose_suppliers(needs_frame({1: 10.0, 3: 10.0}), TERMS, declined={(1, 10), (3, 10)})
    assert chosen(result) == {1: (11, "primary_declined"), 3: (None, "all_declined")}


def test_sku_without_terms_gets_no_supplier() -> None:
    result = choose_suppliers(needs_frame({4: 1.0, 1: 10.0}), TERMS)
    assert chosen(result) == {4: (None, "no_terms"), 1: (10, "primary")}
    assert list(result.columns) == [*TERM_COLUMNS, "reason"]
    assert result["sku_id"].tolist() == [4, 1]  # in the order of needs


def test_gap_judged_in_calendar_days_when_the_order_date_is_known() -> None:
    # Before 春節 the backup's 2 working days are 11 calendar days: it closes no gap.
    result = choose_suppliers(needs_frame({1: 3.0}), TERMS, order_date=date(2025, 1, 24))
    assert chosen(result) == {1: (10, "primary")}


def test_duplicate_needs_are_refused() -> None:
    with pytest.raises(ValueError, match="one row per sku_id"):
        choose_suppliers(needs_frame({1: 3.0}).pipe(lambda f: pd.concat([f, f])), TERMS)


def expected_choice(
    cover: float, offers: list[tuple[int, int, int]], declined: set[int]
) -> tuple[object, str]:
    """The rule, one SKU at a time: offers are (supplier_id, rank, lead_time_days)."""
    if not offers:
        return None, "no_terms"
    ranked = sorted(offers, key=lambda offer: (offer[1], offer[2], offer[0]))
    usable = [offer for offer in ranked if offer[0] not in declined]
    if not usable:
        return None, "all_declined"
    if len(usable) > 1 and cover < usable[0][2] and cover >= usable[1][2]:
        return usable[1][0], "faster_backup"
    return usable[0][0], "primary" if usable[0] is ranked[0] else "primary_declined"


sku_offers = st.lists(
    st.tuples(st.integers(1, 6), st.integers(1, 4), st.integers(1, 15)),
    max_size=4,
    unique_by=lambda offer: offer[0],
)


@settings(max_examples=60)
@given(st.lists(st.tuples(st.floats(0, 20), sku_offers, st.sets(st.integers(1, 6))), max_size=8))
def test_supplier_choice_follows_the_rule(skus: list[tuple]) -> None:
    covers = {sku: cover for sku, (cover, _, _) in enumerate(skus)}
    rows = [(sku, *offer) for sku, (_, offers, _) in enumerate(skus) for offer in offers]
    declined = {(sku, supplier) for sku, (_, _, refused) in enumerate(skus) for supplier in refused}
    result = choose_suppliers(needs_frame(covers), terms_frame(rows), declined=declined)
    expected = {
        sku: expected_choice(cover, offers, refused)
        for sku, (cover, offers, refused) in enumerate(skus)
    }
    assert chosen(result) == expected
    offered = {(sku, supplier) for sku, supplier, _, _ in rows}
    picked = result.dropna(subset=["supplier_id"])
    pairs = zip(picked["sku_id"], picked["supplier_id"], strict=True)
    assert {(int(sku), int(supplier)) for sku, supplier in pairs} <= offered - declined
