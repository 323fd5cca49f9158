"""Every command the READMEs show really runs (issue 8): extracted, resolved, run end to end.

Extraction: the `replenish …` and `make …` lines of the shell code blocks (```, ```sh,
```bash, ```shell, ```console) of README.md and README.zh-TW.md. A `$ ` prompt and a path
before the program (`.venv/bin/replenish`) are allowed, `\\` continuations are joined and
`# comments` dropped. A usage synopsis reads as its reader would: `[--option VALUE]` is
typed, and `a|b|c` is tried with each choice. Placeholders (`<name>`, `NAME`, `DEMAND.csv`)
stay in the test id; the test passes the sample value SAMPLES gives them.

Resolution (every command): its words go through the real Typer app's parser (`make_context`
and `resolve_command` of typer's own click), group by group down to the command, so a renamed
command, an unknown option or a value of the wrong type fails naming the README line. A
`make` line is resolved by `make --dry-run TARGET` in the repository, and the `replenish`
lines of its recipe as above.

Runs (every command not in PARSE_ONLY): in README order, in one workspace per README — a
folder with a SQLite database seeded from the bundled sample shop (bot/data/sample), the
sample files and the placeholders' files — through typer's CliRunner with the folder as
working directory, REPLENISH_DATABASE_URL pointing at that database and every other
REPLENISH_* variable removed. The exit code must be 0, and the command must print something
(or write its --out file). No README command documents a non-zero exit.
"""

import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import traceback
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import date, timedelta
from importlib.resources import as_file, files
from itertools import product
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.importer import SAMPLE_ORDER

ROOT = Path(__file__).resolve().parents[2]
READMES = ("README.md", "README.zh-TW.md")
SHELL_FENCES = frozenset({"", "sh", "bash", "shell", "console"})
DATABASE = "replenish.db"
PREFIX = "REPLENISH_"  # the settings' environment variables

# The guards: fewer than this means the extractor (or PARSE_ONLY) broke, not the READMEs.
# Found when written: 57 and 53 commands, of which 43 and 39 run.
MIN_COMMANDS = {"README.md": 50, "README.zh-TW.md": 46}
MIN_RUNS = {"README.md": 36, "README.zh-TW.md": 32}

# Commands only resolved here, never run, and why; matched on their leading words.
PARSE_ONLY: dict[tuple[str, ...], str] = {
    ("replenish", "run"): "serves Slack/Telegram until stopped; needs their tokens and network",
    ("replenish", "scheduler"): "runs the scheduled jobs until stopped",
    ("replenish", "demo"): "an interactive console session",
    ("make", "demo"): "installs the package with pip (network), then `replenish demo`",
    ("make", "test"): "runs ruff and this whole test suite",
}

# README placeholder → the value passed instead. The files are in every workspace.
SAMPLES = {
    "orders.csv": "sales.csv.gz",  # the sample shop's order lines (skus.csv is the shop's own)
    "DEMAND.csv": "sim-demand.csv",
    "ITEMS.csv": "sim-items.csv",
    "PROMOS.csv": "sim-promotions.csv",
}
# `replenish simulate`'s inputs: 12 weeks of two SKUs' demand, their terms, one promotion.
SIMULATION_FILES = {
    "sim-demand.csv": "date,sku,qty\n"
    + "".join(
        f"{date(2026, 1, 1) + timedelta(days=day)},{sku},{base + day % spread}\n"
        for day in range(84)
        for sku, base, spread in (("A", 3, 4), ("B", 10, 7))
    ),
    "sim-items.csv": "sku,unit_cost,lead_time_days,moq,case_pack,initial_on_hand,order_cost,"
    "holding_rate\nA,50,2,1,1,10,100,0.25\nB,20,3,12,6,40,80,0.2\n",
    "sim-promotions.csv": "sku,start,end,uplift,name\nB,2026-03-02,2026-03-08,1.5,spring\n",
}

FENCE = re.compile(r"\s*(```+|~~~+)\s*([\w+-]*)")
COMMAND_LINE = re.compile(r"\s*(?:\$\s+)?(?:[\w.~/-]*/)?(?:replenish|make)\s")
PLACEHOLDER = re.compile(r"<[^>]+>|[A-Z][A-Z_]{2,}(?:\.\w+)?")
CLI = typer.main.get_command(app)


