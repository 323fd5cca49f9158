"""Running the `replenish` command as a user does: a real subprocess in a given folder."""

import os
import subprocess
import sys
from datetime import date
from pathlib import Path


def run_replenish(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """`replenish ARGS` with wide output and no inherited database URL; `stdin` is piped in
    (never the terminal the tests run from: `replenish demo` would wait on it)."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    full_env.pop("REPLENISH_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


SAMPLE_FIRST_DAY = date(2026, 5, 29)  # bot/sample_data.py's history: 2026-05-29 .. 2026-11-24
SAMPLE_LAST_DAY = date(2026, 11, 24)


def sample_last_day(status: dict) -> date:
    """The sample's own last day as `replenish demo` imported it (`status`: what
    `replenish status --json` says). The demo moves the history on by whole weeks so that
    it ends near today, then simulates the days still missing up to yesterday."""
    return SAMPLE_LAST_DAY + (date.fromisoformat(status["first_sale"]) - SAMPLE_FIRST_DAY)
