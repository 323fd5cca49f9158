"""`replenish bind slack|list` and `replenish run slack` as a user runs them: a real
subprocess, a temporary SQLite file, exit codes and messages in zh-TW and en.

`run slack` is only run where it must refuse to start (no mode, both modes, a missing
setting). It must refuse at once, before serving or connecting to anything: each of those
runs has a short timeout, and its Slack Web API points at a closed loopback port, so a
regression that starts the bot fails quickly instead of reaching out or hanging.
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import col, select

from core.members import PURPOSES
from core.models import AuditEvent, ChatBinding
from core.store import Store
from tests.helpers import run_replenish

replenish = run_replenish
REFUSED = 2
RUN_TIMEOUT_SECONDS = 30  # a refusal takes about a second; serving would never end
CLOSED_PORT_API = "http://127.0.0.1:9/api/"  # discard port: nothing listens, nothing leaves

# What each language says (fragments, so a reworded sentence only breaks its own line).
SAYS = {
    "zh-TW": {
        "saved": "slack 頻道 C1 已設定接收 approvals",
        "already": "slack 頻道 C1 本來就接收 approvals",
        "removed": "slack 頻道 C1 不再接收 approvals",
        "not_bound": "slack 頻道 C1 並未設定接收 approvals",
        "none": "尚未設定任何頻道",
        "list_title": "頻道設定",
        "unknown_purpose": "不明的用途 nope",
        "pick_mode": "請擇一：--socket（Socket Mode）或 --http（HTTP 模式）",
        "missing": "缺少設定：",
        "see_readme": "請見 README「連接 Slack」",
    },
    "en": {
        "saved": "slack channel C1 now receives approvals",
        "already": "slack channel C1 already receives approvals",
        "removed": "slack channel C1 no longer receives approvals",
        "not_bound": "slack channel C1 was not bound to approvals",
        "none": "no chat bindings yet",
        "list_title": "Chat bindings",
        "unknown_purpose": "unknown purpose nope",
        "pick_mode": "choose one: --socket (Socket Mode) or --http (HTTP mode)",
        "missing": "missing setting: ",
        "see_readme": "See README, “Connect Slack”",
    },
}
LANGS = pytest.mark.parametrize("lang", ["zh-TW", "en"])


@pytest.fixture(autouse=True)
def _no_inherited_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The subprocess inherits os.environ: a developer's own Slack tokens, locale or config
    file must not change what these tests see (or let `run slack` start for real)."""
    for name in list(os.environ):
        if name.startswith("REPLENISH_"):
            monkeypatch.delenv(name)


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def store(shop: Path) -> Iterator[Store]:
    """The database the CLI wrote (open it after the commands have run)."""
    opened = Store.connect(f"sqlite:///{shop / 'replenish.db'}")
    yield opened
    opened.engine.dispose()


def lang_args(lang: str) -> tuple[str, ...]:
    return ("--lang", lang) if lang != "zh-TW" else ()  # zh-TW is the default: no flag


