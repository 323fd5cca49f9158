"""The neutral chat model (adapters/chat.py) rendered to Slack Block Kit: pure functions, no I/O.

Slack refuses a whole message (`invalid_blocks`) when one limit is broken, so every limit is
applied here: long text is truncated with "…" or split over several blocks, never sent as is.
Lengths are counted in UTF-16 code units, which is never less than Python's `len`, so the
result fits whichever way Slack counts an emoji.

Text the bot wrote for people is escaped (`&`, `<`, `>`) wherever Slack parses mrkdwn, so a SKU
name like "<毛巾&浴巾>" can neither break the message nor forge a mention or a link.
"""

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from adapters.chat import Button, ButtonStyle, Card, Field, Form, Input, Table, Tone
from adapters.text_table import ELLIPSIS, table_lines

Block = dict[str, Any]

# Block Kit limits, as in slack_sdk.models (blocks, block_elements, basic_components, views).
MAX_BLOCKS = 50  # per message
HEADER_TEXT_MAX = 150
SECTION_TEXT_MAX = 3000
SECTION_FIELDS_MAX = 10
FIELD_TEXT_MAX = 2000
ACTIONS_ELEMENTS_MAX = 25
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
ID_MAX = 255  # action_id, block_id, callback_id
CONFIRM_TITLE_MAX = 100
CONFIRM_TEXT_MAX = 300
CONFIRM_BUTTON_MAX = 30
CONTEXT_ELEMENTS_MAX = 10
IMAGE_ALT_MAX = 2000
VIEW_TITLE_MAX = 24  # also submit and close labels
VIEW_BLOCKS_MAX = 100
PRIVATE_METADATA_MAX = 3000
INPUT_LABEL_MAX = 2000
INPUT_HINT_MAX = 2000
TEXT_INPUT_MAX = 3000
# chat.postMessage accepts far more, but the fallback only feeds notifications and previews.
FALLBACK_TEXT_MAX = 3000

TONE_MARKS: Mapping[Tone, str] = {
    Tone.RED: "🔴",
    Tone.ORANGE: "🟠",
    Tone.GREEN: "🟢",
    Tone.INFO: "ℹ️",
    Tone.DONE: "✅",
}

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_SUFFIX = re.compile(r"#\d+$")
_WHOLE = re.compile(r"^[-+]?\d+$")
_CODE_FENCE = 8  # "```\n" + "\n```"
_TABLE_LINE_MAX = 990  # header + rule + one row always fit one section


# --- text helpers -----------------------------------------------------------------------------


