"""The `replenish` command as a user runs it: a real subprocess, real files, exit codes."""

import json
from datetime import date
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from tests.helpers import run_replenish, sample_last_day

ROOT = Path(__file__).resolve().parents[2]

replenish = run_replenish


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
    heads = ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini"))).get_heads()
    assert heads
    assert heads[0] in current.stdout  # the newest revision: a fresh file is fully migrated


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
    simulated = (date.fromisoformat(status["last_sale"]) - sample_last_day(status)).days
    assert 0 <= simulated < 7  # the days between the sample's end and yesterday
    assert status["sales_days"] == 180 + simulated


def test_plan_monitor_and_simulate_on_the_sample_shop(tmp_path: Path) -> None:
    assert replenish("demo", "--dir", "demo", cwd=tmp_path).returncode == 0
    db = f"sqlite:///{tmp_path / 'demo' / 'replenish.db'}"
    status = json.loads(replenish("status", "--json", "--db", db, cwd=tmp_path).stdout)
    planted = sample_last_day(status).isoformat()
    plan = replenish("plan", "--json", "--as-of", planted, "--db", db, cwd=tmp_path)
    assert plan.returncode == 0, plan.stderr
    rows = json.loads(plan.stdout)
    assert len(rows) == 200
    assert set(rows[0]) >= {"sku", "daily_demand", "reorder_point", "order_qty", "pick_colour"}
    assert rows[0]["pick_colour"] == "red"  # most urgent first
    surging = {row["sku"] for row in rows if "surge" in row["signals"]}
    assert surging == {"MLK-028", "FRZ-016", "FRZ-017", "FRZ-019"}  # the planted surges

    # The demo already ran a pass as of yesterday: another one changes nothing.
    yesterday = status["last_sale"]
    again = replenish("monitor", "--once", "--json", "--as-of", yesterday, "--db", db, cwd=tmp_path)
    assert json.loads(again.stdout) == {
        "opened": [],
        "updated": [],
        "resolved": [],
        "drafted": [],
        "picks": [],
    }


def test_simulate_reports_costs_and_refuses_bad_input(tmp_path: Path) -> None:
    (tmp_path / "demand.csv").write_text(
        "date,sku,qty\n" + "".join(f"2026-01-{d:02d},A,{3 + d % 4}\n" for d in range(1, 29))
    )
    items = (
        "sku,unit_cost,lead_time_days,moq,case_pack,initial_on_hand,order_cost,"
        "holding_rate\nA,50,2,1,1,10,100,0.25\n"
    )
    (tmp_path / "items.csv").write_text(items)
    done = replenish(
        "simulate",
        "--demand",
        "demand.csv",
        "--items",
        "items.csv",
        "--policy",
        "minmax",
        "--warmup-days",
        "7",
        "--json",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    metrics = json.loads(done.stdout)
    assert metrics["policy"] == "minmax"
    assert metrics["total_cost"] == pytest.approx(
        metrics["holding_cost"] + metrics["ordering_cost"] + metrics["lost_sales_cost"]
    )
    (tmp_path / "items.csv").write_text(items.replace(",50,", ",fifty,"))
    bad = replenish(
        "simulate", "--demand", "demand.csv", "--items", "items.csv", "--lang", "en", cwd=tmp_path
    )
    assert bad.returncode == 2
    assert "line 2: unit_cost" in bad.stderr
