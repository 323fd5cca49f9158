"""The e-mail adapter against a real SMTP server on loopback (aiosmtpd): what a card looks
like as a mail, and how SMTP replies become delivery outcomes."""

import re
import socket
from collections.abc import Iterator
from dataclasses import replace
from email.message import EmailMessage

import pytest

from adapters.chat import Card, DeliveryError, Field, Image, MessageRef, Table, Tone
from adapters.email import EmailChat, SmtpConfig
from adapters.email_render import compose
from tests.fakes.smtp import LocalSmtp

SENDER = "補貨小幫手 <bot@shop.tw>"
TO = "amy@shop.tw"
# The smallest valid PNG: 1x1 transparent.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
EVIL = "爆款<script>alert(1)</script>"


@pytest.fixture
def smtp() -> Iterator[LocalSmtp]:
    with LocalSmtp() as server:
        yield server


def _chat(smtp: LocalSmtp, **overrides: object) -> EmailChat:
    settings: dict[str, object] = {"starttls": False, "timeout": 5, "local_hostname": "localhost"}
    config = SmtpConfig(host=smtp.host, port=smtp.port, sender=SENDER)
    return EmailChat(replace(config, **(settings | overrides)))  # type: ignore[arg-type]


def _card(**overrides: object) -> Card:
    base = Card(
        title=f"🔴 即將斷貨：HOT {EVIL}",
        text="現有庫存撐不到補貨到貨。",
        tone=Tone.RED,
        fields=(Field("可售天數", "1.5 天"), Field("補貨點", "120")),
        table=Table(("品號", "品名", "數量"), (("HOT", EVIL, "48"), ("TEA", "紅茶", "1,200"))),
        footer=("更新於 11/25 09:00",),
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def _bodies(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None
    assert html is not None
    return plain.get_content(), html.get_content()


def test_a_card_becomes_plain_text_and_html_with_escaped_names() -> None:
    message = compose(_card(), sender=SENDER, to=TO, message_id="<m1@shop.tw>")
    raw = message.as_bytes()
    subject_line = next(line for line in raw.split(b"\n") if line.startswith(b"Subject:"))
    assert subject_line.isascii()
    assert b"=?utf-8?" in subject_line  # RFC 2047: readable in every mail client
    assert message["Subject"] == f"🔴 即將斷貨：HOT {EVIL}"
    plain, html = _bodies(message)
    assert message.get_content_type() == "multipart/alternative"

    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<th" in html
    assert "1,200" in html
    assert re.search(r"<td[^>]*>可售天數|<th[^>]*>可售天數", html)

    lines = plain.splitlines()
    header = next(line for line in lines if line.startswith("品號"))
    row = next(line for line in lines if line.startswith("TEA"))
    assert header.split() == ["品號", "品名", "數量"]
    assert row.endswith("1,200")  # numbers right-aligned under their header
    assert EVIL in plain  # plain text is shown as text: nothing to escape


def test_a_chart_is_attached_inline_and_shown_in_the_html() -> None:
    card = _card(image=Image(PNG, alt="風險最高的 10 個品項", filename="risk.png"))
    message = compose(card, sender=SENDER, to=TO, message_id="<m2@shop.tw>")
    _, html = _bodies(message)
    image = next(part for part in message.walk() if part.get_content_type() == "image/png")
    assert image.get_content() == PNG
    assert image.get_content_disposition() == "inline"
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html
    assert 'alt="風險最高的 10 個品項"' in html


def test_a_title_with_a_line_break_cannot_add_a_header() -> None:
    card = _card(title="PO\r\nBcc: everyone@example.com")
    message = compose(card, sender=SENDER, to=TO, message_id="<m3@shop.tw>")
    assert message["Bcc"] is None
    assert message["Subject"] == "PO Bcc: everyone@example.com"


def test_post_sends_one_mail_and_update_sends_a_reply(smtp: LocalSmtp) -> None:
    chat = _chat(smtp)
    first = chat.post(TO, _card())
    assert first.channel == TO
    assert first.ts.startswith("<")
    assert first.ts.endswith("@shop.tw>")
    assert len(MessageRef.decode(first.encode()).ts) == len(first.ts)

    second = chat.update(first, _card(title="✅ 已補貨"))  # a mail cannot be edited
    assert second.ts != first.ts
    sent = smtp.received
    assert [r.rcpt_tos for r in sent] == [(TO,), (TO,)]
    assert {r.mail_from for r in sent} == {"bot@shop.tw"}
    original, reply = (r.message for r in sent)
    assert original["Message-ID"] == first.ts
    assert reply["In-Reply-To"] == first.ts
    assert reply["Subject"] == "✅ 已補貨"
    assert original["From"].addresses[0].display_name == "補貨小幫手"
    assert original["Auto-Submitted"] == "auto-generated"


def test_a_temporary_smtp_failure_is_retried_not_permanent(smtp: LocalSmtp) -> None:
    smtp.fail_data("451 4.3.0 Try again later")
    with pytest.raises(DeliveryError) as failed:
        _chat(smtp).post(TO, _card())
    assert not failed.value.permanent
    assert "451" in failed.value.reason
    assert smtp.received == []
    _chat(smtp).post(TO, _card())
    assert len(smtp.received) == 1


def test_a_refused_recipient_is_permanent(smtp: LocalSmtp) -> None:
    smtp.refuse("gone@shop.tw")
    with pytest.raises(DeliveryError) as failed:
        _chat(smtp).post("gone@shop.tw", _card())
    assert failed.value.permanent
    assert "recipient refused" in failed.value.reason
    assert "5.1.1 User unknown" in failed.value.reason
    # No bare 5xx code: the dispatcher would read it as an HTTP server error and retry.
    assert not re.search(r"\b5\d\d\b", failed.value.reason)


def test_starttls_not_offered_is_an_error_not_a_clear_text_send(smtp: LocalSmtp) -> None:
    with pytest.raises(DeliveryError) as failed:
        _chat(smtp, starttls=True).post(TO, _card())
    assert not failed.value.permanent
    assert "STARTTLS" in failed.value.reason
    assert smtp.received == []


def test_an_unreachable_server_is_retried() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = SmtpConfig(
        host="127.0.0.1", port=port, sender=SENDER, starttls=False, local_hostname="localhost"
    )
    chat = EmailChat(config)
    with pytest.raises(DeliveryError) as failed:
        chat.post(TO, _card())
    assert not failed.value.permanent


def test_not_an_address_is_permanent_and_nothing_is_sent(smtp: LocalSmtp) -> None:
    with pytest.raises(DeliveryError) as failed:
        _chat(smtp).post("C-APPROVALS", _card())
    assert failed.value.permanent
    assert smtp.data_commands == 0
