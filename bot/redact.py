"""Configured secrets never reach a log line.

Libraries log what they see: httpx logs each request's URL at INFO, and the Telegram Bot
API puts the bot token in the URL. Rather than quieting each library, every log record is
redacted when it is made: any configured secret in its message or its traceback becomes
`***`. `install(settings)` is called by the app builder and the CLI's logging setup.
"""

from __future__ import annotations

import logging
import threading
import urllib.parse
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel, SecretStr

MASK = "***"
SHORTEST = 6  # a shorter "secret" would mask ordinary words; settings refuse such anyway

_secrets: set[str] = set()
_lock = threading.Lock()


def secret_values(settings: BaseModel) -> set[str]:
    """Every secret (SecretStr) in these settings, as configured. The database password is
    SQLAlchemy's to hide (it masks it in every URL it shows)."""
    return {value for value in _walk(settings) if len(value) >= SHORTEST}


def redact(text: str, secrets: Iterable[str] | None = None) -> str:
    """`text` with each secret (also URL-quoted) replaced by `***`, longest first."""
    for secret in sorted(_secrets if secrets is None else secrets, key=len, reverse=True):
        for form in {secret, urllib.parse.quote(secret, safe="")}:
            text = text.replace(form, MASK)
    return text


def install(settings: BaseModel) -> None:
    """Redact these settings' secrets from every log record made from now on."""
    with _lock:
        _secrets.update(secret_values(settings))
        make_record = logging.getLogRecordFactory()
        if getattr(make_record, "redacts_secrets", False):
            return

        def redacting(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = make_record(*args, **kwargs)
            _redact_record(record)
            return record

        redacting.redacts_secrets = True  # type: ignore[attr-defined]
        logging.setLogRecordFactory(redacting)


def _redact_record(record: logging.LogRecord) -> None:
    if not _secrets:
        return
    try:
        message = record.getMessage()
    except Exception:  # a bad format string is logging's to report
        return
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[1] is not None:
        text = logging.Formatter().formatException(record.exc_info)
        record.exc_text = redact(text)  # formatters use exc_text when it is set


def _walk(value: Any) -> Iterator[str]:
    if isinstance(value, SecretStr):
        yield value.get_secret_value()
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _walk(getattr(value, name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _walk(item)
