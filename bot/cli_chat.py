"""`replenish bind …` (which channel hears what) and `replenish run slack` (the bot itself)."""

import logging
import threading
from typing import Annotated

import typer
from rich.table import Table

from adapters.http import serve
from adapters.slack import serve_socket_mode
from bot.app import (
    App,
    NotConfigured,
    chat_adapters,
    deliver_outbox,
    http_app,
    slack_bolt,
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
from core.members import PURPOSES, bind_chat, list_bindings, unbind_chat
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
    """Run the Slack bot (Socket Mode or HTTP mode) and deliver the outbox every few seconds."""
    application = build_or_exit(db, config, lang)
    ui = application.locale
    if socket == http:
        errors.print(t("cli.run.pick_mode", ui))
        raise typer.Exit(EXIT_REFUSED)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        bolt = slack_bolt(application, socket_mode=socket)
    except NotConfigured as missing:
        errors.print(t("cli.run.not_configured", ui, setting=missing.setting))
        raise typer.Exit(EXIT_REFUSED) from None
    stop = threading.Event()
    _start_outbox(application, stop)
    try:
        if socket:
            token = application.settings.slack.app_token
            assert token is not None  # slack_bolt() checked
            console.print(t("cli.run.socket", ui))
            serve_socket_mode(bolt, token.get_secret_value())
        else:
            console.print(t("cli.run.http", ui, host=host, port=port))
            serve(http_app(application, bolt), host=host, port=port)
    finally:
        stop.set()


def _start_outbox(application: App, stop: threading.Event) -> threading.Thread:
    """Deliver queued cards until `stop` is set (a crash in one round is logged, not fatal)."""
    adapters = chat_adapters(application)

    def loop() -> None:
        while not stop.wait(OUTBOX_EVERY_SECONDS):
            try:
                deliver_outbox(application, adapters)
            except Exception:
                log.exception("outbox round failed")

    thread = threading.Thread(target=loop, name="outbox", daemon=True)
    thread.start()
    return thread
