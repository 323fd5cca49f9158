"""Small charts for chat replies (matplotlib, Agg backend, PNG bytes).

Chinese labels need a CJK font. An installed system font is used when there is one (Noto
Sans CJK TC from fonts-noto-cjk, …); otherwise Noto Sans TC, which ships with us as the
`pylopdf-fonts-zh-tw` dependency, so a bare server draws Chinese too. Only when neither can
be found (the dependency removed by hand) do charts fall back to English labels rather
than show empty boxes.
"""

import io
import logging
from collections.abc import Sequence
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no screen on servers; must precede pyplot

import matplotlib.pyplot as plt
from matplotlib import font_manager

from bot.i18n import t

CJK_FONTS = (
    "Noto Sans CJK TC",
    "Noto Sans TC",
    "Noto Sans CJK JP",
    "Microsoft JhengHei",
    "PingFang TC",
    "Heiti TC",
    "WenQuanYi Zen Hei",
)
COLOURS = {"sales": "#4C72B0", "stock": "#55A868", "reorder": "#C44E52"}
BUNDLED_FONT = ("pylopdf_fonts_zh_tw", "NotoSansTC-Regular.otf")  # family "Noto Sans TC"
log = logging.getLogger(__name__)


@cache
def cjk_font() -> str | None:
    """The first CJK family matplotlib knows, after registering the bundled one (once: the
    result is cached, and the registration lives as long as the process)."""
    register_bundled_font()
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


@cache
def register_bundled_font() -> Path | None:
    """Add the packaged Noto Sans TC to matplotlib's font list; its path, or None when the
    package is missing or not on a file system (a zip import: matplotlib needs a file)."""
    package, name = BUNDLED_FONT
    try:
        path = Path(str(resources.files(package).joinpath(name)))
    except ModuleNotFoundError:
        log.warning("%s is not installed: Chinese labels need a system CJK font", package)
        return None
    if not path.is_file():
        return None
    font_manager.fontManager.addfont(path)
    return path


def chart_locale(locale: str) -> str:
    return locale if locale == "en" or cjk_font() else "en"


def stock_chart(
    title: str,
    days: Sequence[date],
    sales: Sequence[float],
    on_hand: Sequence[float | None],
    reorder_point: float,
    locale: str,
) -> bytes:
    """Daily sales as bars, end-of-day stock as a line and the reorder point as a dashed
    line, over the given days (the last 60 in the stock reply)."""
    lang = chart_locale(locale)
    font = cjk_font() if lang != "en" else None
    with plt.rc_context({"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"]}):
        figure, axis = plt.subplots(figsize=(6.4, 3.2), dpi=100)
        try:
            axis.bar(days, sales, color=COLOURS["sales"], alpha=0.6, label=t("chart.sales", lang))
            known = [(d, q) for d, q in zip(days, on_hand, strict=True) if q is not None]
            if known:
                xs, ys = zip(*known, strict=True)
                axis.step(
                    xs, ys, where="post", color=COLOURS["stock"], label=t("chart.stock", lang)
                )
            axis.axhline(
                reorder_point,
                color=COLOURS["reorder"],
                linestyle="--",
                label=t("chart.reorder_point", lang),
            )
            axis.set_title(title if lang != "en" or title.isascii() else title.split(maxsplit=1)[0])
            axis.legend(loc="upper left", fontsize="small", frameon=False)
            axis.grid(axis="y", alpha=0.3)
            figure.autofmt_xdate()
            figure.tight_layout()
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png")
            return buffer.getvalue()
        finally:
            plt.close(figure)
