"""The supplier side of a PO against a real database (SQLite and PostgreSQL): sending on
approval, confirmations and lead-time σ, prices inside and outside the agreed band, decline →
backup supplier → reassign, the SLA watchdog, and suppliers kept to their own POs."""

import statistics
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from core.calendar import TAIPEI, working_hours_between
from core.inbox import run_once
from core.models import (
    AuditEvent,
    LeadTimeObservation,
    OutboxMessage,
    PoLine,
    PoStatus,
    PurchaseOrder,
    Supplier,
    SupplierTerm,
)
from core.permissions import PermissionDenied
from core.supplier_backup import SlaNotPassed, decline, reassign, sla_pass
from core.supplier_flow import (
    BadArrival,
    BadPrice,
    NoPriceProposed,
    confirm,
    decide_price,
    mark_shipped,
    propose_price,
    require_own_po,
    send_to_supplier,
    supplier_open_pos,
)
from core.workflow import ApprovalRules, approve, mark_sent, submit_for_approval
from core.workflow_errors import AlreadyDone, IllegalTransition, PoNotFound
from tests.integration.test_workflow import _together
from tests.shop import PO, SUPPLIER_CHAT, Shop

TODAY = date(2026, 11, 24)  # a Tuesday
REQUESTED = date(2026, 12, 1)  # TEA's 5 working days, the longest lead time on the PO
RULES = ApprovalRules()
S2_CHAT = "-100300"


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TAIPEI)


@pytest.fixture
def sup(shop: Shop) -> Shop:
    """The shop with S1's terms filled in (own codes, lead times), S1's member sally, and a
    backup S2 (rank 2 for MILK only, MOQ 30, case 20) with its member sam and its chat."""
    with shop.store.unit_of_work() as session:
        for term in session.scalars(select(SupplierTerm)):
            milk = term.sku_id == shop.ids["MILK"]
            term.supplier_sku = "S1-M01" if milk else ""  # TEA: no own code, ours is used
            term.lead_time_days = 3 if milk else 5
    shop.add_backup_supplier()
    shop.add_supplier_member("sally", "T-sally", "S1")
    shop.add_supplier_member("sam", "T-sam", "S2")
    shop.bind_supplier_chat()
    shop.bind_supplier_chat("S2", S2_CHAT)
    return shop


def _sent(shop: Shop) -> None:
    shop.run("clerk", submit_for_approval, PO)
    shop.run("amy", approve, PO, rules=RULES, today=TODAY)


def _sent_at(shop: Shop, number: str, when: datetime) -> None:
    with shop.store.unit_of_work() as session:
        po = session.scalars(select(PurchaseOrder).where(PurchaseOrder.number == number)).one()
        po.sent_at = when


def _another_po(shop: Shop, n: int) -> str:
    """A further approved S1 PO with one MILK line, sent by a buyer on TODAY at 10:00."""
    number = f"PO20261124-{n:03d}"
    with shop.store.unit_of_work() as session:
        po = PurchaseOrder(number=number, supplier_id=shop.po().supplier_id, status="approved")
        session.add(po)
        session.flush()
        assert po.id is not None
        session.add(PoLine(po_id=po.id, sku_id=shop.ids["MILK"], qty=24, unit_price=Decimal(50)))
    shop.run("buyer", mark_sent, number, today=TODAY)
    _sent_at(shop, number, _at(TODAY, 10))
    return number


def _outbox(shop: Shop, kind: str) -> list[OutboxMessage]:
    return shop.rows(OutboxMessage, OutboxMessage.kind == kind)


def _line(shop: Shop, sku: str) -> PoLine:
    [line] = shop.rows(PoLine, PoLine.po_id == shop.po().id, PoLine.sku_id == shop.ids[sku])
    return line


# --- sending ------------------------------------------------------------------------------


