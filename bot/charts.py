"""Small charts for chat replies (matplotlib, Agg backend, PNG bytes).

Chinese labels need a CJK font; when none is installed (fonts-noto-cjk on Debian), charts
fall back to English labels rather than show empty boxes.
"""

import io
from collections.abc import Sequence
from datetime import date
from functools import cache

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


@cache
def cjk_font() -> str | None:
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


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
