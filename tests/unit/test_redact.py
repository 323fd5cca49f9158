"""bot.redact: configured secrets become *** in every log record, whoever logs it."""

import logging

import pytest
from pydantic import SecretStr

from bot import redact
from bot.settings import FeedsSettings, Settings, TelegramSettings

TOKEN = "777:UNIT-secret/token+x"  # "/" and "+" change when URL-quoted


def _settings() -> Settings:
    return Settings(
        telegram=TelegramSettings(bot_token=SecretStr(TOKEN)),
        feeds=FeedsSettings(webhook_secrets={"shop": SecretStr("UNIT-shop-secret")}),
    )


def test_every_secret_in_the_settings_is_found() -> None:
    assert redact.secret_values(_settings()) >= {TOKEN, "UNIT-shop-secret"}


def test_a_secret_is_masked_as_typed_and_url_quoted() -> None:
    text = f"GET /bot{TOKEN}/getMe and /bot777%3AUNIT-secret%2Ftoken%2Bx/getMe"
    assert redact.redact(text, [TOKEN]) == "GET /bot***/getMe and /bot***/getMe"


def test_too_short_a_value_is_not_treated_as_a_secret() -> None:
    short = Settings(telegram=TelegramSettings(bot_token=SecretStr("abc")))
    assert redact.secret_values(short) == set()


def test_log_messages_and_tracebacks_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    redact.install(_settings())
    redact.install(_settings())  # twice: still one wrapper
    assert getattr(logging.getLogRecordFactory(), "redacts_secrets", False)
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("some.library")
    log.info("HTTP Request: POST http://api/bot%s/sendMessage", TOKEN)
    try:
        raise RuntimeError(f"rejected {TOKEN}")
    except RuntimeError:
        log.exception("failed")
    assert TOKEN not in caplog.text
    assert "bot***/sendMessage" in caplog.text
    assert "rejected ***" in caplog.text
