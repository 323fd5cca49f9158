"""docs/CONFIGURATION.md: generated from the settings model, complete, and true.

True means: each environment variable and TOML key the reference lists really sets its
setting when the settings are built (no guessing at pydantic-settings' naming rules).
"""

import json
import os
import re
from decimal import Decimal
from enum import Enum, StrEnum
from pathlib import Path
from types import NoneType, UnionType
from typing import Any, Literal, Union, get_args, get_origin

import pytest
from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.config_reference import (
    REGENERATE,
    Setting,
    render,
    sections,
    settings_of,
    toml_value,
)
from bot.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "CONFIGURATION.md"
ROW = re.compile(r"^\| `(?P<key>[^`]+)` \| `(?P<env>[^`]+)` \|")

# Values for settings whose own checks refuse a made-up sample.
SAMPLES: dict[str, object] = {
    "timezone": "Europe/London",
    "emergency.approvers": [["manager"], ["slack:U0BOSS", "telegram:42"]],
    "scheduler.daily_report_time": "07:30",
    "scheduler.weekly_kpi": "fri 17:00",
    "slack.api_base_url": "http://127.0.0.1:9/api/",
    "feeds.tokens": {"wms": "ab" * 32},
    "export.po_webhook_url": "https://erp.example.com/po",
}
# Settings that are valid only together with others (a section's own check).
COMPANIONS: dict[str, dict[str, object]] = {
    "email.enabled": {"email.host": "smtp.example.com", "email.sender": "bot@example.com"},
    "export.po_webhook_url": {"export.po_webhook_secret": "s" * 32},
}


def listed() -> list[tuple[str, str]]:
    """(key, environment variable) of every row of the reference, as a reader sees it."""
    rows = (ROW.match(line) for line in render().splitlines())
    return [(row["key"], row["env"]) for row in rows if row]


def test_the_committed_reference_is_up_to_date() -> None:
    committed = REFERENCE.read_text(encoding="utf-8") if REFERENCE.exists() else ""
    if committed != render():
        pytest.fail(f"docs/CONFIGURATION.md is out of date; regenerate it: {REGENERATE}")


def test_every_setting_has_a_description() -> None:
    missing = [setting.key for setting in settings_of() if not setting.meaning]
    assert not missing, f"add Field(description=...) to: {', '.join(missing)}"
    undocumented = [section.key for section in sections() if section.key and not section.doc]
    assert not undocumented, f"add a docstring to the model of: {', '.join(undocumented)}"


def test_the_reference_lists_every_setting_once() -> None:
    keys = [key for key, _ in listed()]
    assert keys == [setting.key for setting in settings_of()]
    assert len(set(keys)) == len(keys)
    assert ("feeds.inbox_dir", "REPLENISH_FEEDS__INBOX_DIR") in listed()


