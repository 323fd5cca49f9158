"""The monitor pass against a real database: decisions, one draft per supplier, idempotence."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlmodel import select

from core.imports import import_bytes
from core.ingest import Kind
from core.models import Alert, AlertStatus, AuditEvent, PoLine, PoStatus, PurchaseOrder
from core.monitor import MonitorResult, monitor_pass
from core.planner import plan
from core.state import load_state
from core.store import Store

AS_OF = date(2026, 11, 24)
TZ = ZoneInfo("Asia/Taipei")


def _import(store: Store, kind: Kind, text: str) -> None:
    report = import_bytes(store, kind, text.encode(), tz=TZ)
    assert report.rejected == 0, report.rejects


def _sales(rows: dict[str, float], days: int = 84) -> str:
    """`qty` units of each SKU every day for `days` days up to AS_OF."""
    lines = ["order_id,line,sku,qty,timestamp,price"]
    for offset in range(days):
        day = AS_OF - timedelta(days=offset)
        for number, (sku, qty) in enumerate(rows.items(), start=1):
            if qty:
                lines.append(f"O{day:%Y%m%d}-{number},1,{sku},{qty},{day} 12:00,100")
    return "\n".join(lines) + "\n"


@pytest.fixture
def shop(any_store: Store) -> Store:
    _import(any_store, Kind.LOCATIONS, "location,name,kind\nWH,主倉,warehouse\n")
    _import(
        any_store,
        Kind.SKUS,
        "sku,name,category,unit_cost\nMILK,鮮乳,乳品,50\n"
        "TEA,紅茶,飲料,20\nSOAP,肥皂,日用品,30\nDEAD,舊品,日用品,10\n",
    )
    _import(any_store, Kind.SUPPLIERS, "supplier,name\nS1,鮮乳坊\nS2,大盤商\n")
    _import(
        any_store,
        Kind.TERMS,
        "supplier,sku,unit_price,lead_time_days,moq,case_pack,rank\n"
        "S1,MILK,50,3,24,12,1\nS2,MILK,55,1,12,6,2\nS1,TEA,20,3,10,10,1\n"
        "S2,SOAP,30,5,1,1,1\n",
    )
    _import(
        any_store,
        Kind.STOCK,
        "sku,location,on_hand,reserved,as_of\n"
        f"MILK,WH,12,0,{AS_OF} 22:00\nTEA,WH,0,0,{AS_OF} 22:00\n"
        f"SOAP,WH,500,0,{AS_OF} 22:00\nDEAD,WH,40,0,{AS_OF} 22:00\n",
    )
    _import(any_store, Kind.SALES, _sales({"MILK": 10, "TEA": 5, "SOAP": 2}))
    return any_store


def _plan(store: Store) -> dict[str, dict[str, object]]:
    with store.read() as session:
        state = load_state(session, AS_OF, history_days=120, tz=TZ)
    return {row["sku"]: row for row in plan(state).to_dict("records")}


def test_plan_decides_per_sku(shop: Store) -> None:
    planned = _plan(shop)
    milk, tea, soap = planned["MILK"], planned["TEA"], planned["SOAP"]
    assert milk["daily_demand"] == pytest.approx(10, rel=0.15)
    # 1.2 days of cover: the primary's 3 working days leave a gap that the backup's one
    # day closes, so the backup is chosen, and the order follows its MOQ and case pack.
    assert milk["supplier"] == "S2"
    assert milk["pick_colour"] == "orange"
    assert milk["signals"] == ["low_stock"]
    assert milk["order_qty"] > 0
    assert milk["order_qty"] % 6 == 0
    assert milk["order_qty"] >= 12
    # Nothing left and 3 days to wait: red, ordered from the primary in cases of 10.
    assert tea["supplier"] == "S1"
    assert tea["pick_colour"] == "red"
    assert "imminent_stockout" in tea["signals"]
    assert tea["order_qty"] >= 10
    assert tea["order_qty"] % 10 == 0
    assert soap["order_qty"] == 0
    assert soap["pick_colour"] == "green"
    assert planned["DEAD"]["supplier"] is None or planned["DEAD"]["order_qty"] == 0


def _counts(store: Store) -> tuple[int, int, int, int]:
    with store.read() as session:
        count = lambda model: session.scalar(sa.select(sa.func.count()).select_from(model))  # noqa: E731
        return count(Alert), count(PurchaseOrder), count(PoLine), count(AuditEvent)


def _monitor(store: Store, as_of: date = AS_OF) -> MonitorResult:
    with store.unit_of_work() as session:
        result, _ = monitor_pass(session, as_of, tz=TZ)
    return result


def test_monitor_is_idempotent_and_drafts_one_po_per_supplier(shop: Store) -> None:
    first = _monitor(shop)
    assert first.opened
    suppliers = [po["supplier"] for po in first.drafted]
    assert sorted(suppliers) == sorted(set(suppliers))  # one draft per supplier
    before = _counts(shop)
    second = _monitor(shop)
    assert second.as_dict() == {
        "opened": [],
        "updated": [],
        "resolved": [],
        "drafted": [],
        "picks": [],
    }
    assert _counts(shop) == before


def test_no_second_line_for_a_sku_already_on_an_open_po(shop: Store) -> None:
    _monitor(shop)
    with shop.unit_of_work() as session:
        for po in session.scalars(select(PurchaseOrder)):
            po.status = PoStatus.APPROVED  # now on order: part of the position
    result = _monitor(shop)
    assert result.drafted == []
    with shop.read() as session:
        lines = session.execute(
            sa.select(PoLine.sku_id, sa.func.count()).group_by(PoLine.sku_id)
        ).all()
    assert all(count == 1 for _, count in lines)


def test_alerts_resolve_when_the_condition_clears(shop: Store) -> None:
    _monitor(shop)
    _import(
        shop,
        Kind.STOCK,
        f"sku,location,on_hand,as_of\nMILK,WH,900,{AS_OF} 23:00\nTEA,WH,900,{AS_OF} 23:00\n",
    )
    result = _monitor(shop)
    assert "imminent_stockout:TEA" in result.resolved
    assert "low_stock:MILK" in result.resolved
    with shop.read() as session:
        live = session.scalars(
            select(Alert.dedupe_key).where(Alert.status == AlertStatus.OPEN)
        ).all()
    assert not [key for key in live if key.endswith((":MILK", ":TEA"))]


def test_stockout_days_are_censored_not_zero_demand(shop: Store) -> None:
    """Twelve days at zero stock and no sales must not drag the forecast down."""
    stockout_start = AS_OF - timedelta(days=12)
    _import(
        shop,
        Kind.STOCK,
        f"sku,location,on_hand,as_of\nSOAP,WH,0,{stockout_start} 08:00\n"
        f"SOAP,WH,500,{AS_OF} 23:30\n",
    )
    with shop.unit_of_work() as session:  # no sales while it was out of stock
        session.execute(
            sa.text(
                "DELETE FROM salesday WHERE day >= :d AND day < :e AND sku_id "
                "= (SELECT id FROM sku WHERE code = 'SOAP')"
            ),
            {"d": stockout_start, "e": AS_OF},
        )
    with shop.read() as session:
        state = load_state(session, AS_OF, history_days=120, tz=TZ)
    soap = list(state.skus["code"]).index("SOAP")
    assert not state.available[soap, -13:-1].any()  # the stretch is censored …
    assert state.available[soap, -1]  # … and the day it sold again is not
    assert _plan(shop)["SOAP"]["daily_demand"] == pytest.approx(2, rel=0.2)
