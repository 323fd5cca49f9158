"""The KPIs on a small history computed by hand (core/kpi.py), on SQLite and PostgreSQL.

The shop (Asia/Taipei), period 2026-11-01 … 11-04 (4 days), previous period 10-28 … 10-31:

    SKU  category  active  primary supplier (cost)   price  locations
    A    乳品      yes     S1 at 10 (S2 rank 2 at 12)   20   WH
    B    零食      yes     S2 at 5                      10   DS from 10-30, WH from 11-03
    C    乳品      yes     none: its unit cost 3         —   WH from 11-03 (unknown before)
    D    零食      no      S2 at 1                       —   WH, always 0 (inactive: no stockout)

End-of-day on hand (newest snapshot at or before the end of the local day, summed):

    day     A    B         C    D
    11-01   10   8         ?    0
    11-02    0   8         ?    0
    11-03    0   8 (8+0)   0    0
    11-04   30   8         0    0

Units sold: A 2 a day from 10-04 to 11-01, 4 on 11-02, 0 on 11-03, 3 on 11-04; B 2 on 10-29,
1 a day 11-01 … 11-04; C and D none.
"""

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlmodel import Session, select

from core.kpi import Durations, KpiSet, kpi_dict, kpi_series, kpis
from core.models import (
    EmergencyRequest,
    Location,
    LocationKind,
    PoLine,
    PurchaseOrder,
    SalesDay,
    Sku,
    StockLevel,
    Supplier,
    SupplierTerm,
)
from core.stock_history import daily_on_hand, snapshot_stock
from core.store import Store

TZ = ZoneInfo("Asia/Taipei")
START, END = date(2026, 11, 1), date(2026, 11, 4)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A local Taipei time, as stored (UTC)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ).astimezone(UTC)


def d(month: int, day: int) -> date:
    return date(2026, month, day)


# --- the history ------------------------------------------------------------------------------


def _master(session: Session) -> dict[str, int]:
    wh = Location(code="WH", kind=LocationKind.WAREHOUSE)
    ds = Location(code="DS", kind=LocationKind.DROPSHIP)
    s1, s2 = Supplier(code="S1", name="一號"), Supplier(code="S2", name="二號")
    a = Sku(code="A", name="鮮乳", category="乳品", price=Decimal(20))
    b = Sku(code="B", name="洋芋片", category="零食", price=Decimal(10))
    c = Sku(code="C", name="優格", category="乳品", unit_cost=Decimal(3))
    d_ = Sku(code="D", name="舊餅乾", category="零食", active=False)
    session.add_all([wh, ds, s1, s2, a, b, c, d_])
    session.flush()
    ids = {o.code: o.id for o in (wh, ds, s1, s2, a, b, c, d_)}
    terms = [("S1", "A", 10, 1), ("S2", "A", 12, 2), ("S2", "B", 5, 1), ("S2", "D", 1, 1)]
    for supplier, sku, price, rank in terms:
        session.add(
            SupplierTerm(
                supplier_id=ids[supplier], sku_id=ids[sku], unit_price=Decimal(price), rank=rank
            )
        )
    return ids  # type: ignore[return-value]


def _stock(session: Session, ids: dict[str, int]) -> None:
    snapshots = [
        ("A", "WH", 10, at(d(10, 31), 20)),
        ("A", "WH", 0, at(d(11, 2), 21)),
        ("A", "WH", 30, at(d(11, 4), 9)),
        ("B", "DS", 8, at(d(10, 30), 12)),
        ("B", "WH", 0, at(d(11, 3), 8)),
        ("C", "WH", 0, at(d(11, 3), 10)),
        ("D", "WH", 0, at(d(10, 1), 12)),
    ]
    for sku, location, on_hand, as_of in snapshots:
        session.add(
            StockLevel(sku_id=ids[sku], location_id=ids[location], on_hand=on_hand, as_of=as_of)
        )


def _sales(session: Session, ids: dict[str, int]) -> None:
    sold = {("A", d(10, 4) + timedelta(days=n)): 2 for n in range(29)}  # 10-04 … 11-01
    sold |= {("A", d(11, 2)): 4, ("A", d(11, 4)): 3, ("B", d(10, 29)): 2}
    sold |= {("B", d(11, n)): 1 for n in range(1, 5)}
    price = {"A": 20, "B": 10}
    for (sku, day), qty in sold.items():
        session.add(
            SalesDay(
                sku_id=ids[sku],
                location_id=ids["WH"],
                day=day,
                qty=qty,
                revenue=Decimal(qty * price[sku]),
            )
        )


def _po(session: Session, ids: dict[str, int], number: str, supplier: str, **fields: object) -> int:
    po = PurchaseOrder(number=number, supplier_id=ids[supplier], status="received", **fields)
    session.add(po)
    session.flush()
    return po.id  # type: ignore[return-value]


