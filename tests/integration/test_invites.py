"""One-time bind codes, Telegram members and supergroup migration against a real database
(SQLite and PostgreSQL): codes bind once, refusals look alike but are audited apart, a
chat guessing codes is slowed down, and nobody acts for a supplier they do not belong to."""

import json
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from core.inbox import attempt
from core.invites import (
    ALPHABET,
    ChatAlreadyBound,
    InviteTargetRequired,
    create_invite,
    member_for_chat,
    migrate_chat,
    redeem,
)
from core.members import add_member, remove_member
from core.models import (
    AuditEvent,
    BindCode,
    ChatBinding,
    Location,
    Member,
    OutboxMessage,
    OutboxStatus,
    Supplier,
)
from core.permissions import PermissionDenied
from core.store import Store

NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
CODE = re.compile(r"^[A-Z2-9]{4}-[A-Z2-9]{4}$")


@dataclass(frozen=True)
class World:
    store: Store
    ids: dict[str, int]

    def invite(self, purpose: str = "supplier", *, now: datetime = NOW, **target: Any) -> str:
        if purpose == "supplier" and not target:
            target = {"supplier_id": self.ids["S1"]}
        with self.store.unit_of_work() as session:
            boss = session.get(Member, self.ids["boss"])
            return create_invite(session, boss, purpose=purpose, now=now, **target)

    def redeem(self, code: str, chat: str, *, now: datetime = NOW, user: str = "u1") -> dict:
        """As the bot runs it: through `attempt`, so refusals become answers and audit rows."""
        with self.store.unit_of_work() as session:
            return attempt(session, lambda: _redeemed(session, code, chat, now, user))

    def audit(self, action: str) -> list[AuditEvent]:
        with self.store.read() as session:
            query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            return list(session.scalars(query))

    def bindings(self) -> list[ChatBinding]:
        with self.store.read() as session:
            return list(session.scalars(select(ChatBinding).order_by(ChatBinding.id)))


def _redeemed(session: Session, code: str, chat: str, now: datetime, user: str) -> dict:
    binding = redeem(
        session,
        code=code,
        platform="telegram",
        chat_id=chat,
        user_id=user,
        user_name="阿明",
        now=now,
    )
    return {"purpose": binding.purpose, "chat": binding.chat_id, "supplier": binding.supplier_id}


@pytest.fixture
def world(any_store: Store) -> World:
    ids: dict[str, int] = {}
    with any_store.unit_of_work() as session:
        rows = {
            "S1": Supplier(code="S1", name="鮮乳坊"),
            "S2": Supplier(code="S2", name="大盤商"),
            "DS1": Location(code="DS1", name="好物代發", kind="dropship"),
            "WH": Location(code="WH", name="主倉", kind="warehouse"),
        }
        session.add_all(rows.values())
        session.flush()
        ids |= {name: row.id or 0 for name, row in rows.items()}
        for name, roles in (("boss", ["manager"]), ("clerk", ["inventory_clerk"])):
            member = add_member(session, None, platform="slack", user_id=f"U-{name}", roles=roles)
            ids[name] = member.id or 0
    return World(any_store, ids)


def _error(answer: dict) -> str | None:
    return answer.get("error", {}).get("code")


# --- creating codes --------------------------------------------------------------------------


def test_a_code_is_short_unambiguous_and_only_its_hash_is_kept(world: World) -> None:
    code = world.invite()
    assert CODE.match(code)
    assert not set(code.replace("-", "")) & set("0O1IL")
    assert set(code.replace("-", "")) <= set(ALPHABET)
    created = world.audit("invite.created")
    assert len(created) == 1
    assert created[0].actor_id == world.ids["boss"]
    assert created[0].data["purpose"] == "supplier"
    assert created[0].data["supplier_id"] == world.ids["S1"]


def test_codes_are_for_managers_and_need_their_target(world: World) -> None:
    with world.store.unit_of_work() as session:
        clerk = session.get(Member, world.ids["clerk"])
        with pytest.raises(PermissionDenied):
            create_invite(session, clerk, purpose="alerts", now=NOW)
        with pytest.raises(InviteTargetRequired):
            create_invite(session, None, purpose="supplier", now=NOW)
        with pytest.raises(InviteTargetRequired):  # a warehouse is no dropship partner
            create_invite(session, None, purpose="dropship", partner_id=world.ids["WH"], now=NOW)
        with pytest.raises(InviteTargetRequired):  # internal channels hear the whole shop
            create_invite(session, None, purpose="alerts", supplier_id=world.ids["S1"], now=NOW)
        assert CODE.match(create_invite(session, None, purpose="alerts", now=NOW))


