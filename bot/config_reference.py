"""The configuration reference (docs/CONFIGURATION.md), generated from the settings model.

One table per section of `replenish.toml`; a row per setting: its dotted key, the
environment variable the model reads, its type, its default and its meaning (the field's
`description`). Secrets are marked and their defaults never printed. The output depends on
the model alone, so a test can regenerate it and compare with the committed file.
"""

import inspect
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from pathlib import Path, PurePath
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from bot.settings import DEFAULT_CONFIG_FILE, Settings

REGENERATE = ".venv/bin/replenish config reference --out docs/CONFIGURATION.md"

_NAMES: dict[object, str] = {
    str: "string",
    int: "integer",
    float: "number",
    Decimal: "decimal number",
    bool: "boolean",
    Path: "path",
    SecretStr: "secret string",
}
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_LIMITS = ("ge", "gt", "le", "lt", "min_length", "max_length")
_LOWER = (("ge", "≥", "≤"), ("gt", ">", "<"))  # x ≥ 1 alone, 1 ≤ x ≤ 9 with an upper bound
_UPPER = (("le", "≤"), ("lt", "<"))


@dataclass(frozen=True)
class Setting:
    """One leaf of the settings model, e.g. `feeds.inbox_dir`."""

    path: tuple[str, ...]
    env: str
    field: FieldInfo

    @property
    def key(self) -> str:
        return ".".join(self.path)

    @property
    def secret(self) -> bool:
        return SecretStr in _leaf_types(self.field.annotation)

    @property
    def meaning(self) -> str:
        return " ".join((self.field.description or "").split())


@dataclass(frozen=True)
class Section:
    """A table of `replenish.toml` (`key` "" is the top level, before any `[table]`)."""

    key: str
    doc: str
    settings: tuple[Setting, ...]


def section_model(annotation: object) -> type[BaseModel] | None:
    """The model a field nests (`planning: PlanningSettings`), else None (a leaf)."""
    bare = _bare(annotation)
    return bare if isinstance(bare, type) and issubclass(bare, BaseModel) else None


def _bare(annotation: object) -> object:
    """`X | None` → `X`; anything else as it is."""
    members = [arg for arg in get_args(annotation) if arg is not NoneType]
    if get_origin(annotation) in (Union, UnionType) and len(members) == 1:
        return members[0]
    return annotation


def sections(model: type[BaseSettings] = Settings) -> list[Section]:
    """Every section with its settings, in the order the model declares them."""
    found: list[Section] = []
    _walk(model, model, (), found)
    return [section for section in found if section.settings]


def settings_of(model: type[BaseSettings] = Settings) -> list[Setting]:
    return [setting for section in sections(model) for setting in section.settings]


def env_name(model: type[BaseSettings], path: Sequence[str]) -> str:
    """The environment variable pydantic-settings reads for `path` (prefix, `__` nesting)."""
    config = model.model_config
    delimiter = config.get("env_nested_delimiter")
    if len(path) > 1 and not delimiter:
        raise ValueError(f"{model.__name__} reads no nested environment variables")
    name = config.get("env_prefix", "") + (delimiter or "").join(path)
    return name if config.get("case_sensitive") else name.upper()


def _walk(
    root: type[BaseSettings],
    model: type[BaseModel],
    prefix: tuple[str, ...],
    found: list[Section],
) -> None:
    leaves: list[Setting] = []
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, field in model.model_fields.items():
        sub = section_model(field.annotation)
        if sub is not None:
            nested.append((name, sub))
        else:
            path = (*prefix, name)
            leaves.append(Setting(path, env_name(root, path), field))
    doc = inspect.cleandoc(model.__doc__ or "") if prefix else ""
    found.append(Section(".".join(prefix), doc, tuple(leaves)))
    for name, sub in nested:
        _walk(root, sub, (*prefix, name), found)


# --- types -----------------------------------------------------------------------------------


def _leaf_types(annotation: object) -> set[object]:
    args = get_args(annotation)
    if not args:
        return {annotation}
    return set().union(*(_leaf_types(arg) for arg in args))


