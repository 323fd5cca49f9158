"""The PO webhook end to end, on SQLite and PostgreSQL, against a real HTTP server on
127.0.0.1 (tests/fakes/erp.py): a final approval (a chat press, as the bot runs it) queues
one outbox row; the outbox POSTs the `po export` JSON, signed; 5xx, 429 and timeouts are
retried, other 4xx kept as failed; a repeated press posts nothing twice; no URL, no rows."""

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from pydantic import ValidationError
from sqlmodel import select

from adapters.chat import Interaction, MessageRef
from adapters.webhook import retry_after
from bot.app import App, chat_adapters, deliver_outbox
from bot.chatbot import ChatBot
from bot.dispatch import DispatchReport
from bot.ids import APPROVE
from bot.report_exceptions import failed_deliveries
from bot.settings import Settings
from core.mail_fallback import queue_undelivered
from core.models import OutboxMessage, OutboxStatus, PoStatus, PurchaseOrder, utcnow
from core.outbox import as_utc
from core.po_export import po_rows, to_json
from core.po_webhook import PoWebhook, queue_po_event
from core.supplier_backup import decline, reassign
from core.workflow import ApprovalRules, approve, cancel
from tests.conftest import TAIPEI
from tests.fakes.erp import Answer, LocalErp
from tests.shop import PO, Shop

SECRET = "erp-shared-secret-0123456789"
_keys = count(1)


@pytest.fixture
def erp() -> Iterator[LocalErp]:
    with LocalErp() as server:
        yield server


def _app(shop: Shop, url: str | None, *, timeout: float = 5.0) -> App:
    export = {"po_webhook_url": url, "po_webhook_secret": SECRET} if url else {}
    return App(Settings(export=export | {"po_webhook_timeout_seconds": timeout}), shop.store)


@pytest.fixture
def app(shop: Shop, erp: LocalErp) -> App:
    return _app(shop, erp.url)


def press(app: App, user: str, action: str, key: str = "") -> None:
    """A Slack button press on the PO card, through the bot (exactly once per `key`)."""
    ChatBot(app, "slack").action(
        Interaction(
            platform="slack",
            team="T1",
            user=f"U-{user}",
            user_name=user,
            action_id=action,
            value=PO,
            key=key or f"press:{next(_keys)}",
            message=MessageRef("C-APPROVALS", "1.0"),
        )
    )


def deliver(app: App, now: datetime) -> DispatchReport:
    return deliver_outbox(app, chat_adapters(app), now=now)


def webhook_rows(shop: Shop) -> list[OutboxMessage]:
    return shop.rows(OutboxMessage, OutboxMessage.platform == "webhook")


def receiver_verifies(secret: bytes, body: bytes, header: str) -> bool:
    """What README tells a receiver to do, before parsing the body."""
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


def test_an_approved_po_is_posted_once_signed_as_exported(
    shop: Shop, app: App, erp: LocalErp
) -> None:
    start = utcnow()
    press(app, "amy", APPROVE)
    [row] = webhook_rows(shop)
    assert (row.dedupe_key, row.status) == (f"webhook:{PO}:po.approved", OutboxStatus.PENDING)

    report = deliver(app, start + timedelta(seconds=1))

    assert report.sent == 1
    [got] = erp.received
    assert got.path == "/erp/purchase-orders"
    assert got.headers["content-type"] == "application/json"
    assert receiver_verifies(SECRET.encode(), got.body, got.headers["x-replenish-signature"])
    assert got.headers["x-replenish-event"] == "po.approved"
    assert got.headers["idempotency-key"] == f"{PO}:po.approved"
    sent_at = int(got.headers["x-replenish-timestamp"])
    assert abs(sent_at - utcnow().timestamp()) < 60
    with shop.store.read() as session:  # the same document `po export --format json` writes
        [exported] = json.loads(to_json(po_rows(session, PoStatus.APPROVED, TAIPEI)))
    assert json.loads(got.body) == exported
    assert (exported["po_number"], exported["status"], exported["total"]) == (
        PO,
        "approved",
        "2600.00",
    )
    assert [row.status for row in webhook_rows(shop)] == [OutboxStatus.SENT]

    deliver(app, start + timedelta(hours=1))
    assert len(erp.received) == 1