def _size(text: str) -> int:
    """Length as Slack may count it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _units(text: str, *, escape: bool) -> list[str]:
    # One unit per character, escaped as a whole, so truncation never cuts "&amp;" in half.
    return [_ESCAPES.get(ch, ch) for ch in text] if escape else list(text)


def _fit(text: str, limit: int, *, escape: bool = False) -> str:
    """`text` (escaped for mrkdwn when asked) cut to `limit`, ending in "…" when cut."""
    units = _units(text, escape=escape)
    if sum(map(_size, units)) <= limit:
        return "".join(units)
    budget = limit - _size(ELLIPSIS)
    kept: list[str] = []
    for unit in units:
        budget -= _size(unit)
        if budget < 0:
            break
        kept.append(unit)
    return "".join(kept) + ELLIPSIS


def _split(text: str, limit: int, *, escape: bool) -> list[str]:
    """`text` in pieces of at most `limit`, broken at line ends where possible; blank pieces
    are dropped (Slack refuses empty text objects)."""
    pieces: list[str] = []
    current: list[str] = []
    used = 0
    for line in text.split("\n"):
        for part in _hard_split(_units(line, escape=escape), limit):
            extra = _size(part) + (1 if current else 0)
            if current and used + extra > limit:
                pieces.append("\n".join(current))
                current, used, extra = [], 0, _size(part)
            current.append(part)
            used += extra
    if current:
        pieces.append("\n".join(current))
    return [piece for piece in pieces if piece.strip()]


def _hard_split(units: Sequence[str], limit: int) -> Iterator[str]:
    part: list[str] = []
    used = 0
    for unit in units:
        if part and used + _size(unit) > limit:
            yield "".join(part)
            part, used = [], 0
        part.append(unit)
        used += _size(unit)
    yield "".join(part)


def _plain(text: str, limit: int, *, default: str = ELLIPSIS) -> dict[str, str]:
    # plain_text is shown verbatim: no escaping, but it must not be empty.
    return {"type": "plain_text", "text": _fit(text, limit) if text.strip() else default}


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


# --- tables -----------------------------------------------------------------------------------


def _table_blocks(table: Table) -> list[Block]:
    """The table as code blocks in sections of ≤ 3000 characters; the header repeats on each."""
    lines = [_fit(line, _TABLE_LINE_MAX, escape=True) for line in table_lines(table)]
    if not lines:
        return []
    head, body = (lines[:2], lines[2:]) if table.header else ([], lines)
    limit = SECTION_TEXT_MAX - _CODE_FENCE
    chunks: list[list[str]] = []
    current = list(head)
    for row in body:
        if len(current) > len(head) and _size("\n".join([*current, row])) > limit:
            chunks.append(current)
            current = list(head)
        current.append(row)
    chunks.append(current)
    return [_section("```\n" + "\n".join(chunk) + "\n```") for chunk in chunks]


# --- cards ------------------------------------------------------------------------------------


def _section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(text)}


def _field_text(item: Field) -> str:
    label = _fit(item.label.strip(), 300, escape=True)
    head = f"*{label}*" if label else ""
    room = FIELD_TEXT_MAX - _size(head) - (1 if head else 0)
    value = _fit(item.value, room, escape=True) if item.value.strip() else ""
    text = "\n".join(part for part in (head, value) if part)
    return text or "—"


def _field_blocks(fields: Sequence[Field]) -> list[Block]:
    texts = [_mrkdwn(_field_text(item)) for item in fields]
    return [
        {"type": "section", "fields": texts[i : i + SECTION_FIELDS_MAX]}
        for i in range(0, len(texts), SECTION_FIELDS_MAX)
    ]


def base_action_id(action_id: str) -> str:
    """The action id a button was made from: `po.approve#2` → `po.approve`."""
    return _SUFFIX.sub("", action_id)


def _unique_action_ids(buttons: Sequence[Button]) -> list[str]:
    """Each button's action id, suffixed `#2`, `#3`… on repeats: Slack wants them unique in a
    message, the bot routes on the base id (`base_action_id`)."""
    seen: dict[str, int] = {}
    ids: list[str] = []
    for button in buttons:
        action_id = button.action_id
        if not action_id or "#" in action_id:
            # "#" is reserved for the suffix, so base_action_id can always undo it.
            raise ValueError(f"action_id must be non-empty and without '#': {action_id!r}")
        seen[action_id] = seen.get(action_id, 0) + 1
        unique = action_id if seen[action_id] == 1 else f"{action_id}#{seen[action_id]}"
        if len(unique) > ID_MAX:
            raise ValueError(f"action_id longer than {ID_MAX} characters: {action_id[:40]!r}…")
        ids.append(unique)
    return ids


def _button(button: Button, action_id: str, cancel_label: str) -> Block:
    element: Block = {
        "type": "button",
        "action_id": action_id,
        "text": _plain(button.label, BUTTON_TEXT_MAX, default=action_id[:BUTTON_TEXT_MAX]),
    }
    if button.value:
        if _size(button.value) > BUTTON_VALUE_MAX:
            # A cut value would name another object (a different PO): refuse, never truncate.
            raise ValueError(f"button value longer than {BUTTON_VALUE_MAX}: {action_id}")
        element["value"] = button.value
    if button.style is not ButtonStyle.DEFAULT:
        element["style"] = button.style.value
    if button.confirm:
        confirm: Block = {
            "title": _plain(button.label, CONFIRM_TITLE_MAX),
            "text": _plain(button.confirm, CONFIRM_TEXT_MAX),
            "confirm": _plain(button.label, CONFIRM_BUTTON_MAX),
            "deny": _plain(button.deny or cancel_label, CONFIRM_BUTTON_MAX),
        }
        if button.style is not ButtonStyle.DEFAULT:
            confirm["style"] = button.style.value
        element["confirm"] = confirm
    return element


def _action_blocks(buttons: Sequence[Button], cancel_label: str) -> list[Block]:
    elements = [
        _button(button, action_id, cancel_label)
        for button, action_id in zip(buttons, _unique_action_ids(buttons), strict=True)
    ]
    return [
        {"type": "actions", "elements": elements[i : i + ACTIONS_ELEMENTS_MAX]}
        for i in range(0, len(elements), ACTIONS_ELEMENTS_MAX)
    ]


def _footer_blocks(footer: Sequence[str]) -> list[Block]:
    # One context block, lines kept as lines (separate elements would sit side by side).
    pieces = _split("\n".join(footer), SECTION_TEXT_MAX, escape=True)[:CONTEXT_ELEMENTS_MAX]
    return [{"type": "context", "elements": [_mrkdwn(p) for p in pieces]}] if pieces else []


def _header(card: Card) -> Block:
    mark = TONE_MARKS[card.tone]
    title = " ".join(card.title.split())  # a header is one line
    text = f"{mark} {title}" if title else mark
    return {"type": "header", "text": {"type": "plain_text", "text": _fit(text, HEADER_TEXT_MAX)}}


def card_blocks(
    card: Card, *, image_file_id: str | None = None, cancel_label: str = "取消"
) -> list[Block]:
    """The card as Block Kit blocks, within every Block Kit limit (≤ 50 blocks).

    Order: header (tone mark + title), text, fields, table, image (when `image_file_id`, a file
    already uploaded to Slack, is given), buttons, footer. When the blocks would exceed 50, text,
    fields and table are cut (in that order of keeping) and a "…" context marks the cut; header,
    image, buttons and footer are always kept. `cancel_label` is the "no" of confirm dialogs,
    in the reader's language.

    Raises ValueError for what cannot be cut without changing meaning: an empty action id, one
    with "#", a button value over 2000 characters, or more buttons than 50 blocks can hold.
    """
    fixed_top = [_header(card)]
    image: list[Block] = []
    if card.image is not None and image_file_id:
        alt = card.image.alt.strip() or card.image.filename
        image = [
            {
                "type": "image",
                "slack_file": {"id": image_file_id},
                "alt_text": _fit(alt, IMAGE_ALT_MAX),
            }
        ]
    tail = [*image, *_action_blocks(card.buttons, cancel_label), *_footer_blocks(card.footer)]
    if len(fixed_top) + len(tail) > MAX_BLOCKS:
        raise ValueError(f"too many buttons for one message: {len(card.buttons)}")

    groups = [
        [_section(piece) for piece in _split(card.text, SECTION_TEXT_MAX, escape=True)],
        _field_blocks(card.fields),
        _table_blocks(card.table) if card.table is not None else [],
    ]
    budget = MAX_BLOCKS - len(fixed_top) - len(tail)
    middle = [block for group in groups for block in group]
    if len(middle) > budget:
        # Keep what fits and say something was left out; the full card is in the app/CLI.
        marker = {"type": "context", "elements": [_mrkdwn(ELLIPSIS)]}
        middle = [*middle[: budget - 1], marker] if budget > 0 else []
    return [*fixed_top, *middle, *tail]


def card_text(card: Card) -> str:
    """The notification text (`text` of chat.postMessage): tone mark, title and text."""
    return _fit(f"{TONE_MARKS[card.tone]} {card.fallback()}", FALLBACK_TEXT_MAX, escape=True)


# --- forms (modals) ---------------------------------------------------------------------------


def _check_id(kind: str, value: str) -> None:
    if not value or len(value) > ID_MAX:
        raise ValueError(f"{kind} must be 1–{ID_MAX} characters: {value[:40]!r}")


def _element(item: Input) -> Block:
    if item.number:
        element: Block = {
            "type": "number_input",
            "action_id": item.input_id,
            "is_decimal_allowed": False,
        }
        if item.min_value is not None:
            element["min_value"] = str(item.min_value)
        initial = item.initial.strip()
        if initial:
            if not _WHOLE.match(initial):
                raise ValueError(f"{item.input_id}: initial {initial!r} is not a whole number")
            if item.min_value is not None and int(initial) < item.min_value:
                raise ValueError(f"{item.input_id}: initial {initial} below {item.min_value}")
            element["initial_value"] = str(int(initial))
        return element
    element = {"type": "plain_text_input", "action_id": item.input_id}
    if item.multiline:
        element["multiline"] = True
    if item.initial:
        element["initial_value"] = _fit(item.initial, TEXT_INPUT_MAX)
    return element


def form_view(form: Form, *, private_metadata: str, close: str = "取消") -> dict[str, Any]:
    """The form as a `modal` view for views.open. Each input is an `input` block whose
    block_id and action_id are the input_id, so `view_values` reads them back by that id.
    `close` is the cancel button's label, in the reader's language.

    Raises ValueError when private_metadata is over 3000 characters (cutting it would lose the
    context the submission needs), or for empty, too long or repeated ids."""
    if _size(private_metadata) > PRIVATE_METADATA_MAX:
        raise ValueError(f"private_metadata longer than {PRIVATE_METADATA_MAX} characters")
    _check_id("callback_id", form.form_id)
    ids = [item.input_id for item in form.inputs]
    for input_id in ids:
        _check_id("input_id", input_id)
    if len(set(ids)) != len(ids):
        raise ValueError(f"repeated input_id in form {form.form_id}")

    blocks: list[Block] = []
    if form.intro.strip():
        blocks.append(_section(_fit(form.intro, SECTION_TEXT_MAX, escape=True)))
    for item in form.inputs:
        block: Block = {
            "type": "input",
            "block_id": item.input_id,
            "label": _plain(item.label, INPUT_LABEL_MAX, default=item.input_id),
            "element": _element(item),
        }
        if item.optional:
            block["optional"] = True
        if item.hint.strip():
            block["hint"] = _plain(item.hint, INPUT_HINT_MAX)
        blocks.append(block)
    if not blocks or len(blocks) > VIEW_BLOCKS_MAX:
        raise ValueError(f"a modal holds 1–{VIEW_BLOCKS_MAX} blocks, form has {len(blocks)}")

    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": form.form_id,
        "title": _plain(form.title, VIEW_TITLE_MAX),
        "close": _plain(form.close or close, VIEW_TITLE_MAX),
        "private_metadata": private_metadata,
        "blocks": blocks,
    }
    if form.inputs:  # Slack refuses a submit button on a view without inputs
        view["submit"] = _plain(form.submit, VIEW_TITLE_MAX, default="OK")
    return view


def _state_value(state: Mapping[str, Any]) -> str:
    value = state.get("value")
    if value is None and isinstance(state.get("selected_option"), Mapping):
        value = state["selected_option"].get("value")
    return "" if value is None else str(value)


def view_values(view: Mapping[str, Any]) -> dict[str, str]:
    """A `view_submission` payload's view read back as input_id → text. Inputs the person left
    empty (Slack sends `value: null` or leaves them out) read as ""."""
    values: dict[str, str] = {}
    for block in view.get("blocks") or ():
        element = block.get("element") or {}
        if block.get("type") == "input" and element.get("action_id"):
            values[element["action_id"]] = ""
    state = (view.get("state") or {}).get("values") or {}
    for actions in state.values():
        for action_id, action_state in (actions or {}).items():
            values[action_id] = _state_value(action_state or {})
    return values


def form_errors(errors: Mapping[str, str]) -> dict[str, Any]:
    """The ack body that keeps the modal open and shows each message under its input
    (input_id is the block_id)."""
    if not errors:
        raise ValueError("form_errors needs at least one error; ack() plainly to close the view")
    return {"response_action": "errors", "errors": dict(errors)}
