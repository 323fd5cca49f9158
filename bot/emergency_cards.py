"""The emergency order (緊急補貨) card and the form behind the alert's Emergency order button.

The card (type "emergency", `core.emergency_routing.emergency_json`) is what the approvers
read: the SKU and quantity, the supplier chosen for speed with its lead time and expected
arrival, the PO, how long the request has waited, who is asked (the level of the chain), and
the emergency contact directory (緊急聯絡人名錄). Its Approve and Reject buttons are the PO
card's own (same ids, the PO number as value), shown while the PO still waits.
"""

from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from adapters.chat import Button, ButtonStyle, Card, Field, Form, Input, Table, Tone
from bot.formats import DASH, canonical_locale, day, joined, money, number, status_word, when, who
from bot.i18n import t
from bot.ids import APPROVE, EMERGENCY_FORM, REJECT

OPEN_PO = frozenset({"draft", "pending_approval"})
QTY_INPUT, REASON_INPUT = "qty", "reason"
CONTACT_KINDS = ("supplier", "backup", "logistics")


def _inner(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def emergency_card(data: Mapping[str, Any], locale: str, tz: ZoneInfo) -> Card:
    loc = canonical_locale(locale)
    request, po = _inner(data, "emergency"), _inner(data, "po")
    status = str(po.get("status") or "")
    open_ = status in OPEN_PO
    qty = number(po.get("qty") or request.get("qty"), loc)
    title = t("card.emergency.title", loc, sku=_sku(request), qty=qty)
    return Card(
        title=title,
        text=_headline(data, request, status, loc),
        tone=Tone.RED if open_ else Tone.DONE,
        fields=_fields(request, po, loc),
        table=(table := _contacts(data.get("contacts") or [], loc)),
        buttons=_buttons(po, loc) if open_ else (),
        footer=_footer(request, table is not None, loc, tz),
    )


def _sku(request: Mapping[str, Any]) -> str:
    parts = (request.get("sku"), request.get("sku_name"))
    return " ".join(str(part) for part in parts if part) or DASH


def _headline(data: Mapping[str, Any], request: Mapping[str, Any], status: str, loc: str) -> str:
    event = str(data.get("event") or "")
    minutes = number(request.get("waited_minutes"), loc)
    if status and status not in OPEN_PO:
        return t("card.emergency.done", loc, status=status_word(status, loc))
    if event == "reminded":
        return t("card.emergency.reminded", loc, minutes=minutes)
    if event == "escalated":
        level = number(int(request.get("level") or 0) + 1, loc)
        return t("card.emergency.escalated", loc, minutes=minutes, level=level)
    by, reason = who(request.get("requested_by"), loc), str(request.get("reason") or "").strip()
    if reason:
        return t("card.emergency.opened_reason", loc, by=by, reason=reason)
    return t("card.emergency.opened", loc, by=by)


def _fields(request: Mapping[str, Any], po: Mapping[str, Any], loc: str) -> tuple[Field, ...]:
    currency = str(po.get("currency") or "TWD")
    total = money(po.get("total"), loc, currency)
    lead = po.get("lead_time_days")
    fields = [
        Field(t("card.emergency.sku", loc), _sku(request)),
        Field(t("card.emergency.qty", loc), _qty(request, po, loc)),
        Field(t("card.emergency.supplier", loc), _supplier(po, loc)),
        Field(
            t("card.emergency.lead_time", loc),
            t("card.emergency.lead_days", loc, n=number(lead, loc)) if lead is not None else DASH,
        ),
        Field(t("card.emergency.arrival", loc), day(po.get("expected_arrival"), loc)),
        Field(
            t("card.emergency.po", loc),
            t("card.emergency.po_value", loc, number=po.get("number") or DASH, total=total),
        ),
        Field(
            t("card.emergency.clock", loc),
            t("card.emergency.waited", loc, minutes=number(request.get("waited_minutes"), loc)),
        ),
        Field(t("card.emergency.approvers", loc), _approvers(request, loc)),
    ]
    if str(request.get("reason") or "").strip():
        fields.append(Field(t("card.emergency.reason", loc), str(request["reason"]).strip()))
    return tuple(fields)


def _qty(request: Mapping[str, Any], po: Mapping[str, Any], loc: str) -> str:
    asked, ordered = request.get("qty"), po.get("qty")
    if ordered is None or ordered == asked:
        return number(asked, loc)
    return t("card.emergency.qty_raised", loc, qty=number(ordered, loc), asked=number(asked, loc))


def _supplier(po: Mapping[str, Any], loc: str) -> str:
    name = str(po.get("supplier_name") or po.get("supplier") or DASH)
    if po.get("supplier") and po.get("supplier_name"):
        name = f"{po['supplier_name']}（{po['supplier']}）"
    return t("card.emergency.supplier_backup", loc, name=name) if po.get("faster_backup") else name


def _approvers(request: Mapping[str, Any], loc: str) -> str:
    names = [str(name) for name in request.get("approvers") or []]
    if not names:
        return t("card.emergency.nobody", loc)
    level = int(request.get("level") or 0) + 1
    levels = max(int(request.get("levels") or 1), level)
    if levels == 1:
        return joined(names, loc)
    return t(
        "card.emergency.approvers_level",
        loc,
        names=joined(names, loc),
        level=number(level, loc),
        levels=number(levels, loc),
    )


def _contacts(contacts: Sequence[Mapping[str, Any]], loc: str) -> Table | None:
    """緊急聯絡人名錄: supplier, backup supplier, logistics people."""
    rows = tuple(
        (
            t(f"card.emergency.kind.{kind}", loc),
            str(contact.get("name") or DASH),
            str(contact.get("person") or DASH),
            str(contact.get("phone") or contact.get("email") or DASH),
        )
        for contact in contacts
        if (kind := str(contact.get("kind"))) in CONTACT_KINDS
    )
    if not rows:
        return None
    header = tuple(t(f"card.emergency.col.{c}", loc) for c in ("kind", "name", "person", "phone"))
    return Table(header=header, rows=rows)


def _buttons(po: Mapping[str, Any], loc: str) -> tuple[Button, ...]:
    number_ = str(po.get("number") or "")
    total = money(po.get("total"), loc, str(po.get("currency") or "TWD"))
    return (
        Button(
            APPROVE,
            t("card.button.approve", loc),
            number_,
            ButtonStyle.PRIMARY,
            confirm=t("card.emergency.confirm_approve", loc, number=number_, total=total),
            deny=t("card.button.cancel", loc),
        ),
        Button(REJECT, t("card.button.reject", loc), number_, ButtonStyle.DANGER),
    )


def _footer(request: Mapping[str, Any], contacts: bool, loc: str, tz: ZoneInfo) -> tuple[str, ...]:
    lines = [t("card.emergency.contacts", loc)] if contacts else []  # the table's caption
    at = request.get("requested_at")
    if at:
        by = who(request.get("requested_by"), loc)
        lines.append(t("card.emergency.footer", loc, by=by, at=when(at, loc, tz)))
    return tuple(lines)


# --- the form behind the alert's button -------------------------------------------------------


def emergency_form(alert_id: int | str, sku: str, gap: int, locale: str) -> Form:
    """Quantity (the alert's gap filled in) and an optional reason; `context` is the alert."""
    loc = canonical_locale(locale)
    return Form(
        form_id=EMERGENCY_FORM,
        title=t("form.emergency.title", loc),
        submit=t("form.emergency.submit", loc),
        intro=t("form.emergency.intro", loc, sku=sku, gap=number(gap, loc)),
        context=str(alert_id),
        close=t("card.button.cancel", loc),
        inputs=(
            Input(
                QTY_INPUT,
                t("form.emergency.qty", loc),
                initial=str(gap),
                number=True,
                min_value=1,
                hint=t("form.emergency.qty_hint", loc),
            ),
            Input(
                REASON_INPUT,
                t("form.emergency.reason", loc),
                multiline=True,
                optional=True,
                hint=t("form.emergency.reason_hint", loc),
            ),
        ),
    )
