"""Slack end to end, offline: signed requests into our ASGI app, the real bolt and slack_sdk,
the fake Slack Web API recording what the bot says. Effects are read back from the fake and
the database."""

import threading
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr
from slack_bolt.request import BoltRequest
from sqlmodel import select

from bot import cards, forms
from bot.app import App, slack_bolt
from core.alerts import notify_alert, wake_snoozed
from core.models import (
    Alert,
    AuditEvent,
    ChatBinding,
    InboxEvent,
    OutboxMessage,
    PoLine,
    PurchaseOrder,
    Sku,
    SupplierTerm,
)
from core.workflow import submit_for_approval
from tests.adapters.conftest import Harness, wait_for
from tests.shop import PO

APPROVALS, BUYERS, ALERTS = "C-APPROVALS", "C-BUYERS", "C-ALERTS"


def _action_ids(message: dict[str, Any]) -> list[str]:
    return [
        element["action_id"].split("#")[0]
        for block in message.get("blocks") or []
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def _text(message: dict[str, Any]) -> str:
    """Everything a reader sees in a message, flattened."""
    parts = [str(message.get("text", ""))]
    for block in message.get("blocks") or []:
        parts.append(str(block))
    return "\n".join(parts)


def _po_card_in_approvals(h: Harness, requester: str = "clerk") -> dict[str, Any]:
    h.shop.run(requester, submit_for_approval, PO)
    assert h.deliver().delivered >= 1
    message = h.only_message(APPROVALS)
    assert _action_ids(message) == [cards.APPROVE, cards.REJECT, cards.EDIT]
    return message


def _audit(h: Harness, action: str) -> list[AuditEvent]:
    return h.shop.audit(action)


def _status(h: Harness) -> str:
    return h.shop.po().status


def _private_replies(h: Harness) -> list[str]:
    """What the bot told people privately (response_url posts and ephemeral messages)."""
    said = [str(c.params.get("text", "")) for c in h.fake.calls("response_url")]
    return said + [str(c.params.get("text", "")) for c in h.fake.calls("chat.postEphemeral")]


# --- the approval path ----------------------------------------------------------------------------


def test_alert_to_draft_to_approval_end_to_end(harness: Harness) -> None:
    h = harness
    alert_id = _juice_alert(h)
    assert h.deliver().sent == 1
    alert_message = h.only_message(ALERTS)
    assert _action_ids(alert_message) == [cards.DRAFT_PO, cards.SNOOZE, cards.DISMISS]

    assert h.press("U-clerk", cards.DRAFT_PO, str(alert_id), ALERTS).status_code == 200
    wait_for(lambda: cards.DRAFT_PO not in _action_ids(h.only_message(ALERTS)))
    assert _status(h) == "pending_approval"

    h.deliver()  # the PO card reaches the approvals channel
    po_message = h.only_message(APPROVALS)
    assert PO in _text(po_message)
    assert _action_ids(po_message) == [cards.APPROVE, cards.REJECT, cards.EDIT]

    started = time.monotonic()
    assert h.press("U-amy", cards.APPROVE, PO, APPROVALS).status_code == 200
    assert time.monotonic() - started < 3  # acked before the work
    wait_for(lambda: _action_ids(h.only_message(APPROVALS)) == [])
    card = _text(h.only_message(APPROVALS))
    assert "amy" in card  # who approved, on the card itself
    assert _status(h) == "approved"
    [approved] = _audit(h, "po.approved")
    assert approved.actor_id == h.shop.ids["amy"]

    h.deliver()
    assert len(h.messages(APPROVALS)) == 1  # updated in place, not re-posted
    [buyers] = h.messages(BUYERS)
    assert PO in _text(buyers)


def test_reject_asks_for_a_reason_in_a_modal(harness: Harness) -> None:
    h = harness
    _po_card_in_approvals(h)
    h.press("U-amy", cards.REJECT, PO, APPROVALS)
    view = wait_for(lambda: h.fake.calls("views.open") and h.opened_view(forms.REJECT_FORM))
    assert _status(h) == "pending_approval"  # opening the modal changes nothing

    empty = h.submit("U-amy", view, {forms.REASON_INPUT: "   "})
    assert empty.json()["response_action"] == "errors"  # inline, the modal stays open
    assert _status(h) == "pending_approval"

    assert h.submit("U-amy", view, {forms.REASON_INPUT: "價格太高，等下週報價"}).status_code == 200
    wait_for(lambda: _action_ids(h.only_message(APPROVALS)) == [])
    assert _status(h) == "rejected"
    [event] = _audit(h, "po.rejected")
    assert event.data["reason"] == "價格太高，等下週報價"
    assert "價格太高" in _text(h.only_message(APPROVALS))


def test_edit_quantities_are_re_rounded_to_the_case_pack(harness: Harness) -> None:
    h = harness
    _po_card_in_approvals(h)
    h.press("U-amy", cards.EDIT, PO, APPROVALS)
    view = wait_for(lambda: h.fake.calls("views.open") and h.opened_view(forms.EDIT_FORM))
    inputs = {block["block_id"] for block in view["blocks"] if block["type"] == "input"}
    assert inputs == {"MILK", "TEA"}

    bad = h.submit("U-amy", view, {"MILK": "many", "TEA": "10"})
    assert set(bad.json()["errors"]) == {"MILK"}

    h.submit("U-amy", view, {"MILK": "50", "TEA": "10"})  # MOQ 24, case 12 → 60
    wait_for(lambda: _audit(h, "po.edited"))
    with h.shop.store.read() as session:
        milk = session.scalars(select(PoLine).where(PoLine.sku_id == h.shop.ids["MILK"])).one()
        assert milk.qty == 60
    wait_for(lambda: any("60" in text for text in _private_replies(h)))
    assert _status(h) == "pending_approval"


def test_a_requester_cannot_approve_their_own_po(harness: Harness) -> None:
    h = harness
    _po_card_in_approvals(h, requester="amy")
    h.press("U-amy", cards.APPROVE, PO, APPROVALS)
    wait_for(lambda: _audit(h, "refused.self_approval"))
    assert _status(h) == "pending_approval"
    wait_for(lambda: any(PO in text for text in _private_replies(h)))

    h.press("U-ben", cards.APPROVE, PO, APPROVALS)
    wait_for(lambda: _status(h) == "approved")


def test_above_the_limit_a_second_different_manager_must_approve(strict_harness: Harness) -> None:
    h = strict_harness
    _po_card_in_approvals(h)
    h.press("U-amy", cards.APPROVE, PO, APPROVALS)
    wait_for(lambda: _audit(h, "po.first_approval"))
    assert _status(h) == "pending_approval"

    h.press("U-amy", cards.APPROVE, PO, APPROVALS)  # a new press by the same manager
    wait_for(lambda: len(h.fake.calls("response_url")) >= 2)
    assert _status(h) == "pending_approval"

    h.press("U-ben", cards.APPROVE, PO, APPROVALS)
    wait_for(lambda: _status(h) == "approved")
    [approved] = _audit(h, "po.approved")
    assert approved.data["first_by"] == "amy"


def test_a_member_without_the_role_is_refused_and_audited(harness: Harness) -> None:
    h = harness
    _po_card_in_approvals(h)
    h.press("U-analyst", cards.APPROVE, PO, APPROVALS)
    [refused] = wait_for(lambda: _audit(h, "refused.permission_denied"))
    assert refused.actor_id == h.shop.ids["analyst"]
    assert _status(h) == "pending_approval"

    h.press("U-stranger", cards.APPROVE, PO, APPROVALS)
    [stranger] = wait_for(lambda: _audit(h, "refused.not_a_member"))
    assert stranger.data["user"] == "U-stranger"
    assert _status(h) == "pending_approval"


# --- exactly once ---------------------------------------------------------------------------------


def _effects(h: Harness) -> tuple[int, int, int]:
    with h.shop.store.read() as session:
        audits = len(
            session.scalars(select(AuditEvent).where(AuditEvent.action == "po.approved")).all()
        )
        outbox = len(
            session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "po.approve")).all()
        )
        inbox = len(session.scalars(select(InboxEvent)).all())
    return audits, outbox, inbox


