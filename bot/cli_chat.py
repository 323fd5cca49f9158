"""`replenish bind …` (which channel hears what) and `replenish run slack` (the bot itself)."""

import logging
from collections.abc import Callable
from typing import Annotated

import typer
from rich.table import Table
from sqlmodel import select

from adapters.http import serve
from adapters.slack import serve_socket_mode
from adapters.telegram import serve_polling
from bot.app import (
    App,
    NotConfigured,
    chat_adapters,
    http_app,
    slack_bolt,
    telegram_application,
    telegram_webhook,
)
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
from bot.jobs import start_background
from core.invites import create_invite
from core.members import PURPOSES, bind_chat, list_bindings, unbind_chat
from core.models import Location, Supplier, utcnow
from core.permissions import DomainError

bind_app = typer.Typer(no_args_is_help=True, help="Chat bindings: which channel hears what.")
run_app = typer.Typer(no_args_is_help=True, help="Run the bot.")
log = logging.getLogger(__name__)
OUTBOX_EVERY_SECONDS = 5.0

PurposeOption = Annotated[
    str, typer.Option("--purpose", help=f"One of: {', '.join(PURPOSES)}.", show_default=False)
]
ChannelOption = Annotated[
    str, typer.Option("--channel", help="Slack channel id, e.g. C0123ABCD.", show_default=False)
]


def register(app: typer.Typer) -> None:
    app.add_typer(bind_app, name="bind")
    app.add_typer(run_app, name="run")
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


@run_app.command("slack")
def run_slack(
    socket: Annotated[bool, typer.Option("--socket", help="Socket Mode (no public URL).")] = False,
    http: Annotated[bool, typer.Option("--http", help="HTTP mode: serve /slack/events.")] = False,
    host: Annotated[str, typer.Option("--host", help="HTTP mode: address to listen on.")] = (
        "0.0.0.0"  # noqa: S104 (a server for Slack to reach; --host 127.0.0.1 behind a proxy)
    ),
    port: Annotated[int, typer.Option("--port", help="HTTP mode: port.")] = 3000,
    db: DbOption = None,
    config: ConfigOption = None,
    lang: LangOption = None,
) -> None:
    """Run the Slack bot (Socket Mode or HTTP mode), delivering the outbox meanwhile."""
    application = build_or_exit(db, config, lang)
    ui = application.locale
    if socket == http:
        errors.print(t("cli.run.pick_mode", ui))
        raise typer.Exit(EXIT_REFUSED)

    def prepare() -> Callable[[], None]:
        bolt = slack_bolt(application, socket_mode=socket)
        if not socket:
            console.print(t("cli.run.http", ui, host=host, port=port))
            return lambda: serve(http_app(application, bolt), host=host, port=port)
        token = application.settings.slack.app_token
        assert token is not None  # slack_bolt() checked
        console.print(t("cli.run.socket", ui))
        return lambda: serve_socket_mode(bolt, token.get_secret_value())

    _run_bot(application, prepare)


@run_app.command("telegram")
def run_telegram(
    webhook: Annotated[
        bool, typer.Option("--webhook", help="Webhook mode (else long polling).")
    ] = False,
    host: Annotated[str, typer.Option("--host", help="Webhook mode: address to listen on.")] = (
        "0.0.0.0"  # noqa: S104 (a server for Telegram to reach; 127.0.0.1 behind a proxy)
    ),
    port: Annotated[int, typer.Option("--port", help="Webhook mode: port.")] = 8443,
    db: DbOption = None,
    config: ConfigOption = None,
    lang: LangOption = None,
) -> None:
    """Run the Telegram bot (long polling or webhook), delivering the outbox meanwhile."""
    application = build_or_exit(db, config, lang)
    ui = application.locale

    def prepare() -> Callable[[], None]:
        bot = telegram_application(application, webhook=webhook)
        if not webhook:
            console.print(t("cli.run.telegram_polling", ui))
            return lambda: serve_polling(bot)
        endpoint = telegram_webhook(application, bot)
        console.print(t("cli.run.telegram_webhook", ui, host=host, port=port))
        return lambda: serve(http_app(application, None, endpoint), host=host, port=port)

    _run_bot(application, prepare)


def _run_bot(application: App, prepare: Callable[[], Callable[[], None]]) -> None:
    """Wire the bot (a missing setting is named, exit 2), then serve it with the outbox and
    watchdogs running in the background until it stops."""
    _logging()
    try:
        serve_bot = prepare()
    except NotConfigured as missing:
        errors.print(t("cli.run.not_configured", application.locale, setting=missing.setting))
        raise typer.Exit(EXIT_REFUSED) from None
    background = start_background(application, chat_adapters(application))
    try:
        serve_bot()
    finally:
        background.shutdown(wait=False)


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")


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
