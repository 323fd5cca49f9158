"""`replenish run` (everything configured, in one process), `replenish run slack|telegram`,
and `replenish scheduler` (a dedicated scheduler process).

What `replenish run` starts, from the settings:
- Slack with a bot token: Socket Mode when an app-level token is set, else HTTP mode
  (/slack/events, needs the signing secret);
- Telegram with a bot token: webhook mode when a webhook URL is set, else long polling;
- one HTTP server for whatever is HTTP (Slack events and the Telegram webhook share it);
- the scheduler (bot/scheduler.py), unless `--no-scheduler` or `scheduler.enabled = false`:
  then only the outbox is delivered — web workers still send their replies at once, and the
  outbox claims each message, so any number of processes may deliver side by side.
A missing setting is named and nothing starts (exit 2). SIGTERM or SIGINT stops it cleanly:
listeners first, then the scheduler after its current job (bot/runtime.py); exit 0.
"""

import logging
from collections.abc import Callable
from typing import Annotated, TypeVar

import typer

from adapters.slack import SlackBolt, socket_mode_handler
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
)
from bot.feeds import feed_endpoint
from bot.i18n import t
from bot.redact import install as redact_secrets
from bot.runtime import (
    SchedulerService,
    Service,
    http_service,
    polling_service,
    serve_until_stopped,
    socket_mode_service,
)
from bot.scheduler import JobScheduler
from bot.shop_webhooks import webhook_endpoint

run_app = typer.Typer(
    help="Run the bot: everything configured (no subcommand), or one platform.",
    invoke_without_command=True,
)
HostOption = Annotated[
    str,
    typer.Option("--host", help="HTTP server: address to listen on (127.0.0.1 behind a proxy)."),
]
T = TypeVar("T")
PUBLIC = "0.0.0.0"  # noqa: S104 (a server for Slack and Telegram to reach)


def register(app: typer.Typer) -> None:
    app.add_typer(run_app, name="run")
    app.command("scheduler")(scheduler_command)


@run_app.callback()
def run_all(
    ctx: typer.Context,
    no_scheduler: Annotated[
        bool, typer.Option("--no-scheduler", help="Web worker: no scheduled jobs (outbox only).")
    ] = False,
    host: HostOption = PUBLIC,
    port: Annotated[int, typer.Option("--port", help="HTTP server: port.")] = 3000,
    db: DbOption = None,
    config: ConfigOption = None,
    lang: LangOption = None,
) -> None:
    """Run everything configured in one process: Slack, Telegram and the scheduler."""
    if ctx.invoked_subcommand is not None:
        return
    application = build_or_exit(db, config, lang)
    ui = application.locale
    settings = application.settings
    if settings.slack.bot_token is None and settings.telegram.bot_token is None:
        errors.print(t("cli.run.nothing", ui))
        raise typer.Exit(EXIT_REFUSED)
    listeners, said = _guarded(application, lambda: _chat_services(application, host, port))
    serve(application, listeners, said, scheduled=not no_scheduler)


def _chat_services(application: App, host: str, port: int) -> tuple[list[Service], list[str]]:
    """The listeners the settings ask for, and what to tell the user about each."""
    settings, ui = application.settings, application.locale
    services: list[Service] = []
    said: list[str] = []
    http_slack = webhook = None
    if settings.slack.bot_token is not None:
        socket = settings.slack.app_token is not None
        bolt = slack_bolt(application, socket_mode=socket)
        if socket:
            services.append(_socket_mode(application, bolt))
            said.append(t("cli.run.socket", ui))
        else:
            http_slack = bolt
    if settings.telegram.bot_token is not None:
        by_webhook = bool(settings.telegram.webhook_url)
        telegram = telegram_application(application, webhook=by_webhook)
        if by_webhook:
            webhook = telegram_webhook(application, telegram)
        else:
            services.append(polling_service(telegram))
            said.append(t("cli.run.telegram_polling", ui))
    feeds = {
        "/ingest/{kind}": feed_endpoint(application),
        "/webhooks/{source}": webhook_endpoint(application),
    }
    if http_slack is not None or webhook is not None or any(feeds.values()):
        mounted = {"/slack/events": http_slack, "/telegram/webhook": webhook, **feeds}
        paths = [path for path, on in mounted.items() if on is not None]
        served = http_app(application, http_slack, webhook)
        services.append(http_service(served, host, port))
        said.append(t("cli.run.http_both", ui, host=host, port=port, paths=", ".join(paths)))
    return services, said


