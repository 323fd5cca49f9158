"""Outbox delivery on SQLite and PostgreSQL: at least once, never dropped, 429 honoured,
a thread's later cards update its first message, two dispatchers send each row once."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from adapters.chat import Card, DeliveryError, MessageRef
from bot.dispatch import DispatchReport, dispatch_outbox
from core.models import OutboxMessage, OutboxStatus
from core.outbox import LEASE, as_utc, backoff, due, previous_ref, thread_of
from core.store import Store

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
PO = "PO20261125-001"


class Crash(BaseException):
    """The dispatcher process dying: not an error it could catch and record."""


@dataclass
class Call:
    method: str  # "post" or "update"
    target: str
    title: str
    locale: str
    ref: MessageRef


@dataclass
class FakeChat:
    """A ChatAdapter that records deliveries and fails as scripted, by card title."""

    platform: str
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[BaseException]] = field(default_factory=dict)
    crash_after_post: set[str] = field(default_factory=set)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, title: str, *errors: BaseException) -> None:
        self.failures.setdefault(title, []).extend(errors)

    def post(self, target: str, card: Card) -> MessageRef:
        self._scripted(card)
        with self.lock:
            ref = MessageRef(target, f"{len(self.calls) + 1}.000")
            self.calls.append(Call("post", target, card.title, card.text, ref))
        if card.title in self.crash_after_post:
            self.crash_after_post.discard(card.title)
            raise Crash(card.title)  # the platform has it; our record of that is lost
        return ref

    def update(self, ref: MessageRef, card: Card) -> MessageRef:
        self._scripted(card)
        with self.lock:
            self.calls.append(Call("update", ref.channel, card.title, card.text, ref))
        return ref

    def titles(self, method: str | None = None) -> list[str]:
        return [call.title for call in self.calls if method in (None, call.method)]

    def _scripted(self, card: Card) -> None:
        if self.delay:
            time.sleep(self.delay)  # widens the window two dispatchers could collide in
        with self.lock:
            queued = self.failures.get(card.title)
            error = queued.pop(0) if queued else None
        if error is not None:
            raise error


def render(card: dict[str, Any], locale: str) -> Card:
    return Card(title=card["title"], text=locale)


@dataclass
class Outbox:
    store: Store
    slack: FakeChat
    telegram: FakeChat

    def add(
        self,
        title: str,
        *,
        key: str | None = None,
        platform: str = "slack",
        target: str = "C-APPROVALS",
        at: datetime = NOW,
    ) -> int:
        with self.store.unit_of_work() as session:
            row = OutboxMessage(
                platform=platform,
                target=target,
                card={"title": title},
                dedupe_key=key,
                next_attempt_at=at,
                created_at=at,
            )
            session.add(row)
            session.flush()
            assert row.id is not None
            return row.id

    def dispatch(
        self, now: datetime, adapters: dict[str, FakeChat] | None = None, **kwargs: Any
    ) -> DispatchReport:
        chats = (
            adapters if adapters is not None else {"slack": self.slack, "telegram": self.telegram}
        )
        return dispatch_outbox(self.store, chats, render, now=now, **kwargs)

    def row(self, row_id: int) -> OutboxMessage:
        with self.store.read() as session:
            found = session.get(OutboxMessage, row_id)
            assert found is not None
            return found

    def rows(self) -> list[OutboxMessage]:
        with self.store.read() as session:
            return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.fixture
def outbox(any_store: Store) -> Outbox:
    return Outbox(any_store, FakeChat("slack"), FakeChat("telegram"))


def _po_key(event: str, version: int, target: str = "C-APPROVALS", po: str = PO) -> str:
    return f"po:{po}:{event}:{version}:slack:{target}"


def _counts(report: DispatchReport) -> tuple[int, int, int, int, int]:
    return report.sent, report.updated, report.retried, report.failed, report.skipped


# --- keys and threads ---------------------------------------------------------------------


def test_the_thread_is_the_key_up_to_its_second_colon() -> None:
    assert thread_of(_po_key("approve", 3)) == f"po:{PO}"
    assert thread_of("alert:17:resolved") == "alert:17"
    assert thread_of("daily:2026-11-25") is None  # no thread: always a fresh post
    assert thread_of(None) is None


def test_backoff_grows_and_is_capped() -> None:
    for attempts in range(6):
        base = timedelta(seconds=5 * 2**attempts)
        assert base / 2 <= backoff(attempts) <= base
    assert timedelta(minutes=7.5) <= backoff(40) <= timedelta(minutes=15)


# --- 429, 5xx, permanent errors -----------------------------------------------------------


def test_a_429_waits_exactly_retry_after_and_pauses_the_platform(outbox: Outbox) -> None:
    first = outbox.add("a")
    second = outbox.add("b", target="C-BUYERS")
    other = outbox.add("c", platform="telegram", target="-100200")
    outbox.slack.fail("a", DeliveryError("ratelimited", retry_after=2))

    report = outbox.dispatch(NOW)

    assert _counts(report) == (1, 0, 1, 0, 1)
    assert outbox.slack.calls == []  # nothing else went to Slack in that round
    assert outbox.telegram.titles() == ["c"]
    limited, paused = outbox.row(first), outbox.row(second)
    assert (limited.status, limited.attempts, limited.last_error) == ("pending", 1, "ratelimited")
    assert as_utc(limited.next_attempt_at) == NOW + timedelta(seconds=2)
    assert (paused.status, paused.attempts) == ("pending", 0)  # not attempted
    assert as_utc(paused.next_attempt_at) == NOW + timedelta(seconds=2)
    assert outbox.row(other).status == "sent"

    assert outbox.dispatch(NOW + timedelta(seconds=1)).delivered == 0  # still paused
    assert outbox.dispatch(NOW + timedelta(seconds=2)).sent == 2
    assert outbox.dispatch(NOW + timedelta(hours=1)).delivered == 0
    assert outbox.slack.titles() == ["a", "b"]  # each exactly once
    assert [row.status for row in outbox.rows()] == ["sent"] * 3


def test_server_errors_back_off_longer_each_time_and_are_never_permanent(
    outbox: Outbox,
) -> None:
    row_id = outbox.add("a")
    outbox.slack.fail(
        "a",
        DeliveryError("http_503"),
        DeliveryError("HTTP 502 Bad Gateway", permanent=True),  # a 5xx is never permanent
        ConnectionError("connection reset"),
    )
    waits, at = [], NOW
    for _ in range(3):
        report = outbox.dispatch(at)
        assert _counts(report) == (0, 0, 1, 0, 0)
        row = outbox.row(row_id)
        assert row.status == "pending"
        waits.append(as_utc(row.next_attempt_at) - at)
        assert outbox.dispatch(as_utc(row.next_attempt_at) - timedelta(seconds=1)).retried == 0
        at = as_utc(row.next_attempt_at)
    assert waits[0] < waits[1] < waits[2]
    assert timedelta(seconds=2.5) <= waits[0] <= timedelta(seconds=5)
    assert timedelta(seconds=10) <= waits[2] <= timedelta(seconds=20)
    assert outbox.row(row_id).last_error == "ConnectionError: connection reset"

    assert outbox.dispatch(at).sent == 1
    row = outbox.row(row_id)
    assert (row.status, row.attempts, row.message_ref) == ("sent", 4, "C-APPROVALS|1.000")
    assert outbox.slack.titles() == ["a"]


def test_a_permanent_error_fails_the_message_but_keeps_it(outbox: Outbox) -> None:
    row_id = outbox.add("a", target="C-GONE")
    outbox.add("b")
    outbox.slack.fail("a", DeliveryError("channel_not_found", permanent=True))

    assert _counts(outbox.dispatch(NOW)) == (1, 0, 0, 1, 0)
    failed = outbox.row(row_id)
    assert (failed.status, failed.attempts, failed.last_error) == ("failed", 1, "channel_not_found")
    assert failed.sent_at is None
    assert outbox.dispatch(NOW + timedelta(days=1)).delivered == 0  # not retried, not deleted
    assert outbox.slack.titles() == ["b"]
    assert len(outbox.rows()) == 2


def test_rows_for_a_platform_without_an_adapter_stay_pending(outbox: Outbox) -> None:
    waiting = outbox.add("t", platform="telegram", target="-100200")
    outbox.add("s")

    report = outbox.dispatch(NOW, adapters={"slack": outbox.slack})

    assert _counts(report) == (1, 0, 0, 0, 1)
    row = outbox.row(waiting)
    assert (row.status, row.attempts, as_utc(row.next_attempt_at)) == ("pending", 0, NOW)
    assert outbox.dispatch(NOW).sent == 1  # delivered once telegram has an adapter
    assert outbox.telegram.titles() == ["t"]


# --- threads: update in place, in order ---------------------------------------------------


def test_a_second_event_for_the_same_po_and_chat_updates_the_first_message(
    outbox: Outbox,
) -> None:
    submitted = outbox.add("submit", key=_po_key("submit", 2))
    assert outbox.dispatch(NOW).sent == 1
    first_ref = outbox.row(submitted).message_ref
    assert first_ref == "C-APPROVALS|1.000"

    approved = outbox.add("approve", key=_po_key("approve", 3))
    buyers = outbox.add("approve-buyers", key=_po_key("approve", 3, "C-BUYERS"), target="C-BUYERS")
    other_po = outbox.add("other", key=_po_key("submit", 2, po="PO20261125-002"))
    english = {"C-BUYERS": "en"}

    report = outbox.dispatch(NOW, locale_for=lambda _platform, chat: english.get(chat, "zh-TW"))

    assert _counts(report) == (2, 1, 0, 0, 0)
    assert [(c.method, c.title, c.ref.encode(), c.locale) for c in outbox.slack.calls] == [
        ("post", "submit", first_ref, "zh-TW"),
        ("update", "approve", first_ref, "zh-TW"),  # the first message, not a new one
        ("post", "approve-buyers", "C-BUYERS|3.000", "en"),  # another chat: its own message
        ("post", "other", "C-APPROVALS|4.000", "zh-TW"),  # another PO: its own message
    ]
    assert outbox.row(approved).message_ref == first_ref
    with outbox.store.read() as session:
        assert previous_ref(session, outbox.row(buyers)) is None
        assert previous_ref(session, outbox.row(other_po)) is None


def test_events_queued_together_go_out_in_order_in_one_round(outbox: Outbox) -> None:
    outbox.add("opened", key="alert:17:opened:slack:C-ALERTS", target="C-ALERTS")
    resolved = outbox.add("resolved", key="alert:17:resolved:slack:C-ALERTS", target="C-ALERTS")

    assert _counts(outbox.dispatch(NOW)) == (1, 1, 0, 0, 0)
    assert [(c.method, c.title) for c in outbox.slack.calls] == [
        ("post", "opened"),
        ("update", "resolved"),
    ]
    assert outbox.row(resolved).message_ref == "C-ALERTS|1.000"


def test_a_later_card_waits_for_an_earlier_one_that_failed(outbox: Outbox) -> None:
    first = outbox.add("submit", key=_po_key("submit", 2))
    second = outbox.add("approve", key=_po_key("approve", 3))
    outbox.slack.fail("submit", DeliveryError("http_500"))

    assert _counts(outbox.dispatch(NOW)) == (0, 0, 1, 0, 1)
    retry_at = as_utc(outbox.row(first).next_attempt_at)
    held = outbox.row(second)
    assert (held.status, held.attempts, as_utc(held.next_attempt_at)) == ("pending", 0, retry_at)

    # A round where only the later card is due does not let it overtake.
    third = outbox.add("send", key=_po_key("send", 4), at=NOW)
    assert _counts(outbox.dispatch(NOW)) == (0, 0, 0, 0, 1)
    assert as_utc(outbox.row(third).next_attempt_at) == retry_at

    assert _counts(outbox.dispatch(retry_at)) == (1, 2, 0, 0, 0)
    assert [(c.method, c.title) for c in outbox.slack.calls] == [
        ("post", "submit"),
        ("update", "approve"),
        ("update", "send"),
    ]


def test_an_update_of_a_deleted_message_posts_a_new_one(outbox: Outbox) -> None:
    outbox.add("submit", key=_po_key("submit", 2))
    outbox.dispatch(NOW)
    approved = outbox.add("approve", key=_po_key("approve", 3))
    outbox.slack.fail("approve", DeliveryError("message_not_found", permanent=True))

    assert _counts(outbox.dispatch(NOW)) == (1, 0, 0, 0, 0)
    new_ref = outbox.row(approved).message_ref
    assert new_ref == "C-APPROVALS|2.000"

    outbox.add("send", key=_po_key("send", 4))
    assert outbox.dispatch(NOW).updated == 1
    assert outbox.slack.calls[-1].ref.encode() == new_ref  # the thread now lives there


# --- concurrency and crashes --------------------------------------------------------------


def _together(*calls: Callable[[], Any]) -> list[Any]:
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
        thread.join(120)
    return results


def test_two_dispatchers_at_once_send_each_row_exactly_once(outbox: Outbox) -> None:
    for number in range(40):
        platform = "slack" if number % 2 else "telegram"
        outbox.add(
            f"m{number}",
            key=f"po:PO-{number:03}:submit:2:{platform}:C1",
            platform=platform,
            target="C1",
        )
    outbox.slack.delay = outbox.telegram.delay = 0.002

    def dispatcher() -> int:
        delivered = 0
        while (report := outbox.dispatch(NOW, limit=5)).delivered:
            assert report.retried == report.failed == 0
            delivered += report.delivered
        return delivered

    counts = _together(dispatcher, dispatcher)

    assert all(isinstance(count, int) for count in counts), counts
    assert sum(counts) == 40
    titles = outbox.slack.titles("post") + outbox.telegram.titles("post")
    assert sorted(titles) == sorted(f"m{number}" for number in range(40))
    assert all((row.status, row.attempts) == ("sent", 1) for row in outbox.rows())


def test_postgresql_claims_skip_rows_locked_by_another_claim(pg_store: Store) -> None:
    outbox = Outbox(pg_store, FakeChat("slack"), FakeChat("telegram"))
    ids = [outbox.add(f"m{number}") for number in range(5)]
    with pg_store.unit_of_work() as first:
        mine = [row.id for row in due(first, NOW, limit=2)]
        with pg_store.unit_of_work() as second:
            theirs = [row.id for row in due(second, NOW, limit=10)]
    assert mine == ids[:2]
    assert theirs == ids[2:]


def test_a_crash_between_post_and_mark_sent_is_retried_after_the_lease(outbox: Outbox) -> None:
    """At least once: the platform got the message but we never recorded it, so it is
    posted again once the dead dispatcher's lease runs out (a duplicate, never a loss)."""
    row_id = outbox.add("a")
    outbox.slack.crash_after_post.add("a")

    with pytest.raises(Crash):
        outbox.dispatch(NOW)

    row = outbox.row(row_id)
    assert (row.status, row.attempts, row.message_ref) == ("pending", 0, None)
    assert as_utc(row.next_attempt_at) == NOW + LEASE
    assert outbox.dispatch(NOW + LEASE - timedelta(seconds=1)).delivered == 0  # still leased
    assert outbox.dispatch(NOW + LEASE).sent == 1
    assert outbox.slack.titles() == ["a", "a"]
    row = outbox.row(row_id)
    assert (row.status, row.message_ref) == (OutboxStatus.SENT, "C-APPROVALS|2.000")
    assert as_utc(row.sent_at or NOW) == NOW + LEASE