def test_the_same_press_delivered_four_times_and_twice_at_once_applies_once(
    any_harness: Harness,
) -> None:
    h = any_harness
    message = _po_card_in_approvals(h)
    body = h.press_body("U-amy", cards.APPROVE, PO, message, APPROVALS, action_ts="1764000000.5")
    for retry in (None, 1, 2, None):  # Slack retries, Socket Mode redelivery, a double click
        assert h.post(body, retry=retry).status_code == 200
    wait_for(lambda: len(h.fake.calls("response_url")) >= 4)
    version = h.shop.po().version

    second = h.press_body("U-ben", cards.APPROVE, PO, message, APPROVALS, action_ts="1764000000.6")
    answers: list[int] = []
    threads = [
        threading.Thread(target=lambda: answers.append(h.post(second).status_code))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200, 200]
    wait_for(lambda: len(h.fake.calls("response_url")) >= 6)

    assert _status(h) == "approved"
    assert h.shop.po().version == version  # ben's presses changed nothing
    assert _effects(h) == (1, 2, 2)  # one approval; its two chats; two distinct presses
    replies = [c.params["text"] for c in h.fake.calls("response_url")]
    assert len(set(replies[:4])) == 1  # a replay gets the same answer


# --- signatures -----------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["unsigned", "stale", "tampered"])
def test_bad_signatures_get_401_and_touch_nothing(harness: Harness, how: str) -> None:
    h = harness
    message = _po_card_in_approvals(h)
    body = h.press_body("U-amy", cards.APPROVE, PO, message, APPROVALS)
    answer = h.post(
        body, signed=how != "unsigned", age=600 if how == "stale" else 0, tamper=how == "tampered"
    )
    assert answer.status_code == 401
    time.sleep(0.3)
    assert _status(h) == "pending_approval"
    assert _effects(h)[2] == 0
    assert h.fake.calls("chat.update") == []


