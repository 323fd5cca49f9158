"""`replenish demo`: the whole product in a terminal, with nothing but Python.

A fresh SQLite database in the demo folder; the bundled sample shop imported (its history
moved on by whole weeks, and the days still missing up to yesterday simulated, so the shop
is "today" whenever the demo runs); a member for every role bound to console chats
(bot/demo_cast.py); one monitor pass; then the console chat (bot/demo_session.py) reading a
person at a terminal, a pipe until its end, or a `--script` file whose `expect` lines make
the story a test.
"""

import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from importlib.resources import as_file, files
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.text import Text

from adapters.console import PLATFORM, ConsoleChat, system_viewer
from adapters.console_render import ConsoleTexts
from bot import engine
from bot.app import App
from bot.chatbot import ChatBot
from bot.cli_common import build_or_exit
from bot.cli_engine import print_monitor
from bot.demo_cast import Cast, cast_members
from bot.demo_clock import Advancer, DemoClock
from bot.demo_input import EchoedLines, LineSource, TerminalLines, stream_lines
from bot.demo_sales import simulate_day
from bot.demo_session import DemoSession
from bot.formats import when
from bot.i18n import t
from bot.importer import SAMPLE_ORDER, import_file
from bot.sample_data import DAYS
from bot.status import snapshot
from core.ingest import Kind
from core.models import utcnow

SAMPLE_LAST_DAY: date = DAYS[-1].date()
DATE_COLUMNS = {"sales": ("timestamp",), "stock": ("盤點時間",), "promotions": ("start", "end")}
PIPED_WIDTH = 120  # a pipe or a file gets this many columns (a terminal: its own width)


@dataclass(frozen=True)
class Demo:
    app: App
    clock: DemoClock
    console: Console
    directory: Path


def run_demo(directory: Path, lang: str | None, script: Path | None) -> int:
    """Set the demo up and chat until the input ends; the exit code (1: a script failed)."""
    console = _console()
    errors = Console(stderr=True, highlight=False)
    if script is not None and not script.is_file():
        errors.print(t("demo.script.not_found", lang or "zh-TW", path=script))
        return 2
    interactive = script is None and sys.stdin.isatty()
    session = open_demo(directory, lang, console, _source(console, script), interactive=interactive)
    code = session.run()
    locale = session.app.locale
    if session.failure:
        errors.print(Text(session.failure, style="bold red"))
    elif script is not None:
        console.print(t("demo.script.passed", locale, steps=session.steps, checks=session.checks))
    console.print(t("demo.bye", locale, path=directory / "replenish.db"))
    return code


def open_demo(
    directory: Path,
    lang: str | None,
    console: Console,
    source: LineSource,
    *,
    interactive: bool,
    wall: Callable[[], datetime] = utcnow,
) -> DemoSession:
    """Everything up to the first prompt: the shop, the cast, the first pass delivered.
    `interactive`: charts may be opened in the system's viewer; `wall`: the wall clock the
    demo clock runs on (tests set the day the demo is run)."""
    demo = _prepare(directory, lang, console, wall)
    chat, cast = _open_chat(demo, interactive=interactive)
    return _session(demo, chat, cast, source)


def _console() -> Console:
    piped = not sys.stdout.isatty()
    return Console(record=True, highlight=False, width=PIPED_WIDTH if piped else None)


