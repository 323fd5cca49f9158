"""E-mail fallback end to end on SQLite and PostgreSQL, through the outbox to a real SMTP
server on loopback: red alerts mailed once to their owners, a chat message stuck past the
threshold mailed once instead, SMTP failures retried or kept as `failed`."""

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlmodel import col, select

from adapters.chat import Card, ChatAdapter, DeliveryError, MessageRef
from bot.app import App, chat_adapters, render_card
from bot.dispatch import DispatchReport, dispatch_outbox
from bot.mail import email_fallback
from bot.settings import EmailSettings, Settings
from core.mail_fallback import email_members
from core.members import InvalidEmail, add_member, remove_member
from core.models import Alert, AlertStatus, OutboxMessage, OutboxStatus, PurchaseOrder, Sku
from core.outbox import notify, po_card
from tests.fakes.smtp import LocalSmtp
from tests.helpers import run_replenish
from tests.shop import PO, Shop

NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # 09:00 in Taipei
EVIL = "爆款<script>alert(1)</script>"
OWNERS = {"amy@shop.tw", "ben@shop.tw", "clerk@shop.tw"}


@dataclass
class Mailroom:
    shop: Shop
    smtp: LocalSmtp
    app: App

    def deliver(
        self, now: datetime, extra: Mapping[str, ChatAdapter] | None = None
    ) -> DispatchReport:
        adapters = {**chat_adapters(self.app), **(extra or {})}
        return dispatch_outbox(
            self.app.store,
            adapters,
            render_card(self.app),
            now=now,
            locale_for=lambda _platform, _target: self.app.settings.locale,
        )

    def mail_rows(self) -> list[OutboxMessage]:
        with self.shop.store.read() as session:
            query = select(OutboxMessage).where(OutboxMessage.platform == "email")
            return list(session.scalars(query.order_by(col(OutboxMessage.id))))

    def by_address(self) -> dict[str, list[EmailMessage]]:
        found: dict[str, list[EmailMessage]] = {}
        for received in self.smtp.received:
            for address in received.rcpt_tos:
                found.setdefault(address, []).append(received.message)
        return found


@pytest.fixture
def mailroom(shop: Shop) -> Iterator[Mailroom]:
    with shop.store.unit_of_work() as session:
        for name, locale in (("amy", None), ("ben", "en"), ("clerk", None), ("buyer", None)):
            member = shop.member(session, name)
            add_member(
                session,
                None,
                platform="slack",
                user_id=member.user_id,
                roles=member.roles,
                locale=locale,
                email=f"{name}@shop.tw",
            )
        # Amy on Telegram too, same address: one mail, not two.
        add_member(
            session, None, platform="telegram", user_id="42", roles=["manager"], email="amy@shop.tw"
        )
        add_member(
            session, None, platform="slack", user_id="U-old", roles=["manager"], email="old@shop.tw"
        )
        remove_member(session, None, platform="slack", user_id="U-old")
        add_member(session, None, platform="slack", user_id="U-nomail", roles=["manager"])
    with LocalSmtp() as smtp:
        email = EmailSettings(
            enabled=True,
            host=smtp.host,
            port=smtp.port,
            sender="補貨小幫手 <bot@shop.tw>",
            starttls=False,
            timeout_seconds=5,
            local_hostname="localhost",
        )
        yield Mailroom(shop, smtp, App(Settings(email=email), shop.store))


def _alert(shop: Shop, kind: str, severity: str, *, sku: str = "MILK", **details: object) -> int:
    with shop.store.unit_of_work() as session:
        sku_id = session.scalars(select(Sku.id).where(Sku.code == sku)).one()
        alert = Alert(
            kind=kind,
            sku_id=sku_id,
            severity=severity,
            dedupe_key=f"{kind}:{sku}",
            details={"on_hand": 3, "days_of_cover": 0.5, "reorder_point": 120, **details},
            opened_at=NOW,
            updated_at=NOW,
        )
        session.add(alert)
        session.flush()
        assert alert.id is not None
        return alert.id


def _hot_sku(shop: Shop) -> None:
    with shop.store.unit_of_work() as session:
        session.add(Sku(code="HOT", name=EVIL))


def _bodies(message: EmailMessage) -> tuple[str, str]:
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None
    assert html is not None
    return plain.get_content(), html.get_content()


