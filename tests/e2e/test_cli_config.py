"""`replenish config reference | check` as a user runs them."""

from pathlib import Path

from bot.config_reference import render
from tests.helpers import run_replenish

replenish = run_replenish


def test_reference_prints_the_markdown_as_it_is(tmp_path: Path) -> None:
    done = replenish("config", "reference", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == render()  # `[planning]` and `*unset*` not eaten as rich markup


def test_reference_out_writes_the_file(tmp_path: Path) -> None:
    done = replenish("config", "reference", "--out", "CONFIG.md", "--lang", "en", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "CONFIG.md" in done.stdout
    assert (tmp_path / "CONFIG.md").read_text(encoding="utf-8") == render()


def test_check_passes_a_good_file(tmp_path: Path) -> None:
    (tmp_path / "replenish.toml").write_text(
        'locale = "en"\n[planning]\nservice_level = 0.9\n', encoding="utf-8"
    )
    done = replenish("config", "check", "--lang", "en", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "replenish.toml: the settings are valid"


def test_check_names_each_problem_by_key_and_variable(tmp_path: Path) -> None:
    (tmp_path / "shop.toml").write_text(
        "[slack]\nbot_tokn = 'xoxb-typo'\nsigning_secret = 12345\n"
        "[planning]\nservice_level = 1.5\n",
        encoding="utf-8",
    )
    done = replenish(
        "config",
        "check",
        "--config",
        "shop.toml",
        "--lang",
        "en",
        cwd=tmp_path,
        env={"REPLENISH_SCHEDULER__MONITOR_INTERVAL_MINUTES": "0"},
    )
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines[0] == "shop.toml: 4 problem(s)"
    assert "  slack.bot_tokn: not a setting (a typo?)" in lines
    assert any(
        line.startswith("  planning.service_level (REPLENISH_PLANNING__SERVICE_LEVEL): ")
        and "less than 1" in line
        for line in lines
    )
    assert any(
        line.startswith("  scheduler.monitor_interval_minutes (REPLENISH_SCHEDULER__")
        for line in lines
    )
    assert any(line.startswith("  slack.signing_secret (") for line in lines)
    assert "12345" not in done.stderr  # a refused secret is not echoed


def test_check_refuses_a_file_that_is_not_toml(tmp_path: Path) -> None:
    (tmp_path / "replenish.toml").write_text("[slack\nbot_token = 1\n", encoding="utf-8")
    done = replenish("config", "check", cwd=tmp_path)
    assert done.returncode == 2
    assert "不是有效的 TOML" in done.stderr  # zh-TW by default
    shown = replenish("config", "show", "--lang", "en", cwd=tmp_path)
    assert shown.returncode == 2  # a clear error, not a traceback
    assert shown.stderr.startswith("settings error: ")


def test_check_without_the_named_file(tmp_path: Path) -> None:
    done = replenish("config", "check", "--config", "nope.toml", "--lang", "en", cwd=tmp_path)
    assert done.returncode == 2
    assert "nope.toml" in done.stderr
