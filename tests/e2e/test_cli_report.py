"""`replenish report` as a user runs it on the demo shop: the report printed, its chart written
as PNG or PDF."""

from pathlib import Path

import pytest

from tests.helpers import run_replenish as replenish

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("report")
    assert replenish("demo", "--dir", "demo", cwd=folder).returncode == 0
    return folder, f"sqlite:///{folder / 'demo' / 'replenish.db'}"


def test_daily_report_as_png_and_pdf(demo: tuple[Path, str]) -> None:
    folder, db = demo
    day = ("--as-of", "2026-11-24", "--db", db)
    done = replenish("report", "daily", "--out", "report.png", *day, "--lang", "en", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "Daily inventory report" in done.stdout
    assert "200 SKUs" in done.stdout
    assert "Most urgent" in done.stdout
    assert "POs awaiting approval: 3" in done.stdout  # the demo's monitor pass drafted three
    png = (folder / "report.png").read_bytes()
    assert png.startswith(PNG)
    assert len(png) > 10_000

    pdf = replenish("report", "daily", "--out", "report.pdf", "--format", "pdf", *day, cwd=folder)
    assert pdf.returncode == 0, pdf.stderr
    assert "庫存日報" in pdf.stdout
    assert (folder / "report.pdf").read_bytes().startswith(b"%PDF")

    by_suffix = replenish("report", "kpi", "--out", "kpi.pdf", *day, cwd=folder)
    assert by_suffix.returncode == 0, by_suffix.stderr
    assert (folder / "kpi.pdf").read_bytes().startswith(b"%PDF")


def test_exception_report_has_no_chart(demo: tuple[Path, str]) -> None:
    folder, db = demo
    done = replenish("report", "exceptions", "--as-of", "2026-11-24", "--db", db, cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "異常事件報告" in done.stdout
    refused = replenish("report", "exceptions", "--out", "x.png", "--db", db, cwd=folder)
    assert refused.returncode == 2
    assert not (folder / "x.png").exists()
    bad = replenish("report", "daily", "--as-of", "yesterday", "--db", db, cwd=folder)
    assert bad.returncode == 2
