"""`replenish kpi` on the demo shop, as a user runs it: JSON numbers finite and in range,
filters by supplier and category, the zh-TW table, refusals with exit 2."""

import json
import math
from datetime import timedelta
from pathlib import Path

import pytest

from tests.helpers import run_replenish, sample_last_day

RATES = ("stockout_rate", "fill_rate", "otif")
Demo = tuple[Path, str, tuple[str, ...]]  # folder, database URL, the period's options


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The demo shop and the 30 days ending on the sample's own last day (its stock is
    counted that day; 2026-11-24 unless the demo moved the history on)."""
    folder = tmp_path_factory.mktemp("kpi")
    done = run_replenish("demo", "--dir", "demo", cwd=folder)
    assert done.returncode == 0, done.stderr
    db = f"sqlite:///{folder / 'demo' / 'replenish.db'}"
    status = json.loads(run_replenish("status", "--json", "--db", db, cwd=folder).stdout)
    end = sample_last_day(status)
    start = end - timedelta(days=29)
    return folder, db, ("--from", start.isoformat(), "--to", end.isoformat())


def _kpi(demo: Demo, *args: str) -> dict:
    folder, db, period = demo
    done = run_replenish("kpi", *period, "--json", "--db", db, *args, cwd=folder)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _finite(data: dict) -> None:
    for name, value in data.items():
        if isinstance(value, dict):
            _finite(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            assert math.isfinite(value), name


def test_kpis_of_the_demo_shop_are_finite_and_in_range(demo: Demo) -> None:
    data = _kpi(demo)
    _finite(data)
    assert ("--from", data["start"], "--to", data["end"]) == demo[2]
    assert data["active_sku_days"] == 200  # 200 SKUs, stock known on 11-24 only
    assert data["stock_days"] == 1
    assert 0 <= data["stockout_sku_days"] <= data["active_sku_days"]
    assert 0 <= data["stockout_rate"] <= 1
    assert 0 < data["fill_rate"] <= 1
    assert data["units_shipped"] <= data["units_demanded"]
    assert data["inventory_turnover"] > 0
    assert data["inventory_turnover_annualised"] == pytest.approx(
        data["inventory_turnover"] * 365, rel=1e-5
    )
    assert min(data["revenue"], data["previous_revenue"]) > 0
    assert -1 <= data["sales_growth"] < 10
    assert (data["otif"], data["lines_received"]) == (None, 0)  # no PO received yet
    assert data["approve_minutes"] == {"count": 0, "median": None, "p90": None}


def test_filters_cover_part_of_the_shop(demo: Demo) -> None:
    whole = _kpi(demo)
    dairy = _kpi(demo, "--category", "乳品")
    s01 = _kpi(demo, "--supplier", "S01")
    for part in (dairy, s01):
        _finite(part)
        assert 0 < part["active_sku_days"] < whole["active_sku_days"]
        assert 0 < part["revenue"] < whole["revenue"]
        assert 0 <= part["stockout_rate"] <= 1
    assert (dairy["category"], s01["supplier"]) == ("乳品", "S01")


def test_the_table_in_chinese_and_refusals(demo: Demo) -> None:
    folder, db, period = demo
    table = run_replenish("kpi", *period, "--db", db, cwd=folder)
    assert table.returncode == 0, table.stderr
    for name in ("庫存周轉率", "缺貨率", "銷售額增長率", "補貨準確率", "緊急補貨響應時間"):
        assert name in table.stdout
    assert "/ 200 品項日" in table.stdout
    unknown = run_replenish("kpi", *period, "--db", db, "--supplier", "NOPE", cwd=folder)
    assert unknown.returncode == 2
    assert "NOPE" in unknown.stderr
    backwards = run_replenish(
        "kpi", "--from", "2026-11-24", "--to", "2026-11-01", "--db", db, "--lang", "en", cwd=folder
    )
    assert backwards.returncode == 2
    assert "before it starts" in backwards.stderr