@pytest.mark.parametrize(("key", "env"), listed(), ids=[key for key, _ in listed()])
def test_each_listed_environment_variable_sets_its_setting(
    key: str, env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    setting = _by_key(key)
    _clear_environment(monkeypatch)
    values = {key: sample(setting), **COMPANIONS.get(key, {})}
    for name, value in values.items():
        monkeypatch.setenv(_by_key(name).env if name != key else env, _env_text(value))
    _assert_sets(setting, values[key], Settings, EnvSettingsSource(Settings))


@pytest.mark.parametrize("key", [key for key, _ in listed()])
def test_each_listed_key_sets_its_setting_from_the_toml_file(
    key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setting = _by_key(key)
    _clear_environment(monkeypatch)
    values = {key: sample(setting), **COMPANIONS.get(key, {})}
    config = tmp_path / "replenish.toml"
    config.write_text(_toml_document(values), encoding="utf-8")
    read = TomlConfigSettingsSource(Settings, toml_file=config)
    _assert_sets(setting, values[key], lambda: load_settings(config), read)


def test_secrets_are_marked_and_never_show_a_value() -> None:
    secrets = [setting for setting in settings_of() if setting.secret]
    assert {"slack.bot_token", "telegram.bot_token", "email.password"} <= {
        setting.key for setting in secrets
    }
    rows = {row["key"]: line for line in render().splitlines() if (row := ROW.match(line))}
    for setting in secrets:
        assert "secret string" in rows[setting.key].split(" | ")[2]
        assert "| *secret, not shown* |" in rows[setting.key]


# --- the renderer on a model of its own --------------------------------------------------


class Colour(StrEnum):
    RED = "red"
    GREEN = "green"


class Inner(BaseModel):
    """A section inside a section."""

    level: int = Field(3, ge=1, le=5, description="How deep.")


class Outer(BaseModel):
    """The outer section."""

    token: SecretStr = Field(SecretStr("hunter2"), description="A secret with a default.")
    colour: Colour = Field(Colour.RED, description="A colour.")
    folder: Path | None = Field(None, description="A folder.")
    names: list[str] = Field(default_factory=lambda: ["a", "b"], description="Names.")
    counts: dict[str, int] = Field(default_factory=dict, description="Counts | by name.")
    mode: Literal["fast", "safe"] = Field("safe", description="A mode.")
    inner: Inner = Inner()


class Fake(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FAKE_", env_nested_delimiter="__")

    name: str = Field("x", description="At the top.")
    outer: Outer = Outer()


def fake_rows() -> dict[str, list[str]]:
    cells = (line.split(" | ") for line in render(Fake).splitlines() if ROW.match(line))
    return {row[0].strip("| `"): row for row in cells}


def test_rendering_types_defaults_and_bounds() -> None:
    rows = fake_rows()
    assert rows["outer.colour"][2:4] == ['one of `"red"`, `"green"`', '`"red"`']
    assert rows["outer.folder"][2:4] == ["path", "*unset*"]
    assert rows["outer.names"][2:4] == ["list of strings", '`["a", "b"]`']  # default_factory
    assert rows["outer.counts"][2:4] == ["table (string → integer)", "`{}`"]
    assert rows["outer.mode"][2] == 'one of `"fast"`, `"safe"`'
    assert rows["outer.inner.level"][1:4] == [
        "`FAKE_OUTER__INNER__LEVEL`",
        "integer, 1 ≤ x ≤ 5",
        "`3`",
    ]
    assert rows["outer.counts"][4] == "Counts \\| by name. |"  # a pipe would split the cell


def test_a_secret_default_is_never_printed() -> None:
    assert "hunter2" not in render(Fake)
    assert fake_rows()["outer.token"][2:4] == ["secret string", "*secret, not shown*"]


def test_one_table_per_section_in_model_order() -> None:
    headings = [line for line in render(Fake).splitlines() if line.startswith("## ")]
    assert headings == ["## Top level", "## [outer]", "## [outer.inner]"]
    assert "[`[outer.inner]`](#outerinner)" in render(Fake)


def test_a_section_in_a_section_is_read_from_its_listed_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAKE_OUTER__INNER__LEVEL", "4")
    assert Fake().outer.inner.level == 4


@pytest.mark.parametrize(
    ("value", "spelled"),
    [
        (True, "true"),
        (Decimal("5000"), "5000"),
        ('舊 "x"\n', '"舊 \\"x\\"\\n"'),
        (Path("a/b"), '"a/b"'),
        ({"wms": 1, "a b": [2]}, '{ wms = 1, "a b" = [2] }'),
        (Colour.GREEN, '"green"'),
    ],
)
def test_toml_spelling(value: object, spelled: str) -> None:
    assert toml_value(value) == spelled


# --- helpers ---------------------------------------------------------------------------------


def _by_key(key: str) -> Setting:
    return next(setting for setting in settings_of() if setting.key == key)


def _clear_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("REPLENISH_"):
            monkeypatch.delenv(name)


def _assert_sets(setting: Setting, value: object, build: Any, read: Any) -> None:
    """The settings took `value` for the setting; or, refused by a check of the setting or
    of its section (a file that must exist, a secret that must come with it), the source at
    least read it into exactly that place."""
    try:
        loaded = _get(build(), setting.path)
    except ValidationError as exc:
        where = [tuple(map(str, error["loc"])) for error in exc.errors()]
        on_path = [loc for loc in where if setting.path[: len(loc)] == loc[: len(setting.path)]]
        assert on_path, (
            f"{setting.key}: refused elsewhere ({where}); add a valid sample to SAMPLES or "
            "the settings it needs to COMPANIONS in tests/unit/test_config_reference.py"
        )
        assert _has(read(), setting.path), f"{setting.key} was not read at its key"
        return
    assert _plain(loaded) == value, setting.key
    assert loaded != setting.field.get_default(call_default_factory=True), setting.key


def _plain(value: object) -> object:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _has(raw: dict[str, Any], path: tuple[str, ...]) -> bool:
    for name in path:
        if not isinstance(raw, dict) or name not in raw:
            return False
        raw = raw[name]
    return True


def _get(settings: BaseModel, path: tuple[str, ...]) -> object:
    value: Any = settings
    for name in path:
        value = getattr(value, name)
    return value


def sample(setting: Setting) -> object:
    """A value for the setting, not its default, inside its bounds."""
    if setting.key in SAMPLES:
        return SAMPLES[setting.key]
    default = setting.field.get_default(call_default_factory=True)
    return _sample_of(_bare(setting.field.annotation), setting.field, default, setting.path[-1])


def _sample_of(kind: Any, field: FieldInfo, default: object, name: str) -> object:
    origin, args = get_origin(kind), get_args(kind)
    if kind is bool:
        return not default
    if kind in (int, float, Decimal):
        return _number(kind, field, default)
    if origin is Literal or (isinstance(kind, type) and issubclass(kind, Enum)):
        choices = list(args) if origin is Literal else list(kind)
        return next(choice for choice in choices if choice != default)
    if origin is list:
        return [_sample_of(args[0], FieldInfo(), None, name)]
    if origin is dict:
        return {"sample": _sample_of(args[1], FieldInfo(), None, name)}
    if kind is Path:
        return Path(f"sample-{name}")
    return f"sample-{name}"  # str, SecretStr (compared by its value)


def _number(kind: Any, field: FieldInfo, default: object) -> object:
    bounds = {
        name: getattr(item, name)
        for item in field.metadata
        for name in ("ge", "gt", "le", "lt")
        if hasattr(item, name)
    }
    low = bounds.get("ge", bounds.get("gt"))
    high = bounds.get("le", bounds.get("lt"))
    guesses = [
        default + 1 if isinstance(default, int | float | Decimal) else None,
        (low + high) / 2 if low is not None and high is not None else None,
        low + 1 if low is not None else None,
        7,
    ]
    for guess in guesses:
        value = kind(guess) if guess is not None else None
        if value is not None and value != default and _within(value, bounds):
            return value
    raise AssertionError(f"no sample inside {bounds}")


def _within(value: Any, bounds: dict[str, Any]) -> bool:
    checks = {
        "ge": lambda bound: value >= bound,
        "gt": lambda bound: value > bound,
        "le": lambda bound: value <= bound,
        "lt": lambda bound: value < bound,
    }
    return all(checks[name](bound) for name, bound in bounds.items())


def _bare(annotation: Any) -> Any:
    members = [arg for arg in get_args(annotation) if arg is not NoneType]
    if get_origin(annotation) in (Union, UnionType) and len(members) == 1:
        return members[0]
    return annotation


def _env_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def _toml_document(values: dict[str, object]) -> str:
    """`{"email.host": "x", "locale": "en"}` as replenish.toml: top-level keys first."""
    tables: dict[str, list[str]] = {}
    for key, value in values.items():
        table, _, name = key.rpartition(".")
        tables.setdefault(table, []).append(f"{name} = {toml_value(value)}")
    lines = tables.pop("", [])
    for table, pairs in tables.items():
        lines += [f"[{table}]", *pairs]
    return "\n".join(lines) + "\n"