def test_a_final_approval_sends_the_po_to_a_bound_supplier_chat(sup: Shop) -> None:
    sup.run("clerk", submit_for_approval, PO)
    approved = sup.run("amy", approve, PO, rules=RULES, today=TODAY)

    assert (approved.action, approved.status, approved.by) == ("approve", "sent", "amy")
    po = sup.po()
    assert po.status == PoStatus.SENT
    assert po.sent_at is not None
    assert po.requested_arrival == REQUESTED  # Tuesday + 5 working days
    [sent] = sup.audit("po.sent")
    assert (sent.actor_id, sent.data["auto"], sent.data["requested_arrival"]) == (
        None,
        True,
        "2026-12-01",
    )
    rows = _outbox(sup, "po.send")
    assert [m.target for m in rows] == ["C-BUYERS", SUPPLIER_CHAT]  # not S2's group
    assert rows[0].card["by"] == "system"
    assert len(_outbox(sup, "po.approve")) == 2
    [document] = _outbox(sup, "po.document")  # the PO as a file, for S1's group only
    assert (document.target, document.card["type"]) == (SUPPLIER_CHAT, "po_document")
    assert approved.messages == 5


def test_without_a_bound_chat_the_po_waits_for_a_buyer(shop: Shop) -> None:
    shop.run("clerk", submit_for_approval, PO)
    assert shop.run("amy", approve, PO, rules=RULES, today=TODAY).status == "approved"
    assert shop.po().status == PoStatus.APPROVED
    assert _outbox(shop, "po.send") == []

    sent = shop.run("buyer", mark_sent, PO, today=TODAY)
    assert (sent.status, sent.by) == ("sent", "buyer")
    assert shop.po().requested_arrival == date(2026, 12, 3)  # the seed's 7 working days


def test_the_supplier_card_speaks_the_suppliers_own_codes(sup: Shop) -> None:
    _sent(sup)
    [card] = [m.card for m in _outbox(sup, "po.send") if m.target == SUPPLIER_CHAT]
    lines = {line["sku"]: line for line in card["po"]["lines"]}
    assert (lines["MILK"]["supplier_sku"], lines["TEA"]["supplier_sku"]) == ("S1-M01", "TEA")
    assert lines["MILK"]["proposed_price"] is None
    assert card["po"]["requested_arrival"] == "2026-12-01"
    assert card["po"]["tracking_number"] == ""


# --- confirm --------------------------------------------------------------------------------


def test_confirmations_set_the_arrival_record_lead_times_and_update_sigma(sup: Shop) -> None:
    _sent(sup)
    _sent_at(sup, PO, _at(TODAY, 10))
    others = [_another_po(sup, n) for n in (2, 3, 4, 5)]
    with sup.store.read() as session:
        assert all(po.requested_arrival == date(2026, 11, 27) for po in _pos(session, others))
    cases = [  # (number, how, expected arrival)
        (PO, {}, REQUESTED),
        (others[0], {"extra_days": 1}, date(2026, 11, 30)),  # Fri + 1 working day: Monday
        (others[1], {"extra_days": 3}, date(2026, 12, 2)),
        (others[2], {"extra_days": 7}, date(2026, 12, 8)),
        (others[3], {"arrival": date(2026, 12, 15)}, date(2026, 12, 15)),
    ]
    sigmas = []
    for number, how, expected in cases:
        done = sup.run("sally", confirm, number, today=TODAY, **how)
        assert (done.status, done.by) == ("confirmed", "sally")
        with sup.store.read() as session:
            [po] = _pos(session, [number])
            assert po.expected_arrival == expected
            assert po.confirmed_at is not None
            sigmas.append(session.scalars(_s1_sigma(po.supplier_id)).first())
    days = [o.days for o in sup.rows(LeadTimeObservation)]
    assert days == [7, 6, 8, 14, 21]  # calendar days from the sent date (Tuesday)
    assert {o.kind for o in sup.rows(LeadTimeObservation)} == {"confirmed"}
    assert sigmas[:2] == [0.0, 0.0]  # fewer than three observations: σ_L untouched
    assert sigmas[2:] == [
        pytest.approx(statistics.stdev(days[: n + 1]), abs=1e-3) for n in (2, 3, 4)
    ]
    terms = sup.rows(SupplierTerm, SupplierTerm.supplier_id == sup.po().supplier_id)
    assert [t.lead_time_days for t in terms] == [3, 5]  # the agreed mean stays as agreed
    [supplier_card] = [m.card for m in _outbox(sup, "po.confirm") if m.target == SUPPLIER_CHAT][:1]
    assert supplier_card["po"]["expected_arrival"] == "2026-12-01"
    assert [m.dedupe_key.split(":")[0] for m in _outbox(sup, "po.confirm")] == ["po"] * 10


