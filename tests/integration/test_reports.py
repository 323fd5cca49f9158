"""The reports against a real database: the daily report's content on the seeded shop, the
exception report's events, and each send_* queuing once per period (or event) and chat."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from adapters.chat import Command
from bot.app import App, render_card
from bot.chatbot import ChatBot
from bot.reports import daily_data, send_daily_report, send_exceptions, send_weekly_kpi
from bot.settings import Settings
from core.models import (
    Alert,
    ChatBinding,
    Location,
    OutboxMessage,
    OutboxStatus,
    PoLine,
    PurchaseOrder,
    SalesDay,
    StockLevel,
    Supplier,
    utcnow,
)
from tests.shop import PO, Shop
from tests.unit.test_report_charts import PNG

TZ = ZoneInfo("Asia/Taipei")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=TZ)  # the scheduler's 09:00: reports 11/24
YESTERDAY = date(2026, 11, 24)
REPORT_CHATS = (("slack", "C-REPORTS"), ("telegram", "-100300"))


def _at(day: date, hour: int = 22) -> datetime:
    return datetime.combine(day, time(hour), TZ)


@pytest.fixture
def app(shop: Shop) -> App:
    """The seeded shop with 60 days of sales, stock counts (MILK sold out on 11/24) and two
    chats bound to reports."""
    with shop.store.unit_of_work() as session:
        warehouse = Location(code="WH", name="主倉")
        session.add(warehouse)
        session.flush()
        for n in range(60):
            day = YESTERDAY - timedelta(days=n)
            for sku, qty in (("MILK", 5), ("TEA", 2)):
                session.add(
                    SalesDay(sku_id=shop.ids[sku], location_id=warehouse.id, day=day, qty=qty)
                )
        for sku, on_hand, day in (
            ("MILK", 40, YESTERDAY - timedelta(days=8)),
            ("MILK", 0, YESTERDAY),
            ("TEA", 100, YESTERDAY),
        ):
            session.add(
                StockLevel(
                    sku_id=shop.ids[sku], location_id=warehouse.id, on_hand=on_hand, as_of=_at(day)
                )
            )
        for platform, chat in REPORT_CHATS:
            session.add(ChatBinding(purpose="reports", platform=platform, chat_id=chat))
    url = shop.store.engine.url.render_as_string(hide_password=False)
    return App(Settings(database_url=url), shop.store)


def _reports(app: App, kind: str) -> list[OutboxMessage]:
    with app.store.read() as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        return list(session.scalars(query))


# --- the daily report ---------------------------------------------------------------------------


def test_daily_report_content_on_the_seeded_shop(app: App, shop: Shop) -> None:
    with app.store.unit_of_work() as session:
        session.add_all(
            [
                Alert(kind="low_stock", sku_id=shop.ids["MILK"], dedupe_key="low_stock:MILK",
                      opened_at=NOW - timedelta(hours=2)),
                Alert(kind="surge", sku_id=shop.ids["TEA"], dedupe_key="surge:TEA",
                      status="resolved", opened_at=NOW - timedelta(days=3),
                      resolved_at=NOW - timedelta(hours=1)),
                Alert(kind="slow_mover", sku_id=shop.ids["TEA"], dedupe_key="slow_mover:TEA",
                      opened_at=NOW - timedelta(days=3)),  # before the window
            ]
        )  # fmt: skip
    data = daily_data(app, NOW)
    assert data["as_of"] == "2026-11-24"
    assert data["skus"] == 2
    assert sum(data["colours"].values()) == 2
    assert data["at_risk"][0]["sku"] == "MILK"  # sold out: the most at risk
    assert data["at_risk"][0]["colour"] == "red"
    assert data["at_risk"][0]["position"] == 0
    assert data["alerts"] == {"new": {"low_stock": 1}, "resolved": {"surge": 1}}
    assert data["pos"]["approval"] == {"count": 1, "numbers": [PO]}
    assert data["pos"]["overdue"]["count"] == 0
    yesterday = data["kpis"]["yesterday"]
    assert yesterday["stockout_rate"] == pytest.approx(0.5)  # MILK out, TEA in stock
    assert set(data["kpis"]["average_7d"]) == set(yesterday)
    assert len(data["trend"]["days"]) == 30
    assert data["trend"]["days"][-1] == "2026-11-24"


def test_daily_report_is_queued_once_per_day_and_chat(app: App) -> None:
    assert send_daily_report(app, NOW) == 2
    assert send_daily_report(app, NOW) == 0
    assert send_daily_report(app, NOW + timedelta(hours=5)) == 0  # the same day's report
    rows = _reports(app, "report.daily")
    assert sorted((r.platform, r.target) for r in rows) == sorted(REPORT_CHATS)
    assert datetime.fromisoformat(rows[0].card["until"]) == NOW
    assert b"PNG" not in str(rows[0].card).encode()  # numbers, not images

    with app.store.unit_of_work() as session:  # a chat bound later gets today's report
        session.add(ChatBinding(purpose="reports", platform="slack", chat_id="C-NEW"))
    assert send_daily_report(app, NOW) == 1

    tomorrow = NOW + timedelta(days=1)
    assert send_daily_report(app, tomorrow) == 3
    latest = _reports(app, "report.daily")[-1].card
    assert latest["as_of"] == "2026-11-25"
    assert datetime.fromisoformat(latest["since"]) == NOW  # from where the last one ended


def test_a_queued_report_renders_with_its_chart(app: App) -> None:
    send_daily_report(app, NOW)
    row = _reports(app, "report.daily")[0]
    card = render_card(app)(row.card, "zh-TW")
    assert "庫存日報" in card.title
    assert card.image is not None
    assert card.image.png.startswith(PNG)
    assert len(card.image.png) > 10_000
    assert render_card(app)(row.card, "en").title.startswith("📊 Daily inventory report")


def test_nothing_is_queued_without_a_reports_chat(shop: Shop) -> None:
    url = shop.store.engine.url.render_as_string(hide_password=False)
    bare = App(Settings(database_url=url), shop.store)
    assert send_daily_report(bare, NOW) == 0
    assert send_weekly_kpi(bare, NOW) == 0
    assert send_exceptions(bare, NOW) == 0


# --- the weekly KPIs ----------------------------------------------------------------------------


def test_weekly_kpi_is_queued_once_per_week(app: App) -> None:
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=TZ)
    assert send_weekly_kpi(app, monday) == 2
    assert send_weekly_kpi(app, monday + timedelta(minutes=1)) == 0
    card = _reports(app, "report.kpi")[0].card
    assert (card["start"], card["end"]) == ("2026-11-23", "2026-11-29")
    assert card["kpis"]["current"]["stockout_rate"] is not None
    assert "emergencies" in card["counts"]
    assert send_weekly_kpi(app, monday + timedelta(days=7)) == 2


# --- exceptions ---------------------------------------------------------------------------------


def _make_exceptions(app: App, shop: Shop) -> None:
    """A declined PO, an overdue one, a price escalation, a failed delivery (MILK is out)."""
    with app.store.unit_of_work() as session:
        supplier = session.scalars(select(Supplier)).one()
        declined = session.scalars(select(PurchaseOrder).where(PurchaseOrder.number == PO)).one()
        declined.status, declined.reason = "declined", "原料短缺"
        late = PurchaseOrder(
            number="PO20261110-001",
            supplier_id=supplier.id,
            status="confirmed",
            expected_arrival=date(2026, 11, 20),
        )
        quoted = PurchaseOrder(number="PO20261123-001", supplier_id=supplier.id, status="sent")
        session.add_all([late, quoted])
        session.flush()
        session.add(
            PoLine(
                po_id=quoted.id,
                sku_id=shop.ids["TEA"],
                qty=10,
                unit_price=Decimal(20),
                proposed_price=Decimal(30),
            )
        )
        session.add(
            OutboxMessage(
                platform="slack",
                target="C-GONE",
                kind="po.approve",
                status=OutboxStatus.FAILED,
                last_error="channel_not_found",
                dedupe_key="po:X:approve:1:slack:C-GONE",
            )
        )
        session.add(
            OutboxMessage(
                platform="slack",
                target="C-REPORTS",
                kind="report.daily",
                status=OutboxStatus.FAILED,
                dedupe_key="report:old:slack:C",
            )
        )


def test_exceptions_are_reported_once_each(app: App, shop: Shop) -> None:
    _make_exceptions(app, shop)
    assert send_exceptions(app, NOW) == 2  # one card, to each reports chat
    card = _reports(app, "report.exceptions")[0].card
    kinds = [event["kind"] for event in card["events"]]
    assert kinds == ["po_declined", "po_overdue", "price_escalation", "stockout", "delivery_failed"]
    assert card["events"][1]["days_late"] == 5
    assert card["events"][2]["proposed"] == "30.00"
    assert card["events"][3]["sku"] == "MILK"  # sold lately, nothing on hand; TEA has stock

    assert send_exceptions(app, NOW) == 0
    assert send_exceptions(app, NOW + timedelta(hours=1)) == 0

    with app.store.unit_of_work() as session:  # one new event: a card with just that one
        session.add(
            OutboxMessage(
                platform="telegram",
                target="-1",
                kind="picks.posted",
                status=OutboxStatus.FAILED,
                last_error="chat not found",
            )
        )
    assert send_exceptions(app, NOW + timedelta(hours=2)) == 2
    latest = _reports(app, "report.exceptions")[-1].card
    assert [event["kind"] for event in latest["events"]] == ["delivery_failed"]
    assert latest["events"][0]["target"] == "-1"


def test_a_new_occurrence_is_a_new_event(app: App, shop: Shop) -> None:
    _make_exceptions(app, shop)
    send_exceptions(app, NOW)
    with app.store.unit_of_work() as session:  # the late PO's arrival moved on, then late again
        late = session.scalars(
            select(PurchaseOrder).where(PurchaseOrder.number == "PO20261110-001")
        ).one()
        late.expected_arrival = date(2026, 11, 23)
    assert send_exceptions(app, NOW) == 2
    events = _reports(app, "report.exceptions")[-1].card["events"]
    assert [(e["kind"], e["po"]) for e in events] == [("po_overdue", "PO20261110-001")]


def test_exceptions_wait_for_a_reports_chat(app: App, shop: Shop) -> None:
    _make_exceptions(app, shop)
    with app.store.unit_of_work() as session:
        for binding in session.scalars(select(ChatBinding).where(ChatBinding.purpose == "reports")):
            session.delete(binding)
    assert send_exceptions(app, NOW) == 0
    with app.store.unit_of_work() as session:
        session.add(ChatBinding(purpose="reports", platform="slack", chat_id="C-LATER"))
    assert send_exceptions(app, NOW) == 1
    assert len(_reports(app, "report.exceptions")[0].card["events"]) == 5


# --- on demand ------------------------------------------------------------------------------------


def _ask(app: App, text: str) -> object:
    bot = ChatBot(app, "slack")
    return bot.command(Command(platform="slack", team="T", user="U-clerk", channel="C", text=text))


def test_report_command_answers_each_report_with_its_card(app: App, shop: Shop) -> None:
    _make_exceptions(app, shop)
    daily = _ask(app, "report")
    assert daily.card is not None
    assert daily.card.image is not None
    assert "庫存日報" in daily.card.title
    kpi = _ask(app, "報表 績效")
    assert kpi.card is not None
    assert "KPI" in kpi.card.title
    exceptions = _ask(app, "report exceptions")
    assert exceptions.card is not None
    assert "5" in exceptions.card.title
    assert send_exceptions(app, utcnow()) == 2  # asking marked nothing as reported
    assert "daily|kpi|exceptions" in _ask(app, "report weekly").text