def _prepare(
    directory: Path, lang: str | None, console: Console, wall: Callable[[], datetime]
) -> Demo:
    """A fresh database with the sample shop up to yesterday."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("replenish.db*"):
        stale.unlink()
    app = build_or_exit(f"sqlite:///{directory / 'replenish.db'}", None, lang)
    clock = DemoClock(wall=wall)
    clock.resume_at(_start(app, wall()))
    app = replace(app, clock=clock)
    console.rule(t("cli.demo.title", app.locale))
    demo = Demo(app, clock, console, directory)
    _import_sample(demo)
    return demo


def _start(app: App, now: datetime) -> datetime:
    """Now — or, on a machine whose clock is before the sample, the morning after it."""
    morning = datetime.combine(SAMPLE_LAST_DAY + timedelta(days=1), time(9), app.settings.tz)
    return max(now, morning)


def _import_sample(demo: Demo) -> None:
    app, console = demo.app, demo.console
    yesterday = app.today() - timedelta(days=1)
    weeks = max((yesterday - SAMPLE_LAST_DAY).days // 7, 0)
    if weeks:
        console.print(t("demo.shifted", app.locale, weeks=weeks))
    with _progress(console) as progress, as_file(files("bot.data") / "sample") as sample:
        found = {p.name.split(".")[0]: p for p in sample.iterdir() if p.is_file()}
        kinds = [kind for kind in SAMPLE_ORDER if kind.value in found]
        task = progress.add_task(t("demo.progress.import", app.locale), total=len(kinds))
        for kind in kinds:
            copy = _copy(found[kind.value], demo.directory, kind, timedelta(weeks=weeks))
            imported = import_file(app, kind, copy)
            progress.console.print(t("cli.import.summary", app.locale, **imported.summary()))
            progress.advance(task)
    day = SAMPLE_LAST_DAY + timedelta(weeks=weeks) + timedelta(days=1)
    while day <= yesterday:  # the days between the sample's end and today
        made = simulate_day(app, day, demo.directory / "simulated")
        lines = t("demo.simulated", app.locale, day=day, lines=made.lines, units=made.units)
        console.print(lines)
        day += timedelta(days=1)


def _copy(path: Path, directory: Path, kind: Kind, shift: timedelta) -> Path:
    """The bundled file in the demo folder, its dates moved on by `shift`."""
    copy = directory / path.name
    columns = DATE_COLUMNS.get(kind.value, ())
    if not shift or not columns:
        copy.write_bytes(path.read_bytes())
        return copy
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column in columns:
        moved = pd.to_datetime(frame[column]) + shift
        fmt = "%Y-%m-%d" if frame[column].str.len().max() <= 10 else "%Y-%m-%d %H:%M:%S"
        frame[column] = moved.dt.strftime(fmt)
    frame.to_csv(copy, index=False, encoding="utf-8")
    return copy


def _progress(console: Console) -> Progress:
    """A bar on a terminal; nothing at all when the output is piped or recorded."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def _open_chat(demo: Demo, *, interactive: bool) -> tuple[ConsoleChat, Cast]:
    """Members and chats, the monitor pass, and what it sent, delivered to the console."""
    app, console = demo.app, demo.console
    with app.store.unit_of_work() as session:
        cast = cast_members(session, app.locale)
    as_of = app.today() - timedelta(days=1)
    with _progress(console) as progress:
        progress.add_task(t("demo.progress.monitor", app.locale, n=_sku_count(app)), total=None)
        outcome, _ = engine.run_monitor(app, as_of)
    print_monitor(outcome, app.locale)
    chat = ConsoleChat(
        console,
        files_dir=demo.directory / "files",
        names=cast.names,
        hints=cast.hints,
        texts=_texts(app.locale),
        viewer=system_viewer() if interactive else None,
    )
    rooms = {c for role in cast.roles for c in role.chats}
    now = when(demo.clock.now, app.locale, app.settings.tz)
    ready = t("demo.ready", app.locale, members=len(cast.roles), rooms=len(rooms), now=now)
    console.print(Text(ready, style="bold"))
    console.print(Text(t("demo.welcome", app.locale)))
    return chat, cast


def _sku_count(app: App) -> int:
    return int(snapshot(app.store).counts.get("sku", 0))


def _texts(locale: str) -> ConsoleTexts:
    names = ConsoleTexts.__dataclass_fields__
    return ConsoleTexts(**{name: t(f"demo.console.{name}", locale) for name in names})


def _source(console: Console, script: Path | None) -> LineSource:
    if script is not None:
        return EchoedLines(script.read_text(encoding="utf-8").splitlines(), console)
    if not sys.stdin.isatty():  # piped: read until the end, never wait on a terminal
        return EchoedLines(stream_lines(sys.stdin), console)
    return TerminalLines(console)


def _session(demo: Demo, chat: ConsoleChat, cast: Cast, source: LineSource) -> DemoSession:
    app = demo.app
    advancer = Advancer(
        app,
        demo.clock,
        {PLATFORM: chat},
        simulate=lambda day: _simulated(demo, day),
        after_step=lambda: _next_hour(chat),
    )
    advancer.planned_days.add(app.today() - timedelta(days=1))  # `_open_chat` planned it
    manager = cast.find(["manager"])
    assert manager is not None  # the cast always has one
    session = DemoSession(app, ChatBot(app, PLATFORM), chat, cast, advancer, source, manager)
    chat.watch(manager.chats)
    session.deliver()  # the first pass's alerts, drafts and pick lists
    return session


def _next_hour(chat: ConsoleChat) -> None:
    """Show what an hour of `/advance` delivered before the next hour's jobs run."""
    chat.flush()
    chat.begin()


def _simulated(demo: Demo, day: date) -> None:
    made = simulate_day(demo.app, day, demo.directory / "simulated")
    text = t("demo.simulated", demo.app.locale, day=day, lines=made.lines, units=made.units)
    demo.console.print(Text(text, style="dim"))
