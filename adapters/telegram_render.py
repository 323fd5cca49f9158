"""The neutral chat model as Telegram messages: HTML text, inline keyboards, compact callbacks.

Telegram has no modals: a `Form` becomes a prompt the user answers by replying to it
(ForceReply). The prompt carries its form id and context in a last line (`#po.reject_form
PO…`), so the answer can be routed without any state kept in memory — a restart or a second
process loses nothing. Callback data is at most 64 bytes: a short code for the action and
the value (`pa|PO20261125-001`), never PTB's in-memory arbitrary callback data.
"""

import html
from collections.abc import Sequence

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup

from adapters.chat import Card, Form, Table, Tone
from adapters.text_table import display_width, pad

TEXT_MAX = 4096  # sendMessage / editMessageText
CAPTION_MAX = 1024  # sendPhoto
CALLBACK_MAX = 64  # bytes
BUTTONS_PER_ROW = 3
TONE_MARKS = {Tone.RED: "🔴", Tone.ORANGE: "🟠", Tone.GREEN: "🟢", Tone.INFO: "ℹ️", Tone.DONE: "✅"}
FORM_TAG = "#"  # the prompt's last line: "#<form_id> <context>"


class CallbackTooLongError(ValueError):
    pass


def encode_callback(action_id: str, value: str, codes: dict[str, str]) -> str:
    """`codes` maps action ids to short codes (the bot's own table); unknown ids pass as is."""
    data = f"{codes.get(action_id, action_id)}|{value}"
    if len(data.encode()) > CALLBACK_MAX:
        raise CallbackTooLongError(f"callback data over {CALLBACK_MAX} bytes: {data[:20]}…")
    return data


def decode_callback(data: str, codes: dict[str, str]) -> tuple[str, str]:
    short, _, value = data.partition("|")
    actions = {code: action for action, code in codes.items()}
    return actions.get(short, short), value


def card_html(card: Card, *, limit: int = TEXT_MAX) -> str:
    """Title in bold, text, fields as `label: value` lines, the table in <pre>, the footer in
    italics; cut to `limit` characters without breaking a tag."""
    mark = TONE_MARKS.get(card.tone, "")
    parts = [f"{mark} <b>{_e(card.title)}</b>".strip()]
    if card.text:
        parts.append(_e(card.text))
    if card.fields:
        parts.append("\n".join(f"{_e(f.label)}：{_e(f.value)}" for f in card.fields))
    if card.table is not None:
        parts.append(f"<pre>{_e(chr(10).join(table_lines(card.table)))}</pre>")
    if card.footer:
        parts.append("\n".join(f"<i>{_e(line)}</i>" for line in card.footer))
    return _fit(parts, limit)


def keyboard(card: Card, codes: dict[str, str]) -> InlineKeyboardMarkup | None:
    if not card.buttons:
        return None
    buttons = [
        InlineKeyboardButton(b.label, callback_data=encode_callback(b.action_id, b.value, codes))
        for b in card.buttons
    ]
    rows = [buttons[i : i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]
    return InlineKeyboardMarkup(rows)


def form_prompt(
    form: Form, *, message_id: str | None = None, mention: tuple[int, str] | None = None
) -> tuple[str, ForceReply]:
    """The question to reply to, ending with the routing tag (and the card's message id, so
    the answer can update that card)."""
    lines = [f"<b>{_e(form.title)}</b>"]
    if mention is not None:  # a selective ForceReply opens the reply box for who is named
        user_id, name = mention
        lines[0] = f'<a href="tg://user?id={user_id}">{_e(name)}</a> {lines[0]}'
    if form.intro:
        lines.append(_e(form.intro))
    lines.extend(
        f"• {_e(item.label)}" + (f"（{_e(item.hint)}）" if item.hint else "")
        for item in form.inputs
    )
    card = f" @{message_id}" if message_id else ""
    lines.append(f"{FORM_TAG}{form.form_id} {_e(form.context)}{card}")
    placeholder = form.inputs[0].label[:64] if form.inputs else None
    return "\n".join(lines), ForceReply(selective=True, input_field_placeholder=placeholder)


def read_prompt(prompt_text: str) -> tuple[str, str, str | None] | None:
    """(form_id, context, card message id) from a replied-to prompt; None for any other
    message. Telegram gives back the prompt as plain text, entities already unescaped."""
    last = prompt_text.strip().rsplit("\n", 1)[-1]
    if not last.startswith(FORM_TAG):
        return None
    form_id, _, rest = last[len(FORM_TAG) :].partition(" ")
    context, _, card = rest.strip().partition(" @")
    return (form_id, context.strip(), card.strip() or None) if form_id else None


def table_lines(table: Table) -> list[str]:
    """Header and rows as lines for <pre>, every column left-aligned by display width (no
    rule, no cut cells: Slack's code-block layout is `adapters.text_table.table_lines`)."""
    rows: Sequence[Sequence[str]] = [table.header, *table.rows]
    widths = [
        max(display_width(row[i]) for row in rows if i < len(row)) for i in range(len(table.header))
    ]
    return ["  ".join(pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


def _e(text: str) -> str:
    return html.escape(text, quote=False)


ELLIPSIS = "\n\n…"


def _fit(parts: list[str], limit: int) -> str:
    """Whole parts while they fit; a part that does not fit is dropped for an ellipsis, so
    no tag is ever cut in half."""
    kept: list[str] = []
    used = 0
    for part in parts:
        extra = len(part) + (2 if kept else 0)
        if used + extra > limit - len(ELLIPSIS):  # room left for the ellipsis part
            kept.append("…")
            break
        kept.append(part)
        used += extra
    return "\n\n".join(kept)
