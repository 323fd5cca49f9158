"""Emergency orders (緊急補貨) on SQLite and PostgreSQL: the fastest supplier, the card to the
approvers with the contact directory, reminder then escalation on a controlled clock, the
clock stopped by approval and by the supplier's confirmation, the backup offered once, and
the response times. The chat side (command, alert button) is in test_emergency_chat.py."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import select

from bot.app import App, render_card
from bot.settings import Settings
from core.calendar import TAIPEI, local_today
from core.emergency import EmergencyRules, open_emergency, response_times
from core.emergency_watchdog import emergency_watchdog
from core.kpi import kpis
from core.members import add_member
from core.models import (
    AuditEvent,
    EmergencyRequest,
    OutboxMessage,
    PoLine,
    PoStatus,
    PurchaseOrder,
    Supplier,
    SupplierTerm,
    utcnow,
)
from core.supplier_backup import reassign, sla_pass
from core.supplier_flow import confirm
from core.workflow import ApprovalRules, approve
from tests.shop import PO, Shop

APPROVALS = "C-APPROVALS"
S2_CHAT = "-100300"
MINUTE = timedelta(minutes=1)
CHAIN = (("slack:U-amy",), ("slack:U-ben",))


@pytest.fixture
def em(shop: Shop) -> Shop:
    """S1 (MILK: rank 1, 7 days) with its emergency contact; S2 a backup for MILK (rank 2,
    2 days, MOQ 30, case 20) with its own; sam of S2; lily in logistics; amy's e-mail."""
    with shop.store.unit_of_work() as session:
        s1 = session.scalars(select(Supplier).where(Supplier.code == "S1")).one()
        s1.emergency_contact, s1.emergency_phone = "王小姐", "0912-000-111"
        s2 = Supplier(code="S2", name="備援乳品", contact_name="陳先生", phone="02-2222-3333")
        session.add(s2)
        session.flush()
        session.add(
            SupplierTerm(
                supplier_id=s2.id or 0,
                sku_id=shop.ids["MILK"],
                unit_price=Decimal(55),
                lead_time_days=2,
                moq=30,
                case_pack=20,
                rank=2,
            )
        )
        for user, roles, name, extra in (
            ("T-sam", ["supplier"], "sam", {"supplier_id": s2.id}),
            ("U-lily", ["logistics"], "lily", {"email": "lily@shop.tw"}),
            ("U-amy", ["manager"], "amy", {"email": "amy@shop.tw"}),
        ):
            platform = "telegram" if user.startswith("T-") else "slack"
            member = add_member(
                session,
                None,
                platform=platform,
                user_id=user,
                roles=roles,
                display_name=name,
                **extra,
            )
            shop.ids[name] = member.id or 0
    return shop


def _open(shop: Shop, now: datetime, qty: int = 50, **rules: Any) -> EmergencyRequest:
    shop.run(
        "clerk",
        open_emergency,
        sku_id=shop.ids["MILK"],
        qty=qty,
        reason="團購爆量",
        now=now,
        rules=EmergencyRules(**rules),
    )
    return _request(shop)


def _request(shop: Shop) -> EmergencyRequest:
    [request] = shop.rows(EmergencyRequest)
    return request


def _po_of(shop: Shop, request: EmergencyRequest) -> PurchaseOrder:
    [po] = shop.rows(PurchaseOrder, PurchaseOrder.id == request.po_id)
    return po


def _cards(shop: Shop, card_type: str, target: str | None = None) -> list[OutboxMessage]:
    rows = shop.rows(OutboxMessage, *([OutboxMessage.target == target] if target else []))
    return [row for row in rows if row.card.get("type") == card_type]


def _utc(value: datetime | None) -> datetime:
    assert value is not None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _app(shop: Shop) -> App:
    url = shop.store.engine.url.render_as_string(hide_password=False)
    return App(Settings(database_url=url), shop.store)


# --- the fastest supplier ---------------------------------------------------------------------


def test_the_backup_is_chosen_when_it_delivers_sooner(em: Shop) -> None:
    now = utcnow()
    request = _open(em, now)
    po = _po_of(em, request)
    [line] = em.rows(PoLine, PoLine.po_id == po.id)
    assert (po.emergency, po.status, po.reason) == (True, PoStatus.PENDING_APPROVAL, "團購爆量")
    assert po.supplier_id != em.po().supplier_id  # S2, 2 days against S1's 7
    assert (line.qty, line.unit_price) == (60, Decimal(55))  # 50 → MOQ 30, cases of 20
    assert po.total == Decimal(3300)
    assert (request.status, request.qty, _utc(request.requested_at)) == ("open", 50, now)
    assert em.po().number == PO
    assert len(em.rows(PoLine, PoLine.po_id == em.po().id)) == 2  # the regular draft untouched


def test_the_primary_is_chosen_when_it_is_the_fastest(em: Shop) -> None:
    with em.store.unit_of_work() as session:
        for term in session.scalars(select(SupplierTerm)):
            term.lead_time_days = 9 if term.rank == 2 else 3
    request = _open(em, utcnow(), qty=25)
    po = _po_of(em, request)
    [line] = em.rows(PoLine, PoLine.po_id == po.id)
    assert po.supplier_id == em.po().supplier_id  # S1, its own PO (not S1's regular draft)
    assert po.number != PO
    assert line.qty == 36  # 25 → MOQ 24 → cases of 12