def _s1_sigma(supplier_id: int):
    return select(SupplierTerm.lead_time_std_days).where(SupplierTerm.supplier_id == supplier_id)


def _pos(session, numbers: list[str]) -> list[PurchaseOrder]:
    query = select(PurchaseOrder).where(PurchaseOrder.number.in_(numbers))
    return list(session.scalars(query.order_by(PurchaseOrder.number)))


def test_an_arrival_before_today_is_refused(sup: Shop) -> None:
    _sent(sup)
    with pytest.raises(BadArrival) as past:
        sup.run("sally", confirm, PO, arrival=date(2026, 11, 23), today=TODAY)
    assert past.value.params == {"po": PO, "arrival": "2026-11-23", "today": "2026-11-24"}
    with pytest.raises(BadArrival):
        sup.run("sally", confirm, PO, extra_days=-1, today=TODAY)
    with pytest.raises(BadArrival):  # the agreed date itself has passed: type a new one
        sup.run("sally", confirm, PO, today=date(2026, 12, 2))
    assert sup.po().status == PoStatus.SENT
    assert sup.rows(LeadTimeObservation) == []
    assert sup.run("sally", confirm, PO, arrival=TODAY, today=TODAY).status == "confirmed"


# --- prices ---------------------------------------------------------------------------------


def test_a_price_inside_the_band_is_accepted(sup: Shop) -> None:
    _sent(sup)
    version = sup.po().version
    done = sup.run("sally", propose_price, PO, sku="S1-M01", price=Decimal("52.50"))
    assert (done.action, done.status) == ("price_accepted", "sent")
    assert done.version == version + 1  # no state change, but concurrent presses conflict
    assert _line(sup, "MILK").unit_price == Decimal("52.50")
    assert _line(sup, "MILK").proposed_price is None
    assert sup.po().total == Decimal(48 * 52.5 + 10 * 20)
    [event] = sup.audit("po.price_accepted")
    assert (event.data["sku"], event.data["agreed"], event.data["band_pct"]) == (
        "MILK",
        "50.00",
        5.0,
    )
    assert _outbox(sup, "price-MILK.price_accepted") == []  # the manager is not bothered
    assert {m.target for m in _outbox(sup, "po.price_accepted")} == {SUPPLIER_CHAT, "C-BUYERS"}


@pytest.mark.parametrize("accept", [True, False])
def test_a_price_outside_the_band_waits_for_a_manager(sup: Shop, accept: bool) -> None:
    _sent(sup)
    sup.run("sally", confirm, PO, today=TODAY)
    done = sup.run("sally", propose_price, PO, sku="TEA", price=Decimal(22))  # ours: 10 % up
    assert (done.action, done.status) == ("price_escalated", "confirmed")
    assert (_line(sup, "TEA").unit_price, _line(sup, "TEA").proposed_price) == (20, 22)
    [escalation] = _outbox(sup, "price-TEA.price_escalated")
    assert escalation.target == "C-APPROVALS"
    card = escalation.card
    assert (card["type"], card["po"]["number"]) == ("price", PO)
    assert card["price"] == {
        "sku": "TEA",
        "supplier_sku": "TEA",
        "name": "紅茶",
        "qty": 10,
        "agreed": "20.00",
        "proposed": "22.00",
        "band_pct": 5.0,
    }
    answer = sup.respond("buyer", decide_price, PO, sku="TEA", accept=accept)
    assert answer["error"]["code"] == PermissionDenied.code

    decided = sup.run("amy", decide_price, PO, sku="TEA", accept=accept)

    assert decided.action == ("price_approved" if accept else "price_refused")
    line = _line(sup, "TEA")
    assert (line.unit_price, line.proposed_price) == (Decimal(22 if accept else 20), None)
    assert sup.po().total == Decimal(48 * 50 + 10 * (22 if accept else 20))
    told = _outbox(sup, f"po.{decided.action}")
    assert {m.target for m in told} == {SUPPLIER_CHAT, "C-BUYERS"}
    [update] = _outbox(sup, f"price-TEA.{decided.action}")
    assert update.dedupe_key.startswith(f"price-TEA:{PO}:")  # same thread: updated in place
    with pytest.raises(NoPriceProposed):
        sup.run("ben", decide_price, PO, sku="TEA", accept=True)


