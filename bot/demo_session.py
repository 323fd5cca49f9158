"""The console chat session: each line typed (or read from a script) becomes what a chat
platform would send — a `Command`, a button press or a form submission as an `Interaction`
— and goes to the same `ChatBot` Slack and Telegram use; replies and the outbox come back
through `adapters.console`.

Lines: a command as typed in chat (`stock 鮮乳`, with or without `/replenish`); a number
presses that button of the latest card the current role saw (`#12 3`: card 12); `/as`,
`/advance`, `/list`, `/show`, `/help`, `/quit`. Scripts add `expect <text>` and
`expect-not <text>`, checked against the output of the line before; a failing line stops a
non-interactive session with its line number (`StepFailedError`).
"""

import re
import uuid
from contextlib import nullcontext
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from adapters.chat import Button, Command, Form, Interaction, Reply
from adapters.console import PLATFORM, ConsoleChat, ConsoleMessage
from bot.app import App, deliver_outbox
from bot.chatbot import ChatBot
from bot.demo_cast import Cast, Role
from bot.demo_clock import Advancer, parse_span
from bot.demo_input import NOTE, LineSource
from bot.formats import when
from bot.i18n import t

MAX_ROUNDS = 20  # delivery rounds after one step (50 messages each)
LIST_MAX = 30
FORM_TRIES = 3  # a form asked again at most this often when the bot finds inputs wrong
YES = frozenset({"y", "yes", "是", "好", "對"})
_BOX = re.compile(r"[\s\u2500-\u257f]+")  # whitespace and box drawing: ignored by expect


class StepFailedError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def squeeze(text: str) -> str:
    """Text as `expect` compares it: no whitespace, no panel borders, so wrapping never
    splits what a script looks for."""
    return _BOX.sub("", text).casefold()


