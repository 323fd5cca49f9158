"""Cards as Telegram messages: HTML that never breaks, callbacks within 64 bytes, and form
prompts whose routing survives Telegram giving the text back without its markup."""

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.chat import Button, Card, Field, Form, Input, Table, Tone
from adapters.telegram_render import (
    CALLBACK_MAX,
    CallbackTooLongError,
    card_html,
    decode_callback,
    encode_callback,
    form_prompt,
    keyboard,
    read_prompt,
    table_lines,
)
from bot.ids import CALLBACK_CODES

TAG = re.compile(r"</?(b|i|pre|a)[^>]*>")


def test_callbacks_round_trip_and_fit() -> None:
    data = encode_callback("po.approve", "PO20261125-001", CALLBACK_CODES)
    assert data == "pa|PO20261125-001"
    assert decode_callback(data, CALLBACK_CODES) == ("po.approve", "PO20261125-001")
    with pytest.raises(CallbackTooLongError):
        encode_callback("po.approve", "x" * CALLBACK_MAX, CALLBACK_CODES)


def test_every_callback_code_is_unique_and_short() -> None:
    codes = list(CALLBACK_CODES.values())
    assert len(set(codes)) == len(codes)
    assert all(len(code) <= 3 and "|" not in code for code in codes)


def test_a_card_escapes_user_text_and_keeps_its_table_aligned() -> None:
    card = Card(
        title="採購單 <PO> & co",
        text="a < b",
        tone=Tone.RED,
        fields=(Field("供應商", "鮮乳坊"),),
        table=Table(("品號", "品名"), (("A1", "鮮乳"), ("B22", "tea"))),
        footer=("✅ amy",),
        buttons=(Button("po.approve", "核准", "PO1"),),
    )
    text = card_html(card)
    assert "&lt;PO&gt; &amp; co" in text
    assert text.startswith("🔴 <b>")
    lines = table_lines(card.table)  # type: ignore[arg-type]
    assert lines[1].index("鮮乳") == lines[2].index("tea")  # CJK counted double width
    markup = keyboard(card, CALLBACK_CODES)
    assert markup is not None
    assert markup.inline_keyboard[0][0].callback_data == "pa|PO1"


@given(st.text(min_size=1, max_size=300), st.integers(min_value=40, max_value=4096))
def test_html_is_always_balanced_and_within_the_limit(title: str, limit: int) -> None:
    card = Card(title=title, text=title * 5, table=Table(("x",), ((title,),) * 20))
    text = card_html(card, limit=limit)
    assert len(text) <= limit
    opened = [m.group(1) for m in TAG.finditer(text) if not m.group(0).startswith("</")]
    closed = [m.group(1) for m in TAG.finditer(text) if m.group(0).startswith("</")]
    assert opened == closed


def test_a_form_prompt_routes_its_answer_back() -> None:
    form = Form(
        "supplier.price_form",
        "調整價格",
        "送出",
        (Input("price", "新單價"),),
        context="PO20261125-001:S1-M01",
    )
    text, markup = form_prompt(form, message_id="42", mention=(6001, "sally"))
    assert 'href="tg://user?id=6001"' in text
    assert markup.selective is True
    plain = html.unescape(TAG.sub("", text))  # what Telegram hands back
    assert read_prompt(plain) == ("supplier.price_form", "PO20261125-001:S1-M01", "42")
    assert read_prompt("just a message") is None
