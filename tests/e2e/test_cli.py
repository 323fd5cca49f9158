"""The `replenish` command as a user runs it: a real subprocess, real files, exit codes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def replenish(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    full_env.pop("REPLENISH_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    (tmp_path / "skus.csv").write_text(
        "品號,品名,分類\nMLK-1,鮮乳,乳品\nSNK-1,洋芋片,零食\n", encoding="utf-8-sig"
    )
    return tmp_path


def test_import_creates_the_database_on_first_use(shop: Path) -> None:
    done = replenish("import", "skus", "skus.csv", "--json", cwd=shop)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["imported"] == 2
    assert summary["rejected"] == 0
    assert (shop / "replenish.db").exists()  # the default URL, in the working directory

    again = json.loads(replenish("import", "skus", "skus.csv", "--json", cwd=shop).stdout)
    assert (again["imported"], again["duplicates"]) == (0, 2)


def test_rejected_rows_go_to_a_rejects_file_and_exit_1(shop: Path) -> None:
    replenish("import", "skus", "skus.csv", cwd=shop)
    (shop / "sales.csv").write_text(
        "訂單編號,品號,數量,日期\nA1,MLK-1,2,2026-11-20\nA2,NOPE,1,2026-11-20\n"
        "A3,MLK-1,-4,2026-11-20\nA4,SNK-1,=1+2,2026-11-21\n",
        encoding="cp950",
    )
    done = replenish("import", "sales", "sales.csv", "--json", "--lang", "en", cwd=shop)
    assert done.returncode == 1
    summary = json.loads(done.stdout)
    assert (summary["imported"], summary["rejected"]) == (1, 3)
    assert summary["encoding"] == "cp950"
    rejects = (shop / "sales.csv.rejects.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rejects[0] == "line,reason,訂單編號,品號,數量,日期"
    assert rejects[1].startswith("3,sku: unknown SKU NOPE")
    assert rejects[2].startswith("4,qty: must not be negative (-4)")
    assert rejects[3].startswith("5,qty: not a number (=1+2)")
    assert ",'=1+2," in rejects[3]  # the formula is escaped when written back out


def test_a_file_missing_a_column_is_refused_whole(shop: Path) -> None:
    (shop / "stock.csv").write_text("品號,倉庫\nMLK-1,WH\n", encoding="utf-8")
    done = replenish("import", "stock", "stock.csv", cwd=shop)
    assert done.returncode == 2
    assert "on_hand" in done.stderr
    assert "在庫量" in done.stderr  # the expected columns are listed, with their aliases
    status = json.loads(replenish("status", "--json", cwd=shop).stdout)
    assert status["counts"]["stocklevel"] == 0


def test_status_and_db_current(shop: Path) -> None:
    replenish("import", "skus", "skus.csv", cwd=shop)
    status = json.loads(replenish("status", "--json", cwd=shop).stdout)
    assert status["counts"]["sku"] == 2
    current = replenish("db", "current", "--lang", "en", cwd=shop)
    assert current.returncode == 0
    assert "0001" in current.stdout


def test_secrets_are_never_printed(shop: Path) -> None:
    done = replenish(
        "config", "show", cwd=shop, env={"REPLENISH_SLACK__BOT_TOKEN": "xoxb-very-secret"}
    )
    assert done.returncode == 0
    assert "xoxb-very-secret" not in done.stdout
    assert "**********" in done.stdout


def test_bad_settings_are_a_clear_error(shop: Path) -> None:
    done = replenish("status", cwd=shop, env={"REPLENISH_TIMEZONE": "Mars/Olympus"})
    assert done.returncode == 2
    assert "Mars/Olympus" in done.stderr


def test_demo_builds_the_sample_shop(tmp_path: Path) -> None:
    done = replenish("demo", "--dir", "demo", "--lang", "en", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "skus: 200 imported" in done.stdout
    summaries = [line for line in done.stdout.splitlines() if "imported" in line]
    assert len(summaries) == 7  # locations, skus, suppliers, terms, stock, sales, promotions
    assert all(line.endswith(", 0 rejected") for line in summaries), summaries
    status = json.loads(
        replenish(
            "status",
            "--json",
            "--db",
            f"sqlite:///{tmp_path / 'demo' / 'replenish.db'}",
            cwd=tmp_path,
        ).stdout
    )
    assert status["counts"]["sku"] == 200
    assert status["sales_days"] == 180
