"""`replenish bind …` (which channel hears what) and `replenish invite` (a code that binds a
Telegram group). Running the bot is bot/cli_run.py."""

from typing import Annotated

import typer
from rich.table import Table
from sqlmodel import select

from bot.app import App
from bot.cli_common import (
    EXIT_REFUSED,
    ConfigOption,
    DbOption,
    LangOption,
    build_or_exit,
    console,
    errors,
    refuse,
)
from bot.i18n import t
from core.invites import create_invite
from core.members import PURPOSES, bind_chat, list_bindings, unbind_chat
from core.models import Location, Supplier, utcnow
from core.permissions import DomainError

bind_app = typer.Typer(no_args_is_help=True, help="Chat bindings: which channel hears what.")

PurposeOption = Annotated[
    str, typer.Option("--purpose", help=f"One of: {', '.join(PURPOSES)}.", show_default=False)
]
ChannelOption = Annotated[
    str, typer.Option("--channel", help="Slack channel id, e.g. C0123ABCD.", show_default=False)
]


def register(app: typer.Typer) -> None:
    app.add_typer(bind_app, name="bind")
    app.command("invite")(invite_command)


@bind_app.command("slack")
def bind_slack(
    purpose: PurposeOption,
    channel: ChannelOption,
    remove: Annotated[bool, typer.Option("--remove", help="Unbind instead.")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
    lang: LangOption = None,
) -> None:
    """Send a purpose's messages (alerts, approvals, reports…) to a Slack channel."""
    application = build_or_exit(db, config, lang)
    ui = application.locale
    try:
        with application.store.unit_of_work() as session:
            if remove:
                done = unbind_chat(
                    session, None, purpose=purpose, platform="slack", chat_id=channel
                )
                key = "cli.bind.removed" if done else "cli.bind.not_bound"
            else:
                _, new = bind_chat(
                    session, None, purpose=purpose, platform="slack", chat_id=channel
                )
                key = "cli.bind.saved" if new else "cli.bind.already"
    except DomainError as error:
        refuse(error, ui)
    console.print(t(key, ui, purpose=purpose, channel=channel, platform="slack"))


@bind_app.command("list")
def bind_list(db: DbOption = None, config: ConfigOption = None, lang: LangOption = None) -> None:
    """Show every binding."""
    application = build_or_exit(db, config, lang)
    ui = application.locale
    with application.store.read() as session:
        rows = [(b.platform, b.purpose, b.chat_id) for b in list_bindings(session)]
    if not rows:
        console.print(t("cli.bind.none", ui))
        return
    table = Table(title=t("cli.bind.title", ui), title_justify="left")
    for column in ("platform", "purpose", "channel"):
        table.add_column(t(f"cli.bind.{column}", ui))
    for row in rows:
        table.add_row(*row)
    console.print(table)


def invite_command(
    purpose: Annotated[str, typer.Argument(help="supplier, dropship, alerts, approvals…")],
    code: Annotated[str | None, typer.Argument(help="Supplier or partner code.")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    lang: LangOption = None,
) -> None:
    """A one-time code (24 h) that binds a Telegram group: send /bind <code> there."""
    application = build_or_exit(db, config, lang)
    ui = application.locale
    target_ids, name = _invite_target(application, purpose, code, ui)
    try:
        with application.store.unit_of_work() as session:
            made = create_invite(session, None, purpose=purpose, now=utcnow(), **target_ids)
    except DomainError as error:
        refuse(error, ui)
    word = t(f"purpose.{purpose}", ui)
    console.print(t("cmd.invite.done", ui, purpose=word, target=name, code=made))


def _invite_target(
    application: App, purpose: str, code: str | None, ui: str
) -> tuple[dict[str, int], str]:
    table = {"supplier": Supplier, "dropship": Location}.get(purpose)
    if table is None:
        return {}, ""
    with application.store.read() as session:
        found = session.scalars(select(table).where(table.code == (code or ""))).first()
        if found is None or found.id is None:
            word = t(f"purpose.{purpose}", ui)
            errors.print(t("cmd.invite.unknown_target", ui, purpose=word, code=code or "—"))
            raise typer.Exit(EXIT_REFUSED)
        key = "supplier_id" if purpose == "supplier" else "partner_id"
        return {key: found.id}, f"（{found.name or found.code}）"
