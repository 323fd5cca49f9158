"""The composition root: the one place that builds settings, the store and (later) the
chat adapters and scheduler, and wires them together."""

from dataclasses import dataclass
from pathlib import Path

from bot.migrate import ensure_schema
from bot.settings import Settings, load_settings
from core.store import Store


@dataclass(frozen=True)
class App:
    settings: Settings
    store: Store

    @property
    def locale(self) -> str:
        return self.settings.locale


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
