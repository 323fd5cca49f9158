"""`replenish config reference | check`: the settings documented (bot/config_reference.py)
and a configuration checked before the bot runs on it (bot/config_check.py)."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from bot.cli_common import EXIT_REFUSED, ConfigOption, LangOption, console, errors
from bot.config_check import Problem, Trouble, check
from bot.config_reference import render
from bot.i18n import DEFAULT_LOCALE, t

OutOption = Annotated[
    Path | None, typer.Option("--out", help="Write the Markdown to FILE instead of printing it.")
]


def register(config_app: typer.Typer) -> None:
    config_app.command("reference")(reference_command)
    config_app.command("check")(check_command)


def reference_command(out: OutOption = None, lang: LangOption = None) -> None:
    """Print the configuration reference (Markdown): every setting, its env var, default."""
    text = render()
    if out is None:
        sys.stdout.write(text)  # as it is: rich would read `[planning]` as markup
        return
    out.write_text(text, encoding="utf-8", newline="\n")
    console.print(t("cli.config.reference.written", lang or DEFAULT_LOCALE, path=out), markup=False)


def check_command(config: ConfigOption = None, lang: LangOption = None) -> None:
    """Check the config file and REPLENISH_* variables; name each problem's key. Exit 2 if any."""
    ui = lang or DEFAULT_LOCALE
    try:
        checked = check(config)
    except FileNotFoundError as exc:
        errors.print(t("cli.settings_error", ui, error=exc), markup=False)
        raise typer.Exit(EXIT_REFUSED) from None
    source = str(checked.file) if checked.file else t("cli.config.check.no_file", ui)
    if not checked.problems:
        console.print(t("cli.config.check.ok", ui, source=source), markup=False)
        return
    count = len(checked.problems)
    errors.print(t("cli.config.check.failed", ui, source=source, count=count), markup=False)
    for problem in checked.problems:
        errors.print(_line(problem, ui), markup=False)
    raise typer.Exit(EXIT_REFUSED)


def _line(problem: Problem, ui: str) -> str:
    if problem.trouble is Trouble.SYNTAX:
        return t("cli.config.check.syntax", ui, error=problem.message)
    key = problem.key or "settings"
    named = f"{key} ({problem.env})" if problem.env else key
    said = (
        t("cli.config.check.unknown", ui) if problem.trouble is Trouble.UNKNOWN else problem.message
    )
    return t("cli.config.check.problem", ui, setting=named, message=said)