# --- redeeming -------------------------------------------------------------------------------


def test_a_valid_code_binds_the_chat_once(world: World) -> None:
    code = world.invite()
    answer = world.redeem(code, "-100")
    assert answer == {"purpose": "supplier", "chat": "-100", "supplier": world.ids["S1"]}
    with world.store.read() as session:
        used = session.scalars(select(BindCode)).one()
    assert used.used_at == NOW
    assert used.used_by_chat == "telegram:-100"
    assert [e.data["chat"] for e in world.audit("invite.redeemed")] == ["telegram:-100"]
    assert len(world.audit("chat.bound")) == 1
    again = world.redeem(code, "-200")
    assert _error(again) == "bind_code_invalid"
    assert again["error"]["params"] == {}  # nothing to tell a used code from a wrong one
    assert [e.data["reason"] for e in world.audit("refused.bind_code_invalid")] == ["used"]
    assert [b.chat_id for b in world.bindings()] == ["-100"]


def test_wrong_and_expired_codes_are_refused_alike_but_audited_apart(world: World) -> None:
    old = world.invite(now=NOW - timedelta(hours=25))
    expired = world.redeem(old, "-100")
    wrong = world.redeem("ABCD-EFGH" if old != "ABCD-EFGH" else "HGFE-DCBA", "-100")
    assert expired == wrong
    assert _error(wrong) == "bind_code_invalid"
    refused = world.audit("refused.bind_code_invalid")
    assert [e.data["reason"] for e in refused] == ["expired", "unknown"]
    assert {e.entity_id for e in refused} == {"telegram:-100"}
    assert world.bindings() == []


@pytest.mark.parametrize("typed", [str.lower, lambda c: c.replace("-", " "), lambda c: f" {c} "])
def test_codes_may_be_typed_casually(world: World, typed: Any) -> None:
    code = world.invite()
    assert world.redeem(typed(code), "-100")["purpose"] == "supplier"


def test_a_chat_guessing_codes_waits_an_hour(world: World) -> None:
    code = world.invite()
    for attempt_no in range(5):
        answer = world.redeem(f"WRNG-{attempt_no}AAA", "-666", now=NOW + timedelta(minutes=1))
        assert _error(answer) == "bind_code_invalid"
    limited = world.redeem(code, "-666", now=NOW + timedelta(minutes=2))
    assert limited["error"] == {"code": "bind_rate_limited", "params": {"minutes": 59}}
    assert len(world.audit("refused.bind_rate_limited")) == 1
    assert world.bindings() == []  # the valid code was not even looked at, nor used
    assert world.redeem(code, "-666", now=NOW + timedelta(minutes=62))["purpose"] == "supplier"


def test_the_limit_is_per_chat(world: World) -> None:
    for _ in range(5):
        world.redeem("WRNG-CODE", "-666")
    assert world.redeem(world.invite(), "-777")["chat"] == "-777"