def test_a_second_emergency_for_the_same_sku_is_refused(em: Shop) -> None:
    _open(em, utcnow())
    refused = em.respond(
        "clerk",
        open_emergency,
        sku_id=em.ids["MILK"],
        qty=10,
        reason="",
        now=utcnow(),
        rules=EmergencyRules(),
    )
    assert refused["error"]["code"] == "emergency_in_flight"
    assert refused["error"]["params"]["po"] == _po_of(em, _request(em)).number


# --- the card ---------------------------------------------------------------------------------


def test_the_card_reaches_the_approvers_with_the_contact_directory(em: Shop) -> None:
    request = _open(em, utcnow())
    number = _po_of(em, request).number
    [chat] = _cards(em, "emergency", APPROVALS)
    assert chat.dedupe_key is not None
    assert chat.dedupe_key.startswith(f"po:{number}:")  # in place of the PO card's message
    mails = [row for row in _cards(em, "emergency") if row.platform == "email"]
    assert [row.target for row in mails] == ["amy@shop.tw"]  # managers with an address

    card = render_card(_app(em))(chat.card, "zh-TW")
    assert card.title == "🚨 緊急補貨 · MILK 鮮乳 × 60"
    fields = {field.label: field.value for field in card.fields}
    assert fields["供應商"] == "備援乳品（S2）（備用供應商，交期較快）"
    assert fields["交期"] == "2 個工作天"
    assert fields["回應時間"] == "已等待 0 分鐘"
    assert fields["數量"] == "60（申請 50，依供應商條件調整）"
    assert fields["核准人"] == "amy、ben"  # the managers (clerk asked: never themselves)
    assert card.table is not None
    assert [row[1:] for row in card.table.rows] == [
        ("備援乳品", "陳先生", "02-2222-3333"),  # no emergency contact: the everyday one
        ("鮮乳坊", "王小姐", "0912-000-111"),  # the backup for this SKU: S1
        ("lily", "lily", "lily@shop.tw"),
    ]
    assert [(b.label, b.value) for b in card.buttons] == [("核准", number), ("退回", number)]
    english = render_card(_app(em))(chat.card, "en")
    assert english.title == "🚨 Emergency order · MILK 鮮乳 × 60"
    assert "waited 0 min" in [field.value for field in english.fields]


# --- reminder, then escalation ----------------------------------------------------------------


def _watch(shop: Shop, now: datetime, **kw: Any) -> dict[str, list[int]]:
    with shop.store.unit_of_work() as session:
        return emergency_watchdog(
            session, now, approve_within=30 * MINUTE, confirm_within=60 * MINUTE, **kw
        )


def test_a_reminder_then_the_next_level_then_its_reminder(em: Shop) -> None:
    start = utcnow()
    request = _open(em, start, chain=CHAIN)
    ids = [request.id]
    assert [row.target for row in _cards(em, "emergency") if row.platform == "slack"] == [
        APPROVALS,
        "U-amy",  # named in level 1: told directly
    ]
    nothing: dict[str, list[int]] = {"reminded": [], "escalated": [], "backup_offered": []}
    assert _watch(em, start + 29 * MINUTE, chain=CHAIN) == nothing
    assert _watch(em, start + 30 * MINUTE, chain=CHAIN)["reminded"] == ids
    assert _watch(em, start + 31 * MINUTE, chain=CHAIN) == nothing  # once per level
    assert _watch(em, start + 59 * MINUTE, chain=CHAIN) == nothing
    assert _watch(em, start + 60 * MINUTE, chain=CHAIN)["escalated"] == ids
    assert _watch(em, start + 61 * MINUTE, chain=CHAIN) == nothing
    request = _request(em)
    assert (request.escalation_level, _utc(request.escalated_at)) == (1, start + 60 * MINUTE)
    assert _watch(em, start + 89 * MINUTE, chain=CHAIN) == nothing  # level 1's own clock
    assert _watch(em, start + 90 * MINUTE, chain=CHAIN)["reminded"] == ids
    assert _watch(em, start + 600 * MINUTE, chain=CHAIN) == nothing  # the last level

    to_ben = _cards(em, "emergency", "U-ben")
    assert [row.card["event"] for row in to_ben] == ["escalated", "reminded"]
    to_amy = [row.card["event"] for row in _cards(em, "emergency", "U-amy")]
    assert to_amy == ["opened", "reminded"]
    card = render_card(_app(em))(to_ben[0].card, "zh-TW")
    assert card.text == "⬆️ 已等待 60 分鐘未核准，改請第 2 層核准人處理"
    assert {f.label: f.value for f in card.fields}["核准人"] == "ben（第 2/2 層）"
    reminded = render_card(_app(em))(to_ben[1].card, "zh-TW")
    assert "已等待 90 分鐘" in reminded.text  # the clock runs from the request
    assert [e.action for e in em.rows(AuditEvent, AuditEvent.entity == "emergency")] == [
        "emergency.opened",
        "emergency.reminded",
        "emergency.escalated",
        "emergency.reminded",
    ]


