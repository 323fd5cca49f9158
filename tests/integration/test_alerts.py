"""Alert buttons against a real database: Draft PO, Snooze, Dismiss — permission, guarded
state change, audit and the card update queued for the alerts channel, in one transaction."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from core.alerts import AlertClosed, AlreadyOnOrder, dismiss, draft_po, snooze, wake_snoozed
from core.models import (
    Alert,
    AlertStatus,
    ChatBinding,
    OutboxMessage,
    PoLine,
    PurchaseOrder,
    Sku,
    SupplierTerm,
    utcnow,
)
from core.permissions import PermissionDenied
from tests.shop import Shop

TODAY = date(2026, 11, 25)


def _alert(shop: Shop, sku: str, **details: object) -> int:
    with shop.store.unit_of_work() as session:
        session.add(ChatBinding(purpose="alerts", platform="slack", chat_id="C-ALERTS"))
        sku_id = session.scalars(select(Sku.id).where(Sku.code == sku)).one()
        alert = Alert(
            kind="low_stock",
            sku_id=sku_id,
            severity="warning",
            dedupe_key=f"low_stock:{sku}",
            details=details,
        )
        session.add(alert)
        session.flush()
        assert alert.id is not None
        return alert.id


def _juice(shop: Shop) -> None:
    """A third SKU, on no PO yet, from the same supplier (MOQ 12, case 6)."""
    with shop.store.unit_of_work() as session:
        supplier_id = session.scalars(select(SupplierTerm.supplier_id)).first()
        juice = Sku(code="JUICE", name="柳橙汁")
        session.add(juice)
        session.flush()
        assert juice.id is not None
        assert supplier_id is not None
        session.add(
            SupplierTerm(
                supplier_id=supplier_id,
                sku_id=juice.id,
                unit_price=Decimal(30),
                moq=12,
                case_pack=6,
            )
        )


def test_draft_po_puts_the_sku_on_the_supplier_draft_and_submits_it(shop: Shop) -> None:
    _juice(shop)
    alert_id = _alert(shop, "JUICE", order_qty=15.0, position=3.0, reorder_point=20.0)
    outcome = shop.run("clerk", draft_po, alert_id, today=TODAY)
    assert (outcome.action, outcome.status) == ("submit", "pending_approval")
    with shop.store.read() as session:
        po = session.scalars(select(PurchaseOrder).where(PurchaseOrder.number == outcome.po)).one()
        lines = {line.sku_id: line.qty for line in session.scalars(select(PoLine))}
        juice = session.scalars(select(Sku.id).where(Sku.code == "JUICE")).one()
        assert lines[juice] == 18  # 15 raised to whole cases of 6
        assert po.total == Decimal(2400 + 200 + 18 * 30)
        alert = session.get(Alert, alert_id)
        assert alert is not None
        assert alert.details["po"] == po.number
    assert [e.data["po"] for e in shop.audit("alert.po_drafted")] == [po.number]
    kinds = [m.kind for m in shop.rows(OutboxMessage)]
    assert "alert.po_drafted" in kinds
    assert "po.submit" in kinds


def test_draft_po_for_a_sku_already_on_order_names_the_po(shop: Shop) -> None:
    alert_id = _alert(shop, "MILK", order_qty=24.0)
    answer = shop.respond("clerk", draft_po, alert_id, today=TODAY)
    assert answer["error"]["code"] == AlreadyOnOrder.code
    assert answer["error"]["params"]["po"] == "PO20261124-001"


def test_snooze_then_a_second_press_hears_who_snoozed(shop: Shop) -> None:
    alert_id = _alert(shop, "TEA")
    until = utcnow() + timedelta(days=1)
    assert shop.run("clerk", snooze, alert_id, until=until).status == "snoozed"
    with pytest.raises(AlertClosed) as late:
        shop.run("amy", snooze, alert_id, until=until)
    assert (late.value.params["by"], late.value.params["status"]) == ("clerk", "snoozed")
    with shop.store.unit_of_work() as session:  # time is up: the alert is open again
        assert wake_snoozed(session, until + timedelta(seconds=1)) == [alert_id]
    alert = shop.rows(Alert, Alert.id == alert_id)[0]
    assert (alert.status, alert.snoozed_until) == (AlertStatus.OPEN, None)


def test_dismiss_needs_a_reason_and_the_role(shop: Shop) -> None:
    alert_id = _alert(shop, "TEA")
    assert shop.respond("clerk", dismiss, alert_id, reason="  ")["error"]["code"] == (
        "dismiss_reason_required"
    )
    refused = shop.respond("buyer", dismiss, alert_id, reason="seasonal")
    assert refused["error"]["code"] == PermissionDenied.code
    assert shop.audit("refused.permission_denied")[-1].entity_id == str(alert_id)
    done = shop.run("amy", dismiss, alert_id, reason="季節性商品，下月停售")
    assert done.status == "dismissed"
    [event] = shop.audit("alert.dismissed")
    assert event.data["reason"] == "季節性商品，下月停售"
    cards = shop.rows(OutboxMessage, OutboxMessage.kind == "alert.dismissed")
    assert [c.target for c in cards] == ["C-ALERTS"]
    assert cards[0].card["alert"]["status"] == "dismissed"
    assert cards[0].dedupe_key.startswith(f"alert:{alert_id}:")
