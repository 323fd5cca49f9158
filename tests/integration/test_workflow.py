"""The PO workflow against a real database (SQLite and PostgreSQL): permissions, the state
machine, audit and outbox rows in one transaction, optimistic concurrency, exactly once."""

import json
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import select

from bot.i18n import en, zh_tw
from core.inbox import handle_once, interaction_key, run_once
from core.members import (
    add_member,
    find_member,
    list_members,
    record_approval_rules,
    remove_member,
)
from core.models import (
    AuditEvent,
    InboxEvent,
    OutboxMessage,
    PoLine,
    PoStatus,
)
from core.permissions import (
    Action,
    DomainError,
    PermissionDenied,
    SelfApproval,
    UnknownRole,
    can,
)
from core.store import Store
from core.workflow import (
    TRANSITIONS,
    ApprovalRules,
    approve,
    cancel,
    edit_quantities,
    mark_sent,
    next_status,
    reject,
    round_to_terms,
    submit_for_approval,
)
from core.workflow_errors import (
    AlreadyDone,
    IllegalTransition,
    ReasonRequired,
    SecondApproverRequired,
)
from tests.helpers import run_replenish
from tests.shop import PO, Shop

RULES = ApprovalRules()  # no second approver
STRICT = ApprovalRules(second_approver_over=Decimal(1000))


def _submitted(shop: Shop) -> None:
    shop.run("clerk", submit_for_approval, PO)


# --- the state machine --------------------------------------------------------------------


def test_the_transition_table_allows_the_designed_path_and_nothing_else() -> None:
    path = [Action.SUBMIT, Action.APPROVE, Action.SEND, Action.CONFIRM, Action.RECEIVE]
    status = PoStatus.DRAFT
    for action in [*path, Action.RECEIVE, Action.CLOSE]:
        status = next_status(status, action)
    assert status == PoStatus.CLOSED
    assert next_status(PoStatus.SENT, Action.DECLINE) == PoStatus.DECLINED
    assert next_status(PoStatus.DECLINED, Action.REASSIGN) == PoStatus.REASSIGNED
    with pytest.raises(IllegalTransition) as refused:
        next_status(PoStatus.DRAFT, Action.SEND, po=PO)
    assert refused.value.as_dict() == {
        "code": "illegal_transition",
        "params": {"po": PO, "status": "draft", "action": "send"},
    }
    assert next_status(PoStatus.DRAFT, Action.APPROVE) == PoStatus.APPROVED  # monitor's drafts
    terminal = {PoStatus.CLOSED, PoStatus.REJECTED, PoStatus.CANCELLED, PoStatus.REASSIGNED}
    assert not {source for source, _ in TRANSITIONS} & terminal


def test_an_illegal_step_on_a_real_po_is_refused_and_changes_nothing(shop: Shop) -> None:
    with pytest.raises(IllegalTransition):
        shop.run("buyer", mark_sent, PO)  # a draft cannot be sent
    assert shop.po().status == PoStatus.DRAFT
    assert shop.po().version == 1


def test_rounding_to_moq_and_case_pack() -> None:
    assert [round_to_terms(q, 24, 12) for q in (1, 24, 25, 36, 37)] == [24, 24, 36, 36, 48]
    assert round_to_terms(7, 10, 6) == 12  # an MOQ that is not whole cases
    assert round_to_terms(5, 0, 0) == 5


# --- approve, reject, edit, cancel, send ---------------------------------------------------


def test_approve_end_to_end_with_audit_and_outbox(shop: Shop) -> None:
    submitted = shop.run("clerk", submit_for_approval, PO, emergency=True)
    assert (submitted.status, submitted.by, submitted.messages) == ("pending_approval", "clerk", 1)

    approved = shop.run("amy", approve, PO, rules=RULES)

    assert (approved.status, approved.by, approved.awaiting_second_approval) == (
        "approved",
        "amy",
        False,
    )
    po = shop.po()
    assert po.status == PoStatus.APPROVED
    assert po.emergency
    assert po.requested_by_id == shop.ids["clerk"]
    assert po.approved_at is not None
    [event] = shop.audit("po.approved")
    assert (event.actor_id, event.entity, event.entity_id) == (
        shop.ids["amy"],
        "purchase_order",
        PO,
    )
    outbox = shop.rows(OutboxMessage, OutboxMessage.kind == "po.approve")
    assert [(m.platform, m.target) for m in outbox] == [
        ("slack", "C-APPROVALS"),
        ("slack", "C-BUYERS"),
    ]
    card = outbox[0].card
    assert (card["type"], card["event"], card["by"]) == ("po", "approve", "amy")
    assert card["po"]["status"] == "approved"
    assert card["po"]["emergency"] is True
    assert [line["sku"] for line in card["po"]["lines"]] == ["MILK", "TEA"]
    assert outbox[0].dedupe_key == f"po:{PO}:approve:{approved.version}:slack:C-APPROVALS"

    shop.bind_supplier_chat()  # bound after the approval: a buyer sends by hand
    sent = shop.run("buyer", mark_sent, PO)
    assert sent.status == "sent"
    targets = [m.target for m in shop.rows(OutboxMessage, OutboxMessage.kind == "po.send")]
    assert targets == ["C-BUYERS", "-100200"]  # not the other supplier's group


