"""The manager's side of the supplier flow: a price outside the agreed band (type "price")
and the backup-supplier offer after a decline or a silent supplier (type "backup_offer").

Both go to the approvals chat only: the backup offer names other suppliers and their prices,
which a supplier never sees. Buttons stay while the decision is still open; after it, a
footer says who decided what.
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from adapters.chat import Button, ButtonStyle, Card, Field, Table, Tone
from bot.formats import (
    DASH,
    canonical_locale,
    joined,
    money,
    number,
    status_word,
    to_decimal,
    when,
    who,
)
from bot.i18n import t
from bot.ids import CALLBACK_CODES, PRICE_ACCEPT, PRICE_REFUSE, REASSIGN

LIVE = frozenset({"sent", "confirmed"})  # a price can still be decided on these
OFFER_OPEN = frozenset({"declined", "sent"})  # sent: silent past its SLA, backup offered
CALLBACK_MAX = 64


def _order(data: Mapping[str, Any]) -> Mapping[str, Any]:
    inner = data.get("po")
    return inner if isinstance(inner, Mapping) else {}


def _actor(data: Mapping[str, Any], loc: str, tz: ZoneInfo) -> str:
    by = who(data.get("by"), loc)
    at = data.get("at")
    return t("card.by_at", loc, by=by, at=when(at, loc, tz)) if at else t("card.by", loc, by=by)


def _supplier(po: Mapping[str, Any]) -> str:
    return str(po.get("supplier_name") or po.get("supplier") or DASH)


# --- a price outside the band (價格浮動範圍) ---------------------------------------------------


def price_card(data: Mapping[str, Any], locale: str, tz: ZoneInfo) -> Card:
    """The escalated price: agreed vs proposed, the band and how far outside it."""
    loc = canonical_locale(locale)
    po, price = _order(data), data.get("price") or {}
    po_number = str(po.get("number") or DASH)
    currency = str(po.get("currency") or "TWD")
    open_ = data.get("event") == "price_escalated" and po.get("status") in LIVE
    sku = str(price.get("sku") or DASH)
    text = t(
        "card.price.text",
        loc,
        supplier=_supplier(po),
        sku=sku,
        name=price.get("name") or "",
        proposed=money(price.get("proposed"), loc, currency),
        agreed=money(price.get("agreed"), loc, currency),
    )
    return Card(
        title=t("card.price.title", loc, number=po_number),
        text=text,
        tone=Tone.ORANGE if open_ else Tone.DONE,
        fields=_price_fields(po, price, loc, currency),
        buttons=_price_buttons(po, sku, loc) if open_ else (),
        footer=_price_footer(data, price, loc, tz, currency),
    )


def _price_fields(
    po: Mapping[str, Any], price: Mapping[str, Any], loc: str, currency: str
) -> tuple[Field, ...]:
    sku, theirs = str(price.get("sku") or DASH), str(price.get("supplier_sku") or "")
    item = " ".join(str(part) for part in (sku, price.get("name")) if part)
    if theirs and theirs != sku:
        item = t("card.price.item_theirs", loc, item=item, code=theirs)
    return (
        Field(t("card.price.po", loc), str(po.get("number") or DASH)),
        Field(t("card.price.supplier", loc), _supplier(po)),
        Field(t("card.price.sku", loc), item),
        Field(t("card.price.qty", loc), number(price.get("qty"), loc)),
        Field(t("card.price.agreed", loc), money(price.get("agreed"), loc, currency)),
        Field(t("card.price.proposed", loc), money(price.get("proposed"), loc, currency)),
        Field(t("card.price.band", loc), f"±{number(price.get('band_pct'), loc)}%"),
        Field(t("card.price.outside", loc), outside_text(price, loc)),
    )


def outside_text(price: Mapping[str, Any], loc: str) -> str:
    """`高於議定 20%（超出範圍 10 個百分點）`: the change, and how far past the band."""
    agreed, proposed = to_decimal(price.get("agreed")), to_decimal(price.get("proposed"))
    band = to_decimal(price.get("band_pct")) or Decimal(0)
    if agreed is None or proposed is None or agreed <= 0:
        return DASH
    change = (proposed - agreed) / agreed * 100
    over = max(abs(change) - band, Decimal(0))
    key = "card.price.above" if change >= 0 else "card.price.below"
    return t(key, loc, pct=number(abs(change), loc), over=number(over, loc))


def _price_buttons(po: Mapping[str, Any], sku: str, loc: str) -> tuple[Button, ...]:
    value = decision_value(po, sku, PRICE_ACCEPT)
    return (
        Button(PRICE_ACCEPT, t("card.price.accept", loc), value, ButtonStyle.PRIMARY),
        Button(PRICE_REFUSE, t("card.price.refuse", loc), value, ButtonStyle.DANGER),
    )


def decision_value(po: Mapping[str, Any], sku: str, action: str) -> str:
    """`<po>:<our SKU code>`, or `<po>:#<line position>` when it would not fit Telegram."""
    po_number = str(po.get("number") or "")
    value = f"{po_number}:{sku}"
    if len(f"{CALLBACK_CODES[action]}|{value}".encode()) <= CALLBACK_MAX:
        return value
    lines: Sequence[Mapping[str, Any]] = po.get("lines") or []
    codes = [str(line.get("sku")) for line in lines]
    return f"{po_number}:#{codes.index(sku) + 1}" if sku in codes else value


def _price_footer(
    data: Mapping[str, Any], price: Mapping[str, Any], loc: str, tz: ZoneInfo, currency: str
) -> tuple[str, ...]:
    event = data.get("event")
    params = {
        "actor": _actor(data, loc, tz),
        "price": money(price.get("proposed"), loc, currency),
        "agreed": money(price.get("agreed"), loc, currency),
    }
    if event == "price_approved":
        return (t("card.price.footer.approved", loc, **params),)
    if event == "price_refused":
        return (t("card.price.footer.refused", loc, **params),)
    if event == "price_escalated":
        return (t("card.price.footer.waiting", loc, **params),)
    return (t("card.price.footer.decided", loc),)


# --- the backup supplier (備用供應商) ---------------------------------------------------------


def backup_offer_card(data: Mapping[str, Any], locale: str, tz: ZoneInfo) -> Card:
    """Why the PO needs another supplier, and per line who would take it at what price."""
    loc = canonical_locale(locale)
    po = _order(data)
    po_number = str(po.get("number") or DASH)
    status = str(po.get("status") or "")
    open_ = status in OFFER_OPEN
    offers: Sequence[Mapping[str, Any]] = data.get("backups") or []
    button = Button(
        REASSIGN,
        t("card.backup.button", loc),
        po_number,
        ButtonStyle.PRIMARY,
        confirm=t("card.backup.confirm", loc, number=po_number),
        deny=t("card.button.cancel", loc),
    )
    return Card(
        title=t("card.backup.title", loc, number=po_number, supplier=_supplier(po)),
        text=_why(data, po, loc),
        tone=Tone.RED if open_ else Tone.DONE,
        table=_offer_table(offers, loc, str(po.get("currency") or "TWD")),
        buttons=(button,) if open_ else (),
        footer=_offer_footer(data, po, offers, loc, tz),
    )


def _why(data: Mapping[str, Any], po: Mapping[str, Any], loc: str) -> str:
    supplier = _supplier(po)
    if data.get("event") == "emergency_overdue":  # 緊急補貨: confirm_within passed
        minutes, limit = data.get("minutes"), data.get("confirm_within_minutes")
        minutes, limit = number(minutes, loc), number(limit, loc)
        return t(
            "card.backup.emergency_overdue", loc, supplier=supplier, minutes=minutes, limit=limit
        )
    if data.get("hours") is not None or data.get("event") in ("overdue", "backup_offered"):
        hours, sla = number(data.get("hours"), loc), number(data.get("sla_hours"), loc)
        return t("card.backup.overdue", loc, supplier=supplier, hours=hours, sla=sla)
    reason = str(po.get("reason") or data.get("reason") or "").strip()
    if reason:
        return t("card.backup.declined", loc, supplier=supplier, reason=reason)
    if data.get("event") in ("declined", "decline"):
        return t("card.backup.declined_plain", loc, supplier=supplier)
    return t("card.backup.generic", loc, supplier=supplier)


def _offer_table(offers: Sequence[Mapping[str, Any]], loc: str, currency: str) -> Table | None:
    if not offers:
        return None
    rows = []
    for offer in offers:
        head = (str(offer.get("sku") or DASH), str(offer.get("name") or DASH))
        qty = number(offer.get("qty"), loc)
        backup = offer.get("backup")
        if not backup:
            rows.append((*head, qty, t("card.backup.none", loc), DASH, DASH, DASH))
            continue
        supplier = str(backup.get("supplier_name") or backup.get("supplier") or DASH)
        rows.append(
            (
                *head,
                qty,
                supplier,
                money(backup.get("unit_price"), loc, currency),
                t("card.backup.lead_days", loc, n=number(backup.get("lead_time_days"), loc)),
                number(backup.get("qty"), loc),
            )
        )
    columns = ("sku", "name", "qty", "backup", "price", "lead", "new_qty")
    return Table(tuple(t(f"card.backup.col.{c}", loc) for c in columns), tuple(rows))


def _offer_footer(
    data: Mapping[str, Any],
    po: Mapping[str, Any],
    offers: Sequence[Mapping[str, Any]],
    loc: str,
    tz: ZoneInfo,
) -> tuple[str, ...]:
    status = str(po.get("status") or "")
    if status == "reassigned":
        lines = [t("card.backup.footer.reassigned", loc, actor=_actor(data, loc, tz))]
        if data.get("new_pos"):
            lines.append(t("card.backup.footer.new_pos", loc, pos=joined(data["new_pos"], loc)))
        skus = data.get("no_backup") or [o.get("sku") for o in offers if not o.get("backup")]
        if skus:
            lines.append(t("card.backup.footer.by_hand", loc, skus=joined(map(str, skus), loc)))
        return tuple(lines)
    if status not in OFFER_OPEN:  # the supplier confirmed after all, or it was cancelled
        return (t("card.backup.footer.moot", loc, status=status_word(status, loc)),)
    if offers and all(not o.get("backup") for o in offers):
        return (t("card.backup.footer.nobody", loc),)
    return ()
