"""Report charts: real PNG and PDF bytes, and never a missing glyph (a box where a Chinese
character should be). Missing glyphs are matplotlib warnings; here they are errors."""

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from matplotlib import font_manager
from pypdf import PdfReader

from bot import charts
from bot.report_charts import draw, report_image, sku_label, trend_panels

PNG = b"\x89PNG\r\n\x1a\n"
MISSING_GLYPH = r"Glyph .* missing from font"
DAYS = [f"2026-11-{d:02d}" for d in range(1, 31)]


def daily_data() -> dict[str, Any]:
    at_risk = [
        {"sku": f"MLK-{n:03d}", "name": f"台東初鹿鮮乳936ml 第{n}款", "colour": colour,
         "position": float(n), "reorder_point": 20.0 + n, "days_of_cover": n / 2}
        for n, colour in enumerate(["red"] * 4 + ["orange"] * 3 + ["green"] * 3)
    ]  # fmt: skip
    at_risk[0]["position"] = -3.0  # oversold: the bar goes left of zero
    series = {
        "inventory_turnover_annualised": [12.0 + n / 10 for n in range(30)],
        "stockout_rate": [0.02 + (n % 5) / 100 for n in range(30)],
        "fill_rate": [None] * 10 + [0.97] * 20,
        "sales_growth": [(-1) ** n * 0.1 for n in range(30)],
        "otif": [None] * 30,  # no PO received: no panel
        "approve_minutes_median": [None] * 29 + [42.0],
    }
    units = {"stockout_rate": "pct", "fill_rate": "pct", "sales_growth": "pct", "otif": "pct"}
    units |= {"approve_minutes_median": "minutes", "inventory_turnover_annualised": "times"}
    return {
        "type": "report",
        "report": "daily",
        "as_of": "2026-11-30",
        "at_risk": at_risk,
        "trend": {"days": DAYS, "series": series, "units": units},
    }


@contextmanager
def glyphs_required() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=MISSING_GLYPH)
        yield


@pytest.mark.parametrize("locale", ["zh-TW", "en"])
@pytest.mark.parametrize("report", ["daily", "kpi"])
def test_report_images_are_real_pngs_without_missing_glyphs(locale: str, report: str) -> None:
    data = daily_data() | {"report": report, "start": "2026-11-24", "end": "2026-11-30"}
    if report == "kpi":
        del data["at_risk"]
    with glyphs_required():
        png = report_image(data, locale)
    assert png is not None
    assert png.startswith(PNG)
    assert len(png) > 10_000


@pytest.mark.parametrize("locale", ["zh-TW", "en"])
def test_the_same_chart_as_a_pdf(locale: str) -> None:
    with glyphs_required():
        pdf = report_image(daily_data(), locale, fmt="pdf")
    assert pdf is not None
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 5_000


def test_the_check_catches_chinese_drawn_without_a_chinese_font() -> None:
    """Proof the guard works: zh-TW labels in DejaVu Sans (no CJK) must fail the test."""
    with glyphs_required(), pytest.raises(UserWarning, match="missing from font"):
        draw(daily_data(), "zh-TW", None)


def test_without_a_cjk_font_zh_tw_charts_fall_back_to_english(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    assert charts.chart_locale("zh-TW") == "en"
    assert sku_label({"sku": "MLK-001", "name": "鮮乳"}, "en", 1) == "MLK-001"
    assert sku_label({"sku": "鮮乳一號", "name": "鮮乳"}, "en", 3) == "#3"  # never a box
    assert sku_label({"sku": "MLK-001", "name": "台東初鹿鮮乳936ml瓶裝"}, "zh-TW", 1) == (
        "MLK-001 台東初鹿鮮乳936…"
    )


def test_the_bundled_font_is_found_without_any_system_font() -> None:
    """Noto Sans TC ships as a dependency (pylopdf-fonts-zh-tw): a fresh server needs no
    fonts-noto-cjk for Chinese charts."""
    path = charts.register_bundled_font()
    assert path is not None
    assert path.suffix == ".otf"
    assert path.is_file()
    assert "Noto Sans TC" in {font.name for font in font_manager.fontManager.ttflist}
    assert charts.cjk_font() in charts.CJK_FONTS


def test_with_a_cjk_font_zh_tw_charts_draw_chinese_glyphs() -> None:
    assert charts.chart_locale("zh-TW") == "zh-TW"
    with glyphs_required():
        png = report_image(daily_data(), "zh-TW")
        pdf = report_image(daily_data(), "zh-TW", fmt="pdf")
    assert png is not None
    assert png.startswith(PNG)
    assert pdf is not None
    assert pdf.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "台東初鹿鮮乳" in text  # drawn in a CJK font and extractable, not boxes


def test_trend_panels_keep_series_with_values_only() -> None:
    panels = trend_panels(daily_data()["trend"])
    names = [name for name, *_ in panels]
    assert names == [
        "inventory_turnover_annualised",
        "stockout_rate",
        "fill_rate",
        "sales_growth",
        "approve_minutes_median",
    ]
    assert panels[0][2][0] == "11/01"
    assert trend_panels({"days": DAYS[:2], "series": {"x": [1.0]}}) == []  # misaligned


def test_nothing_to_draw_is_no_image() -> None:
    assert report_image({"report": "exceptions", "events": []}, "en") is None
    assert report_image({"report": "daily", "at_risk": [], "trend": {}}, "zh-TW") is None
