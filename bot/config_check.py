"""`replenish config check`: load the settings as the bot would (the TOML file, then the
environment over it) and name every problem by its key and environment variable.

Beyond the settings model's own checks it finds what the model would quietly ignore: a key
in replenish.toml that is no setting (a typo such as `[slack] bot_tokn`), and a file that is
not valid TOML. The messages of the model's checks are pydantic's, in English; the values
refused are not echoed (a URL or DSN may hold a password, as a secret does).
"""

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import pydantic
from pydantic import BaseModel
from pydantic_core import ErrorDetails

from bot.config_reference import Setting, section_model, settings_of
from bot.settings import Settings, config_path, load_settings


class Trouble(StrEnum):
    INVALID = "invalid"  # the model refused a value
    UNKNOWN = "unknown"  # a key in the file that is no setting
    SYNTAX = "syntax"  # the file is not TOML


@dataclass(frozen=True)
class Problem:
    trouble: Trouble
    key: str = ""  # "planning.service_level"; a section ("email") or "" for a whole
    env: str = ""  # the setting's environment variable, when the key is one setting
    message: str = ""


@dataclass(frozen=True)
class Checked:
    file: Path | None  # the TOML file read; None: environment and defaults only
    problems: list[Problem]


def check(config_file: Path | None = None) -> Checked:
    """Raises FileNotFoundError for a named file that does not exist, as loading does."""
    path = config_path(config_file)
    problems: list[Problem] = []
    if path is not None:
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            return Checked(path, [Problem(Trouble.SYNTAX, message=str(exc))])
        problems += unknown_keys(data)
    try:
        load_settings(config_file)
    except pydantic.ValidationError as exc:
        by_key = {setting.key: setting for setting in settings_of()}
        problems += [
            _invalid(error, by_key)
            for error in exc.errors()
            if error["type"] != "extra_forbidden"  # reported by unknown_keys, with its path
        ]
    return Checked(path, problems)


def unknown_keys(
    data: dict[str, Any], model: type[BaseModel] = Settings, prefix: tuple[str, ...] = ()
) -> list[Problem]:
    """Keys of a parsed replenish.toml that name no setting, at any depth."""
    problems: list[Problem] = []
    for name, value in data.items():
        path = (*prefix, name)
        field = model.model_fields.get(name)
        if field is None:
            problems.append(Problem(Trouble.UNKNOWN, ".".join(path)))
            continue
        sub = section_model(field.annotation)
        if sub is not None and isinstance(value, dict):
            problems += unknown_keys(value, sub, path)
    return problems


def _invalid(error: ErrorDetails, by_key: dict[str, Setting]) -> Problem:
    loc = [str(part) for part in error["loc"]]
    message = error["msg"].removeprefix("Value error, ")
    size = next((n for n in range(len(loc), 0, -1) if ".".join(loc[:n]) in by_key), 0)
    if not size:  # a section's or the whole model's own check
        return Problem(Trouble.INVALID, ".".join(loc), message=message)
    setting = by_key[".".join(loc[:size])]
    inside = "".join(f"[{part}]" for part in loc[size:])  # an item of a list or table
    return Problem(Trouble.INVALID, setting.key + inside, setting.env, message)