def test_a_repeated_press_and_a_second_approval_post_once(
    shop: Shop, app: App, erp: LocalErp
) -> None:
    press(app, "amy", APPROVE, key="press:same")
    press(app, "amy", APPROVE, key="press:same")  # Slack redelivers the press
    press(app, "ben", APPROVE)  # another manager, too late: AlreadyDone
    with shop.store.unit_of_work() as session:  # the step replayed: the key is taken
        po = session.scalars(select(PurchaseOrder).where(PurchaseOrder.number == PO)).one()
        assert queue_po_event(session, po, "po.approved", webhook=PoWebhook(TAIPEI)) == 0
    assert len(webhook_rows(shop)) == 1

    deliver(app, utcnow() + timedelta(seconds=1))
    deliver(app, utcnow() + timedelta(hours=1))
    assert len(erp.received) == 1


def test_a_server_error_is_retried_with_backoff_then_delivered_once(
    shop: Shop, app: App, erp: LocalErp
) -> None:
    erp.script(Answer(500))
    press(app, "amy", APPROVE)
    start = utcnow() + timedelta(seconds=1)

    first = deliver(app, start)

    assert (first.retried, len(erp.received)) == (1, 1)
    [row] = webhook_rows(shop)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert "HTTP 500" in row.last_error
    assert as_utc(row.next_attempt_at) >= start + timedelta(seconds=2)  # backoff, jittered
    deliver(app, start)  # not due yet
    assert len(erp.received) == 1

    deliver(app, start + timedelta(hours=1))

    assert [row.status for row in webhook_rows(shop)] == [OutboxStatus.SENT]
    first_try, second_try = erp.received
    assert second_try.body == first_try.body  # the same bytes, signature and key every time
    assert second_try.headers["idempotency-key"] == first_try.headers["idempotency-key"]
    deliver(app, start + timedelta(days=1))
    assert len(erp.received) == 2


