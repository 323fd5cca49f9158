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

from bot.triggers import parse_daily, parse_weekly
from core.approvers import approver_level

DEFAULT_CONFIG_FILE = "replenish.toml"
Locale = Literal["zh-TW", "en"]


class SlackSettings(BaseModel):
    bot_token: SecretStr | None = None  # xoxb-…
    signing_secret: SecretStr | None = None  # HTTP mode: verifies every request
    app_token: SecretStr | None = None  # xapp-…, Socket Mode only
    # Any Slack-compatible Web API (the tests' fake server, an enterprise proxy).
    api_base_url: str = "https://slack.com/api/"

    @field_validator("api_base_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"not an http(s) URL: {value!r}")
        return value if value.endswith("/") else value + "/"


class ApprovalSettings(BaseModel):
    """Who must approve: above `second_approver_over` (TWD) two different managers."""

    second_approver_over: Decimal | None = Field(None, ge=0)
    emergency_needs_second: bool = False  # an emergency (緊急補貨) PO: one approval is enough


class TelegramSettings(BaseModel):
    bot_token: SecretStr | None = None  # from @BotFather
    webhook_secret: SecretStr | None = None  # webhook mode: Telegram sends it in a header
    webhook_url: str | None = None  # webhook mode: https://YOUR-HOST/telegram/webhook
    # Any Bot API compatible server (a local Bot API server, the tests' fake).
    api_base_url: str = "https://api.telegram.org/bot"


class SupplierSettings(BaseModel):
    """How long a supplier has to confirm a sent PO (Taiwan working hours) before a
    reminder; twice as long before the manager is offered the backup supplier."""

    sla_working_hours: float = Field(4.0, gt=0)


class PickSettings(BaseModel):
    """Dropship pick lists: an unacknowledged red list is re-sent, then escalated."""

    resend_after_minutes: int = Field(30, ge=1)
    escalate_after_minutes: int = Field(60, ge=1)


class EmergencySettings(BaseModel):
    """緊急補貨: who approves an emergency order and how long they have. `approvers` is the
    escalation chain, one level after another; a level lists roles ("manager") or members
    ("slack:U123", "telegram:456"). Not approved within `approve_within_minutes`: a reminder
    to the level; as long again: the next level is asked. The supplier not confirming within
    `confirm_within_minutes` of the approval: the backup supplier is offered. Whether an
    emergency PO above the limit needs a second manager: `approval.emergency_needs_second`."""

    approve_within_minutes: int = Field(30, ge=1)
    confirm_within_minutes: int = Field(60, ge=1)
    approvers: list[list[str]] = Field(default_factory=lambda: [["manager"]], min_length=1)

    @field_validator("approvers")
    @classmethod
    def _approver_refs(cls, levels: list[list[str]]) -> list[list[str]]:
        return [approver_level(level) for level in levels]


class SchedulerSettings(BaseModel):
    """The bot's own clock (bot/jobs.py). Times are in the shop's time zone (`timezone`)."""

    enabled: bool = True  # false: `replenish run` only serves chat and delivers the outbox
    monitor_interval_minutes: int = Field(15, ge=1, le=1440)
    daily_report_time: str = "09:00"  # HH:MM
    weekly_kpi: str = "mon 09:00"  # weekday (mon…sun) and HH:MM

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

    inbox_dir: Path | None = None  # watched drop folder; None: the drop_folder job does nothing
    # POST /ingest/{kind}: source name → SHA-256 hex of its token (`replenish feed token add`);
    # none: the endpoint is not mounted.
    tokens: dict[str, str] = Field(default_factory=dict)
    hmac_secret: SecretStr | None = None  # set: X-Replenish-Signature is required
    max_body_bytes: int = Field(5_000_000, ge=1)

    @field_validator("tokens")
    @classmethod
    def _token_hashes(cls, tokens: dict[str, str]) -> dict[str, str]:
        for name, digest in tokens.items():
            if not re.fullmatch(r"[0-9a-f]{64}", digest.lower()):
                raise ValueError(f"feeds.tokens.{name}: expected the token's SHA-256 hex")
        return {name: digest.lower() for name, digest in tokens.items()}


class PlanningSettings(BaseModel):
    """How the engine decides (see README: How it decides)."""

    service_level: float = Field(0.95, gt=0, lt=1)  # cycle service level for safety stock
    review_days: int = Field(1, ge=1)  # how often orders are placed
    order_cost: float = Field(300.0, ge=0)  # TWD per PO line, for EOQ
    holding_rate: float = Field(0.25, gt=0)  # per year, fraction of unit cost
    history_days: int = Field(365, ge=28)


class EmailSettings(BaseModel):
    """The e-mail fallback (off by default): red alerts and emergency requests are also
    e-mailed to the members who own them, and a chat message still undelivered after
    `undelivered_after_minutes` is e-mailed instead. Port 587 with STARTTLS, or 465 with
    `use_ssl` (implicit TLS); a server without STARTTLS is refused, never used in clear."""

    enabled: bool = False
    host: str = ""
    port: int = Field(587, ge=1, le=65535)
    username: str = ""  # empty: no login
    password: SecretStr | None = None
    sender: str = ""  # the From address, e.g. replenish@shop.tw
    starttls: bool = True
    use_ssl: bool = False
    timeout_seconds: float = Field(30.0, gt=0)
    local_hostname: str | None = None  # the name we greet the server with; None: our FQDN
    undelivered_after_minutes: int = Field(30, ge=1)

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> "EmailSettings":
        missing = [name for name in ("host", "sender") if self.enabled and not getattr(self, name)]
        if missing:
            names = ", ".join(f"email.{name} (REPLENISH_EMAIL__{name.upper()})" for name in missing)
            raise ValueError(f"email.enabled needs {names}")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="REPLENISH_", env_nested_delimiter="__", extra="forbid"
    )

    database_url: str = "sqlite:///replenish.db"
    locale: Locale = "zh-TW"
    timezone: str = "Asia/Taipei"
    currency: str = "TWD"
    default_location: str = "WH"
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


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings; `config_file` (or $REPLENISH_CONFIG) must exist when named."""
    named = config_file or os.environ.get("REPLENISH_CONFIG")
    path = Path(named) if named else Path(DEFAULT_CONFIG_FILE)
    if named and not path.is_file():
        raise FileNotFoundError(f"config file not found: {path}")

    class FileSettings(Settings):
        model_config = SettingsConfigDict(toml_file=path if path.is_file() else None)

    return FileSettings(**overrides)
