"""bot/po_document.py: the supplier's PO as an A4 PDF and a PNG, read back — real files, the
Chinese drawn in a CJK font (a missing glyph is an error here), only what the supplier may
see, long orders over several pages."""

import io
import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from adapters.email_render import compose
from bot.po_document import (
    ROWS_PER_PAGE,
    Letterhead,
    cut,
    page_rows,
    po_document_card,
    po_pdf,
    po_png,
    po_sheet,
    wrap,
)

TZ = ZoneInfo("Asia/Taipei")
PNG = b"\x89PNG\r\n\x1a\n"
A4_POINTS = (595.28, 841.89)
NUMBER = "PO20261125-001"
HEAD = Letterhead(
    name="好物團購",
    address="台北市信義區松仁路 100 號",
    phone="02-2345-6789",
    deliver_to="桃園市大園區 物流中心 A 棟",
    notes="請於到貨前一日來電確認。",
)


def po_json(lines: int = 2, **po: Any) -> dict[str, Any]:
    """What core queues as the supplier's document row (`type` po_document)."""
    items = [
        {
            "sku": f"OUR-{n:03d}",  # our code: never on the supplier's document
            "supplier_sku": f"S1-M{n:02d}",
            "name": "台東初鹿鮮乳936ml" if n % 2 else "日月潭紅茶",
            "qty": 12 * n,
            "unit_price": "50.00",
            "proposed_price": "99.00",  # a pending proposal: the agreed price stands
            "price_band_pct": 5.0,
        }
        for n in range(1, lines + 1)
    ]
    total = sum(12 * n * 50 for n in range(1, lines + 1))
    return {
        "type": "po_document",
        "audience": "supplier",
        "event": "document",
        "issued_at": "2026-11-25T16:30:00+00:00",  # 00:30 on the 26th in Taipei
        "po": {
            "number": NUMBER,
            "status": "sent",
            "supplier": "S1",
            "supplier_name": "鮮乳坊",
            "emergency": False,
            "currency": "TWD",
            "total": f"{total}.00",
            "requested_arrival": "2026-12-01",
            "expected_arrival": None,
            "reason": "our internal reason",
            "lines": items,
            **po,
        },
    }