def test_a_requester_cannot_approve_their_own_po(shop: Shop) -> None:
    shop.run("amy", submit_for_approval, PO)
    answer = shop.respond("amy", approve, PO, rules=RULES)
    assert answer["error"]["code"] == SelfApproval.code
    assert shop.po().status == PoStatus.PENDING_APPROVAL
    [refusal] = shop.audit("refused.self_approval")
    assert refusal.actor_id == shop.ids["amy"]
    assert shop.run("ben", approve, PO, rules=RULES).status == "approved"


def test_above_the_limit_two_different_managers_must_approve(shop: Shop) -> None:
    _submitted(shop)
    first = shop.run("amy", approve, PO, rules=STRICT)
    assert (first.status, first.awaiting_second_approval) == ("pending_approval", True)
    assert first.version == shop.po().version == 3

    with pytest.raises(SecondApproverRequired) as same:
        shop.run("amy", approve, PO, rules=STRICT)
    assert same.value.params["by"] == "amy"
    assert shop.po().status == PoStatus.PENDING_APPROVAL

    second = shop.run("ben", approve, PO, rules=STRICT)
    assert (second.status, second.awaiting_second_approval) == ("approved", False)
    assert [e.actor_id for e in shop.audit("po.first_approval")] == [shop.ids["amy"]]
    assert [e.data["first_by"] for e in shop.audit("po.approved")] == ["amy"]


def test_an_edit_voids_a_first_approval(shop: Shop) -> None:
    _submitted(shop)
    shop.run("amy", approve, PO, rules=STRICT)
    shop.run("clerk", edit_quantities, PO, {shop.ids["MILK"]: 60})
    again = shop.run("amy", approve, PO, rules=STRICT)  # counts as a first approval again
    assert again.awaiting_second_approval


def test_a_member_without_the_role_is_refused_and_audited(shop: Shop) -> None:
    _submitted(shop)
    answer = shop.respond("analyst", approve, PO, rules=RULES)
    assert answer["error"]["code"] == PermissionDenied.code
    assert answer["error"]["params"]["needed"] == ["manager"]
    assert shop.po().status == PoStatus.PENDING_APPROVAL
    [refusal] = shop.audit("refused.permission_denied")
    assert (refusal.actor_id, refusal.entity_id) == (shop.ids["analyst"], PO)
    assert refusal.data["action"] == "approve"
    assert shop.rows(OutboxMessage, OutboxMessage.kind == "po.approve") == []


def test_reject_needs_a_reason_and_records_it(shop: Shop) -> None:
    _submitted(shop)
    with pytest.raises(ReasonRequired):
        shop.run("amy", reject, PO, reason="  ")
    rejected = shop.run("amy", reject, PO, reason="單價高於約定區間")
    assert rejected.status == "rejected"
    assert shop.po().reason == "單價高於約定區間"
    [event] = shop.audit("po.rejected")
    assert event.data["reason"] == "單價高於約定區間"
    [message, _] = shop.rows(OutboxMessage, OutboxMessage.kind == "po.reject")
    assert message.card["reason"] == "單價高於約定區間"
    with pytest.raises(AlreadyDone) as late:
        shop.run("ben", approve, PO, rules=RULES)  # nothing to approve: ben is told why
    assert (late.value.params["action"], late.value.params["by"]) == ("reject", "amy")


