"""Running the `replenish` command as a user does: a real subprocess in a given folder."""

import os
import subprocess
import sys
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
