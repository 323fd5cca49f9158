"""`replenish jobs list|run`, `replenish scheduler` and `replenish run` as a user runs them:
real subprocesses on a copy of the demo database.

Long-running commands are started with Popen and always ended by the test: every wait is
bounded, and a process still alive at the end is killed, so a regression that never stops
fails the test instead of hanging the suite. Chat APIs are the local fakes (loopback only).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.ingest import token_hash
from tests.fakes.slack import FakeSlack
from tests.fakes.telegram import FakeTelegram
from tests.helpers import run_replenish

STOP_WITHIN_SECONDS = 10.0
START_WITHIN_SECONDS = 60.0
REFUSED = 2
LANGS = pytest.mark.parametrize("lang", ["zh-TW", "en"])
ALL_JOBS = (
    "monitor, outbox, replan, sla_watchdog, daily_report, weekly_kpi, stock_snapshot, "
    "exceptions, drop_folder"
)


@pytest.fixture(autouse=True)
def _no_inherited_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own tokens or config must not start a real bot from these tests."""
    for name in list(os.environ):
        if name.startswith("REPLENISH_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`replenish demo`, made once for the module."""
    folder = tmp_path_factory.mktemp("demo")
    done = run_replenish("demo", "--dir", "demo", "--lang", "en", cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder / "demo" / "replenish.db"


@pytest.fixture
def shop(tmp_path: Path, demo_db: Path) -> Path:
    """A folder whose default database (./replenish.db) is a fresh copy of the demo."""
    shutil.copyfile(demo_db, tmp_path / "replenish.db")
    return tmp_path


def replenish(shop: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return run_replenish(*args, cwd=shop, env=env)


# --- jobs list / jobs run ---------------------------------------------------------------------


@LANGS
def test_jobs_list_shows_every_job_with_its_schedule(shop: Path, lang: str) -> None:
    done = replenish(shop, "jobs", "list", "--lang", lang)
    assert done.returncode == 0, done.stderr
    says = {
        "zh-TW": ["排程工作", "每 15 分鐘", "每 5 秒", "每天 09:00", "每週一 09:00", "尚未執行"],
        "en": ["Scheduled jobs", "every 15 min", "every 5 s", "daily at 09:00", "Mondays at 09:00"],
    }[lang]
    for text in (*says, *ALL_JOBS.split(", ")):
        assert text in done.stdout


def test_jobs_run_monitor_on_the_demo_then_list_shows_the_last_run(shop: Path) -> None:
    done = replenish(shop, "jobs", "run", "monitor", "--lang", "en")
    assert done.returncode == 0, done.stderr
    assert "monitor ran: opened" in done.stdout

    as_json = replenish(shop, "jobs", "run", "monitor", "--json")
    assert as_json.returncode == 0, as_json.stderr
    ran = json.loads(as_json.stdout)
    assert (ran["job"], ran["status"], ran["error"]) == ("monitor", "ran", None)
    assert set(ran["result"]) == {"opened", "updated", "resolved", "drafted", "picks"}

    listed = json.loads(replenish(shop, "jobs", "list", "--json").stdout)
    jobs = {row["id"]: row for row in listed}
    assert jobs["monitor"]["last_run"]["scheduled_for"] == ran["scheduled_for"]
    assert jobs["monitor"]["last_run"]["finished_at"] is not None
    assert jobs["sla_watchdog"]["last_run"] is None
    assert jobs["outbox"]["leased"] is False
    quarters = tuple(f":{minute:02d}:00+00:00" for minute in (0, 15, 30, 45))
    assert jobs["monitor"]["next_run"].endswith(quarters)  # on the clock's grid


@LANGS
def test_jobs_run_names_the_jobs_when_the_name_is_unknown(shop: Path, lang: str) -> None:
    done = replenish(shop, "jobs", "run", "nope", "--lang", lang)
    assert done.returncode == REFUSED
    assert "nope" in done.stderr
    assert "monitor" in done.stderr
    assert "sla_watchdog" in done.stderr


# --- run refuses without chat -----------------------------------------------------------------


@LANGS
@pytest.mark.parametrize("args", [("--no-scheduler",), ()], ids=["no-scheduler", "all"])
def test_run_refuses_cleanly_with_no_chat_configured(
    shop: Path, lang: str, args: tuple[str, ...]
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", *args, "--lang", lang],
        cwd=shop,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=START_WITHIN_SECONDS,
        check=False,
    )
    assert done.returncode == REFUSED, done.stdout + done.stderr
    said = {"zh-TW": "沒有設定任何聊天平台", "en": "no chat platform is configured"}[lang]
    assert said in done.stderr
    assert "REPLENISH_SLACK__BOT_TOKEN" in done.stderr
    assert "replenish scheduler" in done.stderr
    assert done.stdout == ""  # never announced that anything runs


def test_scheduler_refuses_when_turned_off(shop: Path) -> None:
    done = replenish(
        shop, "scheduler", "--lang", "en", env={"REPLENISH_SCHEDULER__ENABLED": "false"}
    )
    assert done.returncode == REFUSED
    assert "scheduler.enabled = false" in done.stderr


# --- long-running processes: SIGTERM ------------------------------------------------------------


class Running:
    """A `replenish` subprocess whose output is collected as it comes."""

    def __init__(self, shop: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", *args],
            cwd=shop,
            env=_env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        assert self.process.stdout is not None
        stream = self.process.stdout
        self._reader = threading.Thread(target=lambda: self.lines.extend(stream), daemon=True)
        self._reader.start()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, condition: Callable[[], object], what: str) -> None:
        deadline = time.monotonic() + START_WITHIN_SECONDS
        while not condition():
            assert self.process.poll() is None, f"exited early:\n{self.output}"
            assert time.monotonic() < deadline, f"never {what}:\n{self.output}"
            time.sleep(0.1)

    def terminate(self) -> tuple[int, float]:
        """SIGTERM; the exit code and how long it took (killed, and failed, if too long)."""
        began = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=STOP_WITHIN_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_WITHIN_SECONDS)
            pytest.fail(f"still running {STOP_WITHIN_SECONDS} s after SIGTERM:\n{self.output}")
        self._reader.join(timeout=STOP_WITHIN_SECONDS)
        return code, time.monotonic() - began

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STOP_WITHIN_SECONDS)


@pytest.fixture
def running() -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def start(shop: Path, *args: str, env: dict[str, str] | None = None) -> Running:
        started.append(Running(shop, *args, env=env))
        return started[-1]

    yield start
    for process in started:
        process.kill()


def test_sigterm_stops_a_running_scheduler_with_exit_0(
    shop: Path, running: Callable[..., Running]
) -> None:
    scheduler = running(shop, "scheduler", "--lang", "en")
    scheduler.wait_for(lambda: f"delivering the outbox): {ALL_JOBS}" in scheduler.output, "started")
    time.sleep(1.5)  # a few outbox rounds
    code, took = scheduler.terminate()
    assert code == 0, scheduler.output
    assert took < STOP_WITHIN_SECONDS
    assert "stopping: letting the current job finish" in scheduler.output
    assert scheduler.output.rstrip().endswith("stopped")
    assert "Traceback" not in scheduler.output


def test_run_serves_slack_and_telegram_in_one_process_and_stops_on_sigterm(
    shop: Path,
    running: Callable[..., Running],
    fake_slack: FakeSlack,
    fake_telegram: FakeTelegram,
) -> None:
    port = _free_port()
    env = {
        "REPLENISH_SLACK__BOT_TOKEN": fake_slack.token,
        "REPLENISH_SLACK__SIGNING_SECRET": "test-signing-secret",
        "REPLENISH_SLACK__API_BASE_URL": fake_slack.base_url,
        "REPLENISH_TELEGRAM__BOT_TOKEN": fake_telegram.token,
        "REPLENISH_TELEGRAM__API_BASE_URL": fake_telegram.base_url,
    }
    bot = running(shop, "run", "--host", "127.0.0.1", "--port", str(port), "--lang", "en", env=env)
    bot.wait_for(lambda: _healthy(port), "served /healthz")
    bot.wait_for(lambda: fake_telegram.calls("getUpdates"), "polled Telegram")
    assert f"http://127.0.0.1:{port}: /slack/events" in bot.output
    assert "Telegram bot running with long polling" in bot.output
    assert f"scheduler running: {ALL_JOBS}" in bot.output
    code, _ = bot.terminate()
    assert code == 0, bot.output
    assert "Traceback" not in bot.output
    assert not _healthy(port)


def test_run_no_scheduler_delivers_the_outbox_only(
    shop: Path, running: Callable[..., Running], fake_slack: FakeSlack
) -> None:
    port = _free_port()
    env = {
        "REPLENISH_SLACK__BOT_TOKEN": fake_slack.token,
        "REPLENISH_SLACK__SIGNING_SECRET": "test-signing-secret",
        "REPLENISH_SLACK__API_BASE_URL": fake_slack.base_url,
    }
    args = ("run", "--no-scheduler", "--host", "127.0.0.1", "--port", str(port), "--lang", "en")
    worker = running(shop, *args, env=env)
    worker.wait_for(lambda: _healthy(port), "served /healthz")
    assert "scheduler not started" in worker.output
    code, _ = worker.terminate()
    assert code == 0, worker.output


def test_run_serves_the_feeds_even_when_chat_needs_no_http(
    shop: Path, running: Callable[..., Running], fake_telegram: FakeTelegram
) -> None:
    """Telegram by long polling needs no HTTP server, but a feed token does: /ingest is up."""
    port, token = _free_port(), "wms-token-for-the-run-test"
    env = {
        "REPLENISH_TELEGRAM__BOT_TOKEN": fake_telegram.token,
        "REPLENISH_TELEGRAM__API_BASE_URL": fake_telegram.base_url,
        "REPLENISH_FEEDS__TOKENS": json.dumps({"wms": token_hash(token)}),
    }
    args = ("run", "--no-scheduler", "--host", "127.0.0.1", "--port", str(port), "--lang", "en")
    worker = running(shop, *args, env=env)
    worker.wait_for(lambda: _healthy(port), "served /healthz")
    assert "/ingest/{kind}" in worker.output
    stock = [{"sku": "NOPE", "location": "WH", "on_hand": 1}]
    answer = httpx.post(
        f"http://127.0.0.1:{port}/ingest/stock",
        json=stock,
        headers={"authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 422, answer.text  # served and checked: the SKU is unknown
    assert answer.json()["rejected"][0]["code"] == "unknown_sku"
    code, _ = worker.terminate()
    assert code == 0, worker.output


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPLENISH_")}
    return env | {"COLUMNS": "200", "PYTHONUNBUFFERED": "1"} | (extra or {})


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