def test_edited_quantities_are_raised_to_moq_and_case_pack(shop: Shop) -> None:
    _submitted(shop)
    milk, tea = shop.ids["MILK"], shop.ids["TEA"]
    edited = shop.run("amy", edit_quantities, PO, {milk: 30, tea: 20})
    assert edited.changed == [{"sku": "MILK", "asked": 30, "qty": 36, "moq": 24, "case_pack": 12}]
    with shop.store.read() as session:
        lines = session.scalars(select(PoLine).order_by(PoLine.sku_id)).all()
        assert {line.sku_id: line.qty for line in lines} == {milk: 36, tea: 20}
    assert shop.po().total == Decimal(36 * 50 + 20 * 20)
    assert shop.po().status == PoStatus.PENDING_APPROVAL
    [event] = shop.audit("po.edited")
    assert event.data["edits"] == {"MILK": [48, 36], "TEA": [10, 20]}
    assert shop.run("amy", edit_quantities, PO, {milk: 5}).changed[0]["qty"] == 24


def test_cancel_then_nothing_more(shop: Shop) -> None:
    assert shop.run("amy", cancel, PO, reason="改向備援供應商").status == "cancelled"
    with pytest.raises(AlreadyDone) as again:
        shop.run("ben", cancel, PO)
    assert again.value.params["by"] == "amy"
    with pytest.raises(AlreadyDone) as ended:
        shop.run("clerk", submit_for_approval, PO)
    assert ended.value.params["action"] == "cancel"


# --- concurrency and exactly once ----------------------------------------------------------