@dataclass(frozen=True)
class DocCommand:
    """One command line of a README, its words as written (the program first)."""

    readme: str
    line: int
    words: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.readme}:{self.line} {' '.join(self.words)}"

    def variants(self) -> list[tuple[str, ...]]:
        """The argument lists a reader could type, placeholders given their sample values."""
        return list(product(*(_choices(word) for word in self.words[1:])))

    def parse_only(self) -> str | None:
        """Why this command is not run here; None when it is."""
        for start, reason in PARSE_ONLY.items():
            if self.words[: len(start)] == start:
                return reason
        return None


def _choices(word: str) -> list[str]:
    """`[--opt` → `--opt`, `dynamic|minmax` → both, `DEMAND.csv` → its sample value."""
    bare = word.lstrip("[").rstrip("]")
    return [SAMPLES.get(choice, choice) for choice in bare.split("|")]


def _words(line: str) -> tuple[str, ...]:
    words = shlex.split(line, comments=True)
    if words[0] == "$":
        words = words[1:]
    return (Path(words[0]).name, *words[1:])


def extract(readme: str) -> list[DocCommand]:
    return extract_text(readme, (ROOT / readme).read_text(encoding="utf-8"))


def extract_text(readme: str, markdown: str) -> list[DocCommand]:
    """The `replenish` and `make` command lines of the shell code blocks, in order."""
    found: list[DocCommand] = []
    fence, shell, start, joined = "", False, 0, ""
    for number, line in enumerate(markdown.splitlines(), 1):
        opened = FENCE.match(line)
        if not fence:
            if opened:
                fence, shell = opened[1], opened[2].lower() in SHELL_FENCES
            continue
        if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
            fence, joined = "", ""
            continue
        if not shell:
            continue
        start = start if joined else number
        joined = f"{joined} {line.strip()}" if joined else line.strip()
        if joined.endswith("\\"):
            joined = joined[:-1].rstrip()
            continue
        if COMMAND_LINE.match(joined):
            found.append(DocCommand(readme, start, _words(joined)))
        joined = ""
    return found


def resolve(argv: tuple[str, ...]) -> tuple[str, ...]:
    """Parse `replenish ARGV` as the app does before running it; the command's path.

    Raises typer's UsageError (a TyperException): an unknown command or option, a bad value,
    a missing argument.
    """
    command, context = CLI, CLI.make_context("replenish", list(argv))
    path = ["replenish"]
    while isinstance(command, TyperGroup):
        # A group keeps the subcommand's name apart from the rest, as its `invoke` reads it.
        rest = [*context._protected_args, *context.args]
        if not rest and command.invoke_without_command:
            break  # `replenish run`: the group is the command
        name, found, rest = command.resolve_command(context, rest)
        assert name is not None
        assert found is not None
        command, context = found, found.make_context(name, rest, parent=context)
        path.append(name)
    return tuple(path)