def bind(shop: Path, lang: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return replenish("bind", "slack", *extra, *lang_args(lang), cwd=shop)


def run_slack(
    shop: Path, lang: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`replenish run slack ARGS`, expected to refuse: killed (and failed) if it serves."""
    full_env = {
        **os.environ,
        "COLUMNS": "200",
        "REPLENISH_SLACK__API_BASE_URL": CLOSED_PORT_API,
        **(env or {}),
    }
    full_env.pop("REPLENISH_DATABASE_URL", None)
    command = [sys.executable, "-m", "bot.cli", "run", "slack", *args, *lang_args(lang)]
    try:
        return subprocess.run(
            command,
            cwd=shop,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"`run slack {' '.join(args)}` started instead of refusing: {expired.stdout}")


def audit_rows(store: Store, action: str) -> list[AuditEvent]:
    with store.read() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))
            )
        )


# --- bind slack / bind list ------------------------------------------------------------------


@LANGS
def test_bind_is_saved_listed_idempotent_and_removable(shop: Path, lang: str) -> None:
    says = SAYS[lang]
    listed = replenish("bind", "list", *lang_args(lang), cwd=shop)
    assert listed.returncode == 0, listed.stderr
    assert says["none"] in listed.stdout
    assert "replenish bind slack --purpose approvals --channel C123" in listed.stdout

    saved = bind(shop, lang, "--purpose", "approvals", "--channel", "C1")
    assert saved.returncode == 0, saved.stderr
    assert says["saved"] in saved.stdout

    again = bind(shop, lang, "--purpose", "approvals", "--channel", "C1")
    assert again.returncode == 0, again.stderr
    assert says["already"] in again.stdout

    listed = replenish("bind", "list", *lang_args(lang), cwd=shop)
    assert listed.returncode == 0, listed.stderr
    assert says["list_title"] in listed.stdout
    rows = [line for line in listed.stdout.splitlines() if "C1" in line]
    assert len(rows) == 1, listed.stdout
    assert "slack" in rows[0]
    assert "approvals" in rows[0]

    removed = bind(shop, lang, "--purpose", "approvals", "--channel", "C1", "--remove")
    assert removed.returncode == 0, removed.stderr
    assert says["removed"] in removed.stdout

    gone = bind(shop, lang, "--purpose", "approvals", "--channel", "C1", "--remove")
    assert gone.returncode == 0, gone.stderr
    assert says["not_bound"] in gone.stdout

    listed = replenish("bind", "list", *lang_args(lang), cwd=shop)
    assert says["none"] in listed.stdout
    assert "C1" not in listed.stdout.replace("C123", "")  # only the hint's example is left


def test_one_channel_can_hear_several_purposes(shop: Path) -> None:
    for purpose in ("alerts", "approvals"):
        done = bind(shop, "en", "--purpose", purpose, "--channel", "C1")
        assert done.returncode == 0, done.stderr
    assert bind(shop, "en", "--purpose", "reports", "--channel", "C2").returncode == 0

    listed = replenish("bind", "list", "--lang", "en", cwd=shop)
    rows = {
        tuple(cell.strip() for cell in line.strip("│ ").split("│"))
        for line in listed.stdout.splitlines()
        if line.startswith("│")
    }
    assert rows == {
        ("slack", "alerts", "C1"),
        ("slack", "approvals", "C1"),
        ("slack", "reports", "C2"),
    }


def test_binding_changes_are_audited(shop: Path, store: Store) -> None:
    assert bind(shop, "en", "--purpose", "approvals", "--channel", "C1").returncode == 0
    assert bind(shop, "en", "--purpose", "approvals", "--channel", "C1").returncode == 0  # no-op
    assert bind(shop, "en", "--purpose", "approvals", "--channel", "C1", "--remove").returncode == 0
    assert bind(shop, "en", "--purpose", "approvals", "--channel", "C1", "--remove").returncode == 0

    bound = audit_rows(store, "chat.bound")
    unbound = audit_rows(store, "chat.unbound")
    assert len(bound) == 1  # the repeat changed nothing, so it wrote nothing
    assert len(unbound) == 1  # removing what is not there changes nothing either
    for row in (bound[0], unbound[0]):
        assert row.entity == "chat_binding"
        assert row.entity_id == "slack:C1"
        assert row.data["purpose"] == "approvals"
        assert row.actor_id is None  # the CLI is the local administrator
    assert bound[0].id is not None
    assert unbound[0].id is not None
    assert bound[0].id < unbound[0].id
    with store.read() as session:
        assert list(session.scalars(select(ChatBinding))) == []


@LANGS
def test_an_unknown_purpose_is_refused_naming_the_valid_ones(
    shop: Path, store: Store, lang: str
) -> None:
    done = bind(shop, lang, "--purpose", "nope", "--channel", "C1")
    assert done.returncode == REFUSED
    assert SAYS[lang]["unknown_purpose"] in done.stderr
    for purpose in PURPOSES:
        assert purpose in done.stderr
    assert done.stdout == ""
    with store.read() as session:
        assert list(session.scalars(select(ChatBinding))) == []
    assert audit_rows(store, "chat.bound") == []


def test_the_valid_purposes_read_as_a_list_not_python(shop: Path) -> None:
    done = bind(shop, "en", "--purpose", "nope", "--channel", "C1")
    assert done.returncode == REFUSED
    assert "['alerts'" not in done.stderr
    assert "alerts, approvals, buyers" in done.stderr


# --- run slack: refusals only --------------------------------------------------------------


@LANGS
@pytest.mark.parametrize("modes", [(), ("--socket", "--http")], ids=["neither", "both"])
def test_run_slack_needs_exactly_one_mode(shop: Path, lang: str, modes: tuple[str, ...]) -> None:
    env = {  # fully configured: only the mode is wrong
        "REPLENISH_SLACK__BOT_TOKEN": "xoxb-test-placeholder",
        "REPLENISH_SLACK__SIGNING_SECRET": "test-signing-secret",
        "REPLENISH_SLACK__APP_TOKEN": "xapp-test-placeholder",
    }
    done = run_slack(shop, lang, *modes, env=env)
    assert done.returncode == REFUSED, done.stdout + done.stderr
    assert SAYS[lang]["pick_mode"] in done.stderr


HTTP = ("--http", "--host", "127.0.0.1")
BOT_TOKEN = {"REPLENISH_SLACK__BOT_TOKEN": "xoxb-test-placeholder"}
MISSING_SETTING_CASES = [  # (lang, args, env, the setting named); messages differ by language
    *(
        pytest.param(lang, args, env, setting, id=f"{lang}-{name}")
        for lang in ("zh-TW", "en")
        for name, args, env, setting in (
            ("http-without-bot-token", HTTP, {}, "slack.bot_token (REPLENISH_SLACK__BOT_TOKEN)"),
            (
                "http-without-signing-secret",
                HTTP,
                BOT_TOKEN,
                "slack.signing_secret (REPLENISH_SLACK__SIGNING_SECRET)",
            ),
            (
                "socket-without-app-token",
                ("--socket",),
                BOT_TOKEN,
                "slack.app_token (REPLENISH_SLACK__APP_TOKEN)",
            ),
        )
    ),
    pytest.param(
        "en",
        ("--socket",),
        {},
        "slack.bot_token (REPLENISH_SLACK__BOT_TOKEN)",
        id="en-socket-without-bot-token",
    ),
    pytest.param(
        "en",
        HTTP,
        {  # the app-level token is for Socket Mode: it does not stand in for the secret
            **BOT_TOKEN,
            "REPLENISH_SLACK__APP_TOKEN": "xapp-test-placeholder",
        },
        "slack.signing_secret (REPLENISH_SLACK__SIGNING_SECRET)",
        id="en-http-with-app-token-only",
    ),
    pytest.param(
        "en",
        ("--socket",),
        {  # the signing secret is for HTTP mode: it does not stand in for the app token
            **BOT_TOKEN,
            "REPLENISH_SLACK__SIGNING_SECRET": "test-signing-secret",
        },
        "slack.app_token (REPLENISH_SLACK__APP_TOKEN)",
        id="en-socket-with-signing-secret-only",
    ),
]


@pytest.mark.parametrize(("lang", "args", "env", "setting"), MISSING_SETTING_CASES)
def test_run_slack_names_the_missing_setting(
    shop: Path, lang: str, args: tuple[str, ...], env: dict[str, str], setting: str
) -> None:
    done = run_slack(shop, lang, *args, env=env)
    assert done.returncode == REFUSED, done.stdout + done.stderr
    says = SAYS[lang]
    assert says["missing"] + setting in done.stderr
    assert says["see_readme"] in done.stderr
    assert done.stdout == ""  # never announced that it is running or listening
    for secret in env.values():
        assert secret not in done.stdout + done.stderr


def test_run_slack_reads_the_tokens_from_replenish_toml(shop: Path) -> None:
    (shop / "replenish.toml").write_text(
        '[slack]\nbot_token = "xoxb-test-placeholder"\n', encoding="utf-8"
    )
    done = run_slack(shop, "en", "--socket")
    assert done.returncode == REFUSED, done.stdout + done.stderr
    assert "slack.app_token" in done.stderr  # the bot token came from the file
    assert "slack.bot_token" not in done.stderr