def _together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at the same moment on their own threads; results (or errors) in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def worker(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except Exception as exc:  # returned to the test, which inspects it
            results[index] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def _approve_as(shop: Shop, name: str, key: str) -> Callable[[], dict]:
    def press() -> dict:
        return run_once(
            shop.store,
            "slack",
            key,
            lambda session: approve(session, shop.member(session, name), PO, rules=RULES).as_dict(),
        )

    return press


def test_two_managers_approving_at_once_give_one_approval(shop: Shop) -> None:
    _submitted(shop)
    answers = _together(_approve_as(shop, "amy", "k-amy"), _approve_as(shop, "ben", "k-ben"))

    assert all(isinstance(answer, dict) for answer in answers), answers
    won = [a for a in answers if "error" not in a]
    lost = [a["error"] for a in answers if "error" in a]
    assert len(won) == 1
    assert len(lost) == 1
    assert lost[0]["code"] == AlreadyDone.code
    assert lost[0]["params"]["by"] == won[0]["by"]
    assert lost[0]["params"]["at"] == won[0]["at"]
    assert len(shop.audit("po.approved")) == 1
    assert len(shop.rows(OutboxMessage, OutboxMessage.kind == "po.approve")) == 2  # one per chat
    assert shop.po().status == PoStatus.APPROVED


def test_the_same_press_is_handled_once_sequentially_and_concurrently(shop: Shop) -> None:
    _submitted(shop)
    key = interaction_key("T1", "U-amy", "po.approve", "1732400000.0001", "1732400100.0002")
    press = _approve_as(shop, "amy", key)
    answers = [press() for _ in range(4)]
    assert answers[0]["status"] == "approved"
    assert all(answer == answers[0] for answer in answers)
    shop.bind_supplier_chat()

    twin = interaction_key("T1", "U-buyer", "po.send", "1732400000.0001", "1732400200.0003")

    def send() -> dict:
        return run_once(
            shop.store,
            "slack",
            twin,
            lambda session: mark_sent(session, shop.member(session, "buyer"), PO).as_dict(),
        )

    both = _together(send, send)
    assert all(isinstance(answer, dict) for answer in both), both
    assert both[0] == both[1]
    assert both[0]["status"] == "sent"
    assert len(shop.audit("po.approved")) == 1
    assert len(shop.audit("po.sent")) == 1
    assert len(shop.rows(OutboxMessage, OutboxMessage.kind == "po.approve")) == 2
    assert len(shop.rows(OutboxMessage, OutboxMessage.kind == "po.send")) == 2
    assert len(shop.rows(InboxEvent)) == 2


def test_handle_once_answers_a_repeat_from_the_record(shop: Shop) -> None:
    calls: list[int] = []

    def action() -> dict:
        calls.append(1)
        return {"n": len(calls)}

    for _ in range(3):
        with shop.store.unit_of_work() as session:
            assert handle_once(session, "telegram", "update:42", action) == {"n": 1}
    assert calls == [1]
    long_key = interaction_key("T" * 100, "U" * 100, "a" * 100, "1", "2")
    assert long_key.startswith("sha256:")
    assert len(long_key) <= 300


# --- members ---------------------------------------------------------------------------------


def test_members_are_added_updated_removed_and_audited(shop: Shop) -> None:
    with shop.store.unit_of_work() as session:
        amy = shop.member(session, "amy")
        added = add_member(
            session, amy, platform="slack", user_id="U-new", roles=["buyer"], locale="en"
        )
        assert added.locale == "en"
        updated = add_member(
            session, amy, platform="slack", user_id="U-new", roles=["buyer", "Logistics"]
        )
        assert updated.roles == ["buyer", "logistics"]
        assert can(updated, Action.RECEIVE)
        remove_member(session, None, platform="slack", user_id="U-new")
        assert find_member(session, "slack", "U-new") is None
        assert "U-new" not in [m.user_id for m in list_members(session)]
        with pytest.raises(UnknownRole) as unknown:
            add_member(session, None, platform="slack", user_id="U-x", roles=["boss"])
        assert "manager" in unknown.value.params["valid"]
    actions = [e.action for e in shop.rows(AuditEvent, AuditEvent.entity_id == "slack:U-new")]
    assert actions == ["member.added", "member.updated", "member.removed"]
    answer = shop.respond(
        "analyst",
        lambda session, actor: add_member(
            session, actor, platform="slack", user_id="U-y", roles=["manager"]
        ),
    )
    assert answer["error"]["code"] == PermissionDenied.code
    assert shop.audit("refused.permission_denied")[0].entity_id == "slack:U-y"


def test_a_supplier_may_only_act_on_its_own_pos(shop: Shop) -> None:
    with shop.store.unit_of_work() as session:
        member = add_member(
            session, None, platform="telegram", user_id="9", roles=["supplier"], supplier_id=None
        )
        assert not can(member, Action.CONFIRM, supplier_id=1)
        member.supplier_id = 1
        assert can(member, Action.CONFIRM, supplier_id=1)
        assert not can(member, Action.CONFIRM, supplier_id=2)
        assert not can(member, Action.APPROVE)


def test_every_refusal_code_has_a_message_in_both_languages() -> None:
    def codes(cls: type[DomainError]) -> set[str]:
        return {cls.code}.union(*(codes(sub) for sub in cls.__subclasses__()))

    for catalog in (en.MESSAGES, zh_tw.MESSAGES):
        assert sorted(f"error.{c}" for c in codes(DomainError) if f"error.{c}" not in catalog) == []


# --- the CLI ---------------------------------------------------------------------------------


_replenish = run_replenish


def test_member_cli_add_list_remove(tmp_path: Path) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'members.db'}"]
    add = ["member", "add", "--platform", "slack", "--user", "U123"]
    done = _replenish(
        *add, "--role", "manager", "--role", "buyer", "--name", "王經理", *db, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "動態補貨經理" in done.stdout

    listed = json.loads(_replenish("member", "list", "--json", *db, cwd=tmp_path).stdout)
    assert [(m["user"], m["roles"], m["name"]) for m in listed] == [
        ("U123", ["manager", "buyer"], "王經理")
    ]
    table = _replenish("member", "list", "--lang", "en", *db, cwd=tmp_path)
    assert "replenishment manager" in table.stdout

    bad = _replenish(*add, "--role", "boss", *db, cwd=tmp_path)
    assert bad.returncode == 2
    assert "boss" in bad.stderr
    assert "inventory_clerk" in bad.stderr

    gone = _replenish(
        "member", "remove", "--platform", "slack", "--user", "U123", *db, cwd=tmp_path
    )
    assert gone.returncode == 0, gone.stderr
    assert json.loads(_replenish("member", "list", "--json", *db, cwd=tmp_path).stdout) == []
    again = _replenish("member", "remove", "--user", "U123", "--lang", "en", *db, cwd=tmp_path)
    assert again.returncode == 2
    assert "no active member U123" in again.stderr

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'members.db'}")
    with engine.connect() as connection:
        actions = connection.execute(sa.text("SELECT action FROM auditevent ORDER BY id")).all()
    engine.dispose()
    assert [a for (a,) in actions] == ["member.added", "member.removed"]


def test_changes_to_the_approval_limits_are_audited_once(any_store: Store) -> None:
    limits = {"second_approver_over": "50000", "emergency_needs_second": True}
    with any_store.unit_of_work() as session:
        assert record_approval_rules(session, limits) is True
        assert record_approval_rules(session, limits) is False  # unchanged: nothing new
        assert record_approval_rules(session, limits | {"second_approver_over": "80000"})
    with any_store.read() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "approval.limits_changed")
        ).all()
    assert [(e.data["before"], e.data["after"]["second_approver_over"]) for e in events] == [
        (None, "50000"),
        (limits, "80000"),
    ]
