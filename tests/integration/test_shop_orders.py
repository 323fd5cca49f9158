"""Shop order events as sales (core/shop_orders.py, core/shop_refunds.py) on SQLite and
PostgreSQL: an update replaces the order's lines, a cancellation removes them, a refund
takes units off the day they were sold and never more than the order has."""

from datetime import date
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import select

from core.imports import import_bytes
from core.ingest import Kind
from core.models import SalesDay, SalesLine, Sku
from core.shop_events import EventKind, OrderEvent, OrderLine, OrderResult, order_key
from core.shop_orders import apply_order_event
from core.store import Store

ORDERED_AT = "2026-11-20T23:30:00-05:00"  # 2026-11-21 12:30 in Taipei
DAY = date(2026, 11, 21)


def _seed(store: Store, tz: ZoneInfo) -> None:
    skus = b"sku,name\nMILK,Milk\nTEA,Tea\n"
    import_bytes(store, Kind.SKUS, skus, name="skus.csv", tz=tz)
    locations = b"location,name,kind\nWH,Main,warehouse\nDS,Partner,dropship\n"
    import_bytes(store, Kind.LOCATIONS, locations, name="locations.csv", tz=tz)


def _apply(store: Store, tz: ZoneInfo, event: OrderEvent) -> OrderResult:
    with store.unit_of_work() as session:
        return apply_order_event(session, event, tz=tz)


def _order(*lines: OrderLine, order_id: str = "1001") -> OrderEvent:
    return OrderEvent("shopify", EventKind.ORDER, order_id, ORDERED_AT, lines)


def _refund(refund_id: str, *lines: OrderLine, order_id: str = "1001") -> OrderEvent:
    return OrderEvent("shopify", EventKind.REFUND, order_id, lines=lines, refund_id=refund_id)


def _days(store: Store) -> dict[tuple[str, date], tuple[int, str]]:
    """(SKU, day) → (units, revenue) as the forecast and KPIs read them."""
    with store.read() as session:
        rows = session.execute(
            sa.select(Sku.code, SalesDay.day, SalesDay.qty, SalesDay.revenue).join(
                Sku, Sku.id == SalesDay.sku_id
            )
        ).all()
    return {(code, day): (qty, f"{revenue:.2f}") for code, day, qty, revenue in rows}


def _lines(store: Store) -> list[tuple[str, int, int]]:
    with store.read() as session:
        rows = session.execute(
            select(SalesLine.order_id, SalesLine.line_no, SalesLine.qty).order_by(
                SalesLine.order_id, SalesLine.line_no
            )
        ).all()
    return [tuple(row) for row in rows]


def test_update_replaces_the_orders_lines(any_store: Store, tz: ZoneInfo) -> None:
    _seed(any_store, tz)
    first = _apply(
        any_store, tz, _order(OrderLine("11", "MILK", "2", "45"), OrderLine("12", "TEA", "1", "30"))
    )
    assert (first.stored, first.removed, first.affected_skus) == (2, 0, ["MILK", "TEA"])
    assert _days(any_store) == {("MILK", DAY): (2, "90.00"), ("TEA", DAY): (1, "30.00")}

    again = _apply(any_store, tz, _order(OrderLine("11", "MILK", "5", "45")))
    assert (again.stored, again.removed, again.affected_skus) == (1, 2, ["MILK", "TEA"])
    assert _lines(any_store) == [("shopify:1001", 1, 5)]
    assert _days(any_store) == {("MILK", DAY): (5, "225.00")}


def test_unknown_sku_and_repeated_line_are_rejected_the_rest_stored(
    any_store: Store, tz: ZoneInfo
) -> None:
    _seed(any_store, tz)
    event = _order(
        OrderLine("11", "MILK", "2"),
        OrderLine("12", "NOPE", "1"),
        OrderLine("11", "TEA", "1"),
        OrderLine("13", "TEA", "0"),
    )
    result = _apply(any_store, tz, event)
    rejected = [(r.line_id, r.sku, r.problem.code) for r in result.rejected]
    assert sorted(rejected) == [
        ("11", "TEA", "duplicate_key"),
        ("12", "NOPE", "unknown_sku"),
        ("13", "TEA", "zero"),
    ]
    assert (result.stored, result.affected_skus) == (1, ["MILK"])