# --- delivery under rate limits -------------------------------------------------------------------


def test_slack_answering_429_then_200_delivers_once_after_retry_after(harness: Harness) -> None:
    h = harness
    h.shop.run("clerk", submit_for_approval, PO)
    h.fake.fail_next("chat.postMessage", status=429, retry_after=1)
    h.deliver()
    posts = h.fake.calls("chat.postMessage")
    assert [c.status for c in posts] == [429, 200]
    assert posts[1].at - posts[0].at >= 1.0
    assert len(h.messages(APPROVALS)) == 1
    h.deliver()
    assert len(h.messages(APPROVALS)) == 1  # sent is sent


def test_a_429_beyond_the_clients_retry_stays_pending_and_is_retried(harness: Harness) -> None:
    h = harness
    h.shop.run("clerk", submit_for_approval, PO)
    h.fake.fail_next("chat.postMessage", status=429, retry_after=1, times=2)
    report = h.deliver()
    assert (report.retried, report.delivered) == (1, 0)
    [row] = h.shop.rows(OutboxMessage, OutboxMessage.target == APPROVALS)
    assert (row.status, row.attempts) == ("pending", 1)
    time.sleep(1.05)
    assert h.deliver().delivered == 1
    assert len(h.messages(APPROVALS)) == 1


# --- helpers --------------------------------------------------------------------------------------