def test_two_price_presses_at_once_never_overwrite_each_other_silently(sup: Shop) -> None:
    _sent(sup)

    def press(price: str) -> Callable[[], dict]:
        def run(session: Session) -> dict:
            actor = sup.member(session, "sally")
            return propose_price(session, actor, PO, sku="S1-M01", price=Decimal(price)).as_dict()

        return lambda: run_once(sup.store, "telegram", f"press:{price}", run)

    answers = _together(press("51"), press("52"))

    assert all(isinstance(answer, dict) for answer in answers), answers
    won = sorted((a for a in answers if "error" not in a), key=lambda a: a["version"])
    assert {a["error"]["code"] for a in answers if "error" in a} <= {"po_changed"}
    assert len({a["version"] for a in won}) == len(won) >= 1  # each press its own version
    accepted = sup.audit("po.price_accepted")
    assert [e.data["version"] for e in accepted] == [a["version"] for a in won]
    assert str(_line(sup, "MILK").unit_price) == accepted[-1].data["price"]  # the last one


def test_a_price_must_be_positive_and_on_the_po(sup: Shop) -> None:
    _sent(sup)
    with pytest.raises(BadPrice):
        sup.run("sally", propose_price, PO, sku="S1-M01", price=Decimal(0))
    answer = sup.respond("sally", propose_price, PO, sku="B-77", price=Decimal(50))
    assert answer["error"]["code"] == "sku_not_on_po"  # S2's code means nothing on S1's PO
    assert sup.po().version == 4


# --- decline → backup → reassign ------------------------------------------------------------


def test_decline_offers_the_backup_and_reassign_opens_its_po(sup: Shop) -> None:
    _sent(sup)
    declined = sup.run("sally", decline, PO, reason="原料短缺")
    assert (declined.status, sup.po().reason) == ("declined", "原料短缺")
    [offer] = _outbox(sup, "offer.declined")
    assert (offer.target, offer.card["type"]) == ("C-APPROVALS", "backup_offer")
    assert offer.card["backups"] == [
        {
            "sku": "MILK",
            "name": "鮮乳",
            "qty": 48,
            "backup": {
                "supplier": "S2",
                "supplier_name": "備援乳品",
                "unit_price": "55.00",
                "lead_time_days": 2,
                "rank": 2,
                "qty": 60,  # 48 raised to S2's MOQ 30 and cases of 20
            },
        },
        {"sku": "TEA", "name": "紅茶", "qty": 10, "backup": None},
    ]
    told = {m.target: m.card for m in _outbox(sup, "po.decline")}
    assert set(told) == {SUPPLIER_CHAT, "C-BUYERS"}
    assert "backups" not in told[SUPPLIER_CHAT]  # never a competitor's price to a supplier

    moved = sup.run("amy", reassign, PO, today=TODAY)

    assert (moved.status, moved.new_pos, moved.no_backup) == (
        "reassigned",
        ["PO20261124-002"],
        ["TEA"],
    )
    assert moved.as_dict()["no_backup"] == ["TEA"]
    with sup.store.read() as session:
        [new] = _pos(session, ["PO20261124-002"])
        lines = session.scalars(select(PoLine).where(PoLine.po_id == new.id)).all()
        supplier = session.get(Supplier, new.supplier_id)
    assert supplier is not None
    assert (supplier.code, new.status, new.reassigned_from_id) == ("S2", "sent", sup.po().id)
    assert new.approved_at is not None
    assert new.requested_arrival == date(2026, 11, 26)  # S2's 2 working days
    assert [(line.sku_id, line.qty, line.unit_price) for line in lines] == [
        (sup.ids["MILK"], 60, Decimal(55))
    ]
    assert new.total == Decimal(3300)
    assert sup.po().status == PoStatus.REASSIGNED
    assert len(sup.rows(PoLine, PoLine.po_id == sup.po().id)) == 2  # nothing deleted
    approvals = sup.rows(AuditEvent, AuditEvent.entity_id == "PO20261124-002")
    assert [(e.action, e.actor_id) for e in approvals] == [
        ("po.approved", sup.ids["amy"]),
        ("po.sent", None),
    ]
    assert approvals[0].data["reassigned_from"] == PO
    [reassigned] = sup.audit("po.reassigned")
    assert reassigned.data["new_pos"] == ["PO20261124-002"]
    assert {m.target for m in _outbox(sup, "po.send") if m.card["po"]["number"] == new.number} == {
        "C-BUYERS",
        S2_CHAT,
    }
    with pytest.raises(AlreadyDone) as late:
        sup.run("sally", confirm, PO, today=TODAY)
    assert (late.value.params["action"], late.value.params["by"]) == ("reassign", "amy")