def test_red_alerts_are_mailed_once_to_their_owners_only(mailroom: Mailroom) -> None:
    _hot_sku(mailroom.shop)
    stockout = _alert(mailroom.shop, "imminent_stockout", "critical", sku="HOT")
    _alert(mailroom.shop, "surge", "warning", sku="TEA", pick_colour="red")  # red pick colour
    _alert(mailroom.shop, "low_stock", "warning")  # not red: chat only
    resolved = _alert(mailroom.shop, "slow_mover", "critical", sku="TEA")
    with mailroom.shop.store.unit_of_work() as session:
        alert = session.get(Alert, resolved)
        assert alert is not None
        alert.status = AlertStatus.RESOLVED

    assert email_fallback(mailroom.app, NOW) == 2 * len(OWNERS)
    assert email_fallback(mailroom.app, NOW + timedelta(minutes=1)) == 0  # once
    report = mailroom.deliver(NOW)
    assert (report.sent, report.retried, report.failed) == (6, 0, 0)
    assert mailroom.deliver(NOW + timedelta(hours=1)).delivered == 0
    assert email_fallback(mailroom.app, NOW + timedelta(hours=1)) == 0

    mails = mailroom.by_address()
    assert set(mails) == OWNERS  # not the buyer, the removed manager, or twice to Amy
    assert all(len(got) == 2 for got in mails.values())
    keys = {row.dedupe_key for row in mailroom.mail_rows()}
    assert f"mailalert:{stockout}:amy@shop.tw" in keys

    amy = next(m for m in mails["amy@shop.tw"] if "HOT" in m["Subject"])
    assert amy["Subject"].startswith("【紅色警示】")  # zh-TW by default
    assert EVIL in amy["Subject"]
    raw = next(r.data for r in mailroom.smtp.received if r.message["Subject"] == amy["Subject"])
    subject = re.search(rb"^Subject: (.*)$", raw, re.MULTILINE)
    assert subject is not None
    assert subject.group(1).startswith(b"=?utf-8?")  # encoded, readable in any client
    plain, html = _bodies(amy)
    assert "這是一則紅色警示" in plain
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<table" in html
    assert "郵件裡沒有按鈕" in plain  # the card's buttons are chat-only

    ben = next(m for m in mails["ben@shop.tw"] if "HOT" in m["Subject"])
    assert ben["Subject"].startswith("[Red alert] ")  # his own locale


def test_a_stuck_slack_message_is_mailed_once_and_left_pending(mailroom: Mailroom) -> None:
    created = NOW - timedelta(minutes=31)
    with mailroom.shop.store.unit_of_work() as session:
        po = session.scalars(select(PurchaseOrder).where(PurchaseOrder.number == PO)).one()
        notify(session, po, "submit", ["approvals"], po_card(session, po, "submit", by="amy"))
        for row in session.scalars(select(OutboxMessage)):
            row.created_at = row.next_attempt_at = created
    fresh = NOW - timedelta(minutes=5)
    with mailroom.shop.store.unit_of_work() as session:  # younger than the threshold
        session.add(
            OutboxMessage(
                platform="slack", target="C-X", card={}, created_at=fresh, next_attempt_at=fresh
            )
        )

    assert mailroom.deliver(NOW).skipped == 2  # no Slack adapter: the chat rows wait
    assert email_fallback(mailroom.app, NOW) == len(OWNERS)
    assert email_fallback(mailroom.app, NOW + timedelta(minutes=5)) == 0
    assert mailroom.deliver(NOW).sent == len(OWNERS)

    with mailroom.shop.store.read() as session:
        chat = session.scalars(select(OutboxMessage).where(OutboxMessage.platform == "slack"))
        assert {row.status for row in chat} == {OutboxStatus.PENDING}  # untouched, may still go
    clerk = mailroom.by_address()["clerk@shop.tw"]
    assert len(clerk) == 1
    assert clerk[0]["Subject"].startswith("【聊天訊息未送達】")
    plain, html = _bodies(clerk[0])
    assert "Slack 的 C-APPROVALS" in plain
    assert "11/25 08:29" in plain  # since when, in Taipei time
    assert "MILK" in plain  # the PO lines as a table
    assert "鮮乳" in html
    assert html.count("<tr>") >= 2


class BrokenSlack:
    platform = "slack"

    def post(self, target: str, card: Card) -> MessageRef:
        raise DeliveryError("channel_not_found", permanent=True)

    def update(self, ref: MessageRef, card: Card) -> MessageRef:
        raise DeliveryError("channel_not_found", permanent=True)


def test_a_failed_slack_message_is_mailed_once(mailroom: Mailroom) -> None:
    created = NOW - timedelta(minutes=40)
    with mailroom.shop.store.unit_of_work() as session:
        po = session.scalars(select(PurchaseOrder).where(PurchaseOrder.number == PO)).one()
        card = po_card(session, po, "submit", by="amy")
        session.add(
            OutboxMessage(
                platform="slack",
                target="C-GONE",
                card=card,
                created_at=created,
                next_attempt_at=created,
            )
        )
    assert mailroom.deliver(NOW - timedelta(minutes=39), {"slack": BrokenSlack()}).failed == 1
    assert email_fallback(mailroom.app, NOW) == len(OWNERS)
    assert email_fallback(mailroom.app, NOW) == 0
    mailroom.deliver(NOW)
    ben = mailroom.by_address()["ben@shop.tw"]
    assert len(ben) == 1
    assert "no longer retried" in _bodies(ben[0])[0]