def _purchasing(session: Session, ids: dict[str, int]) -> None:
    # PO1 (S1): due 11-02, received 11-02 15:00 — A in full, C 3 of 5.
    po1 = _po(session, ids, "PO1", "S1", expected_arrival=d(11, 2), received_at=at(d(11, 2), 15))
    # PO2 (S2): asked for 11-02, no confirmed date, received 11-03 00:30 local (11-02 in UTC).
    po2 = _po(
        session, ids, "PO2", "S2", requested_arrival=d(11, 2), received_at=at(d(11, 3), 0, 30)
    )
    # PO3 (S1): received 10-31, before the period.
    po3 = _po(session, ids, "PO3", "S1", expected_arrival=d(11, 10), received_at=at(d(10, 31), 9))
    # PO4 (S2): no date promised at all, received 11-04.
    po4 = _po(session, ids, "PO4", "S2", received_at=at(d(11, 4), 11))
    lines = [(po1, "A", 10, 10), (po1, "C", 5, 3), (po2, "B", 4, 4), (po3, "A", 6, 6)]
    lines.append((po4, "D", 2, 2))
    for po_id, sku, qty, received in lines:
        session.add(
            PoLine(
                po_id=po_id, sku_id=ids[sku], qty=qty, unit_price=Decimal(1), received_qty=received
            )
        )
    requests = [
        ("A", po1, at(d(11, 1), 10), at(d(11, 1), 10, 20), at(d(11, 1), 11, 20)),  # 20, 60 min
        ("B", None, at(d(11, 2), 9), at(d(11, 2), 9, 50), None),  # 50 min; S2 is B's primary
        ("A", None, at(d(11, 3), 23, 50), None, None),  # still open
        ("C", po2, at(d(11, 4), 8), at(d(11, 4), 8, 5), at(d(11, 4), 8, 35)),  # 5, 30 min
        ("A", None, at(d(11, 5), 0, 10), at(d(11, 5), 1), None),  # 11-04 in UTC, 11-05 here
    ]
    for sku, po_id, requested, approved, confirmed in requests:
        session.add(
            EmergencyRequest(
                sku_id=ids[sku],
                qty=1,
                po_id=po_id,
                requested_at=requested,
                approved_at=approved,
                confirmed_at=confirmed,
            )
        )


def build_history(store: Store) -> dict[str, int]:
    """The history above in `store`; the ids of its locations, suppliers and SKUs by code."""
    with store.unit_of_work() as session:
        ids = _master(session)
        _stock(session, ids)
        _sales(session, ids)
        _purchasing(session, ids)
    return ids


@pytest.fixture
def shop(any_store: Store) -> tuple[Store, dict[str, int]]:
    return any_store, build_history(any_store)


def _kpis(store: Store, start: date = START, end: date = END, **scope: object) -> KpiSet:
    with store.read() as session:
        return kpis(session, start, end, tz=TZ, **scope)  # type: ignore[arg-type]


# --- all SKUs -----------------------------------------------------------------------------------


def test_every_kpi_over_the_period(shop: tuple[Store, dict[str, int]]) -> None:
    k = _kpis(shop[0])
    # Turnover. COGS = A 9 units × 10 + B 4 × 5 = 110 (C, D sold nothing).
    # Inventory value per day = A on hand × 10 + B 8 × 5 (C, D hold 0):
    #   100 + 40, 0 + 40, 0 + 40, 300 + 40 = 560 over 4 days with stock history → 140.
    assert k.cogs == pytest.approx(110)
    assert k.average_inventory_value == pytest.approx(140)
    assert k.stock_days == 4
    assert k.inventory_turnover == pytest.approx(110 / 140)  # 0.786, not annualised
    assert k.inventory_turnover_annualised == pytest.approx(110 / 140 * 365 / 4)  # 71.7
    # Stockout. Active SKU-days: A 4, B 4, C 2 (known from 11-03), D 0 (inactive) = 10;
    # at zero: A 11-02 and 11-03, C 11-03 and 11-04 = 4.
    assert (k.stockout_sku_days, k.active_sku_days) == (4, 10)
    assert k.stockout_rate == pytest.approx(0.4)
    # Fill. Shipped = A 2 + 4 + 0 + 3, B 4 = 13. Demanded: A's stockout days take the larger
    # of what sold and its rate over the 28 days before:
    #   11-02: max(4, 56 / 28 = 2) = 4;  11-03: max(0, (27 × 2 + 4) / 28 = 58 / 28) = 29 / 14.
    # C's rate is 0 (nothing ever sold). Demanded = 13 + 29 / 14 = 211 / 14.
    assert k.units_shipped == pytest.approx(13)
    assert k.units_demanded == pytest.approx(211 / 14)
    assert k.fill_rate == pytest.approx(13 / (211 / 14))  # 182 / 211 = 0.863
    # Growth. Revenue = A 9 × 20 + B 4 × 10 = 220; before (10-28 … 10-31): A 8 × 20 + B 2 × 10
    # = 180 → (220 − 180) / 180.
    assert (k.revenue, k.previous_revenue) == (pytest.approx(220), pytest.approx(180))
    assert k.sales_growth == pytest.approx(2 / 9)
    # OTIF. Received in the period: PO1 A (on time, in full), PO1 C (on time, 3 of 5),
    # PO2 B (received 11-03 local > asked 11-02: late), PO4 D (nothing promised: late).
    assert (k.lines_otif, k.lines_on_time, k.lines_in_full, k.lines_received) == (1, 2, 3, 4)
    assert k.otif == pytest.approx(0.25)
    # Emergency: 4 requests in the period (the 5th is on 11-05 in Taipei). Approval minutes
    # [5, 20, 50]: median 20, p90 at rank 0.9 × 2 = 1.8 → 20 + 0.8 × 30 = 44.
    # Confirmation [30, 60]: median 45, p90 at 0.9 → 30 + 0.9 × 30 = 57.
    assert k.emergencies == 4
    assert k.approve_minutes == Durations(3, pytest.approx(20), pytest.approx(44))
    assert k.confirm_minutes == Durations(2, pytest.approx(45), pytest.approx(57))