# --- the SLA watchdog -----------------------------------------------------------------------

FRIDAY = date(2026, 11, 20)
MONDAY = date(2026, 11, 23)


def test_working_hours_stop_overnight_at_weekends_and_on_holidays() -> None:
    assert working_hours_between(_at(FRIDAY, 16), _at(MONDAY, 11)) == 4.0
    assert working_hours_between(_at(FRIDAY, 16), _at(date(2026, 11, 21), 12)) == 2.0
    assert working_hours_between(_at(MONDAY, 7), _at(MONDAY, 12, 30)) == 3.5
    assert working_hours_between(_at(MONDAY, 18, 30), _at(MONDAY, 23)) == 0.0
    assert working_hours_between(_at(MONDAY, 12), _at(MONDAY, 10)) == 0.0
    # Friday 25 December is Constitution Day
    assert working_hours_between(_at(date(2026, 12, 24), 17), _at(date(2026, 12, 28), 10)) == 2.0


def test_sla_reminds_after_four_working_hours_then_offers_the_backup(sup: Shop) -> None:
    _sent(sup)
    _sent_at(sup, PO, _at(FRIDAY, 16))

    def chase(when: datetime) -> dict[str, list[str]]:
        with sup.store.unit_of_work() as session:
            return sla_pass(session, when)

    nothing: dict[str, list[str]] = {"reminded": [], "backup_offered": []}
    assert chase(_at(date(2026, 11, 21), 12)) == nothing  # Saturday: the clock stands still
    assert chase(_at(MONDAY, 10, 59)) == nothing
    assert chase(_at(MONDAY, 11)) == {"reminded": [PO], "backup_offered": []}
    assert chase(_at(MONDAY, 11, 30)) == nothing  # once
    [reminder] = _outbox(sup, "remind.reminded")
    assert (reminder.target, reminder.card["po"]["number"]) == (SUPPLIER_CHAT, PO)
    assert sup.po().reminded_at is not None
    with pytest.raises(SlaNotPassed):
        sup.run("amy", reassign, PO, today=MONDAY)

    assert chase(_at(MONDAY, 14, 59)) == nothing
    assert chase(_at(MONDAY, 15)) == {"reminded": [], "backup_offered": [PO]}
    assert chase(_at(date(2026, 11, 24), 9)) == nothing
    [offer] = _outbox(sup, "offer.overdue")
    assert offer.target == "C-APPROVALS"
    assert [b["sku"] for b in offer.card["backups"]] == ["MILK", "TEA"]
    events = [(e.action, e.actor_id) for e in sup.rows(AuditEvent, AuditEvent.entity_id == PO)]
    assert events[-2:] == [("po.reminded", None), ("po.backup_offered", None)]
    assert sup.po().status == PoStatus.SENT

    moved = sup.run("buyer", reassign, PO, today=TODAY)
    assert (moved.status, moved.new_pos) == ("reassigned", ["PO20261124-002"])