def _juice_alert(h: Harness) -> int:
    """JUICE runs low and is on no PO: its alert, bound to the alerts channel."""
    with h.shop.store.unit_of_work() as session:
        session.add(ChatBinding(purpose="alerts", platform="slack", chat_id=ALERTS))
        juice = Sku(code="JUICE", name="柳橙汁")
        session.add(juice)
        session.flush()
        supplier_id = session.scalars(select(SupplierTerm.supplier_id)).first()
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
        alert = Alert(
            kind="low_stock",
            sku_id=juice.id,
            severity="warning",
            dedupe_key="low_stock:JUICE",
            details={
                "position": 3.0,
                "reorder_point": 20.0,
                "order_qty": 15.0,
                "pick_colour": "red",
            },
        )
        session.add(alert)
        session.flush()
        notify_alert(session, alert, "opened")
        assert alert.id is not None
        return alert.id


def test_drafting_joins_the_suppliers_open_draft(harness: Harness) -> None:
    """The monitor's draft for this supplier takes the alert's SKU: one PO, not two."""
    h = harness
    alert_id = _juice_alert(h)
    h.deliver()
    h.press("U-clerk", cards.DRAFT_PO, str(alert_id), ALERTS)
    wait_for(lambda: _status(h) == "pending_approval")
    with h.shop.store.read() as session:
        assert len(session.scalars(select(PurchaseOrder)).all()) == 1


def test_snooze_and_dismiss_from_the_alert_card(harness: Harness) -> None:
    h = harness
    alert_id = _juice_alert(h)
    h.deliver()
    h.press("U-clerk", cards.SNOOZE, str(alert_id), ALERTS)
    wait_for(lambda: _action_ids(h.only_message(ALERTS)) == [])  # snoozed: nothing to press
    [alert] = h.shop.rows(Alert, Alert.id == alert_id)
    assert alert.status == "snoozed"
    assert alert.snoozed_until is not None

    with h.shop.store.unit_of_work() as session:  # a day later the monitor wakes it
        wake_snoozed(session, alert.snoozed_until + timedelta(seconds=1))
    h.deliver()
    wait_for(lambda: cards.DISMISS in _action_ids(h.only_message(ALERTS)))

    h.press("U-amy", cards.DISMISS, str(alert_id), ALERTS)
    view = wait_for(lambda: h.fake.calls("views.open") and h.opened_view(forms.DISMISS_FORM))
    h.submit("U-amy", view, {forms.REASON_INPUT: "換季商品，不再補貨"})
    wait_for(lambda: h.shop.rows(Alert, Alert.id == alert_id)[0].status == "dismissed")
    wait_for(lambda: "換季商品" in _text(h.only_message(ALERTS)))
    assert len(h.messages(ALERTS)) == 1  # one card, updated in place all along


def test_health_reports_the_database_and_the_outbox(harness: Harness) -> None:
    h = harness
    h.shop.run("clerk", submit_for_approval, PO)
    answer = h.client.get(f"{h.url}/healthz")
    assert answer.status_code == 200
    body = answer.json()
    assert body["ok"] is True
    assert body["outbox_pending"] >= 1
    assert h.client.get(f"{h.url}/nope").status_code == 404


def test_socket_mode_uses_the_same_listeners_and_a_redelivery_applies_once(
    harness: Harness,
) -> None:
    """Socket Mode requests carry no signature; bolt marks them mode=socket_mode."""
    h = harness
    message = _po_card_in_approvals(h)
    slack = h.app.settings.slack.model_copy(update={"app_token": SecretStr("xapp-fake")})
    app = App(h.app.settings.model_copy(update={"slack": slack}), h.app.store)
    bolt = slack_bolt(app, socket_mode=True)
    body = h.press_body("U-amy", cards.APPROVE, PO, message, APPROVALS).decode()
    for _ in range(2):  # the WebSocket redelivers an envelope it thinks was not acked
        answer = bolt.dispatch(BoltRequest(body=body, mode="socket_mode"))
        assert answer.status == 200
    wait_for(lambda: _status(h) == "approved")
    wait_for(lambda: len(h.fake.calls("response_url")) >= 2)
    assert _effects(h)[:2] == (1, 2)