@contextmanager
def glyphs_required() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r"Glyph .* missing from font")
        yield


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def png_size(png: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_the_pdf_is_an_a4_page_with_the_chinese_readable() -> None:
    with glyphs_required():
        pdf = po_pdf(po_sheet(po_json(), "zh-TW", TZ, HEAD))
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    [page] = reader.pages
    size = (float(page.mediabox.width), float(page.mediabox.height))
    assert size == pytest.approx(A4_POINTS, abs=1)  # portrait
    assert reader.metadata is not None
    assert reader.metadata.title == f"採購單 {NUMBER}"
    text = pdf_text(pdf)
    for expected in (
        "好物團購",
        "採購單",
        NUMBER,
        "鮮乳坊",
        "2026/11/26（四）",  # issued, in Taipei's date
        "2026/12/1（二）",
        "桃園市大園區 物流中心 A 棟",
        "貴司品號",
        "S1-M01 台東初鹿鮮乳936ml 12 NT$50 NT$600",
        "S1-M02 日月潭紅茶 24 NT$50 NT$1,200",
        "合計 NT$1,800",
        "請於到貨前一日來電確認。",
        "第 1／1 頁",
    ):
        assert expected in text


def test_the_pdf_embeds_its_glyphs_as_outlines() -> None:
    """Type 3 fonts carry each glyph's drawing (any reader shows them); a ToUnicode map
    keeps the text searchable (the previous test reads it back)."""
    with glyphs_required():
        pdf = po_pdf(po_sheet(po_json(), "zh-TW", TZ, HEAD))
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    fonts = [font.get_object() for font in page["/Resources"]["/Font"].values()]
    assert fonts
    assert {str(font["/Subtype"]) for font in fonts} == {"/Type3"}
    assert any("NotoSansTC" in str(font["/BaseFont"]) for font in fonts)
    assert all(font["/CharProcs"] and "/ToUnicode" in font for font in fonts)


@pytest.mark.parametrize("locale", ["zh-TW", "en"])
def test_the_png_is_a_sharp_first_page(locale: str) -> None:
    with glyphs_required():
        png = po_png(po_sheet(po_json(), locale, TZ, HEAD))
    assert png.startswith(PNG)
    assert png_size(png) == (1240, 1753)  # A4 at 150 dpi
    assert len(png) > 50_000  # a page with text on it, not a blank


def test_english_labels_for_an_english_reader_names_as_they_are() -> None:
    with glyphs_required():
        text = pdf_text(po_pdf(po_sheet(po_json(emergency=True), "en", TZ, HEAD)))
    for expected in ("Purchase order", "URGENT", "Your code", "Tue 1 Dec 2026", "台東初鹿鮮乳"):
        assert expected in text
    assert "Total NT$1,800" in text


def test_only_what_the_supplier_may_see() -> None:
    with glyphs_required():
        text = pdf_text(po_pdf(po_sheet(po_json(), "zh-TW", TZ, HEAD)))
    assert "OUR-001" not in text  # our SKU codes
    assert "our internal reason" not in text
    assert "99" not in text  # a proposal is not the agreed price


def test_a_long_order_runs_over_pages_with_the_total_on_the_last() -> None:
    sheet = po_sheet(po_json(lines=60), "zh-TW", TZ, HEAD)
    pages = page_rows(sheet)
    assert [len(rows) for rows in pages[:-1]] == [ROWS_PER_PAGE] * (len(pages) - 1)
    assert sum(len(rows) for rows in pages) == 60
    with glyphs_required():
        pdf = po_pdf(sheet)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == len(pages) == 3
    first, last = reader.pages[0].extract_text(), reader.pages[-1].extract_text()
    assert "續下頁" in first
    assert "合計" not in first
    assert "合計 NT$1,098,000" in last
    assert "第 3／3 頁" in last


def test_an_order_that_fills_the_last_page_keeps_room_for_total_and_notes() -> None:
    notes = "\n".join(f"第 {n} 條注意事項" for n in range(12))
    sheet = po_sheet(po_json(lines=ROWS_PER_PAGE), "zh-TW", TZ, Letterhead(notes=notes))
    pages = page_rows(sheet)
    assert len(pages) == 2
    assert 1 <= len(pages[-1]) < ROWS_PER_PAGE


def test_long_texts_are_cut_and_wrapped_by_display_width() -> None:
    assert cut("台東初鹿鮮乳936ml瓶裝", 10) == "台東初鹿…"
    assert cut("MILK", 10) == "MILK"
    assert wrap("一二三四五六", 4) == ["一二", "三四", "五六"]
    assert wrap("ab\ncd", 10) == ["ab", "cd"]


def test_as_a_chat_card_the_pdf_is_a_document_without_buttons() -> None:
    with glyphs_required():
        card = po_document_card(po_json(), "zh-TW", TZ, HEAD)
        photo = po_document_card(po_json(), "en", TZ, HEAD, fmt="png")
    assert card.document is not None
    assert card.document.filename == f"{NUMBER}.pdf"
    assert card.document.data.startswith(b"%PDF")
    assert card.buttons == ()
    assert NUMBER in card.title
    assert f"/po {NUMBER} pdf" in card.text
    assert ("合計", "NT$1,800") in [(f.label, f.value) for f in card.fields]
    assert photo.document is None
    assert photo.image is not None
    assert photo.image.png.startswith(PNG)
    assert photo.image.filename == f"{NUMBER}.png"


def test_mailed_instead_the_file_is_attached() -> None:
    """A file whose chat stayed unreachable is mailed (e-mail fallback) with the PDF on it."""
    with glyphs_required():
        card = po_document_card(po_json(), "zh-TW", TZ, HEAD)
    message = compose(card, sender="bot@shop.tw", to="amy@shop.tw", message_id="<1@shop.tw>")
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"{NUMBER}.pdf"
    assert attachment.get_content().startswith(b"%PDF")
    assert NUMBER in str(message["Subject"])


def test_without_a_total_the_lines_add_up() -> None:
    sheet = po_sheet(po_json(lines=3, total=None), "en", TZ)
    assert sheet.total == ("Total", "NT$3,600")  # 12·50 + 24·50 + 36·50
