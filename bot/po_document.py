"""The supplier's copy of a purchase order as a document: A4 portrait, as a PDF (a file to
print or forward) and a PNG (a chat photo), in the supplier's language.

It shows what the supplier's PO card shows (`bot.supplier_cards`) and nothing more: the
supplier's own item codes, quantities, agreed unit prices, line totals and the total in
NT$, the dates, where to deliver and our standing notes — never our SKU codes, reasons or
anyone else's prices. Drawn with matplotlib's object API (no pyplot: documents are drawn in
worker threads) in the bundled Noto Sans TC (`bot.charts.cjk_font`). PDFs embed their glyphs
as Type 3 outlines with a ToUnicode map: matplotlib writes a CFF (.otf) font as Type 42
under a TrueType key, which strict readers refuse, while Type 3 draws everywhere and its
text can still be searched and copied.
"""

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import matplotlib

matplotlib.use("Agg")  # no screen on servers

from matplotlib.axes import Axes
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from adapters.chat import Card, Document, Field, Image, Tone
from adapters.text_table import display_width
from bot.charts import chart_locale, cjk_font
from bot.formats import DASH, canonical_locale, day, money, to_date, to_decimal
from bot.formats import number as quantity
from bot.i18n import t
from bot.supplier_cards import order_of, supplier_code

A4 = (210 / 25.4, 297 / 25.4)  # inches, portrait
WIDTH, HEIGHT, MARGIN = 210.0, 297.0, 15.0  # millimetres: the page is drawn in mm, y down
PNG_DPI = 150  # 1240 × 1753 px: sharp on a phone, well under Telegram's photo limits
ROWS_PER_PAGE = 24
ROW_MM = 7.0
TABLE_TOP, FOOTER_TOP, TOTAL_MM = 82.0, 277.0, 12.0
NOTE_MM, MAX_NOTES = 4.6, 12  # notes: line height, and at most this many lines
# Display columns (CJK counts two) a text may take before it is cut.
NAME_COLUMNS, CODE_COLUMNS, NOTE_COLUMNS, VALUE_COLUMNS, BUYER_COLUMNS = 36, 18, 96, 30, 28
# Column edges (mm): #, supplier code, name from the left; qty, unit price, amount right-aligned.
COLUMNS = {"no": 17.0, "code": 27.0, "name": 62.0, "qty": 138.0, "unit_price": 165.0}
COLUMNS["amount"] = WIDTH - MARGIN
RULE, SHADE, URGENT = "#444444", "#EEEEEE", "#C44E52"
FORMATS = frozenset({"pdf", "png"})


@dataclass(frozen=True)
class Letterhead:
    """Who orders and where to deliver: the shop's name, address and phone (settings), and
    notes printed on every PO."""

    name: str = ""
    address: str = ""
    phone: str = ""
    deliver_to: str = ""  # the delivery address, or the warehouse's name
    notes: str = ""


@dataclass(frozen=True)
class Sheet:
    """Every text of the document, already in the reader's language (pure data: tested
    without drawing)."""

    lang: str
    number: str
    title: str
    urgent: str
    buyer: tuple[str, ...]  # name, then address and phone lines
    facts: tuple[tuple[str, str], ...]  # label, value: number, supplier, dates
    deliver_to: tuple[str, str] | None  # label, value: a line of its own
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    total: tuple[str, str]
    notes: tuple[str, ...]
    footer: str


# --- what the document says -------------------------------------------------------------------