def test_429_retry_after_is_honoured(shop: Shop, app: App, erp: LocalErp) -> None:
    erp.script(Answer(429, {"Retry-After": "120"}))
    press(app, "amy", APPROVE)
    start = utcnow() + timedelta(seconds=1)

    deliver(app, start)

    [row] = webhook_rows(shop)
    assert as_utc(row.next_attempt_at) == start + timedelta(seconds=120)
    deliver(app, start + timedelta(seconds=119))
    assert len(erp.received) == 1
    deliver(app, start + timedelta(seconds=120))
    assert len(erp.received) == 2
    assert [row.status for row in webhook_rows(shop)] == [OutboxStatus.SENT]


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 25, 1, 0, 0).timestamp()
    assert retry_after("30", now) == 30.0
    assert retry_after(" 2.5 ", now) == 2.5
    http_date = datetime.fromtimestamp(now + 90, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert retry_after(http_date, now) == 90.0
    assert retry_after("Thu, 01 Jan 2015 00:00:00 GMT", now) == 0.0  # past: now
    assert retry_after("soon", now) is None
    assert retry_after(None, now) is None
    assert retry_after("99999999", now) == 24 * 3600.0  # capped


def test_a_client_error_is_kept_failed_and_not_retried(shop: Shop, app: App, erp: LocalErp) -> None:
    erp.script(Answer(400, body=b'{"error": "unknown supplier S1, code 500"}'))
    press(app, "amy", APPROVE)
    start = utcnow() + timedelta(seconds=1)

    report = deliver(app, start)

    assert (report.failed, report.retried) == (1, 0)
    [row] = webhook_rows(shop)
    assert row.status == OutboxStatus.FAILED
    assert row.last_error.startswith("webhook answered HTTP 400 Bad Request")
    deliver(app, start + timedelta(days=1))
    assert len(erp.received) == 1
    with shop.store.read() as session:  # an operator sees it in the exception report
        [event] = [e for e in failed_deliveries(session) if e.facts["platform"] == "webhook"]
    assert event.facts["what"] == f"po.approved {PO}"
    assert "HTTP 400" in event.facts["error"]
    assert SECRET not in row.last_error
    with shop.store.unit_of_work() as session:  # not mailed as an undelivered chat message
        shop.member(session, "amy").email = "amy@shop.tw"
        queue_undelivered(session, start + timedelta(hours=1), timedelta(minutes=30))
    mails = shop.rows(OutboxMessage, OutboxMessage.platform == "email")
    assert mails  # the Slack cards nobody could deliver here are
    assert all(mail.card["mail"]["platform"] != "webhook" for mail in mails)


def test_a_timeout_is_retried(shop: Shop, erp: LocalErp) -> None:
    app = _app(shop, erp.url, timeout=0.3)
    erp.script(Answer(200, delay=1.5))  # answers after the sender gave up
    press(app, "amy", APPROVE)
    start = utcnow() + timedelta(seconds=1)

    report = deliver(app, start)

    assert report.retried == 1
    [row] = webhook_rows(shop)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert "timed out" in row.last_error
    deliver(app, start + timedelta(hours=1))
    assert [row.status for row in webhook_rows(shop)] == [OutboxStatus.SENT]
    assert len(erp.received) == 2


def test_an_unreachable_erp_is_retried(shop: Shop) -> None:
    with LocalErp() as gone:
        url = gone.url  # a port nobody listens on once the server is closed
    app = _app(shop, url)
    press(app, "amy", APPROVE)

    report = deliver(app, utcnow() + timedelta(seconds=1))

    assert report.retried == 1
    [row] = webhook_rows(shop)
    assert row.status == OutboxStatus.PENDING
    assert "unreachable" in row.last_error


def test_an_emergency_po_is_posted_too(shop: Shop, app: App, erp: LocalErp) -> None:
    with shop.store.unit_of_work() as session:
        po = session.scalars(select(PurchaseOrder).where(PurchaseOrder.number == PO)).one()
        po.emergency = True
    press(app, "amy", APPROVE)
    deliver(app, utcnow() + timedelta(seconds=1))
    [got] = erp.received
    assert json.loads(got.body)["emergency"] is True


def test_cancelling_an_exported_po_tells_the_erp_after_the_approval(
    shop: Shop, app: App, erp: LocalErp
) -> None:
    press(app, "amy", APPROVE)
    shop.run("amy", cancel, PO, reason="customer changed the order")

    deliver(app, utcnow() + timedelta(seconds=1))

    events = [(r.headers["x-replenish-event"], json.loads(r.body)["status"]) for r in erp.received]
    assert events == [("po.approved", "approved"), ("po.cancelled", "cancelled")]
    assert erp.received[1].headers["idempotency-key"] == f"{PO}:po.cancelled"


def test_a_reassigned_po_and_its_backup_po_follow(shop: Shop, app: App, erp: LocalErp) -> None:
    shop.add_backup_supplier()
    shop.add_supplier_member("sally", "T-sally", "S1")
    shop.bind_supplier_chat()
    rules = ApprovalRules(po_webhook=PoWebhook(TAIPEI))
    today = utcnow().astimezone(TAIPEI).date()
    shop.run("amy", approve, PO, rules=rules, today=today)  # and sent to S1's chat
    shop.run("sally", decline, PO, reason="原料短缺")
    moved = shop.run("amy", reassign, PO, today=today)

    deliver(app, utcnow() + timedelta(seconds=1))

    got = {r.headers["idempotency-key"]: json.loads(r.body) for r in erp.received}
    [new_po] = moved.new_pos
    assert list(got) == [  # one PO's events in order; the backup's PO opens before the old ends
        f"{PO}:po.approved",
        f"{new_po}:po.approved",
        f"{PO}:po.reassigned",
    ]
    assert got[f"{PO}:po.reassigned"]["status"] == "reassigned"
    backup = got[f"{new_po}:po.approved"]
    assert (backup["supplier_code"], backup["status"]) == ("S2", "approved")
    assert [(line["sku"], line["supplier_sku"], line["qty"]) for line in backup["lines"]] == [
        ("MILK", "B-77", 60)
    ]


def test_no_url_no_rows_and_no_sender(shop: Shop) -> None:
    app = _app(shop, None)
    press(app, "amy", APPROVE)
    assert shop.po().status == PoStatus.APPROVED
    assert webhook_rows(shop) == []
    assert "webhook" not in chat_adapters(app)


def test_a_url_needs_a_secret_and_the_error_never_echoes_one() -> None:
    with pytest.raises(ValidationError, match="po_webhook_secret") as refused:
        Settings(export={"po_webhook_url": "https://erp.example/po", "po_webhook_secret": "short1"})
    assert "short1" not in str(refused.value)
    with pytest.raises(ValidationError, match="http"):
        Settings(export={"po_webhook_url": "ftp://erp.example/po", "po_webhook_secret": SECRET})
    assert Settings(export={"po_webhook_url": ""}).export.po_webhook_url is None