def make_recipe(*targets: str) -> list[tuple[str, ...]]:
    """`make --dry-run TARGET…` in the repository (fails on an unknown target); the recipe's
    `replenish` lines, as argument lists."""
    done = subprocess.run(
        ["make", "--dry-run", "--no-print-directory", "--directory", str(ROOT), *targets],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"make {shlex.join(targets)}: {done.stderr}"
    lines = [line for line in done.stdout.splitlines() if COMMAND_LINE.match(line)]
    return [words[1:] for words in map(_words, lines) if words[0] == "replenish"]


def _runs(commands: list[DocCommand]) -> list[Any]:
    """One run per variant of every command not in PARSE_ONLY, in README order."""
    runs = []
    for command in commands:
        variants = [] if command.parse_only() else command.variants()
        for argv in variants:
            shown = f" [{shlex.join(argv)}]" if len(variants) > 1 else ""
            runs.append(pytest.param(command, argv, id=f"{command}{shown}"))
    return runs


COMMANDS = {readme: extract(readme) for readme in READMES}
ALL = [command for found in COMMANDS.values() for command in found]
RUNS = _runs(ALL)


@pytest.mark.parametrize("readme", READMES)
def test_the_extractor_finds_the_readme_commands(readme: str) -> None:
    found = COMMANDS[readme]
    runs = [command for command in found if command.parse_only() is None]
    assert len(found) >= MIN_COMMANDS[readme], [str(command) for command in found]
    assert len(runs) >= MIN_RUNS[readme], [str(command) for command in runs]


def test_only_shell_blocks_are_read_with_continuations_and_comments_joined() -> None:
    markdown = "\n".join(
        [
            "`replenish plan` in prose",
            "```sh",
            "make demo   # builds it",
            "$ .venv/bin/replenish plan \\",
            "    --top 5   # the urgent ones",
            "curl http://127.0.0.1:3000/healthz",
            "```",
            "```toml",
            'replenish = "not a command"',
            "```",
            "```text",
            "/replenish stock MLK-001",
            "```",
            "```",
            "replenish feed token add NAME",
            "```",
        ]
    )
    assert [(c.line, c.words) for c in extract_text("X.md", markdown)] == [
        (3, ("make", "demo")),
        (4, ("replenish", "plan", "--top", "5")),
        (15, ("replenish", "feed", "token", "add", "NAME")),
    ]


def test_a_synopsis_reads_as_its_reader_reads_it() -> None:
    synopsis = DocCommand(
        "README.md",
        1,
        _words("$ .venv/bin/replenish simulate --demand DEMAND.csv [--json] --policy a|b  # x"),
    )
    assert synopsis.words[0] == "replenish"
    assert synopsis.variants() == [
        ("simulate", "--demand", "sim-demand.csv", "--json", "--policy", choice) for choice in "ab"
    ]


@pytest.mark.parametrize("command", ALL, ids=str)
def test_the_readme_command_resolves(command: DocCommand) -> None:
    for argv in command.variants():
        unsampled = [word for word in argv if PLACEHOLDER.fullmatch(word)]
        assert not unsampled, f"{command}: no sample value for {unsampled} in SAMPLES"
        recipe = make_recipe(*argv) if command.words[0] == "make" else [argv]
        for words in recipe:
            try:
                path = resolve(words)
            except typer.TyperException as exc:
                said = exc.format_message()
                pytest.fail(f"{command}\n  `replenish {shlex.join(words)}`: {said}")
            assert len(path) > 1, str(command)


@pytest.fixture(scope="module")
def sample_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample shop imported through the CLI, with its files and the simulator's."""
    folder = tmp_path_factory.mktemp("sample_shop")
    with as_file(files("bot.data") / "sample") as sample:
        for path in sample.iterdir():
            shutil.copyfile(path, folder / path.name)
    for name, text in SIMULATION_FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        for kind in SAMPLE_ORDER:
            (path,) = folder.glob(f"{kind.value}.csv*")
            done = invoke(("import", kind.value, path.name), folder)
            assert done.exit_code == 0, report(f"seeding {path.name}", done)
    return folder


@pytest.fixture(scope="module")
def workspace(sample_shop: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """One folder per README, made on first use: a copy of the sample shop."""
    made: dict[str, Path] = {}

    def for_readme(readme: str) -> Path:
        if readme not in made:
            folder = tmp_path_factory.mktemp(readme.replace(".", "_"))
            for path in sample_shop.iterdir():
                if path.is_file() and not path.name.startswith(DATABASE):
                    shutil.copyfile(path, folder / path.name)
            source = sqlite3.connect(sample_shop / DATABASE)
            with closing(source), closing(sqlite3.connect(folder / DATABASE)) as target:
                source.backup(target)  # consistent whatever the WAL still holds
            made[readme] = folder
        return made[readme]

    return for_readme


def invoke(argv: tuple[str, ...], folder: Path) -> Result:
    """`replenish ARGV` in this process, on the folder's database and no other settings."""
    env: dict[str, str | None] = {name: None for name in os.environ if name.startswith(PREFIX)}
    env["REPLENISH_DATABASE_URL"] = f"sqlite:///{folder / DATABASE}"
    return CliRunner().invoke(app, list(argv), env=env)


def report(what: str, done: Result) -> str:
    failure = ""
    if done.exc_info and not isinstance(done.exception, SystemExit):
        failure = "".join(traceback.format_exception(*done.exc_info))
    return (
        f"{what}\nexit {done.exit_code}\nstdout:\n{done.stdout[-3000:]}\n"
        f"stderr:\n{done.stderr[-3000:]}\n{failure}"
    )


def _out_file(argv: tuple[str, ...]) -> str | None:
    return argv[argv.index("--out") + 1] if "--out" in argv else None


@pytest.mark.parametrize(("command", "argv"), RUNS)
def test_the_readme_command_runs(
    command: DocCommand,
    argv: tuple[str, ...],
    workspace: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = workspace(command.readme)
    monkeypatch.chdir(folder)
    out = _out_file(argv)
    if out:
        (folder / out).unlink(missing_ok=True)
    done = invoke(argv, folder)
    said = report(f"{command}\n$ replenish {shlex.join(argv)}", done)
    assert done.exit_code == 0, said
    if out:
        assert (folder / out).stat().st_size > 0, said
    else:
        assert done.stdout.strip(), said