def po_sheet(
    data: Mapping[str, Any], locale: str, tz: ZoneInfo, head: Letterhead = Letterhead()
) -> Sheet:
    """The texts of one PO (outbox card JSON or a `po_view`) for the supplier."""
    lang = chart_locale(canonical_locale(locale))  # English only when no CJK font exists
    po = order_of(data)
    currency = str(po.get("currency") or "TWD")
    lines: Sequence[Mapping[str, Any]] = po.get("lines") or []
    rows = tuple(_row(n, line, lang, currency) for n, line in enumerate(lines, start=1))
    buyer = cut(head.name or t("card.spo.buyer_default", lang), BUYER_COLUMNS)
    contact = (head.address, t("podoc.phone", lang, phone=head.phone) if head.phone else "")
    notes = head.notes.strip()
    deliver = cut(head.deliver_to, NOTE_COLUMNS - 16) if head.deliver_to else ""
    return Sheet(
        lang=lang,
        number=str(po.get("number") or DASH),
        title=t("podoc.title", lang),
        urgent=t("podoc.urgent", lang) if po.get("emergency") else "",
        buyer=(buyer, *(cut(line, NOTE_COLUMNS // 2) for line in contact if line)),
        facts=_facts(data, po, lang, tz),
        deliver_to=(t("podoc.deliver_to", lang), deliver) if deliver else None,
        header=tuple(t(f"podoc.col.{name}", lang) for name in COLUMNS),
        rows=rows,
        total=(t("podoc.total", lang), money(_total(po, lines), lang, currency)),
        notes=tuple(wrap(notes, NOTE_COLUMNS)[:MAX_NOTES]) if notes else (),
        footer=t("podoc.footer", lang),
    )


def _facts(
    data: Mapping[str, Any], po: Mapping[str, Any], lang: str, tz: ZoneInfo
) -> tuple[tuple[str, str], ...]:
    """Two columns: left the PO number and supplier, right the dates."""
    facts = [
        ("podoc.number", str(po.get("number") or DASH)),
        ("podoc.issued", full_day(_local_day(data.get("issued_at"), tz), lang)),
        ("podoc.supplier", cut(str(po.get("supplier_name") or DASH), VALUE_COLUMNS)),
        ("podoc.requested_arrival", full_day(po.get("requested_arrival"), lang)),
    ]
    if po.get("expected_arrival"):
        facts.append(("", ""))  # the confirmed date goes under the requested one
        facts.append(("podoc.expected_arrival", full_day(po["expected_arrival"], lang)))
    return tuple((t(key, lang) if key else "", value) for key, value in facts)


def full_day(value: object, lang: str) -> str:
    """A day with its year, as a document needs: `2026/11/26（四）`, `Thu 26 Nov 2026`."""
    when = to_date(value)
    return t("podoc.date", lang, year=when.year, day=day(when, lang)) if when else DASH


def _local_day(value: object, tz: ZoneInfo) -> object:
    """The issue day where the shop is (sent at 23:30 UTC is the next morning in Taipei)."""
    if isinstance(value, str) and "T" in value:
        try:
            return datetime.fromisoformat(value).astimezone(tz).date()
        except ValueError:
            return to_date(value)
    return value


def _row(n: int, line: Mapping[str, Any], lang: str, currency: str) -> tuple[str, ...]:
    qty, price = to_decimal(line.get("qty")), to_decimal(line.get("unit_price"))
    amount = qty * price if qty is not None and price is not None else None
    return (
        str(n),
        cut(supplier_code(line), CODE_COLUMNS),
        cut(str(line.get("name") or DASH), NAME_COLUMNS),
        quantity(line.get("qty"), lang),
        money(price, lang, currency),
        money(amount, lang, currency),
    )


def _total(po: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> Decimal | None:
    """The PO's own total (prices accepted since are in it); the lines' sum when absent."""
    total = to_decimal(po.get("total"))
    if total is not None:
        return total
    total = Decimal(0)
    for line in lines:
        qty, price = to_decimal(line.get("qty")), to_decimal(line.get("unit_price"))
        total += (qty or Decimal(0)) * (price or Decimal(0))
    return total


def cut(text: str, columns: int) -> str:
    """`text` within `columns` display columns, an ellipsis marking the cut."""
    if display_width(text) <= columns:
        return text
    kept, used = "", 1
    for ch in text:
        if used + display_width(ch) > columns:
            break
        kept, used = kept + ch, used + display_width(ch)
    return kept + "…"


def wrap(text: str, columns: int) -> list[str]:
    """Lines of at most `columns` display columns; the text's own line breaks are kept."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line, used = "", 0
        for ch in paragraph:
            if used + display_width(ch) > columns:
                lines.append(line.rstrip())
                line, used = "", 0
            line, used = line + ch, used + display_width(ch)
        lines.append(line.rstrip())
    return lines


# --- drawing ---------------------------------------------------------------------------------


def po_pdf(sheet: Sheet) -> bytes:
    """All pages as one PDF (A4 portrait)."""
    buffer = io.BytesIO()
    metadata = {"Title": f"{sheet.title} {sheet.number}", "Creator": "Replenish"}
    with matplotlib.rc_context({"pdf.fonttype": 3}), PdfPages(buffer, metadata=metadata) as pdf:
        for figure in _pages(sheet):
            pdf.savefig(figure)
    return buffer.getvalue()


def po_png(sheet: Sheet) -> bytes:
    """The first page as a PNG (a PO longer than a page says so at its foot)."""
    buffer = io.BytesIO()
    _pages(sheet)[0].savefig(buffer, format="png", dpi=PNG_DPI, facecolor="white")
    return buffer.getvalue()


def _pages(sheet: Sheet) -> list[Figure]:
    chunks = page_rows(sheet)
    font = [name for name in (cjk_font(), "DejaVu Sans") if name]
    return [_page(sheet, rows, n, len(chunks), font) for n, rows in enumerate(chunks, start=1)]


def page_rows(sheet: Sheet) -> list[tuple[tuple[str, ...], ...]]:
    """The rows of each page: full pages, then a last one with room for the total and the
    notes under its rows (at least one row goes with the total)."""
    notes_mm = 9 + NOTE_MM * len(sheet.notes) if sheet.notes else 0.0
    room = FOOTER_TOP - TABLE_TOP - ROW_MM - TOTAL_MM - notes_mm
    last = max(1, int(room // ROW_MM))
    rows, pages = sheet.rows, []
    while len(rows) > last:
        take = min(ROWS_PER_PAGE, len(rows) - 1)
        pages.append(rows[:take])
        rows = rows[take:]
    return [*pages, rows]


def _page(
    sheet: Sheet, rows: Sequence[tuple[str, ...]], page: int, pages: int, font: list[str]
) -> Figure:
    figure = Figure(figsize=A4)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, WIDTH)
    axes.set_ylim(HEIGHT, 0)
    axes.axis("off")
    pen = _Pen(axes, font)
    _draw_head(pen, sheet)
    bottom = _draw_table(pen, sheet.header, rows)
    if page == pages:
        _draw_total(pen, sheet, bottom)
    else:
        pen.text(WIDTH - MARGIN, bottom + 6, t("podoc.continued", sheet.lang), 8, ha="right")
    pen.rule(FOOTER_TOP, 0.4)
    pen.text(MARGIN, FOOTER_TOP + 3, sheet.footer, 7.5, colour="#555555")
    page_text = t("podoc.page", sheet.lang, page=page, pages=pages)
    pen.text(WIDTH - MARGIN, HEIGHT - 12, page_text, 7.5, ha="right", colour="#555555")
    return figure


@dataclass
class _Pen:
    """Text and rules in millimetres from the page's top left, in one font list."""

    axes: Axes
    font: list[str]

    def text(
        self, x: float, y: float, text: str, size: float, *, ha: str = "left", colour: str = "black"
    ) -> None:
        self.axes.text(
            x, y, text, fontsize=size, ha=ha, va="top", color=colour, fontfamily=self.font
        )

    def rule(self, y: float, width: float = 0.6) -> None:
        self.axes.plot([MARGIN, WIDTH - MARGIN], [y, y], color=RULE, linewidth=width)

    def shade(self, y: float, height: float) -> None:
        box = Rectangle((MARGIN, y), WIDTH - 2 * MARGIN, height, color=SHADE, linewidth=0)
        self.axes.add_patch(box)


def _draw_head(pen: _Pen, sheet: Sheet) -> None:
    """The buyer top left, the title top right (and URGENT under it), then the facts."""
    pen.text(MARGIN, MARGIN, sheet.buyer[0], 15)
    for n, line in enumerate(sheet.buyer[1:]):
        pen.text(MARGIN, MARGIN + 9 + n * 5, line, 9, colour="#333333")
    pen.text(WIDTH - MARGIN, MARGIN - 1, sheet.title, 22, ha="right")
    if sheet.urgent:
        pen.text(WIDTH - MARGIN, MARGIN + 11, sheet.urgent, 14, ha="right", colour=URGENT)
    pen.rule(42)
    for n, (label, value) in enumerate(sheet.facts):
        x, y = (MARGIN if n % 2 == 0 else 112.0), 47 + n // 2 * 7
        pen.text(x, y, label, 8.5, colour="#555555")
        pen.text(x + 26 if n % 2 == 0 else x + 31, y, value, 10)
    if sheet.deliver_to is not None:
        label, value = sheet.deliver_to
        y = 47 + (len(sheet.facts) + 1) // 2 * 7
        pen.text(MARGIN, y, label, 8.5, colour="#555555")
        pen.text(MARGIN + 26, y, value, 10)


def _draw_table(pen: _Pen, header: Sequence[str], rows: Sequence[tuple[str, ...]]) -> float:
    """Header on a shaded band, one ruled row per line; returns the table's bottom (mm)."""
    pen.shade(TABLE_TOP, ROW_MM)
    _draw_row(pen, header, TABLE_TOP + 1.6, 9)
    y = TABLE_TOP + ROW_MM
    for row in rows:
        _draw_row(pen, row, y + 1.8, 9)
        y += ROW_MM
        pen.rule(y, 0.3)
    pen.rule(y, 0.8)
    return y


def _draw_row(pen: _Pen, cells: Sequence[str], y: float, size: float) -> None:
    for (name, x), cell in zip(COLUMNS.items(), cells, strict=True):
        right = name in ("qty", "unit_price", "amount")
        pen.text(x, y, cell, size, ha="right" if right else "left")


def _draw_total(pen: _Pen, sheet: Sheet, y: float) -> None:
    label, amount = sheet.total
    pen.text(COLUMNS["unit_price"], y + 3, label, 11, ha="right")
    pen.text(COLUMNS["amount"], y + 3, amount, 12, ha="right")
    if sheet.notes:
        pen.text(MARGIN, y + 14, t("podoc.notes", sheet.lang), 9, colour="#555555")
        for n, line in enumerate(sheet.notes):
            pen.text(MARGIN, y + 19 + n * NOTE_MM, line, 9)


# --- as a chat message -----------------------------------------------------------------------


def po_document_card(
    data: Mapping[str, Any],
    locale: str,
    tz: ZoneInfo,
    head: Letterhead = Letterhead(),
    *,
    fmt: str = "pdf",
) -> Card:
    """The PO as a file (`pdf`: a document) or a picture (`png`: a photo), its caption
    naming the PO, the total and the arrival asked for. No buttons: those stay on the PO
    card, which is updated in place."""
    loc = canonical_locale(locale)
    sheet = po_sheet(data, loc, tz, head)
    po = order_of(data)
    number = str(po.get("number") or DASH)
    fields = (
        Field(t("podoc.supplier", loc), str(po.get("supplier_name") or DASH)),
        Field(t("podoc.total", loc), sheet.total[1]),
        Field(t("podoc.requested_arrival", loc), full_day(po.get("requested_arrival"), loc)),
    )
    card = Card(
        title=t("podoc.card.title" if fmt == "pdf" else "podoc.card.title_png", loc, number=number),
        text=t("podoc.card.text", loc, number=number),
        tone=Tone.INFO,
        fields=fields,
    )
    if fmt == "png":
        image = Image(po_png(sheet), t("podoc.card.alt", loc, number=number), f"{number}.png")
        return replace(card, image=image)
    return replace(card, document=Document(po_pdf(sheet), f"{number}.pdf"))
