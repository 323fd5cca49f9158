"""Settings from `REPLENISH_*` environment variables and an optional `replenish.toml`.

Precedence: explicit arguments > environment > the TOML file > defaults. Nothing is read at
import time: call `load_settings()` where the program starts.
"""

import os
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

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
    emergency_needs_second: bool = True


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


class PlanningSettings(BaseModel):
    """How the engine decides (see README: How it decides)."""

    service_level: float = Field(0.95, gt=0, lt=1)  # cycle service level for safety stock
    review_days: int = Field(1, ge=1)  # how often orders are placed
    order_cost: float = Field(300.0, ge=0)  # TWD per PO line, for EOQ
    holding_rate: float = Field(0.25, gt=0)  # per year, fraction of unit cost
    history_days: int = Field(365, ge=28)


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
    slack: SlackSettings = SlackSettings()
    telegram: TelegramSettings = TelegramSettings()

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
