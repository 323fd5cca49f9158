"""One process, several services (bot/runtime.py): the real Telegram poller and uvicorn in
their threads, stopped from outside; the supervisor's order and exit codes on SIGTERM."""

import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field

import httpx
import pytest
from pydantic import SecretStr

from bot.app import App, http_app, telegram_application
from bot.runtime import (
    EXIT_FAILED,
    EXIT_OK,
    http_service,
    polling_service,
    serve_until_stopped,
)
from bot.settings import Settings, TelegramSettings
from core.store import Store
from tests.adapters.conftest import wait_for
from tests.fakes.telegram import FakeTelegram

STOP_WITHIN = 10.0


def _app(store: Store, fake: FakeTelegram) -> App:
    telegram = TelegramSettings(bot_token=SecretStr(fake.token), api_base_url=fake.base_url)
    return App(Settings(telegram=telegram), store)


@pytest.mark.parametrize("when", ["polling", "starting"])
def test_the_telegram_poller_stops_when_asked(
    store: Store, fake_telegram: FakeTelegram, when: str
) -> None:
    service = polling_service(telegram_application(_app(store, fake_telegram)))
    service.start()
    if when == "polling":
        wait_for(lambda: fake_telegram.calls("getUpdates"), timeout=20)
    began = time.monotonic()
    service.stop()  # "starting": asked while it still bootstraps
    assert not service.running()
    assert time.monotonic() - began < STOP_WITHIN


def test_the_http_server_stops_when_asked(store: Store) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    service = http_service(http_app(App(Settings(), store), None), "127.0.0.1", port)
    service.start()
    health = f"http://127.0.0.1:{port}/healthz"
    wait_for(lambda: _answers(health), timeout=20)
    service.stop()
    assert not service.running()
    assert not _answers(health)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class Probe:
    name: str
    log: list[str]
    dies: bool = False
    up: bool = field(default=False, init=False)

    def start(self) -> None:
        self.log.append(f"start {self.name}")
        self.up = True
        if self.dies:
            threading.Timer(0.3, lambda: setattr(self, "up", False)).start()

    def stop(self) -> None:
        self.log.append(f"stop {self.name}")
        self.up = False

    def running(self) -> bool:
        return self.up


def test_sigterm_stops_the_services_in_reverse_order_and_exits_0() -> None:
    log: list[str] = []
    before = signal.getsignal(signal.SIGTERM)
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        code = serve_until_stopped(
            [Probe("scheduler", log), Probe("http", log)], on_stop=lambda: log.append("said")
        )
    finally:
        timer.cancel()
    assert code == EXIT_OK
    assert log == ["start scheduler", "start http", "said", "stop http", "stop scheduler"]
    assert signal.getsignal(signal.SIGTERM) == before  # the test runner's handler is back


def test_a_service_that_dies_stops_the_others_and_exits_1() -> None:
    log: list[str] = []
    code = serve_until_stopped([Probe("scheduler", log), Probe("http", log, dies=True)], None)
    assert code == EXIT_FAILED
    assert log == ["start scheduler", "start http", "stop http", "stop scheduler"]