def test_a_temporary_smtp_failure_is_retried_and_delivered_once(mailroom: Mailroom) -> None:
    _alert(mailroom.shop, "imminent_stockout", "critical")
    mailroom.smtp.fail_data("451 4.3.0 Mail server busy")
    assert email_fallback(mailroom.app, NOW) == len(OWNERS)

    first = mailroom.deliver(NOW)
    assert (first.sent, first.retried, first.failed) == (len(OWNERS) - 1, 1, 0)
    waiting = [row for row in mailroom.mail_rows() if row.status == OutboxStatus.PENDING]
    assert len(waiting) == 1
    assert "451" in waiting[0].last_error
    assert waiting[0].attempts == 1

    later = mailroom.deliver(NOW + timedelta(minutes=20))  # past any backoff
    assert later.sent == 1
    assert mailroom.deliver(NOW + timedelta(hours=1)).delivered == 0
    assert {row.status for row in mailroom.mail_rows()} == {OutboxStatus.SENT}
    assert sorted(len(m) for m in mailroom.by_address().values()) == [1, 1, 1]
    assert mailroom.smtp.data_commands == len(OWNERS) + 1


def test_a_refused_recipient_ends_failed_and_is_kept(mailroom: Mailroom) -> None:
    _alert(mailroom.shop, "imminent_stockout", "critical")
    mailroom.smtp.refuse("ben@shop.tw")
    email_fallback(mailroom.app, NOW)
    report = mailroom.deliver(NOW)
    assert (report.sent, report.failed, report.retried) == (len(OWNERS) - 1, 1, 0)
    ben = next(row for row in mailroom.mail_rows() if row.target == "ben@shop.tw")
    assert ben.status == OutboxStatus.FAILED
    assert "recipient refused" in ben.last_error
    assert mailroom.deliver(NOW + timedelta(hours=1)).delivered == 0  # not retried
    assert email_fallback(mailroom.app, NOW + timedelta(hours=1)) == 0  # not re-queued
    assert "ben@shop.tw" not in mailroom.by_address()


def test_email_members_mails_an_emergency_once_per_address(mailroom: Mailroom) -> None:
    with mailroom.shop.store.unit_of_work() as session:
        po = session.scalars(select(PurchaseOrder).where(PurchaseOrder.number == PO)).one()
        card = po_card(session, po, "submit", by="clerk")
        assert email_members(session, ["manager"], card, "emergency:7:opened", now=NOW) == 2
        assert email_members(session, ["manager"], card, "emergency:7:opened", now=NOW) == 0
    mailroom.deliver(NOW)
    mails = mailroom.by_address()
    assert set(mails) == {"amy@shop.tw", "ben@shop.tw"}
    assert mails["amy@shop.tw"][0]["Subject"].startswith("【緊急補貨】")


def test_mail_is_off_by_default_and_needs_a_server_when_on(shop: Shop) -> None:
    app = App(Settings(), shop.store)
    assert "email" not in chat_adapters(app)
    assert email_fallback(app, NOW) == 0
    with pytest.raises(ValidationError, match=r"email\.host"):
        EmailSettings(enabled=True, sender="bot@shop.tw")


def test_a_member_address_must_be_an_address(shop: Shop) -> None:
    with shop.store.unit_of_work() as session, pytest.raises(InvalidEmail):
        add_member(
            session, None, platform="slack", user_id="U-x", roles=["manager"], email="amy at shop"
        )


def test_member_add_takes_an_email_on_the_cli(tmp_path: Path) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'members.db'}"]
    add = ["member", "add", "--user", "U9", "--role", "manager", *db]
    done = run_replenish(*add, "--email", "amy@shop.tw", cwd=tmp_path)
    assert done.returncode == 0, done.stderr

    def listed() -> list[dict[str, object]]:
        shown = run_replenish("member", "list", "--json", *db, cwd=tmp_path)
        return json.loads(shown.stdout)

    assert [m["email"] for m in listed()] == ["amy@shop.tw"]
    bad = run_replenish(*add, "--email", "amy at shop", "--lang", "en", cwd=tmp_path)
    assert bad.returncode == 2
    assert "amy at shop is not an e-mail address" in bad.stderr
    assert [m["email"] for m in listed()] == ["amy@shop.tw"]
    assert run_replenish(*add, cwd=tmp_path).returncode == 0  # no --email: kept
    assert [m["email"] for m in listed()] == ["amy@shop.tw"]
    assert run_replenish(*add, "--email", "", cwd=tmp_path).returncode == 0  # "" removes it
    assert [m["email"] for m in listed()] == [""]
