"""The neutral chat model every adapter renders: cards, buttons and forms out; interactions in.

The bot builds `Card`s and `Form`s (already translated: every text here is what a reader
sees) and hands them to a `ChatAdapter`; adapters turn them into Block Kit, Telegram
keyboards or terminal output, and turn platform payloads back into `Interaction`s. Nothing
here knows Slack or Telegram.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Tone(StrEnum):
    """How loud a card is: a pick colour or an alert severity, one scale for all adapters."""

    RED = "red"
    ORANGE = "orange"
    GREEN = "green"
    INFO = "info"
    DONE = "done"  # finished: approved, rejected, resolved…


class ButtonStyle(StrEnum):
    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


@dataclass(frozen=True)
class Button:
    """`action_id` names what the press does; `value` carries the object (PO number, alert id)."""

    action_id: str
    label: str
    value: str
    style: ButtonStyle = ButtonStyle.DEFAULT
    confirm: str | None = None  # "are you sure?" text, when the press is hard to undo
    deny: str = ""  # the confirm dialog's "no", in the reader's language


@dataclass(frozen=True)
class Field:
    label: str
    value: str


@dataclass(frozen=True)
class Table:
    """Rows under a header, e.g. PO lines; adapters render it as aligned text."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Image:
    """A chart: PNG bytes the adapter uploads, with alt text for screen readers."""

    png: bytes
    alt: str
    filename: str = "chart.png"


@dataclass(frozen=True)
class Document:
    """A file sent with the card as its caption (a supplier's PO as PDF); adapters without
    files show the card alone. Never updated in place: a document is sent once."""

    data: bytes
    filename: str
    mime: str = "application/pdf"


@dataclass(frozen=True)
class Card:
    """One message: a title, fields, optional table and image, buttons, and a footer that says
    what happened (who approved, when). `text` is the plain fallback (notifications, logs)."""

    title: str
    text: str = ""
    tone: Tone = Tone.INFO
    fields: tuple[Field, ...] = ()
    table: Table | None = None
    image: Image | None = None
    buttons: tuple[Button, ...] = ()
    footer: tuple[str, ...] = ()
    document: Document | None = None

    def fallback(self) -> str:
        return " — ".join(part for part in (self.title, self.text) if part)


@dataclass(frozen=True)
class Input:
    """One field of a form. `number` inputs accept whole numbers only."""

    input_id: str
    label: str
    initial: str = ""
    multiline: bool = False
    number: bool = False
    min_value: int | None = None
    optional: bool = False
    hint: str = ""


@dataclass(frozen=True)
class Form:
    """A dialog asking for input (Slack: a modal), e.g. a rejection reason or new quantities.
    `form_id` routes the submission; `context` travels with it, untouched by the user."""

    form_id: str
    title: str
    submit: str
    inputs: tuple[Input, ...]
    context: str = ""
    intro: str = ""
    close: str = ""  # the cancel button, in the reader's language


@dataclass(frozen=True)
class MessageRef:
    """Where a message lives, so it can be updated in place."""

    channel: str
    ts: str
    ephemeral: bool = False  # seen by one person only: replaced, never updated by ts

    def encode(self) -> str:
        return f"{self.channel}|{self.ts}"

    @classmethod
    def decode(cls, text: str) -> "MessageRef":
        channel, _, ts = text.partition("|")
        return cls(channel, ts)


@dataclass(frozen=True)
class Interaction:
    """A button press or form submission, in the platform's own identities.

    `key` is the platform's identity of this one press (team, user, action id, message ts,
    action ts for Slack): a retry or redelivery of the same press carries the same key.
    """

    platform: str
    team: str
    user: str
    action_id: str
    value: str
    key: str
    user_name: str = ""
    message: MessageRef | None = None
    values: Mapping[str, str] = field(default_factory=dict)  # form inputs by input_id


@dataclass(frozen=True)
class Command:
    """A slash command (or a Telegram /command): the words after the command name."""

    platform: str
    team: str
    user: str
    channel: str
    text: str
    user_name: str = ""
    key: str = ""  # this invocation's identity, for commands that change state (approve)


@dataclass(frozen=True)
class Reply:
    """What a handler answers: a card and/or a short text, seen only by the person who asked
    (`private`) or by the channel; `replace` updates the message that was pressed."""

    card: Card | None = None
    text: str = ""
    private: bool = True
    replace: bool = False
    form: Form | None = None  # open this dialog instead (needs the press's trigger)
    errors: Mapping[str, str] = field(default_factory=dict)  # form input_id → what is wrong
    refused: bool = False  # the text says no: adapters show it prominently (a pop-up)


class DeliveryError(Exception):
    """A message could not be delivered. `retry_after` (seconds) is set when the platform
    said when to come back (HTTP 429); `permanent` when retrying cannot help."""

    def __init__(
        self, reason: str, *, retry_after: float | None = None, permanent: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.permanent = permanent


class ChatAdapter(Protocol):
    """What the bot needs from a chat platform to deliver cards. Errors: DeliveryError."""

    platform: str

    def post(self, target: str, card: Card) -> MessageRef: ...

    def update(self, ref: MessageRef, card: Card) -> MessageRef: ...


def card_json(card: Card) -> dict[str, Any]:
    """A card as plain data (for logs and tests), images reduced to their alt text and a
    document to its file name."""
    return {
        "title": card.title,
        "text": card.text,
        "tone": card.tone.value,
        "fields": [[f.label, f.value] for f in card.fields],
        "table": [list(card.table.header), *map(list, card.table.rows)] if card.table else None,
        "image": card.image.alt if card.image else None,
        "buttons": [[b.action_id, b.label, b.value] for b in card.buttons],
        "footer": list(card.footer),
        **({"document": card.document.filename} if card.document else {}),
    }