def test_two_groups_racing_for_one_code_get_one_binding(world: World) -> None:
    code = world.invite()
    start = threading.Barrier(2)
    answers: list[dict] = []

    def race(chat: str) -> None:
        start.wait()
        answers.append(world.redeem(code, chat))

    threads = [threading.Thread(target=race, args=(chat,)) for chat in ("-100", "-200")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(_error(a) or "bound" for a in answers) == ["bind_code_invalid", "bound"]
    assert len(world.bindings()) == 1
    assert len(world.audit("invite.redeemed")) == 1


def test_a_bound_chat_is_not_turned_into_another_suppliers(world: World) -> None:
    world.redeem(world.invite(), "-100")
    other = world.invite(supplier_id=world.ids["S2"])
    with world.store.unit_of_work() as session, pytest.raises(ChatAlreadyBound):
        _redeemed(session, other, "-100", NOW, "u1")
    assert world.redeem(other, "-200")["supplier"] == world.ids["S2"]  # the code still works


def test_the_code_is_stored_nowhere_in_clear(world: World) -> None:
    codes = [world.invite(), world.invite("alerts")]
    world.redeem(codes[0], "-100")
    world.redeem(codes[0], "-200")  # refused: audited
    with world.store.read() as session:
        rows = [*session.scalars(select(BindCode)), *session.scalars(select(AuditEvent))]
    text = json.dumps([row.model_dump(mode="json") for row in rows], ensure_ascii=False)
    for code in codes:
        assert code not in text
        assert code.replace("-", "") not in text


# --- members in bound chats ------------------------------------------------------------------


def _member(world: World, user: str, chat: str, name: str = "阿明") -> Member | None:
    with world.store.unit_of_work() as session:
        member = member_for_chat(session, "telegram", user, name, chat)
        if member is not None:
            session.flush()
            session.expunge(member)
        return member


def test_people_in_a_suppliers_group_are_linked_to_that_supplier(world: World) -> None:
    world.redeem(world.invite(), "-100")
    first = _member(world, "T1", "-100")
    assert first is not None
    assert (first.roles, first.supplier_id, first.display_name) == (
        ["supplier"],
        world.ids["S1"],
        "阿明",
    )
    again = _member(world, "T1", "-100")
    assert again is not None
    assert again.id == first.id
    linked = world.audit("member.linked")
    assert [e.entity_id for e in linked] == ["telegram:T1"]
    assert linked[0].data["supplier_id"] == world.ids["S1"]


def test_partners_groups_link_dropship_members(world: World) -> None:
    world.redeem(world.invite("dropship", partner_id=world.ids["DS1"]), "-300")
    member = _member(world, "T3", "-300")
    assert member is not None
    assert (member.roles, member.partner_id, member.supplier_id) == (
        ["dropship"],
        world.ids["DS1"],
        None,
    )


def test_someone_of_another_supplier_never_acts_for_this_one(world: World) -> None:
    world.redeem(world.invite(), "-100")
    world.redeem(world.invite(supplier_id=world.ids["S2"]), "-200")
    s2_person = _member(world, "T2", "-200")
    assert s2_person is not None
    assert s2_person.supplier_id == world.ids["S2"]
    assert _member(world, "T2", "-100") is None
    with world.store.read() as session:
        member = session.scalars(select(Member).where(Member.user_id == "T2")).one()
    assert member.supplier_id == world.ids["S2"]  # unchanged


def test_internal_chats_know_only_members_a_manager_added(world: World) -> None:
    world.redeem(world.invite("alerts"), "-400")
    assert _member(world, "stranger", "-400") is None
    with world.store.unit_of_work() as session:
        add_member(session, None, platform="telegram", user_id="T9", roles=["logistics"])
    staff = _member(world, "T9", "-400")
    assert staff is not None
    assert staff.roles == ["logistics"]
    assert world.audit("member.linked") == []


def test_a_removed_member_is_not_relinked_by_speaking_in_the_group(world: World) -> None:
    world.redeem(world.invite(), "-100")
    assert _member(world, "T1", "-100") is not None
    with world.store.unit_of_work() as session:
        remove_member(session, None, platform="telegram", user_id="T1")
    assert _member(world, "T1", "-100") is None


# --- supergroup migration --------------------------------------------------------------------


def test_a_group_that_becomes_a_supergroup_keeps_its_bindings_and_messages(world: World) -> None:
    world.redeem(world.invite(), "-100")
    world.redeem(world.invite("alerts"), "-100")
    with world.store.unit_of_work() as session:
        for key, status in (("po:P1:a:1:telegram:-100", OutboxStatus.PENDING), ("x", "sent")):
            session.add(
                OutboxMessage(platform="telegram", target="-100", dedupe_key=key, status=status)
            )
    with world.store.unit_of_work() as session:
        moved = migrate_chat(session, "telegram", "-100", "-1001")
    assert (moved.bindings, moved.messages) == (2, 1)
    assert {(b.purpose, b.chat_id) for b in world.bindings()} == {
        ("supplier", "-1001"),
        ("alerts", "-1001"),
    }
    with world.store.read() as session:
        targets = {m.status: m.target for m in session.scalars(select(OutboxMessage))}
    assert targets == {"pending": "-1001", "sent": "-100"}  # a sent message stays where it is
    with world.store.unit_of_work() as session:
        again = migrate_chat(session, "telegram", "-100", "-1001")
    assert (again.bindings, again.messages) == (0, 0)
    migrated = world.audit("chat.migrated")
    assert len(migrated) == 1
    assert migrated[0].data == {"to": "-1001", "bindings": 2, "messages": 1}
    assert _member(world, "T1", "-1001") is not None  # the supplier group still links people
