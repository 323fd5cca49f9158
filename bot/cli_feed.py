"""`replenish feed token add NAME`: a new random token for one data feed (POST /ingest/…).

The token is printed once; only its SHA-256 goes into the settings (`feeds.tokens`), so the
configuration never holds a usable secret."""

import re
import secrets
from typing import Annotated

import typer

from adapters.ingest import token_hash
from bot.cli_common import EXIT_REFUSED, console, errors

NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")

feed_app = typer.Typer(no_args_is_help=True, help="Data feeds pushed to POST /ingest/{kind}.")
token_app = typer.Typer(no_args_is_help=True, help="Feed tokens.")
feed_app.add_typer(token_app, name="token")


def register(app: typer.Typer) -> None:
    app.add_typer(feed_app, name="feed")


@token_app.command("add")
def token_add(
    name: Annotated[str, typer.Argument(help="The source, e.g. wms or shop (a-z, 0-9, _ -).")],
) -> None:
    """Print a new token for NAME (once) and the setting that makes it valid."""
    if not NAME.fullmatch(name):
        errors.print(f"feed name {name!r}: use 1-40 of a-z, 0-9, _ and -, starting a-z or 0-9")
        raise typer.Exit(EXIT_REFUSED)
    token = secrets.token_urlsafe(32)
    digest = token_hash(token)
    console.print(f"token for {name} (shown once; send it as 'Authorization: Bearer …'):")
    console.print(token, markup=False, highlight=False, soft_wrap=True)
    console.print("add to replenish.toml:", markup=False)
    console.print(f'[feeds.tokens]\n{name} = "{digest}"', markup=False, highlight=False)
    console.print("or to the environment:", markup=False)
    console.print(
        f'REPLENISH_FEEDS__TOKENS=\'{{"{name}": "{digest}"}}\'', markup=False, highlight=False
    )