def test_per_category(shop: tuple[Store, dict[str, int]]) -> None:
    k = _kpis(shop[0], category="乳品")  # A and C
    # COGS 90; inventory 100 + 0 + 0 + 300 = 400 over 4 days → 100.
    assert k.inventory_turnover == pytest.approx(90 / 100)
    assert (k.stockout_sku_days, k.active_sku_days) == (4, 6)  # A 2 of 4, C 2 of 2
    assert k.fill_rate == pytest.approx(9 / (9 + 29 / 14))
    assert k.sales_growth == pytest.approx((180 - 160) / 160)
    assert (k.lines_otif, k.lines_received) == (1, 2)  # PO1's A and C
    # Requests for A (11-01; 11-03 open) and C (11-04): approvals [20, 5].
    assert k.emergencies == 3
    assert k.approve_minutes == Durations(2, pytest.approx(12.5), pytest.approx(5 + 0.9 * 15))
    assert k.confirm_minutes == Durations(2, pytest.approx(45), pytest.approx(57))


def test_per_supplier(shop: tuple[Store, dict[str, int]]) -> None:
    store, ids = shop
    k = _kpis(store, supplier_id=ids["S2"])  # primary of B and D; A's backup only
    # COGS B 4 × 5 = 20; inventory 40 a day → turnover 0.5.
    assert (k.cogs, k.average_inventory_value) == (pytest.approx(20), pytest.approx(40))
    assert k.inventory_turnover == pytest.approx(0.5)
    assert (k.stockout_sku_days, k.active_sku_days) == (0, 4)  # D is inactive
    assert k.fill_rate == pytest.approx(1.0)
    assert k.sales_growth == pytest.approx((40 - 20) / 20)
    # The PO's supplier: PO2 B (late, in full) and PO4 D (late, in full).
    assert (k.lines_otif, k.lines_on_time, k.lines_in_full, k.lines_received) == (0, 0, 2, 2)
    # B's request (no PO: its primary S2), C's (PO2 to S2): approvals [50, 5].
    assert k.emergencies == 2
    assert k.approve_minutes == Durations(2, pytest.approx(27.5), pytest.approx(5 + 0.9 * 45))
    assert k.confirm_minutes == Durations(1, pytest.approx(30), pytest.approx(30))


def test_both_filters_and_an_empty_scope(shop: tuple[Store, dict[str, int]]) -> None:
    store, ids = shop
    k = _kpis(store, supplier_id=ids["S1"], category="零食")  # S1 supplies no snacks
    assert (k.active_sku_days, k.stock_days, k.lines_received, k.emergencies) == (0, 0, 0, 0)
    ratios = (k.inventory_turnover, k.stockout_rate, k.fill_rate, k.otif, k.sales_growth)
    assert ratios == (None, None, None, None, None)
    assert k.approve_minutes == Durations(0, None, None)


def test_a_period_before_any_stock_history(shop: tuple[Store, dict[str, int]]) -> None:
    k = _kpis(shop[0], d(9, 1), d(9, 30))  # D's first count is 10-01; nothing sold yet
    assert (k.stock_days, k.active_sku_days) == (0, 0)
    assert (k.inventory_turnover, k.stockout_rate) == (None, None)
    assert (k.revenue, k.previous_revenue, k.sales_growth) == (0, 0, None)