# --- suppliers see their own POs only -------------------------------------------------------


def test_another_supplier_is_told_the_po_does_not_exist_and_is_audited(sup: Shop) -> None:
    missing = sup.respond("sam", confirm, "PO20991231-999", today=TODAY)
    assert missing == {"error": {"code": "po_not_found", "params": {"po": "PO20991231-999"}}}
    _sent(sup)
    before = sup.po().version
    attempts = [
        sup.respond("sam", confirm, PO, today=TODAY),
        sup.respond("sam", decline, PO, reason="no"),
        sup.respond("sam", propose_price, PO, sku="B-77", price=Decimal(1)),
        sup.respond("sam", mark_shipped, PO, tracking="x"),
    ]
    attempts += [  # nor by trying the staff's buttons
        sup.respond("sam", decide_price, PO, sku="MILK", accept=True),
        sup.respond("sam", reassign, PO, today=TODAY),
    ]
    assert attempts == [{"error": {"code": "po_not_found", "params": {"po": PO}}}] * 6
    assert sup.po().version == before
    refusals = sup.audit("refused.po_not_found")
    assert [(r.actor_id, r.entity_id) for r in refusals] == [
        (sup.ids["sam"], "PO20991231-999"),
        *[(sup.ids["sam"], PO)] * 6,
    ]
    with sup.store.read() as session:
        assert list(supplier_open_pos(session, sup.po().supplier_id)) == [PO]
        assert supplier_open_pos(session, _s2(session)) == {}
    answer = sup.respond("buyer", confirm, PO, today=TODAY)
    assert answer["error"]["code"] == PermissionDenied.code  # staff: refused by role
    own = sup.respond("sally", reassign, PO, today=TODAY)
    assert own["error"]["code"] == PermissionDenied.code  # its own PO, not its button


def _s2(session) -> int:
    return session.scalars(select(Supplier.id).where(Supplier.code == "S2")).one()


def test_a_supplier_cannot_see_a_po_before_it_is_sent(sup: Shop) -> None:
    with sup.store.unit_of_work() as session, pytest.raises(PoNotFound) as hidden:
        require_own_po(session, sup.member(session, "sally"), PO)
    assert hidden.value.as_dict() == {"code": "po_not_found", "params": {"po": PO}}


# --- shipped ------------------------------------------------------------------------------


def test_shipped_with_a_tracking_number(sup: Shop) -> None:
    _sent(sup)
    with pytest.raises(IllegalTransition):
        sup.run("sally", mark_shipped, PO, tracking="123")  # not confirmed yet
    sup.run("sally", confirm, PO, today=TODAY)
    version = sup.po().version
    shipped = sup.run("sally", mark_shipped, PO, tracking=" 黑貓 9012-3456 ")
    assert (shipped.action, shipped.status, shipped.version) == ("ship", "confirmed", version + 1)
    po = sup.po()
    assert (po.tracking_number, po.shipped_at is not None) == ("黑貓 9012-3456", True)
    told = {m.target: m.card for m in _outbox(sup, "po.ship")}
    assert set(told) == {SUPPLIER_CHAT, "C-BUYERS"}
    assert told["C-BUYERS"]["po"]["tracking_number"] == "黑貓 9012-3456"
    [event] = sup.audit("po.shipped")
    assert event.data["tracking"] == "黑貓 9012-3456"


def test_the_system_may_send_but_nobody_without_the_role(sup: Shop) -> None:
    with sup.store.unit_of_work() as session:
        po = session.scalars(select(PurchaseOrder).where(PurchaseOrder.number == PO)).one()
        po.status = "approved"  # approved while S1's chat was not bound yet
    answer = sup.respond("analyst", send_to_supplier, PO, today=TODAY)
    assert answer["error"]["code"] == PermissionDenied.code
    unsent = sup.respond("sally", send_to_supplier, PO, today=TODAY)
    assert unsent["error"]["code"] == "po_not_found"  # not sent yet: not the supplier's to see
    with sup.store.unit_of_work() as session:
        assert send_to_supplier(session, None, PO, today=TODAY).by == "system"
