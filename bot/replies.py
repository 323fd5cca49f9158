"""The short private replies a presser reads after a button or form: `outcome_text` for an
`Outcome.as_dict()` (or an alert outcome), saying what was done and which quantities the
supplier's terms raised, and `error_text` for a `DomainError.as_dict()`, a refusal as a
polite sentence in zh-TW or en that never shows a trace or an unfilled `{po}`. Times are in
the reader's zone (Taipei unless told); every word goes through `bot.i18n`.
"""

import string
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.cards import raise_reasons
from bot.formats import DASH, canonical_locale, joined, known, number, status_word, when, who
from bot.i18n import CATALOGS, en, t

TAIPEI = ZoneInfo("Asia/Taipei")


# --- private replies after a press -------------------------------------------------------


def outcome_text(outcome: Mapping[str, Any], locale: str, tz: ZoneInfo = TAIPEI) -> str:
    """What the presser reads privately: `Outcome.as_dict()` or an alert outcome."""
    loc = canonical_locale(locale)
    action = str(outcome.get("action") or "")
    if outcome.get("awaiting_second_approval"):
        action = "first_approval"
    key = f"outcome.{action}" if action and known(f"outcome.{action}") else "outcome.other"
    if action == "snoozed" and not outcome.get("until"):
        key = "outcome.snoozed_plain"
    text = t(
        key,
        loc,
        po=outcome.get("po") or DASH,
        status=status_word(str(outcome.get("status") or ""), loc),
        until=when(outcome.get("until"), loc, tz),
    )
    if action == "edit":  # the quantities the supplier's terms raised, one line each
        text = "\n".join([text, *(_raised_text(c, loc) for c in outcome.get("changed") or [])])
    return text


def _raised_text(change: Mapping[str, Any], loc: str) -> str:
    reasons = raise_reasons(change, loc) or [
        t("card.po.note.moq", loc, moq=number(change.get("moq"), loc)),
        t("card.po.note.case_pack", loc, case_pack=number(change.get("case_pack"), loc)),
    ]
    return t(
        "outcome.edit_raised",
        loc,
        sku=change.get("sku") or DASH,
        asked=number(change.get("asked"), loc),
        qty=number(change.get("qty"), loc),
        reasons=joined(reasons, loc),
    )


# --- domain errors ----------------------------------------------------------------------


def error_text(error: Mapping[str, Any], locale: str, tz: ZoneInfo = TAIPEI) -> str:
    """A refusal as a polite sentence from `{"code", "params"}`; an unknown code, a missing
    parameter or a bad template still reads as a sentence, never as a trace or `{po}`."""
    loc = canonical_locale(locale)
    code = str(error.get("code") or "domain_error")
    raw = error.get("params")
    params = {name: _param(name, value, loc, tz) for name, value in (raw or {}).items()}
    key = f"error.{code}" if known(f"error.{code}") else "error.domain_error"
    template = CATALOGS.get(loc, {}).get(key) or en.MESSAGES[key]
    try:
        return string.Formatter().vformat(template, (), _Filled(params))
    except (ValueError, IndexError, AttributeError):
        return t("error.domain_error", loc)


class _Filled(dict[str, Any]):
    """Format parameters where a missing one reads as a dash."""

    def __missing__(self, key: str) -> str:
        return DASH


def _param(name: str, value: object, loc: str, tz: ZoneInfo) -> str:
    """Datetimes in the reader's zone, statuses/actions/roles in words, lists joined."""
    if value is None or value == "":
        return DASH
    if name == "at" or name.endswith("_at") or name == "until":
        return when(value if isinstance(value, datetime | str) else str(value), loc, tz)
    if name in {"by", "first_by"}:
        return who(value, loc)
    if name == "status":
        return status_word(str(value), loc)
    if isinstance(value, list | tuple | set | frozenset):
        return joined((_word(name, str(item), loc) for item in value), loc)
    return _word(name, str(value), loc)


def _word(name: str, value: str, loc: str) -> str:
    prefix = {"action": "action", "needed": "role", "role": "role", "valid": "role"}.get(name)
    key = f"{prefix}.{value}"
    return t(key, loc) if prefix and known(key) else value
