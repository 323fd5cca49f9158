"""What every `replenish` subcommand shares: consoles, options, building the app."""

import sys
import tomllib
from pathlib import Path
from typing import Annotated, NoReturn

import pydantic
import sqlalchemy as sa
import typer
from rich.console import Console

from bot import migrate
from bot.app import App, build
from bot.i18n import t
from core.permissions import DomainError

# Piped output gets room for wide tables instead of rich's 80-column default.
_WIDTH = None if sys.stdout.isatty() else 200
console = Console(highlight=False, width=_WIDTH)
errors = Console(stderr=True, highlight=False, width=_WIDTH)

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (overrides settings).")]
ConfigOption = Annotated[Path | None, typer.Option("--config", help="replenish.toml to read.")]
LangOption = Annotated[str | None, typer.Option("--lang", help="zh-TW (default) or en.")]
EXIT_REJECTED, EXIT_REFUSED = 1, 2


def build_or_exit(
    db: str | None, config: Path | None, lang: str | None, *, migrate_: bool = True
) -> App:
    """Build the app or exit with a clear message (bad settings, unreachable or old DB)."""
    locale = lang or "zh-TW"
    try:
        return build(config_file=config, database_url=db, locale=lang, migrate=migrate_)
    except (pydantic.ValidationError, FileNotFoundError, tomllib.TOMLDecodeError) as exc:
        errors.print(t("cli.settings_error", locale, error=exc))
    except migrate.SchemaOutOfDateError as exc:
        errors.print(t("cli.db.out_of_date", locale, current=exc.current, head=exc.head))
    except sa.exc.OperationalError as exc:
        errors.print(t("cli.db.unreachable", locale, error=exc.orig))
    raise typer.Exit(EXIT_REFUSED)


def refuse(error: DomainError, ui: str) -> NoReturn:
    """Print a domain refusal in the user's language (lists joined, not Python) and exit 2."""
    params = {
        key: t("list.separator", ui).join(map(str, value)) if isinstance(value, list) else value
        for key, value in error.as_dict()["params"].items()
    }
    errors.print(t(f"error.{error.code}", ui, **params))
    raise typer.Exit(EXIT_REFUSED)