def _socket_mode(application: App, bolt: SlackBolt) -> Service:
    token = application.settings.slack.app_token
    assert token is not None  # slack_bolt(socket_mode=True) checked
    return socket_mode_service(socket_mode_handler(bolt, token.get_secret_value()))


def _guarded(application: App, build: Callable[[], T]) -> T:
    """Wire the listeners; a missing setting is named (exit 2) before anything starts."""
    try:
        return build()
    except NotConfigured as missing:
        errors.print(t("cli.run.not_configured", application.locale, setting=missing.setting))
        raise typer.Exit(EXIT_REFUSED) from None


@run_app.command("slack")
def run_slack(
    socket: Annotated[bool, typer.Option("--socket", help="Socket Mode (no public URL).")] = False,
    http: Annotated[bool, typer.Option("--http", help="HTTP mode: serve /slack/events.")] = False,
    host: HostOption = PUBLIC,
    port: Annotated[int, typer.Option("--port", help="HTTP mode: port.")] = 3000,
    db: DbOption = None,
    config: ConfigOption = None,
    lang: LangOption = None,
) -> None:
    """Run the Slack bot (Socket Mode or HTTP mode) with the scheduler."""
    application = build_or_exit(db, config, lang)
    ui = application.locale
    if socket == http:
        errors.print(t("cli.run.pick_mode", ui))
        raise typer.Exit(EXIT_REFUSED)
    bolt = _guarded(application, lambda: slack_bolt(application, socket_mode=socket))
    if socket:
        serve(application, [_socket_mode(application, bolt)], [t("cli.run.socket", ui)])
        return
    said = t("cli.run.http", ui, host=host, port=port)
    serve(application, [http_service(http_app(application, bolt), host, port)], [said])


@run_app.command("telegram")
def run_telegram(
    webhook: Annotated[
        bool, typer.Option("--webhook", help="Webhook mode (else long polling).")
    ] = False,
    host: HostOption = PUBLIC,
    port: Annotated[int, typer.Option("--port", help="Webhook mode: port.")] = 8443,
    db: DbOption = None,
    config: ConfigOption = None,
    lang: LangOption = None,
) -> None:
    """Run the Telegram bot (long polling or webhook) with the scheduler."""
    application = build_or_exit(db, config, lang)
    ui = application.locale
    bot = _guarded(application, lambda: telegram_application(application, webhook=webhook))
    if not webhook:
        serve(application, [polling_service(bot)], [t("cli.run.telegram_polling", ui)])
        return
    endpoint = _guarded(application, lambda: telegram_webhook(application, bot))
    said = t("cli.run.telegram_webhook", ui, host=host, port=port)
    serve(application, [http_service(http_app(application, None, endpoint), host, port)], [said])


def serve(
    application: App, listeners: list[Service], said: list[str], *, scheduled: bool = True
) -> None:
    """Run the listeners with the scheduler (or only the outbox) until SIGTERM/SIGINT."""
    ui = application.locale
    enabled = scheduled and application.settings.scheduler.enabled
    scheduler = JobScheduler(application, adapters=chat_adapters(application), leased=enabled)
    for line in said:
        console.print(line)
    ids = ", ".join(spec.id for spec in scheduler.jobs)
    console.print(t("cli.run.scheduler", ui, jobs=ids) if enabled else t("cli.run.outbox_only", ui))
    _run_services(application, [SchedulerService(scheduler), *listeners])


def scheduler_command(
    db: DbOption = None, config: ConfigOption = None, lang: LangOption = None
) -> None:
    """A dedicated scheduler process: the scheduled jobs and outbox delivery, no listeners."""
    application = build_or_exit(db, config, lang)
    ui = application.locale
    if not application.settings.scheduler.enabled:
        errors.print(t("cli.scheduler.disabled", ui))
        raise typer.Exit(EXIT_REFUSED)
    scheduler = JobScheduler(application, adapters=chat_adapters(application))
    console.print(t("cli.scheduler.running", ui, jobs=", ".join(s.id for s in scheduler.jobs)))
    _run_services(application, [SchedulerService(scheduler)])


def _run_services(application: App, services: list[Service]) -> None:
    """Serve until stopped; exit 0 after a clean stop, 1 when a part failed."""
    ui = application.locale
    _logging()
    redact_secrets(application.settings)
    code = serve_until_stopped(services, on_stop=lambda: console.print(t("cli.run.stopping", ui)))
    console.print(t("cli.run.stopped", ui))
    application.store.dispose()
    raise typer.Exit(code)


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not a line per outbox round