@dataclass
class DemoSession:
    app: App
    bot: ChatBot
    chat: ConsoleChat
    cast: Cast
    advancer: Advancer
    source: LineSource
    role: Role
    window: str = ""  # the output of the last step, squeezed, for `expect`
    steps: int = 0
    checks: int = 0
    failure: str | None = None  # the failing script line, said as the user reads it
    _prefix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    _keys: int = 0

    @property
    def console(self) -> Console:
        return self.chat.console

    @property
    def locale(self) -> str:
        return self.app.locale

    def run(self) -> int:
        """Read and run lines until the end or `/quit`; 1 when a script line failed (a
        person at a terminal is told and goes on)."""
        while True:
            line = self.source.read(t("demo.prompt", self.locale, who=self.role.name))
            if line is None:
                return 0
            try:
                if not self.step(line):
                    return 0
            except KeyboardInterrupt:  # Ctrl-C stops a long step, not the session
                if not self.source.interactive:
                    raise
                self.chat.say(t("demo.interrupted", self.locale), refused=True)
            except StepFailedError as failure:
                if self.source.interactive:
                    self.chat.say(failure.reason, refused=True)
                    continue
                where = self.source.line_number
                self.failure = t(
                    "demo.script.failed", self.locale, line=where, reason=failure.reason
                )
                return 1

    def step(self, line: str) -> bool:
        """One line; False ends the session."""
        text = line.strip()
        if not text or NOTE.match(text):
            return True
        word, _, rest = text.partition(" ")
        if word.lower() in ("expect", "expect-not"):
            self.expect(rest.strip(), present=word.lower() == "expect")
            return True
        self.console.export_text(clear=True)  # the echoed line is input, not output
        self.steps += 1
        keep = self.dispatch(word.lower(), rest.strip(), text)
        self.window = squeeze(self.console.export_text(clear=True))
        return keep

    def dispatch(self, word: str, rest: str, text: str) -> bool:
        if word in ("/quit", "/exit", "/q"):
            return False
        meta = {
            "/help": lambda: self.console.print(Text(t("demo.help", self.locale))),
            "/as": lambda: self.switch(rest.split()),
            "/advance": lambda: self.advance(rest),
            "/list": self.list_cards,
            "/show": lambda: self.show(rest),
        }
        if word in meta:
            meta[word]()
        elif word == "/replenish":
            self.command(rest)
        elif text.isdigit():
            self.press(None, int(text))
        elif word.startswith("#") and word[1:].isdigit() and rest.isdigit():
            self.press(int(word[1:]), int(rest))
        else:
            self.command(text.removeprefix("/"))
        return True

    # --- chat ---------------------------------------------------------------------------

    def command(self, text: str) -> None:
        role = self.role
        reply = self.bot.command(
            Command(
                platform=PLATFORM,
                team=role.chat,
                user=role.user,
                channel=role.chat,
                text=text,
                user_name=role.name,
                key=self._key(),
            )
        )
        self.answer(reply, None)

    def press(self, number: int | None, index: int) -> None:
        message = self._card(number)
        buttons = message.card.buttons
        if not 1 <= index <= len(buttons):
            n, count = index, len(buttons)
            raise StepFailedError(
                t("demo.press.no_button", self.locale, card=message.number, n=n, count=count)
            )
        button = buttons[index - 1]
        pressed = t("demo.press.pressed", self.locale, card=message.number, label=button.label)
        self.console.print(Text(pressed, style="bold"))
        if not self._confirmed(button):
            return
        reply = self.bot.action(self._interaction(message, button.action_id, button.value))
        self.answer(reply, message)

    def fill(self, form: Form, message: ConsoleMessage | None) -> None:
        """Ask for each input in turn (Enter keeps the suggested value), then submit. At a
        terminal the inputs the bot found wrong are asked again, as a modal stays open."""
        self.chat.show_form(form)
        values: dict[str, str] = {}
        asked = form.inputs
        for _ in range(FORM_TRIES):
            for item in asked:
                kept = f" [{item.initial}]" if item.initial else ""
                answer = self.source.read(f"{item.label}{kept} › ")
                if answer is None:
                    self.chat.say(t("demo.form.cancelled", self.locale), refused=True)
                    return
                values[item.input_id] = answer.strip() or item.initial
            submitted = self._interaction(message, form.form_id, form.context, values)
            reply = self.bot.submit(submitted)
            if not (reply.errors and self.source.interactive):
                break
            self._say_errors(reply)
            asked = tuple(i for i in form.inputs if i.input_id in reply.errors) or form.inputs
        self.answer(reply, message)

    def answer(self, reply: Reply, message: ConsoleMessage | None) -> None:
        """Show a reply as the platforms do: a form to fill, the pressed card updated in
        place, or a private card; then the text, then whatever the outbox now holds."""
        if reply.card is not None:
            if reply.replace and message is not None:
                self.chat.update(message.ref, reply.card)
            else:
                self.chat.reply(self.dm, reply.card)
        if reply.text:
            self.chat.say(reply.text, refused=reply.refused)
        self._say_errors(reply)
        self.deliver()
        if reply.form is not None:
            self.fill(reply.form, message)

    def _say_errors(self, reply: Reply) -> None:
        for input_id, problem in reply.errors.items():
            error = t("demo.form.error", self.locale, input=input_id, text=problem)
            self.chat.say(error, refused=True)

    def deliver(self) -> None:
        """Outbox rows due by the demo clock, delivered to the console (batched)."""
        self.chat.begin()
        for _ in range(MAX_ROUNDS):
            report = deliver_outbox(self.app, {PLATFORM: self.chat}, now=self.app.clock())
            if report.delivered == 0:
                break
        self.chat.flush()

    # --- meta ---------------------------------------------------------------------------

    def switch(self, words: list[str]) -> None:
        role = self.cast.find(words)
        if role is None:
            roles = ", ".join(r.command.removeprefix("/as ") for r in self.cast.roles)
            name = " ".join(words) or "?"
            raise StepFailedError(t("demo.as.unknown", self.locale, name=name, roles=roles))
        self.role = role
        rooms = t("list.separator", self.locale).join(self.chat.name(c) for c in role.chats)
        self.chat.say(t("demo.as.now", self.locale, who=role.name, rooms=rooms))
        self.chat.watch(role.chats)

    def advance(self, text: str) -> None:
        span = parse_span(text)
        if span is None:
            raise StepFailedError(t("demo.advance.usage", self.locale))
        tz, start = self.app.settings.tz, self.app.clock()
        end = start + span
        self.chat.say(
            t(
                "demo.advance.start",
                self.locale,
                span=text.strip(),
                start=when(start, self.locale, tz),
                end=when(end, self.locale, tz),
            )
        )
        self.chat.begin()
        busy = t("demo.advance.progress", self.locale)
        with self.console.status(busy) if self.console.is_terminal else nullcontext():
            done = self.advancer.advance(span)
        self.chat.flush()
        self.bot.plan_cache.clear()  # new sales and stock: plan afresh
        self.deliver()
        runs = ", ".join(f"{job} ×{n}" for job, n in done.runs.items())
        now = when(self.app.clock(), self.locale, tz)
        runs = runs or t("demo.advance.none", self.locale)
        self.chat.say(t("demo.advance.done", self.locale, now=now, runs=runs))
        if done.failed:
            jobs = ", ".join(sorted(set(done.failed)))
            self.chat.say(t("demo.advance.failed", self.locale, jobs=jobs), refused=True)

    def list_cards(self) -> None:
        cards = self._visible()[-LIST_MAX:]
        if not cards:
            self.chat.say(t("demo.list.none", self.locale))
            return
        table = RichTable(title=t("demo.list.title", self.locale, who=self.role.name, n=len(cards)))
        for column in ("number", "room", "title", "buttons"):
            table.add_column(t(f"demo.list.col.{column}", self.locale))
        for message in cards:
            labels = " ".join(f"[{i}]{b.label}" for i, b in enumerate(message.card.buttons, 1))
            table.add_row(
                str(message.number), self.chat.name(message.chat), message.card.title, labels
            )
        self.console.print(table)

    def show(self, text: str) -> None:
        if not text:
            raise StepFailedError(t("demo.show.usage", self.locale))
        if text.lstrip("#").isdigit():
            found: ConsoleMessage | None = self._card(int(text.lstrip("#")))
        else:
            found = self.chat.find(text, self.role.chats)
        if found is None:
            raise StepFailedError(t("demo.show.none", self.locale, text=text))
        self.chat.show(found)

    def expect(self, text: str, *, present: bool) -> None:
        if not text:
            raise StepFailedError(t("demo.expect.usage", self.locale))
        self.checks += 1
        if (squeeze(text) in self.window) != present:
            key = "demo.expect.missing" if present else "demo.expect.present"
            raise StepFailedError(t(key, self.locale, text=text))

    # --- inside -------------------------------------------------------------------------

    @property
    def dm(self) -> str:
        return self.role.dm

    def _visible(self) -> list[ConsoleMessage]:
        return self.chat.visible(self.role.chats)

    def _card(self, number: int | None) -> ConsoleMessage:
        """The card asked for, if the current role can see it; else the latest it saw."""
        if number is None:
            latest = self.chat.latest(self.role.chats)
            if latest is None:
                raise StepFailedError(t("demo.press.no_card", self.locale))
            return latest
        found = self.chat.messages.get(number)
        if found is None or found.chat not in self.role.chats:
            raise StepFailedError(
                t("demo.press.not_here", self.locale, who=self.role.name, card=number)
            )
        return found

    def _confirmed(self, button: Button) -> bool:
        """A button that asks "are you sure?" asks it here too (scripts answer yes)."""
        if not button.confirm:
            return True
        if not self.source.interactive:
            self.console.print(Text(t("demo.confirm.auto", self.locale, text=button.confirm)))
            return True
        answer = self.source.read(t("demo.confirm.ask", self.locale, text=button.confirm))
        if (answer or "").strip().lower() in YES:
            return True
        self.chat.say(t("demo.confirm.cancelled", self.locale))
        return False

    def _interaction(
        self,
        message: ConsoleMessage | None,
        action_id: str,
        value: str,
        values: dict[str, str] | None = None,
    ) -> Interaction:
        role = self.role
        return Interaction(
            platform=PLATFORM,
            team=message.chat if message else role.chat,
            user=role.user,
            user_name=role.name,
            action_id=action_id,
            value=value,
            key=self._key(),
            message=message.ref if message else None,
            values=values or {},
        )

    def _key(self) -> str:
        """This press or command's identity (exactly-once is keyed on it)."""
        self._keys += 1
        return f"{self._prefix}:{self._keys}"