def test_after_downtime_the_next_level_is_asked_without_a_reminder_first(em: Shop) -> None:
    start = utcnow()
    request = _open(em, start, chain=CHAIN)
    done = _watch(em, start + 3 * 60 * MINUTE, chain=CHAIN)
    assert (done["reminded"], done["escalated"]) == ([], [request.id])
    assert _request(em).escalation_level == 1  # one level per pass: its clock starts now


# --- the clock: approval and confirmation -----------------------------------------------------


def _approved(shop: Shop, start: datetime) -> EmergencyRequest:
    """Opened at `start` for S2 (bound), approved by amy (one manager is enough above the
    limit for an emergency) and so sent to S2's group."""
    shop.bind_supplier_chat("S2", S2_CHAT)
    request = _open(shop, start)
    rules = ApprovalRules(second_approver_over=Decimal(1), emergency_needs_second=False)
    shop.run("amy", approve, _po_of(shop, request).number, rules=rules, today=local_today())
    return _request(shop)


def test_approval_and_the_suppliers_confirmation_stop_the_clocks(em: Shop) -> None:
    start = utcnow() - 20 * MINUTE
    request = _approved(em, start)
    po = _po_of(em, request)
    assert (po.status, request.status) == (PoStatus.SENT, "approved")
    assert _utc(request.approved_at) == _utc(po.approved_at)
    assert 20 <= (_utc(request.approved_at) - start) / MINUTE < 21

    em.run("sam", confirm, po.number, today=local_today())
    request = _request(em)
    assert request.status == "confirmed"
    assert _utc(request.confirmed_at) == _utc(_po_of(em, request).confirmed_at)
    assert [e.action for e in em.rows(AuditEvent, AuditEvent.entity == "emergency")] == [
        "emergency.opened",
        "emergency.approved",
        "emergency.confirmed",
    ]


def test_a_silent_supplier_gets_the_backup_offered_once(em: Shop) -> None:
    request = _approved(em, utcnow())
    approved = _utc(request.approved_at)
    assert _watch(em, approved + 59 * MINUTE)["backup_offered"] == []
    assert _watch(em, approved + 60 * MINUTE)["backup_offered"] == [request.id]
    assert _watch(em, approved + 61 * MINUTE)["backup_offered"] == []
    with em.store.unit_of_work() as session:  # the supplier SLA does not offer it again
        assert sla_pass(session, approved + timedelta(days=3))["backup_offered"] == []
    [offer] = _cards(em, "backup_offer", APPROVALS)
    card = render_card(_app(em))(offer.card, "zh-TW")
    assert card.text == "緊急補貨：備援乳品 已 60 分鐘未確認（時限 60 分鐘）"
    assert card.table is not None
    assert [row[3] for row in card.table.rows] == ["鮮乳坊"]
    assert _utc(_po_of(em, _request(em)).backup_offered_at) == approved + 60 * MINUTE

    em.bind_supplier_chat()  # S1's group: the backup's PO goes out at once
    old = _po_of(em, request).number
    moved = em.run("amy", reassign, old, today=local_today())
    request = _request(em)
    assert _po_of(em, request).number == moved.new_pos[0]  # the request follows S1's PO
    assert (request.status, _utc(request.approved_at)) == ("approved", approved)


# --- response times ---------------------------------------------------------------------------


def test_response_times_median_and_p90(em: Shop) -> None:
    day = date(2026, 11, 24)
    base = datetime(2026, 11, 24, 9, 0, tzinfo=TAIPEI).astimezone(UTC)
    # request → approval: 10, 20, 30, 40, 100 min; approval → confirmation: 60, 120 min
    steps = [(10, 60), (20, None), (30, 120), (40, None), (100, None)]
    with em.store.unit_of_work() as session:
        for approve_m, confirm_m in steps:
            approved = base + approve_m * MINUTE
            session.add(
                EmergencyRequest(
                    sku_id=em.ids["MILK"],
                    qty=1,
                    requested_at=base,
                    approved_at=approved,
                    confirmed_at=approved + confirm_m * MINUTE if confirm_m else None,
                )
            )
        session.add(EmergencyRequest(sku_id=em.ids["TEA"], qty=1, requested_at=base))  # open
        later = base + timedelta(days=1)
        session.add(EmergencyRequest(sku_id=em.ids["TEA"], qty=1, requested_at=later))
    with em.store.read() as session:
        times = response_times(session, day, day)
        k = kpis(session, day, day, tz=TAIPEI)
    assert times == {
        "requests": 6,
        "approve_minutes": {"count": 5, "median": 30.0, "p90": 76.0},  # 40 + 0.6 × 60
        "confirm_minutes": {"count": 2, "median": 90.0, "p90": 114.0},  # 60 + 0.9 × 60
    }
    assert (k.approve_minutes.median, k.approve_minutes.p90) == (30.0, 76.0)  # one definition
    assert (k.confirm_minutes.median, k.confirm_minutes.p90) == (90.0, 114.0)
