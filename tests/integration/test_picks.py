"""Pick-priority lists for dropship partners against a real database (SQLite and PostgreSQL):
the lists, posting once and updating in place, acknowledging once, and the watchdog's
re-send and escalation of a red list nobody acknowledged."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlmodel import select

from core.imports import import_bytes
from core.inbox import attempt
from core.ingest import Kind
from core.members import add_member
from core.models import (
    AuditEvent,
    ChatBinding,
    Location,
    Member,
    OutboxMessage,
    PickList,
    SalesDay,
    Sku,
)
from core.monitor import monitor_pass
from core.outbox import mark_sent, previous_ref, thread_of
from core.pick_priority import Partner, pick_lists
from core.picks import acknowledge, pick_watchdog, publish_pick_lists
from core.store import Store

NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
AS_OF = date(2026, 11, 24)
TZ = ZoneInfo("Asia/Taipei")


def _plan(*rows: tuple[str, str, float, float, list[str]]) -> pd.DataFrame:
    """(sku, colour, daily demand, days of cover, signals) → a plan frame, ids from 1."""
    return pd.DataFrame(
        [
            {
                "sku_id": number,
                "sku": sku,
                "name": f"品名{sku}",
                "pick_colour": colour,
                "daily_demand": demand,
                "days_of_cover": cover,
                "signals": signals,
            }
            for number, (sku, colour, demand, cover, signals) in enumerate(rows, start=1)
        ]
    )


PLAN = _plan(
    ("GREEN-A", "green", 3.0, 30.0, []),
    ("RED-B", "red", 20.0, 0.5, ["surge"]),
    ("ORANGE", "orange", 4.2, 3.0, ["low_stock"]),
    ("RED-A", "red", 9.5, 0.0, ["imminent_stockout", "low_stock"]),
    ("GREEN-B", "green", 8.0, 40.0, ["slow_mover"]),
    ("IDLE", "orange", 0.0, 9.0, ["low_stock"]),
)


# --- the lists (pure) ------------------------------------------------------------------------


def test_lists_go_red_then_orange_then_green_with_quantities_and_reasons() -> None:
    items = pick_lists(PLAN, [Partner(7)])[7]
    assert [(i["sku"], i["colour"], i["qty"]) for i in items] == [
        ("RED-A", "red", 10),  # least cover first
        ("RED-B", "red", 20),
        ("ORANGE", "orange", 5),  # a day's demand, rounded up
        ("GREEN-B", "green", 8),  # greens: busiest first
        ("GREEN-A", "green", 3),
    ]  # IDLE: nothing to pick
    reasons = {i["sku"]: i["reasons"] for i in items}
    assert reasons["RED-A"] == ["imminent_stockout", "low_stock"]
    assert reasons["RED-B"] == ["surge"]
    assert reasons["GREEN-B"] == []  # slow moving is no reason to pick first
    assert items[0]["name"] == "品名RED-A"


def test_greens_are_capped_and_shares_split_the_demand() -> None:
    capped = pick_lists(PLAN, [Partner(1)], green_limit=1)[1]
    assert [i["sku"] for i in capped if i["colour"] == "green"] == ["GREEN-B"]
    shared = pick_lists(PLAN, [Partner(2, share={2: 0.25, 4: 1.0})], horizon_days=2)[2]
    assert [(i["sku"], i["qty"]) for i in shared] == [("RED-A", 19), ("RED-B", 10)]


# --- the shop ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Picks:
    store: Store
    ids: dict[str, int]

    def publish(self, planned: pd.DataFrame = PLAN, now: datetime = NOW) -> Any:
        with self.store.unit_of_work() as session:
            return publish_pick_lists(session, planned, now, as_of=AS_OF)

    def ack(self, name: str, pick_list: int, now: datetime = NOW) -> dict:
        with self.store.unit_of_work() as session:
            actor = session.get(Member, self.ids[name])
            assert actor is not None
            return attempt(
                session, lambda: acknowledge(session, actor, pick_list, now=now).as_dict()
            )

    def watch(self, minutes: int) -> Any:
        with self.store.unit_of_work() as session:
            return pick_watchdog(session, NOW + timedelta(minutes=minutes))

    def lists(self) -> list[PickList]:
        with self.store.read() as session:
            return list(session.scalars(select(PickList).order_by(PickList.id)))

    def outbox(self) -> list[OutboxMessage]:
        with self.store.read() as session:
            return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))

    def audit(self, action: str) -> list[AuditEvent]:
        with self.store.read() as session:
            query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            return list(session.scalars(query))


@pytest.fixture
def picks(any_store: Store) -> Picks:
    ids: dict[str, int] = {}
    with any_store.unit_of_work() as session:
        partners = {
            "DS1": Location(code="DS1", name="好物代發", kind="dropship"),
            "DS2": Location(code="DS2", name="快速代發", kind="dropship"),
        }
        session.add_all(partners.values())
        session.flush()
        ids |= {code: row.id or 0 for code, row in partners.items()}
        for purpose, platform, chat, partner in (
            ("dropship", "telegram", "-300", ids["DS1"]),
            ("logistics", "slack", "C-LOGISTICS", None),
        ):
            session.add(
                ChatBinding(purpose=purpose, platform=platform, chat_id=chat, partner_id=partner)
            )
        for name, roles, partner in (
            ("阿芳", ["dropship"], ids["DS1"]),
            ("小李", ["dropship"], ids["DS2"]),
            ("物流", ["logistics"], None),
        ):
            member = add_member(
                session,
                None,
                platform="telegram" if partner else "slack",
                user_id=f"T-{name}",
                roles=roles,
                display_name=name,
                partner_id=partner,
            )
            ids[name] = member.id or 0
    return Picks(any_store, ids)


# --- posting ---------------------------------------------------------------------------------


def test_a_list_is_posted_once_and_updated_in_place_when_it_changes(picks: Picks) -> None:
    assert picks.publish().posted == ["DS1"]  # DS2 has no chat: nothing to post to
    [first] = picks.lists()
    [posted] = picks.outbox()
    assert (first.status, first.partner_id) == ("open", picks.ids["DS1"])
    assert (posted.platform, posted.target) == ("telegram", "-300")
    assert thread_of(posted.dedupe_key) == f"pick:{picks.ids['DS1']}"
    card = posted.card
    assert (card["type"], card["partner"], card["status"]) == ("picks", "DS1", "open")
    assert card["posted_at"] == NOW.isoformat()
    assert [i["sku"] for i in card["items"]][:2] == ["RED-A", "RED-B"]

    assert picks.publish(now=NOW + timedelta(minutes=15)).unchanged == ["DS1"]
    assert len(picks.outbox()) == 1
    assert len(picks.lists()) == 1

    with picks.store.unit_of_work() as session:
        mark_sent(session, posted.id or 0, "msg-1", NOW)
    changed = PLAN.assign(daily_demand=PLAN["daily_demand"] * 2)
    assert picks.publish(changed, NOW + timedelta(minutes=30)).posted == ["DS1"]
    old, new = picks.lists()
    assert (old.status, new.status) == ("replaced", "open")
    update = picks.outbox()[-1]
    assert thread_of(update.dedupe_key) == thread_of(posted.dedupe_key)
    with picks.store.read() as session:
        assert previous_ref(session, update) == "msg-1"  # the same message, edited
    assert [e.data["replaced"] for e in picks.audit("pick.posted")] == [None, old.id]


def test_partners_with_sales_of_their_own_get_their_share(picks: Picks) -> None:
    with picks.store.unit_of_work() as session:
        skus = [Sku(code=code, name=code) for code in PLAN["sku"]]
        session.add_all(skus)
        session.add(Location(code="WH", name="主倉"))
        session.flush()
        warehouse = session.scalars(select(Location).where(Location.code == "WH")).one()
        for location, qty in ((picks.ids["DS1"], 30), (warehouse.id, 90)):
            session.add(SalesDay(sku_id=skus[1].id, location_id=location, day=AS_OF, qty=qty))
    with picks.store.read() as session:
        ids = {s.code: s.id for s in session.scalars(select(Sku))}
    picks.publish(PLAN.assign(sku_id=PLAN["sku"].map(ids)))
    [only] = picks.lists()
    assert [(i["sku"], i["qty"]) for i in only.items] == [("RED-B", 5)]  # a quarter of 20


# --- acknowledging ---------------------------------------------------------------------------


def test_the_partner_acknowledges_once_and_others_may_not(picks: Picks) -> None:
    picks.publish()
    [pick_list] = picks.lists()
    refused = picks.ack("小李", pick_list.id or 0)  # DS2's person, in DS1's list
    assert refused["error"]["code"] == "permission_denied"
    [audited] = picks.audit("refused.permission_denied")
    assert (audited.entity, audited.entity_id) == ("pick_list", str(pick_list.id))
    assert audited.actor_id == picks.ids["小李"]

    done = picks.ack("阿芳", pick_list.id or 0, NOW + timedelta(minutes=5))
    assert (done["action"], done["status"], done["by"], done["partner"]) == (
        "acked",
        "acked",
        "阿芳",
        "DS1",
    )
    [acked] = picks.lists()
    assert acked.acked_by_id == picks.ids["阿芳"]
    assert acked.acked_at == NOW + timedelta(minutes=5)
    assert len(picks.audit("pick.acked")) == 1
    update = picks.outbox()[-1]
    assert update.card["event"] == "acked"
    assert update.card["acked_by"] == "阿芳"
    assert thread_of(update.dedupe_key) == f"pick:{picks.ids['DS1']}"

    again = picks.ack("物流", pick_list.id or 0)
    assert again["error"]["code"] == "pick_already_acked"
    assert again["error"]["params"]["by"] == "阿芳"
    assert len(picks.audit("pick.acked")) == 1


def test_a_replaced_list_cannot_be_acknowledged(picks: Picks) -> None:
    picks.publish()
    picks.publish(PLAN.assign(daily_demand=PLAN["daily_demand"] * 3))
    old, new = picks.lists()
    assert picks.ack("阿芳", old.id or 0)["error"]["code"] == "pick_list_replaced"
    assert picks.ack("物流", new.id or 0)["by"] == "物流"  # logistics may, for any partner
    assert picks.ack("阿芳", 9999)["error"]["code"] == "pick_list_not_found"


# --- the watchdog ----------------------------------------------------------------------------


def test_an_unacknowledged_red_list_is_resent_then_escalated_once(picks: Picks) -> None:
    picks.publish()
    [pick_list] = picks.lists()
    assert picks.watch(29).resent == []
    assert picks.watch(31).resent == [pick_list.id]
    resend = picks.outbox()[-1]
    assert (resend.target, resend.card["event"]) == ("-300", "resent")
    assert thread_of(resend.dedupe_key) != thread_of(picks.outbox()[0].dedupe_key)  # a new one
    assert picks.watch(45).resent == []
    assert picks.lists()[0].resent_at == NOW + timedelta(minutes=31)

    escalated = picks.watch(61)
    assert (escalated.resent, escalated.escalated) == ([], [pick_list.id])
    card = picks.outbox()[-1]
    assert (card.platform, card.target, card.card["event"]) == ("slack", "C-LOGISTICS", "escalated")
    assert card.card["waited_minutes"] == 61
    assert picks.lists()[0].escalated_at == NOW + timedelta(minutes=61)
    before = len(picks.outbox())
    assert picks.watch(120).escalated == []
    assert len(picks.outbox()) == before
    assert len(picks.audit("pick.resent")) == len(picks.audit("pick.escalated")) == 1

    picks.ack("物流", pick_list.id or 0)  # every message showing the list is updated
    updated = {thread_of(m.dedupe_key) for m in picks.outbox()[before:]}
    assert updated == {
        f"pick:{picks.ids['DS1']}",
        f"pick-resend:{pick_list.id}",
        f"pick-escalation:{pick_list.id}",
    }


def test_the_watchdog_leaves_acknowledged_and_calm_lists_alone(picks: Picks) -> None:
    picks.publish()
    [pick_list] = picks.lists()
    picks.ack("阿芳", pick_list.id or 0)
    assert picks.watch(90).resent == []
    calm = PLAN[PLAN["pick_colour"] != "red"]
    picks.publish(calm, NOW)
    assert picks.lists()[-1].status == "open"
    result = picks.watch(90)
    assert (result.resent, result.escalated) == ([], [])


# --- through the monitor pass ----------------------------------------------------------------


def _import(store: Store, kind: Kind, text: str) -> None:
    report = import_bytes(store, kind, text.encode(), tz=TZ)
    assert report.rejected == 0, report.rejects


def test_the_monitor_pass_posts_the_lists(any_store: Store) -> None:
    _import(any_store, Kind.LOCATIONS, "location,name,kind\nWH,主倉,warehouse\nDS1,代發,dropship\n")
    _import(any_store, Kind.SKUS, "sku,name,category,unit_cost\nTEA,紅茶,飲料,20\n")
    _import(any_store, Kind.SUPPLIERS, "supplier,name\nS1,茶行\n")
    _import(
        any_store,
        Kind.TERMS,
        "supplier,sku,unit_price,lead_time_days,moq,case_pack,rank\nS1,TEA,20,3,10,10,1\n",
    )
    _import(any_store, Kind.STOCK, f"sku,location,on_hand,as_of\nTEA,WH,0,{AS_OF} 22:00\n")
    sales = ["order_id,line,sku,qty,timestamp,price"] + [
        f"O{n},1,TEA,5,{AS_OF - timedelta(days=n)} 12:00,100" for n in range(60)
    ]
    _import(any_store, Kind.SALES, "\n".join(sales) + "\n")
    with any_store.unit_of_work() as session:
        partner = session.scalars(select(Location).where(Location.code == "DS1")).one()
        session.add(
            ChatBinding(
                purpose="dropship", platform="telegram", chat_id="-300", partner_id=partner.id
            )
        )
    for expected in (["DS1"], []):
        with any_store.unit_of_work() as session:
            result, _ = monitor_pass(session, AS_OF, tz=TZ)
        assert result.picks == expected  # the second pass finds nothing new
    with any_store.read() as session:
        [pick_list] = session.scalars(select(PickList)).all()
    assert pick_list.items == [
        {
            "sku": "TEA",
            "name": "紅茶",
            "colour": "red",
            "qty": 5,
            "reasons": ["imminent_stockout", "low_stock"],
        }
    ]
