"""The console chat: a `ChatAdapter` whose chats are named rooms in one terminal.

The outbox delivers here exactly as to Slack or Telegram: `post` adds a numbered message to
the transcript and returns its `MessageRef` (chat, number); `update` rewrites that message
in place, as `chat.update` does. What reaches the screen depends on who the console user is
acting as (`watch`): messages in their chats are shown in full, messages elsewhere wait as
unread and are announced in one line, and shown when the user switches there. A delivery
round is batched (`begin` … `flush`) so a burst — the first monitor pass opens dozens of
alerts — shows the few loudest cards and a line saying how many more are in the room.

Images (charts) and documents are saved under `files_dir` and their paths printed; those
in an answer to the person's own command are also opened with the `viewer` when one is
given (the demo gives the system's viewer at an interactive terminal, never in tests).
"""

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from adapters.chat import Card, DeliveryError, Form, MessageRef, Tone
from adapters.console_render import ConsoleTexts, card_panel, file_name, form_panel

PLATFORM = "console"
SHOW_AT_ONCE = 3  # cards per room shown in full from one burst; the rest are listed
_LOUDNESS = {Tone.RED: 0, Tone.ORANGE: 1, Tone.GREEN: 2, Tone.INFO: 3, Tone.DONE: 4}


@dataclass
class ConsoleMessage:
    """One message of the transcript; `private` ones answer the person who asked."""

    number: int
    chat: str
    card: Card
    private: bool = False
    updates: int = 0
    files: list[str] = field(default_factory=list)

    @property
    def ref(self) -> MessageRef:
        return MessageRef(self.chat, str(self.number))


def system_viewer() -> Callable[[Path], None] | None:
    """The desktop's "open this file", when there is one (never needed by tests)."""
    opener = {"darwin": "open", "win32": "start"}.get(sys.platform, "xdg-open")
    found = shutil.which(opener)
    if found is None:
        return None

    def view(path: Path) -> None:
        quiet = subprocess.DEVNULL
        subprocess.Popen([found, str(path)], stdout=quiet, stderr=quiet)  # noqa: S603 (our file)

    return view