def type_text(annotation: object) -> str:
    """A reader's name for a type: `list of lists of strings`, `table (string → path)`."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is None:
        return _class_text(annotation)
    if origin is Annotated:
        return type_text(args[0])
    if origin in (Union, UnionType):
        return " or ".join(type_text(arg) for arg in args if arg is not NoneType)
    return _generic_text(origin, args)


def _generic_text(origin: object, args: tuple[Any, ...]) -> str:
    if origin is Literal:
        return _one_of(args)
    if origin is dict and len(args) == 2:
        return f"table ({type_text(args[0])} → {type_text(args[1])})"
    if origin in (list, tuple, set, frozenset, Sequence) and args:
        return "list of " + _plural(type_text(args[0]))
    return str(origin)


def _class_text(annotation: object) -> str:
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _one_of([member.value for member in annotation])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "table"
    return _NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _one_of(values: Iterable[object]) -> str:
    return "one of " + ", ".join(f"`{toml_value(value)}`" for value in values)


def _plural(text: str) -> str:
    head, sep, rest = text.partition(" of ")
    if sep:
        return f"{head}s of {rest}"
    return text if text.endswith("s") else text + "s"


def bounds_text(field: FieldInfo) -> str:
    """The field's constraints: `x ≥ 1`, `0 < x < 1`, `at least 1 item`."""
    limits = {
        name: getattr(item, name)
        for item in field.metadata
        for name in _LIMITS
        if hasattr(item, name)
    }
    low = next(((op, back, limits[name]) for name, op, back in _LOWER if name in limits), None)
    high = next(((op, limits[name]) for name, op in _UPPER if name in limits), None)
    parts: list[str] = []
    if low and high:
        parts.append(f"{low[2]} {low[1]} x {high[0]} {high[1]}")
    elif low:
        parts.append(f"x {low[0]} {low[2]}")
    elif high:
        parts.append(f"x {high[0]} {high[1]}")
    for name, word in (("min_length", "at least"), ("max_length", "at most")):
        if name in limits:
            parts.append(f"{word} {limits[name]} {_unit(field, limits[name])}")
    return ", ".join(parts)


def _unit(field: FieldInfo, count: int) -> str:
    word = "character" if _bare(field.annotation) in (str, SecretStr) else "item"
    return word if count == 1 else word + "s"


# --- values ----------------------------------------------------------------------------------


def toml_value(value: object) -> str:
    """`value` as replenish.toml spells it: `"09:00"`, `[["manager"]]`, `{}`, `true`."""
    scalar = _toml_scalar(value)
    if scalar is not None:
        return scalar
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, dict):
        pairs = [f"{_toml_key(str(key))} = {toml_value(item)}" for key, item in value.items()]
        return "{ " + ", ".join(pairs) + " }" if pairs else "{}"
    if isinstance(value, Iterable):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML spelling for {value!r}")


def _toml_scalar(value: object) -> str | None:
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, str | PurePath):
        return json.dumps(str(value), ensure_ascii=False)  # JSON's escapes are TOML's
    return None


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def default_text(setting: Setting) -> str:
    field = setting.field
    if setting.secret:
        return "*secret, not shown*"
    if field.is_required():
        return "*required*"
    value: Any = field.get_default(call_default_factory=True)
    return "*unset*" if value is None else f"`{toml_value(value)}`"


# --- Markdown --------------------------------------------------------------------------------


def render(model: type[BaseSettings] = Settings) -> str:
    """The whole reference as Markdown; the same model always gives the same text."""
    found = sections(model)
    lines = [*_preamble(model, found)]
    for section in found:
        lines += ["", f"## {_heading(section)}", ""]
        if section.doc:
            lines += [section.doc, ""]
        elif not section.key:
            lines += ["Written before any `[section]` line of replenish.toml.", ""]
        lines += [
            "| setting | environment variable | type | default | meaning |",
            "|---|---|---|---|---|",
            *(_row(setting) for setting in section.settings),
        ]
    return "\n".join(lines) + "\n"


def _heading(section: Section) -> str:
    return f"[{section.key}]" if section.key else "Top level"


def _link(section: Section) -> str:
    """A contents entry; the anchor is GitHub's slug of the heading."""
    if not section.key:
        return "[Top level](#top-level)"
    return f"[`[{section.key}]`](#{section.key.replace('.', '')})"


def _preamble(model: type[BaseSettings], found: list[Section]) -> list[str]:
    example = next((s for s in settings_of(model) if len(s.path) > 1), None)
    spelled = f" (`{example.key}` → `{example.env}`)" if example else ""
    contents = " · ".join(_link(section) for section in found)
    return [
        "# Configuration reference",
        "",
        "<!-- Generated from bot/settings.py; do not edit. Change the settings' descriptions,",
        f"then regenerate: {REGENERATE}",
        "A test fails when this file is out of date. -->",
        "",
        f"Every setting Replenish reads. Set it in `{DEFAULT_CONFIG_FILE}` (in the working "
        "directory, or the file named by `--config` or `REPLENISH_CONFIG`) under its section, "
        "or by its environment variable; the environment wins over the file. The variable is "
        f"the dotted key in capitals with `{model.model_config.get('env_prefix', '')}` in front "
        f"and `{model.model_config.get('env_nested_delimiter')}` for each dot{spelled}. "
        "Lists and tables given by environment variable are written as JSON. Secrets are "
        "never shown. `replenish config check` checks a file and the environment.",
        "",
        f"Sections: {contents}",
    ]


def _row(setting: Setting) -> str:
    kind = type_text(setting.field.annotation)
    bounds = bounds_text(setting.field)
    cells = [
        f"`{setting.key}`",
        f"`{setting.env}`",
        f"{kind}, {bounds}" if bounds else kind,
        default_text(setting),
        setting.meaning,
    ]
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"
