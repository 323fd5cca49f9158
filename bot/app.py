"""The composition root: the one place that builds settings, the store, the chat adapters
(and later the scheduler), and wires them together."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import select

from adapters.chat import Card
from adapters.email import PLATFORM as PLATFORM_EMAIL
from adapters.http import ReplenishAsgi
from adapters.slack import PLATFORM as PLATFORM_SLACK
from adapters.slack import SlackBolt as BoltApp
from adapters.slack import SlackChat, SlackConfig, slack_app, web_client
from adapters.telegram import PLATFORM as PLATFORM_TELEGRAM
from adapters.telegram import TelegramApplication, TelegramConfig, TelegramWebhook
from adapters.telegram import application as telegram_app
from adapters.telegram_delivery import TelegramChat
from adapters.webhook import PLATFORM as PLATFORM_WEBHOOK
from bot import cards
from bot.chatbot import ChatBot
from bot.dispatch import Adapter, DispatchReport, dispatch_outbox
from bot.emergency_cards import emergency_card
from bot.feeds import feed_endpoint
from bot.ids import CALLBACK_CODES
from bot.mail import email_chat, is_mail, mail_card
from bot.migrate import ensure_schema
from bot.pick_cards import picks_card
from bot.po_webhook import webhook_sender
from bot.redact import install as redact_secrets
from bot.report_cards import report_card
from bot.settings import Settings, load_settings
from bot.shop_webhooks import webhook_endpoint
from bot.supplier_cards import backup_offer_card, price_card, supplier_po_card
from bot.supplier_documents import document_renderer
from core.invites import migrate_chat
from core.members import record_approval_rules
from core.models import OutboxMessage, OutboxStatus, utcnow
from core.store import Store


@dataclass(frozen=True)
class App:
    settings: Settings
    store: Store
    # What "now" is for the bot's own reads (plans as of yesterday, reports, KPIs): the
    # wall clock, or the console demo's clock, which `/advance` moves.
    clock: Callable[[], datetime] = utcnow

    def __post_init__(self) -> None:
        redact_secrets(self.settings)  # no log line shows a configured secret

    @property
    def locale(self) -> str:
        return self.settings.locale

    def today(self) -> date:
        """The shop's local date by the app's clock."""
        return self.clock().astimezone(self.settings.tz).date()


def build(
    *,
    config_file: Path | None = None,
    database_url: str | None = None,
    locale: str | None = None,
    migrate: bool = True,
) -> App:
    """Build the application; on a fresh SQLite file the schema is created on first use."""
    overrides: dict[str, str] = {}
    if database_url:
        overrides["database_url"] = database_url
    if locale:
        overrides["locale"] = locale
    settings = load_settings(config_file, **overrides)
    store = Store.connect(settings.database_url)
    if migrate:
        ensure_schema(store)
    return App(settings, store)


# --- chat wiring ---------------------------------------------------------------------------


class NotConfigured(Exception):  # noqa: N818 (reads as the message it carries)
    """A setting the requested mode needs is missing; `setting` names it."""

    def __init__(self, setting: str) -> None:
        super().__init__(setting)
        self.setting = setting


def slack_config(settings: Settings, *, socket_mode: bool = False) -> SlackConfig:
    slack = settings.slack
    if slack.bot_token is None:
        raise NotConfigured("slack.bot_token (REPLENISH_SLACK__BOT_TOKEN)")
    if socket_mode and slack.app_token is None:
        raise NotConfigured("slack.app_token (REPLENISH_SLACK__APP_TOKEN)")
    if not socket_mode and slack.signing_secret is None:
        raise NotConfigured("slack.signing_secret (REPLENISH_SLACK__SIGNING_SECRET)")
    secret = slack.signing_secret.get_secret_value() if slack.signing_secret else ""
    return SlackConfig(
        bot_token=slack.bot_token.get_secret_value(),
        signing_secret=secret,
        api_base_url=slack.api_base_url,
    )


def slack_bolt(app: App, *, socket_mode: bool = False) -> BoltApp:
    """The bolt app wired to the bot's answers (and the approval limits audited)."""
    config = slack_config(app.settings, socket_mode=socket_mode)
    with app.store.unit_of_work() as session:
        record_approval_rules(session, app.settings.approval.model_dump(mode="json"))
    return slack_app(config, ChatBot(app, PLATFORM_SLACK), socket_mode=socket_mode)


