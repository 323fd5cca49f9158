"""Goods received (收貨): lines booked in full or as counted, stock up at the warehouse, the
PO received (partial deliveries allowed), refused for the wrong role or state, audited and
told to the buyers' chat."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from core.members import add_member
from core.models import (
    ChatBinding,
    Location,
    OutboxMessage,
    PoLine,
    PurchaseOrder,
    StockLevel,
)
from core.permissions import PermissionDenied
from core.receiving import NothingToReceive, receive
from core.workflow_errors import BadQuantity, IllegalTransition, NotOnOrder
from tests.shop import PO, Shop

NOW = datetime(2026, 11, 27, 6, 30, tzinfo=UTC)


@pytest.fixture
def confirmed(shop: Shop) -> tuple[Shop, int]:
    """The shop's PO confirmed by its supplier, a warehouse with MILK counted (40 on hand,
    4 reserved), a logistics member, and the buyers' chat bound."""
    with shop.store.unit_of_work() as session:
        po = session.scalars(select(PurchaseOrder).where(PurchaseOrder.number == PO)).one()
        po.status = "confirmed"
        warehouse = Location(code="WH", name="桃園主倉")
        session.add(warehouse)
        session.flush()
        assert warehouse.id is not None
        session.add(
            StockLevel(
                sku_id=shop.ids["MILK"],
                location_id=warehouse.id,
                on_hand=40,
                reserved=4,
                as_of=NOW - timedelta(days=1),
            )
        )
        member = add_member(
            session, None, platform="slack", user_id="U-log", roles=["logistics"], display_name="lo"
        )
        assert member.id is not None
        shop.ids["logistics"] = member.id
        session.add(ChatBinding(purpose="logistics", platform="slack", chat_id="C-LOG"))
        return shop, warehouse.id


def _stock(shop: Shop, sku: str) -> list[tuple[int, int]]:
    rows = shop.rows(StockLevel, StockLevel.sku_id == shop.ids[sku])
    return [(row.on_hand, row.reserved) for row in sorted(rows, key=lambda r: r.as_of)]


def _lines(shop: Shop) -> dict[int, int]:
    return {line.sku_id: line.received_qty for line in shop.rows(PoLine)}


def test_everything_outstanding_is_booked_in_and_told(confirmed: tuple[Shop, int]) -> None:
    shop, warehouse = confirmed
    outcome = shop.run("logistics", receive, PO, location_id=warehouse, now=NOW)
    assert (outcome.status, outcome.action) == ("received", "received")
    assert _lines(shop) == {shop.ids["MILK"]: 48, shop.ids["TEA"]: 10}
    assert _stock(shop, "MILK") == [(40, 4), (88, 4)]  # the count plus the delivery
    assert _stock(shop, "TEA") == [(10, 0)]  # never counted before: the delivery alone
    po = shop.po()
    assert po.status == "received"
    assert po.received_at is not None
    [event] = shop.audit("po.received")
    assert event.data["received"] == {"MILK": 48, "TEA": 10}
    targets = {row.target for row in shop.rows(OutboxMessage)}
    assert {"C-BUYERS", "C-LOG"} <= targets


def test_a_partial_delivery_then_the_rest(confirmed: tuple[Shop, int]) -> None:
    shop, warehouse = confirmed
    milk = shop.ids["MILK"]
    shop.run("logistics", receive, PO, location_id=warehouse, now=NOW, quantities={milk: 24})
    assert _lines(shop)[milk] == 24
    assert shop.po().status == "received"
    later = NOW + timedelta(hours=3)
    shop.run("logistics", receive, PO, location_id=warehouse, now=later)  # the remainder
    assert _lines(shop) == {milk: 48, shop.ids["TEA"]: 10}
    assert _stock(shop, "MILK")[-1] == (88, 4)
    with pytest.raises(NothingToReceive):
        shop.run("logistics", receive, PO, location_id=warehouse, now=later + timedelta(hours=1))


def test_refusals_change_nothing(confirmed: tuple[Shop, int]) -> None:
    shop, warehouse = confirmed
    with pytest.raises(PermissionDenied):
        shop.run("buyer", receive, PO, location_id=warehouse, now=NOW)
    with pytest.raises(BadQuantity):
        shop.run(
            "logistics",
            receive,
            PO,
            location_id=warehouse,
            now=NOW,
            quantities={shop.ids["MILK"]: -1},
        )
    with pytest.raises(NotOnOrder):
        shop.run("logistics", receive, PO, location_id=warehouse, now=NOW, quantities={999: 1})
    assert _lines(shop) == {shop.ids["MILK"]: 0, shop.ids["TEA"]: 0}
    assert _stock(shop, "MILK") == [(40, 4)]
    assert shop.audit("po.received") == []


def test_only_a_confirmed_po_can_be_received(shop: Shop) -> None:
    with shop.store.unit_of_work() as session:
        warehouse = Location(code="WH")
        session.add(warehouse)
        session.flush()
        assert warehouse.id is not None
        where = warehouse.id
    assert shop.po().status == "draft"
    with pytest.raises(IllegalTransition):
        shop.run("amy", receive, PO, location_id=where, now=NOW)
    assert shop.po().status == "draft"
    assert shop.rows(StockLevel) == []
    assert shop.audit("po.received") == []
