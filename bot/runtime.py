"""One process, several services (chat listeners, the HTTP server, the scheduler), started
together and stopped together on SIGTERM or SIGINT.

The main thread owns the signals: each service runs in its own thread (or its library's) and
is told to stop by a call, never by a signal of its own. Stopping goes in reverse order of
starting — listeners first, so no new presses arrive, the scheduler last, so the replies
already queued are still delivered and the running job finishes (bot/scheduler.py). A second
signal while stopping exits at once; a lease left behind then expires and is taken over.
"""

import asyncio
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Protocol

from adapters.http import ReplenishAsgi, server
from adapters.telegram import TelegramApplication, serve_polling
from bot.scheduler import JobScheduler

log = logging.getLogger(__name__)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
EXIT_OK, EXIT_FAILED, EXIT_FORCED = 0, 1, 130
STOP_TIMEOUT_SECONDS = 30.0


class Service(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def running(self) -> bool: ...


@dataclass
class ThreadService:
    """`target` blocks until `halt()` is called (from any thread, possibly more than once)."""

    name: str
    target: Callable[[], None]
    halt: Callable[[], None]
    timeout: float = STOP_TIMEOUT_SECONDS
    _thread: threading.Thread | None = field(default=None, init=False)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name=self.name, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        try:
            self.target()
        except (Exception, SystemExit):  # uvicorn exits on a port in use, for one
            log.exception("%s stopped with an error", self.name)

    def stop(self) -> None:
        deadline = time.monotonic() + self.timeout
        while self.running() and time.monotonic() < deadline:
            self.halt()
            if self._thread is not None:
                self._thread.join(0.5)

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


@dataclass
class CallService:
    """A library that runs its own threads: `open()` returns at once, `close()` ends it."""

    name: str
    open: Callable[[], None]
    close: Callable[[], None]
    _open: bool = field(default=False, init=False)

    def start(self) -> None:
        self.open()
        self._open = True

    def stop(self) -> None:
        if self._open:
            self._open = False
            self.close()

    def running(self) -> bool:
        return self._open


@dataclass
class SchedulerService:
    scheduler: JobScheduler
    name: str = "scheduler"

    def start(self) -> None:
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.stop(wait=True)

    def running(self) -> bool:
        return self.scheduler.running


def http_service(app: ReplenishAsgi, host: str, port: int) -> ThreadService:
    """uvicorn in a thread: it installs no signal handlers there; `should_exit` stops it."""
    instance = server(app, host=host, port=port)
    return ThreadService("http", instance.run, lambda: setattr(instance, "should_exit", True))


def polling_service(bot: TelegramApplication) -> ThreadService:
    """Telegram long polling on its own event loop in a thread; stopped from outside by
    `stop_running()` scheduled on that loop."""
    loop = asyncio.new_event_loop()
    stopped = threading.Event()

    def main() -> None:
        asyncio.set_event_loop(loop)
        serve_polling(bot, stop_signals=False)

    def stop_once() -> None:  # on the loop: stop a running bot once, never during its shutdown
        if stopped.is_set():
            return
        if bot.running:
            stopped.set()
        bot.stop_running()  # not running yet: marks it to stop once started

    def halt() -> None:
        if not loop.is_closed():
            loop.call_soon_threadsafe(stop_once)

    return ThreadService("telegram-polling", main, halt)


def socket_mode_service(handler: Any) -> CallService:
    """A Slack Socket Mode handler (connect / close; its client runs its own threads)."""
    return CallService("slack-socket-mode", handler.connect, handler.close)


def serve_until_stopped(services: Sequence[Service], on_stop: Callable[[], None] | None) -> int:
    """Start `services` in order, wait for SIGTERM/SIGINT (or a service dying), stop them in
    reverse order. 0 after a clean stop; 1 when a service died or failed to start."""
    stop = threading.Event()
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            os._exit(EXIT_FORCED)  # a second signal: do not wait any longer
        stop.set()

    for sig in STOP_SIGNALS:
        signal.signal(sig, on_signal)
    started: list[Service] = []
    code = EXIT_OK
    try:
        for service in services:
            service.start()
            started.append(service)
        while not stop.wait(0.5):
            dead = [service.name for service in started if not service.running()]
            if dead:
                log.error("stopping: %s no longer running", ", ".join(dead))
                code = EXIT_FAILED
                break
    except Exception:
        failing = services[len(started)].name if len(started) < len(services) else "?"
        log.exception("could not start %s", failing)
        code = EXIT_FAILED
    finally:
        if on_stop is not None:
            on_stop()
        for service in reversed(started):
            service.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code
