"""Settings from `REPLENISH_*` environment variables and an optional `replenish.toml`.

Precedence: explicit arguments > environment > the TOML file > defaults. Nothing is read at
import time: call `load_settings()` where the program starts.
"""

import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from adapters.shop_mapping import load_mapping, signatures
from bot.export_settings import ExportSettings
from bot.shop_settings import ShopSettings
from bot.triggers import parse_daily, parse_weekly
from core.approvers import approver_level

DEFAULT_CONFIG_FILE = "replenish.toml"
Locale = Literal["zh-TW", "en"]


class SlackSettings(BaseModel):
    """Slack (README: Connect Slack)."""

    bot_token: SecretStr | None = Field(
        None, description="Bot User OAuth Token (xoxb-…). Unset: Slack is not used."
    )
    signing_secret: SecretStr | None = Field(
        None, description="HTTP mode: the signing secret that verifies every request from Slack."
    )
    app_token: SecretStr | None = Field(
        None,
        description="App-level token (xapp-…) for Socket Mode. Set: `replenish run` connects "
        "by Socket Mode instead of serving HTTP.",
    )
    api_base_url: str = Field(
        "https://slack.com/api/",
        description="Slack Web API base URL; change it only for a Slack-compatible server (an "
        "enterprise proxy, the tests' fake).",
    )

    @field_validator("api_base_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"not an http(s) URL: {value!r}")
        return value if value.endswith("/") else value + "/"


class ApprovalSettings(BaseModel):
    """Who must approve: above `second_approver_over` (TWD) two different managers."""

    second_approver_over: Decimal | None = Field(
        None,
        ge=0,
        description="PO total (TWD) above which two different managers must approve. Unset: "
        "one approval is enough.",
    )
    emergency_needs_second: bool = Field(
        False,
        description="Whether an emergency PO above `second_approver_over` needs two managers "
        "too; false: one approval is enough for an emergency.",
    )


class TelegramSettings(BaseModel):
    """Telegram (README: Connect Telegram)."""

    bot_token: SecretStr | None = Field(
        None, description="Bot token from @BotFather. Unset: Telegram is not used."
    )
    webhook_secret: SecretStr | None = Field(
        None,
        description="Webhook mode: the secret Telegram sends in a header with every update; "
        "an update without it is refused.",
    )
    webhook_url: str | None = Field(
        None,
        description="Webhook mode: the public URL Telegram posts updates to "
        "(https://YOUR-HOST/telegram/webhook). Unset: long polling.",
    )
    api_base_url: str = Field(
        "https://api.telegram.org/bot",
        description="Bot API base URL; change it only for a compatible server (a local Bot API "
        "server, the tests' fake).",
    )


class SupplierSettings(BaseModel):
    """Suppliers, in their Telegram groups: how long they have to confirm a sent PO."""

    sla_working_hours: float = Field(
        4.0,
        gt=0,
        description="Taiwan working hours a supplier has to confirm a sent PO before a reminder; "
        "after twice as long the manager is offered the backup supplier.",
    )


class PickSettings(BaseModel):
    """Dropship pick lists: an unacknowledged red list is re-sent, then escalated."""

    resend_after_minutes: int = Field(
        30,
        ge=1,
        description="Minutes after which an unacknowledged red pick list is re-sent to the "
        "dropship partner.",
    )
    escalate_after_minutes: int = Field(
        60,
        ge=1,
        description="Minutes after which an unacknowledged red pick list is escalated to the "
        "logistics chat.",
    )


class EmergencySettings(BaseModel):
    """Emergency orders (緊急補貨): who approves them, level after level, and how fast.
    Whether one above the approval limit needs a second manager:
    `approval.emergency_needs_second`."""

    approve_within_minutes: int = Field(
        30,
        ge=1,
        description="Minutes a level of the approver chain has to approve an emergency order: "
        "then a reminder; as long again, and the next level is asked.",
    )
    confirm_within_minutes: int = Field(
        60,
        ge=1,
        description="Minutes the supplier has to confirm an approved emergency PO before the "
        "backup supplier is offered.",
    )
    approvers: list[list[str]] = Field(
        default_factory=lambda: [["manager"]],
        min_length=1,
        description="The escalation chain, one level after another; a level lists roles "
        '("manager") or members ("slack:U123", "telegram:456").',
    )

    @field_validator("approvers")
    @classmethod
    def _approver_refs(cls, levels: list[list[str]]) -> list[list[str]]:
        return [approver_level(level) for level in levels]


class SchedulerSettings(BaseModel):
    """The bot's own clock (bot/jobs.py). Times are in the shop's time zone (`timezone`)."""

    enabled: bool = Field(
        True,
        description="Run the scheduled jobs (monitor pass, reports, reminders). false: "
        "`replenish run` only serves chat and delivers the outbox.",
    )
    monitor_interval_minutes: int = Field(
        15,
        ge=1,
        le=1440,
        description="Minutes between monitor passes (stock and sales in; alerts and draft POs "
        "out).",
    )
    daily_report_time: str = Field(
        "09:00", description="When the daily inventory report is posted (HH:MM)."
    )
    weekly_kpi: str = Field(
        "mon 09:00",
        description="When the weekly KPI report is posted: a weekday (mon…sun) and HH:MM.",
    )

    @field_validator("daily_report_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        parse_daily(value)
        return value

    @field_validator("weekly_kpi")
    @classmethod
    def _weekly_time(cls, value: str) -> str:
        parse_weekly(value)
        return value


class FeedsSettings(BaseModel):
    """Data that flows in by itself (bot/drop_folder.py)."""

    inbox_dir: Path | None = Field(
        None,
        description="The drop folder watched for feed files. Unset: the drop_folder job does "
        "nothing.",
    )
    tokens: dict[str, str] = Field(
        default_factory=dict,
        description="POST /ingest/{kind}: source name → SHA-256 hex of its bearer token (added "
        "by `replenish feed token add`). Empty: the endpoint is not mounted.",
    )
    hmac_secret: SecretStr | None = Field(
        None,
        description="Set: every ingest request must carry an X-Replenish-Signature (HMAC of its "
        "body).",
    )
    max_body_bytes: int = Field(
        5_000_000, ge=1, description="The largest ingest request body accepted, in bytes."
    )
    shopify_secret: SecretStr | None = Field(
        None,
        description="POST /webhooks/shopify: the secret Shopify signs its order webhooks with "
        "(X-Shopify-Hmac-Sha256). Unset: the endpoint is not mounted.",
    )
    mapping_file: Path | None = Field(
        None,
        description="feeds.toml: how other shop platforms' order webhooks read (POST "
        "/webhooks/{source}); checked at start. Unset: only Shopify's, if its secret is set.",
    )
    webhook_secrets: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Signing secret per feeds.toml source, for a source whose signature names "
        "no secret_env.",
    )

    @field_validator("tokens")
    @classmethod
    def _token_hashes(cls, tokens: dict[str, str]) -> dict[str, str]:
        for name, digest in tokens.items():
            if not re.fullmatch(r"[0-9a-f]{64}", digest.lower()):
                raise ValueError(f"feeds.tokens.{name}: expected the token's SHA-256 hex")
        return {name: digest.lower() for name, digest in tokens.items()}

    @model_validator(mode="after")
    def _mapping_usable(self) -> "FeedsSettings":
        """A bad feeds.toml stops the start, naming its file, source and key."""
        if self.mapping_file is not None:
            sources = load_mapping(self.mapping_file)
            signatures(self.mapping_file, sources, self.webhook_secret_values())
        return self

    def webhook_secret_values(self) -> dict[str, str]:
        return {name: secret.get_secret_value() for name, secret in self.webhook_secrets.items()}


class PlanningSettings(BaseModel):
    """How the engine decides (see README: How it decides)."""

    service_level: float = Field(
        0.95,
        gt=0,
        lt=1,
        description="Cycle service level for safety stock: the chance that stock lasts until "
        "the next delivery.",
    )
    review_days: int = Field(
        1,
        ge=1,
        description="Review period: how often orders are placed, in days; added to the lead "
        "time when an order is sized.",
    )
    order_cost: float = Field(
        300.0, ge=0, description="Cost of placing one PO line (TWD): S in the EOQ."
    )
    holding_rate: float = Field(
        0.25,
        gt=0,
        description="Yearly cost of holding stock as a fraction of its unit price: H in the EOQ "
        "is unit price × holding_rate.",
    )
    history_days: int = Field(
        365, ge=28, description="Days of sales history the forecasts learn from."
    )


class EmailSettings(BaseModel):
    """The e-mail fallback (off by default): red alerts and emergency requests are also
    e-mailed to the members who own them, and a chat message still undelivered after
    `undelivered_after_minutes` is e-mailed instead. Port 587 with STARTTLS, or 465 with
    `use_ssl` (implicit TLS); a server without STARTTLS is refused, never used in clear."""

    enabled: bool = Field(
        False, description="Turn the e-mail fallback on (needs `host` and `sender`)."
    )
    host: str = Field("", description="The SMTP server's host name.")
    port: int = Field(
        587, ge=1, le=65535, description="SMTP port: 587 with STARTTLS, 465 with `use_ssl`."
    )
    username: str = Field("", description="SMTP login name; empty: no login.")
    password: SecretStr | None = Field(None, description="SMTP login password.")
    sender: str = Field("", description="The From address, e.g. replenish@shop.tw.")
    starttls: bool = Field(
        True,
        description="Upgrade the connection with STARTTLS; a server that does not offer it is "
        "refused. false (without `use_ssl`): no encryption, for a relay on localhost only.",
    )
    use_ssl: bool = Field(
        False, description="Implicit TLS from the first byte (port 465) instead of STARTTLS."
    )
    timeout_seconds: float = Field(30.0, gt=0, description="Seconds to wait for the SMTP server.")
    local_hostname: str | None = Field(
        None,
        description="The name we greet the SMTP server with (EHLO). Unset: this machine's FQDN.",
    )
    undelivered_after_minutes: int = Field(
        30,
        ge=1,
        description="A chat message still undelivered after this many minutes is e-mailed instead.",
    )

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> "EmailSettings":
        missing = [name for name in ("host", "sender") if self.enabled and not getattr(self, name)]
        if missing:
            names = ", ".join(f"email.{name} (REPLENISH_EMAIL__{name.upper()})" for name in missing)
            raise ValueError(f"email.enabled needs {names}")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="REPLENISH_",
        env_nested_delimiter="__",
        extra="forbid",
        hide_input_in_errors=True,  # a refused section would echo its secrets (tokens, keys)
    )

    database_url: str = Field(
        "sqlite:///replenish.db",
        description="SQLAlchemy database URL: SQLite (sqlite:///FILE) or PostgreSQL "
        "(postgresql+psycopg://USER:PASSWORD@HOST/DB).",
    )
    locale: Locale = Field(
        "zh-TW", description="Default language of messages; a member can choose their own."
    )
    timezone: str = Field(
        "Asia/Taipei",
        description="The shop's time zone (IANA name): schedules, business days, report dates.",
    )
    currency: str = Field("TWD", description="The shop's currency (ISO 4217 code).")
    default_location: str = Field(
        "WH", description="Location code for imported stock and sales rows that name none."
    )
    planning: PlanningSettings = PlanningSettings()
    approval: ApprovalSettings = ApprovalSettings()
    supplier: SupplierSettings = SupplierSettings()
    picks: PickSettings = PickSettings()
    emergency: EmergencySettings = EmergencySettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    slack: SlackSettings = SlackSettings()
    telegram: TelegramSettings = TelegramSettings()
    email: EmailSettings = EmailSettings()
    feeds: FeedsSettings = FeedsSettings()
    export: ExportSettings = ExportSettings()
    shop: ShopSettings = ShopSettings()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Taipei)") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def config_path(config_file: Path | None = None) -> Path | None:
    """The TOML file the settings read: `config_file`, else $REPLENISH_CONFIG (either must
    exist when named), else ./replenish.toml when there is one."""
    named = config_file or os.environ.get("REPLENISH_CONFIG")
    path = Path(named) if named else Path(DEFAULT_CONFIG_FILE)
    if named and not path.is_file():
        raise FileNotFoundError(f"config file not found: {path}")
    return path if path.is_file() else None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings; `config_file` (or $REPLENISH_CONFIG) must exist when named."""
    path = config_path(config_file)

    class FileSettings(Settings):
        model_config = SettingsConfigDict(toml_file=path)

    return FileSettings(**overrides)
