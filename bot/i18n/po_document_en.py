"""English: the purchase order document for suppliers (PDF / PNG) and its message. Merged
into `en.MESSAGES` (see `bot/i18n/__init__.py`); the same keys as `po_document_zh_tw`. No
emoji on the document itself: its font has none."""

MESSAGES: dict[str, str] = {
    # the document itself
    "podoc.title": "Purchase order",
    "podoc.urgent": "URGENT",
    "podoc.number": "PO number",
    "podoc.supplier": "Supplier",
    "podoc.issued": "Issued",
    "podoc.requested_arrival": "Requested arrival",
    "podoc.expected_arrival": "Confirmed arrival",
    "podoc.deliver_to": "Deliver to",
    "podoc.phone": "Phone: {phone}",
    "podoc.date": "{day} {year}",
    "podoc.col.no": "#",
    "podoc.col.code": "Your code",
    "podoc.col.name": "Item",
    "podoc.col.qty": "Qty",
    "podoc.col.unit_price": "Unit price",
    "podoc.col.amount": "Amount",
    "podoc.total": "Total",
    "podoc.notes": "Notes",
    "podoc.footer": "Please quote the PO number on deliveries and invoices; confirm the arrival date with the Confirm button in the group.",
    "podoc.page": "Page {page} of {pages}",
    "podoc.continued": "Continued overleaf",
    # the chat message the file comes with
    "podoc.card.title": "📄 Purchase order {number} (PDF)",
    "podoc.card.title_png": "📄 Purchase order {number}",
    "podoc.card.text": "The purchase order as a file, to print or forward to your shipping team. Type /po {number} pdf to get it again.",
    "podoc.card.alt": "Purchase order {number}",
}