def test_cancel_removes_sales_and_refunds(any_store: Store, tz: ZoneInfo) -> None:
    _seed(any_store, tz)
    _apply(any_store, tz, _order(OrderLine("11", "MILK", "3", "45")))
    _apply(any_store, tz, _refund("r1", OrderLine("91", "MILK", "1")))
    cancelled = _apply(any_store, tz, OrderEvent("shopify", EventKind.CANCEL, "1001"))
    assert (cancelled.removed, cancelled.affected_skus) == (2, ["MILK"])
    assert _lines(any_store) == []
    assert _days(any_store) == {}


def test_refund_comes_off_the_day_it_was_sold_never_below_zero(
    any_store: Store, tz: ZoneInfo
) -> None:
    _seed(any_store, tz)
    _apply(
        any_store, tz, _order(OrderLine("11", "MILK", "3", "45"), OrderLine("12", "TEA", "1", "30"))
    )
    refund = _apply(
        any_store, tz, _refund("r1", OrderLine("91", "MILK", "2"), OrderLine("92", "NOPE", "1"))
    )
    assert (refund.stored, refund.affected_skus, refund.unmatched) == (1, ["MILK"], [])
    assert [(r.sku, r.problem.code) for r in refund.rejected] == [("NOPE", "unknown_sku")]
    assert _days(any_store)[("MILK", DAY)] == (1, "45.00")

    more = _apply(any_store, tz, _refund("r2", OrderLine("93", "MILK", "5")))
    assert [(u.sku, u.qty) for u in more.unmatched] == [("MILK", 4)]  # only one was left
    assert _days(any_store)[("MILK", DAY)] == (0, "0.00")

    again = _apply(any_store, tz, _refund("r2", OrderLine("93", "MILK", "5")))  # redelivered
    assert [(u.sku, u.qty) for u in again.unmatched] == [("MILK", 4)]
    assert _days(any_store)[("MILK", DAY)] == (0, "0.00")
    assert _days(any_store)[("TEA", DAY)] == (1, "30.00")


def test_refund_of_an_unknown_order_is_unmatched(any_store: Store, tz: ZoneInfo) -> None:
    _seed(any_store, tz)
    result = _apply(any_store, tz, _refund("r1", OrderLine("91", "MILK", "1"), order_id="404"))
    assert (result.stored, [(u.sku, u.qty) for u in result.unmatched]) == (0, [("MILK", 1)])
    assert _lines(any_store) == []


def test_update_selling_less_than_refunded_trims_the_newest_refund(
    any_store: Store, tz: ZoneInfo
) -> None:
    _seed(any_store, tz)
    _apply(any_store, tz, _order(OrderLine("11", "MILK", "4", "45")))
    _apply(any_store, tz, _refund("r1", OrderLine("91", "MILK", "1")))
    _apply(any_store, tz, _refund("r2", OrderLine("92", "MILK", "2")))
    _apply(any_store, tz, _order(OrderLine("11", "MILK", "2", "45")))
    key = order_key("shopify", "1001")
    assert _lines(any_store) == [
        (key, 1, 2),
        (f"{key}:refund:r1", 1, -1),
        (f"{key}:refund:r2", 1, -1),
    ]
    assert _days(any_store)[("MILK", DAY)] == (0, "0.00")


def test_refund_follows_the_location_it_was_sold_from(any_store: Store, tz: ZoneInfo) -> None:
    _seed(any_store, tz)
    lines = (OrderLine("11", "MILK", "1", "45", "WH"), OrderLine("12", "MILK", "2", "45", "DS"))
    _apply(any_store, tz, _order(*lines))
    result = _apply(any_store, tz, _refund("r1", OrderLine("91", "MILK", "3")))
    assert (result.stored, result.unmatched) == (2, [])
    with any_store.read() as session:
        day_qty = session.execute(
            sa.select(sa.func.sum(SalesDay.qty), sa.func.min(SalesDay.qty))
        ).one()
    assert tuple(day_qty) == (0, 0)


def test_long_ids_keep_the_key_within_its_column(any_store: Store, tz: ZoneInfo) -> None:
    _seed(any_store, tz)
    long_id = "x" * 300
    _apply(any_store, tz, _order(OrderLine("1", "MILK", "2"), order_id=long_id))
    result = _apply(
        any_store, tz, _refund("y" * 300, OrderLine("9", "MILK", "1"), order_id=long_id)
    )
    assert result.stored == 1
    assert all(len(order_id) <= 100 for order_id, _, _ in _lines(any_store))
    assert _days(any_store)[("MILK", DAY)] == (1, "0.00")