class ConsoleChat:
    """Chats in a terminal. `names` gives each chat id the name shown for it, `hints` what
    to type to read it (`/as supplier S01`)."""

    platform = PLATFORM

    def __init__(
        self,
        console: Console,
        *,
        files_dir: Path,
        names: Mapping[str, str] | None = None,
        hints: Mapping[str, str] | None = None,
        texts: ConsoleTexts | None = None,
        viewer: Callable[[Path], None] | None = None,
    ) -> None:
        self.console = console
        self.files_dir = files_dir
        self.names = dict(names or {})
        self.hints = dict(hints or {})
        self.texts = texts or ConsoleTexts()
        self.viewer = viewer  # None: files are saved and their paths printed, never opened
        self.messages: dict[int, ConsoleMessage] = {}
        self.watching: frozenset[str] = frozenset()
        self.unread: dict[str, list[int]] = {}
        self.shown: list[int] = []  # message numbers in the order they were put on screen
        self._batch: list[tuple[ConsoleMessage, bool]] | None = None

    # --- ChatAdapter -----------------------------------------------------------------------

    def post(self, target: str, card: Card) -> MessageRef:
        message = self._add(target, card, private=False)
        self._arrived(message, updated=False)
        return message.ref

    def update(self, ref: MessageRef, card: Card) -> MessageRef:
        message = self.messages.get(int(ref.ts)) if ref.ts.isdigit() else None
        if message is None or message.chat != ref.channel:
            raise DeliveryError(f"no message {ref.encode()}", permanent=True)
        if card == message.card:  # the reply already showed it: once is enough on a screen
            return ref
        message.card, message.updates = card, message.updates + 1
        message.files = self._save_files(message)
        self._arrived(message, updated=True)
        return ref

    # --- the person at the keyboard --------------------------------------------------------

    def reply(self, chat: str, card: Card) -> ConsoleMessage:
        """A private answer to a command or press, shown now (its buttons work like any)."""
        message = self._add(chat, card, private=True)
        self.show(message)
        return message

    def say(self, text: str, *, refused: bool = False) -> None:
        self.console.print(Text(text, style="bold red" if refused else "green"))

    def show_form(self, form: Form) -> None:
        self.console.print(form_panel(form, self.texts))

    def show(self, message: ConsoleMessage, *, updated: bool = False) -> None:
        self.console.print(
            card_panel(
                message.card,
                number=message.number,
                chat=self.name(message.chat),
                texts=self.texts,
                updated=updated,
                private=message.private,
                files=message.files,
            )
        )
        self.shown.append(message.number)

    def watch(self, chats: Iterable[str]) -> int:
        """Act from these chats from now on; their unread messages are shown. Returns how
        many were unread."""
        self.watching = frozenset(chats)
        waiting = [
            (self.messages[n], False) for chat in self.watching for n in self.unread.pop(chat, [])
        ]
        self._show_burst(sorted(waiting, key=lambda item: item[0].number))
        return len(waiting)

    def begin(self) -> None:
        """Collect what arrives until `flush` (one delivery round)."""
        self._batch = []

    def flush(self) -> None:
        batch, self._batch = self._batch or [], None
        latest: dict[int, tuple[ConsoleMessage, bool]] = {}
        for message, updated in batch:  # a message posted then updated shows once
            seen = latest.get(message.number)
            latest[message.number] = (message, updated and (seen is None or seen[1]))
        self._show_burst(list(latest.values()))

    # --- lookups (the caller says which chats the person may see) --------------------------

    def name(self, chat: str) -> str:
        return self.names.get(chat, chat)

    def visible(self, chats: Iterable[str]) -> list[ConsoleMessage]:
        allowed = set(chats)
        return [m for m in self.messages.values() if m.chat in allowed]

    def latest(self, chats: Iterable[str]) -> ConsoleMessage | None:
        """The card with buttons most recently shown on screen in one of `chats` (a card
        without buttons, such as a file sent after a PO, is nothing to press)."""
        allowed = set(chats)
        for number in reversed(self.shown):
            message = self.messages[number]
            if message.chat in allowed and message.card.buttons:
                return message
        return None

    def find(self, text: str, chats: Iterable[str]) -> ConsoleMessage | None:
        """The message in `chats` whose title or text contains `text`: the one put on
        screen last, else the newest not shown yet."""
        allowed, needle = set(chats), text.casefold()
        seen = dict.fromkeys(reversed(self.shown))
        order = [*seen, *(n for n in reversed(self.messages) if n not in seen)]
        for number in order:
            message = self.messages[number]
            found = needle in f"{message.card.title} {message.card.text}".casefold()
            if found and message.chat in allowed:
                return message
        return None

    # --- inside ----------------------------------------------------------------------------

    def _add(self, chat: str, card: Card, *, private: bool) -> ConsoleMessage:
        message = ConsoleMessage(len(self.messages) + 1, chat, card, private=private)
        self.messages[message.number] = message
        message.files = self._save_files(message)
        return message

    def _arrived(self, message: ConsoleMessage, *, updated: bool) -> None:
        if self._batch is not None:
            self._batch.append((message, updated))
        else:
            self._show_burst([(message, updated)])

    def _show_burst(self, arrived: list[tuple[ConsoleMessage, bool]]) -> None:
        rooms: dict[str, list[tuple[ConsoleMessage, bool]]] = {}
        for item in arrived:
            rooms.setdefault(item[0].chat, []).append(item)
        for chat, items in rooms.items():
            if chat in self.watching:
                self._show_room(chat, items)
            else:
                self._announce(chat, [message for message, _ in items])

    def _show_room(self, chat: str, items: list[tuple[ConsoleMessage, bool]]) -> None:
        """The loudest few in full (red first), in the order they came; the rest counted."""
        loudest = sorted(items, key=lambda item: _LOUDNESS.get(item[0].card.tone, 5))
        keep = {item[0].number for item in loudest[:SHOW_AT_ONCE]}
        for message, updated in items:
            if message.number in keep:
                self.show(message, updated=updated)
        if len(items) > SHOW_AT_ONCE:
            more = self.texts.more.format(n=len(items) - SHOW_AT_ONCE, chat=self.name(chat))
            self.console.print(Text(more, style="dim"))

    def _announce(self, chat: str, messages: list[ConsoleMessage]) -> None:
        waiting = self.unread.setdefault(chat, [])
        waiting.extend(m.number for m in messages if m.number not in waiting)
        hint = self.hints.get(chat, "")
        line = self.texts.unread.format(chat=self.name(chat), n=len(waiting), hint=hint)
        self.console.print(Text(line, style="dim cyan"))

    def _save_files(self, message: ConsoleMessage) -> list[str]:
        """The card's chart (and document) as files; their paths, as lines to show."""
        saved: list[str] = []
        attached: list[tuple[Any, str, str]] = []
        if message.card.image is not None:
            image = message.card.image
            attached.append((image.png, image.filename, self.texts.image_saved))
        document = getattr(message.card, "document", None)  # not every card model has one
        if document is not None:
            attached.append((document.data, document.filename, self.texts.document_saved))
        for data, name, template in attached:
            self.files_dir.mkdir(parents=True, exist_ok=True)
            path = self.files_dir / file_name(message.number, name)
            path.write_bytes(data)
            saved.append(template.format(path=path))
            if self.viewer is not None and message.private:  # what the person asked for
                self.viewer(path)
        return saved
