"""A neutral `Card` as an e-mail: multipart/alternative with a plain-text and an HTML body, the
chart (when there is one) inline in the HTML as multipart/related.

Every text of the card is data, never markup: the HTML escapes it all (a SKU named
`<script>` shows as those characters), and the subject is one line (a card title with a line
break cannot inject a header). Buttons are left out, since a mail cannot press them; the bot
says where to act instead. Pure functions, no I/O.
"""

import html
import re
import unicodedata
from email.message import EmailMessage
from email.utils import formatdate

from adapters.chat import Card, Table, Tone
from adapters.text_table import display_width, pad, table_lines

TONE_COLOURS = {
    Tone.RED: "#d32f2f",
    Tone.ORANGE: "#ef6c00",
    Tone.GREEN: "#2e7d32",
    Tone.INFO: "#1565c0",
    Tone.DONE: "#9e9e9e",
}
_NUMBER = re.compile(r"^(?=.*\d)[-+]?[\d,]*(?:\.\d+)?%?$")
_SUBJECT_LIMIT = 200  # characters: mail clients cut long subjects anyway


def compose(
    card: Card,
    *,
    sender: str,
    to: str,
    message_id: str,
    in_reply_to: str | None = None,
) -> EmailMessage:
    """The whole message, headers included; non-ASCII headers are RFC 2047 encoded on sending."""
    message = EmailMessage()
    message["Subject"] = one_line(card.title)[:_SUBJECT_LIMIT] or "-"
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = message_id
    if in_reply_to:  # a later state of the same thing: mail clients show it as a reply
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office robots stay quiet
    message.set_content(plain_text(card))
    cid = _content_id(message_id)
    message.add_alternative(html_body(card, cid if card.image else None), subtype="html")
    if card.image is not None:
        html_part = message.get_body(("html",))  # the alternative just added
        assert isinstance(html_part, EmailMessage)
        html_part.add_related(
            card.image.png,
            "image",
            "png",
            cid=f"<{cid}>",
            filename=card.image.filename,
            disposition="inline",
        )
    if card.document is not None:  # a supplier's PO file, mailed when its chat failed
        maintype, _, subtype = card.document.mime.partition("/")
        message.add_attachment(
            card.document.data, maintype, subtype, filename=card.document.filename
        )
    return message


def one_line(text: str) -> str:
    """Line breaks and control characters become single spaces."""
    cleaned = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return re.sub(r"\s+", " ", cleaned).strip()


# --- plain text ------------------------------------------------------------------------------


def plain_text(card: Card) -> str:
    blocks = [card.title]
    if card.text:
        blocks.append(card.text)
    if card.fields:
        width = max(display_width(field.label) for field in card.fields)
        blocks.append(
            "\n".join(f"{pad(field.label, width)}  {field.value}" for field in card.fields)
        )
    if card.table is not None and (card.table.header or card.table.rows):
        blocks.append("\n".join(line.rstrip() for line in table_lines(card.table)))
    if card.image is not None:
        blocks.append(f"[{card.image.alt}]")
    if card.footer:
        blocks.append("\n".join(card.footer))
    return "\n\n".join(blocks) + "\n"


# --- HTML ------------------------------------------------------------------------------------


def html_body(card: Card, image_cid: str | None) -> str:
    colour = TONE_COLOURS.get(card.tone, TONE_COLOURS[Tone.INFO])
    parts = [f'<h2 style="margin:0 0 8px">{_esc(card.title)}</h2>']
    if card.text:
        parts.append(f"<p>{_lines(card.text)}</p>")
    if card.fields:
        parts.append(_fields_html(card))
    if card.table is not None and (card.table.header or card.table.rows):
        parts.append(_table_html(card.table))
    if card.image is not None and image_cid:
        alt = _esc(card.image.alt)
        parts.append(f'<p><img src="cid:{_esc(image_cid)}" alt="{alt}" style="max-width:100%"></p>')
    if card.footer:
        footer = "<br>".join(_esc(line) for line in card.footer)
        parts.append(f'<p style="color:#555;font-size:90%">{footer}</p>')
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{_esc(card.title)}</title></head>\n"
        '<body style="font-family:sans-serif;line-height:1.4">\n'
        f'<div style="border-left:6px solid {colour};padding:4px 12px">\n{body}\n</div>\n'
        "</body></html>\n"
    )


def _fields_html(card: Card) -> str:
    rows = "".join(
        f'<tr><th style="text-align:left;padding:2px 12px 2px 0">{_esc(field.label)}</th>'
        f"<td>{_lines(field.value)}</td></tr>"
        for field in card.fields
    )
    return f"<table>{rows}</table>"


def _table_html(table: Table) -> str:
    cell = 'style="border:1px solid #ccc;padding:4px 8px{}"'
    head = "".join(f"<th {cell.format(';background:#f5f5f5')}>{_esc(h)}</th>" for h in table.header)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td {cell.format(';text-align:right' if _NUMBER.match(value) else '')}>"
            f"{_esc(value)}</td>"
            for value in row
        )
        + "</tr>"
        for row in table.rows
    )
    return (
        '<table style="border-collapse:collapse;margin:8px 0">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _lines(text: str) -> str:
    return "<br>".join(_esc(line) for line in str(text).splitlines())


def _content_id(message_id: str) -> str:
    """`<abc@host>` → `chart.abc@host`: the chart's Content-ID, unique with its message."""
    return "chart." + message_id.strip("<>")