def telegram_config(settings: Settings, *, webhook: bool = False) -> TelegramConfig:
    telegram = settings.telegram
    if telegram.bot_token is None:
        raise NotConfigured("telegram.bot_token (REPLENISH_TELEGRAM__BOT_TOKEN)")
    if webhook and telegram.webhook_secret is None:
        raise NotConfigured("telegram.webhook_secret (REPLENISH_TELEGRAM__WEBHOOK_SECRET)")
    if webhook and not telegram.webhook_url:
        raise NotConfigured("telegram.webhook_url (REPLENISH_TELEGRAM__WEBHOOK_URL)")
    secret = telegram.webhook_secret.get_secret_value() if telegram.webhook_secret else ""
    return TelegramConfig(
        bot_token=telegram.bot_token.get_secret_value(),
        api_base_url=telegram.api_base_url,
        webhook_secret=secret,
        codes=CALLBACK_CODES,
    )


def telegram_application(app: App, *, webhook: bool = False) -> TelegramApplication:
    """The Telegram Application wired to the bot's answers (and the limits audited)."""
    config = telegram_config(app.settings, webhook=webhook)
    with app.store.unit_of_work() as session:
        record_approval_rules(session, app.settings.approval.model_dump(mode="json"))
    return telegram_app(config, ChatBot(app, PLATFORM_TELEGRAM), app.store)


def telegram_webhook(app: App, application: TelegramApplication) -> TelegramWebhook:
    config = telegram_config(app.settings, webhook=True)
    url = app.settings.telegram.webhook_url or ""
    return TelegramWebhook(application, app.store, config.webhook_secret, url=url)


def chat_adapters(app: App) -> dict[str, Adapter]:
    """Delivery for every platform that has a token (e-mail: when enabled; the ERP's PO
    webhook: when its URL is set); the outbox waits for the others."""
    adapters: dict[str, Adapter] = {}
    if app.settings.slack.bot_token is not None:
        token = app.settings.slack.bot_token.get_secret_value()
        config = SlackConfig(bot_token=token, api_base_url=app.settings.slack.api_base_url)
        adapters[PLATFORM_SLACK] = SlackChat(web_client(config))
    if app.settings.telegram.bot_token is not None:
        adapters[PLATFORM_TELEGRAM] = TelegramChat(
            telegram_config(app.settings), lambda old, new: chat_migrated(app, old, new)
        )
    if app.settings.email.enabled:  # the fallback: red alerts, undelivered chat messages
        adapters[PLATFORM_EMAIL] = email_chat(app.settings.email)
    if (webhook := webhook_sender(app.settings)) is not None:
        adapters[PLATFORM_WEBHOOK] = webhook
    return adapters


def chat_migrated(app: App, old_chat_id: str, new_chat_id: str) -> None:
    """A Telegram group became a supergroup: its bindings and pending messages follow."""
    with app.store.unit_of_work() as session:
        migrate_chat(session, PLATFORM_TELEGRAM, old_chat_id, new_chat_id)


def render_card(app: App) -> Callable[[dict[str, Any], str], Card]:
    """Outbox card JSON → the neutral card, in the reader's locale (a report's chart is
    drawn now, from the numbers in the row)."""
    tz = app.settings.tz
    by_type: dict[str, Callable[[dict[str, Any], str, ZoneInfo], Card]] = {
        "alert": cards.alert_card,
        "picks": picks_card,
        "report": report_card,
        "price": price_card,
        "backup_offer": backup_offer_card,
        "emergency": emergency_card,
        "po_document": document_renderer(app),  # the supplier's PDF
    }

    def render(data: dict[str, Any], locale: str) -> Card:
        if is_mail(data):  # the card inside, in the reader's locale, as a mail
            return mail_card(data, locale, tz, render)
        builder = by_type.get(str(data.get("type")))
        if builder is not None:
            return builder(data, locale, tz)
        if data.get("audience") == "supplier":  # the same PO, in the supplier's own codes
            return supplier_po_card(data, locale, tz)
        return cards.po_card(data, locale, tz)

    return render


def deliver_outbox(
    app: App, adapters: Mapping[str, Adapter], *, now: datetime | None = None
) -> DispatchReport:
    """One delivery round: due rows claimed one by one, rendered in the settings' locale."""
    return dispatch_outbox(
        app.store,
        adapters,
        render_card(app),
        now=now,
        locale_for=lambda _platform, _target: app.settings.locale,
    )


def http_app(
    app: App, slack: BoltApp | None, telegram: TelegramWebhook | None = None
) -> ReplenishAsgi:
    return ReplenishAsgi(
        slack,
        health=lambda: health(app),
        telegram=telegram,
        ingest=feed_endpoint(app),
        webhooks=webhook_endpoint(app),
    )


def health(app: App) -> dict[str, Any]:
    """Cheap: one query, and how much mail is waiting (a growing number means trouble)."""
    with app.store.read() as session:
        pending = session.scalar(
            select(sa.func.count()).where(OutboxMessage.status == OutboxStatus.PENDING)
        )
        failed = session.scalar(
            select(sa.func.count()).where(OutboxMessage.status == OutboxStatus.FAILED)
        )
    return {"ok": True, "database": "ok", "outbox_pending": pending, "outbox_failed": failed}