def test_the_series_is_the_kpis_of_each_day(shop: tuple[Store, dict[str, int]]) -> None:
    store, _ = shop
    with store.read() as session:
        series = kpi_series(session, END, 4, tz=TZ)
    assert list(series["day"].dt.date) == [d(11, n) for n in range(1, 5)]
    # 11-01: 0 / 2; 11-02: A and B known (C not yet), A at zero → 1 / 2; 11-03: A and C at
    # zero → 2 / 3; 11-04: C at zero → 1 / 3.
    assert list(series["stockout_rate"]) == pytest.approx([0, 0.5, 2 / 3, 1 / 3])
    # Revenue 11-01 = A 40 + B 10 = 50 against 10-31's 40.
    assert series["sales_growth"].iloc[0] == pytest.approx(0.25)
    assert series["approve_minutes_median"].iloc[0] == pytest.approx(20)
    assert pd.isna(series["confirm_minutes_median"].iloc[2])  # the open request's day
    for row in series.itertuples(index=False):
        day = row.day.date()
        one = _kpis(store, day, day)
        for name in ("inventory_turnover", "stockout_rate", "fill_rate", "sales_growth", "otif"):
            expected = getattr(one, name)
            got = getattr(row, name)
            assert (pd.isna(got) and expected is None) or got == pytest.approx(expected), name
        assert row.active_sku_days == one.active_sku_days
        assert row.lines_received == one.lines_received
        assert row.emergencies == one.emergencies
    # Additive parts add up to the period's.
    total = _kpis(store)
    assert series["cogs"].sum() == pytest.approx(total.cogs)
    assert series["units_demanded"].sum() == pytest.approx(total.units_demanded)


def test_kpi_dict_is_plain_json(shop: tuple[Store, dict[str, int]]) -> None:
    data = kpi_dict(_kpis(shop[0]))
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert data["start"] == "2026-11-01"
    assert data["stockout_rate"] == 0.4
    assert data["approve_minutes"] == {"count": 3, "median": 20.0, "p90": 44.0}
    assert data["otif"] == 0.25


def test_a_period_must_not_end_before_it_starts(shop: tuple[Store, dict[str, int]]) -> None:
    with pytest.raises(ValueError, match="before it starts"):
        _kpis(shop[0], END, START)


# --- the daily snapshot -------------------------------------------------------------------------


def _rows(store: Store) -> int:
    with store.read() as session:
        return len(session.scalars(select(StockLevel.id)).all())


def test_snapshot_carries_stock_forward_once_a_day(shop: tuple[Store, dict[str, int]]) -> None:
    store, ids = shop
    pairs = 5  # A-WH, B-DS, B-WH, C-WH, D-WH
    before = _rows(store)
    evening = at(d(11, 5), 22)
    with store.unit_of_work() as session:
        assert snapshot_stock(session, evening, tz=TZ) == pairs
    with store.unit_of_work() as session:  # the same local day: nothing more
        assert snapshot_stock(session, evening + timedelta(hours=1, minutes=30), tz=TZ) == 0
    assert _rows(store) == before + pairs
    # An import counted A today: only the other pairs are carried.
    with store.unit_of_work() as session:
        session.add(
            StockLevel(
                sku_id=ids["A"], location_id=ids["WH"], on_hand=25, as_of=at(d(11, 6), 7, 30)
            )
        )
    with store.unit_of_work() as session:  # 11-06 08:00 local is 11-06 00:00 UTC
        assert snapshot_stock(session, at(d(11, 6), 8), tz=TZ) == pairs - 1
    with store.read() as session:
        days = pd.date_range(d(11, 4), d(11, 6), freq="D")
        on_hand = daily_on_hand(session, pd.Index([ids["A"], ids["B"], ids["C"]]), days, TZ)
    assert on_hand.tolist() == [[30, 30, 25], [8, 8, 8], [0, 0, 0]]


def test_snapshot_of_an_empty_shop_writes_nothing(any_store: Store) -> None:
    with any_store.unit_of_work() as session:
        assert snapshot_stock(session, datetime.now(UTC), tz=TZ) == 0


def test_snapshots_make_past_kpis_stable(shop: tuple[Store, dict[str, int]]) -> None:
    """Carrying stock forward changes no past KPI; it lets the next days have history."""
    store, _ = shop
    past = _kpis(store)
    with store.unit_of_work() as session:
        snapshot_stock(session, at(d(11, 5), 23), tz=TZ)
    assert _kpis(store) == past
    later = _kpis(store, d(11, 5), d(11, 5))
    assert (later.active_sku_days, later.stockout_sku_days) == (3, 1)  # A 30, B 8, C 0
    assert replace(later, start=START) != past
