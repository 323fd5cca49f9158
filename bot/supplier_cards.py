"""What a supplier sees in its own group: the PO in its own item codes, the choices behind
its buttons (arrival date, which line to re-price) and the forms they open.

The same outbox JSON (`core.outbox.po_card`) that the approvals channel reads is rendered
here for the supplier: its codes (`supplier_sku`), quantities, agreed prices and the arrival
we asked for, and never our internal reasons, our SKU codes or anyone else's prices. The
manager's side of the flow (price escalations, backup offers) is in `bot.decision_cards`.
"""

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from adapters.chat import Button, ButtonStyle, Card, Field, Form, Input, Table, Tone
from bot.decision_cards import backup_offer_card, price_card
from bot.formats import (
    DASH,
    canonical_locale,
    day,
    known,
    money,
    status_word,
    to_date,
    when,
    who,
)
from bot.formats import number as quantity
from bot.i18n import t
from bot.ids import (
    ARRIVAL_FORM,
    CALLBACK_CODES,
    CONFIRM,
    DECLINE,
    DECLINE_FORM,
    LEAD_TIME,
    PRICE_FORM,
    PRICE_LINE,
    PROPOSE_PRICE,
    SHIPPED,
    SHIPPED_FORM,
)
from core.supplier_flow import working_days_after

__all__ = [  # the manager's cards of the same flow, importable from here too
    "backup_offer_card",
    "price_card",
]

ARRIVAL_INPUT, PRICE_INPUT, REASON_INPUT, TRACKING_INPUT = "arrival", "price", "reason", "tracking"
LEAD_DAYS = (0, 1, 3, 7)  # working days after the requested arrival
MAX_EXTRA_DAYS = 60  # a LEAD_TIME value past this was not one of our buttons
OTHER_DATE = "date"  # LEAD_TIME's value for "another date": opens ARRIVAL_FORM
CALLBACK_MAX = 64  # bytes of Telegram callback data (`<code>|<value>`)
ENDED = frozenset({"declined", "reassigned", "cancelled", "rejected", "closed"})
PRICE_EVENTS = frozenset({"price_accepted", "price_escalated", "price_approved", "price_refused"})


def order_of(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The PO dict of a whole card JSON, or the PO dict itself."""
    inner = data.get("po")
    return inner if isinstance(inner, Mapping) else data


# --- the PO, as the supplier reads it --------------------------------------------------------


def supplier_po_card(data: Mapping[str, Any], locale: str, tz: ZoneInfo) -> Card:
    """The PO for the supplier's group; buttons for what the supplier can still do."""
    loc = canonical_locale(locale)
    po = order_of(data)
    number = str(po.get("number") or DASH)
    status = str(po.get("status") or "")
    total = money(po.get("total"), loc, str(po.get("currency") or "TWD"))
    title = t("card.spo.title", loc, number=number)
    if po.get("emergency"):
        title = f"{t('card.urgent', loc)} {title}"
    live = status in ("sent", "confirmed")
    return Card(
        title=title,
        text=t("card.spo.summary", loc, status=_status(status, loc), total=total),
        tone=(Tone.ORANGE if status == "sent" else Tone.INFO) if live else Tone.DONE,
        fields=_spo_fields(data, po, loc, total),
        table=_spo_table(po, loc),
        buttons=_spo_buttons(number, status, loc),
        footer=_spo_footer(data, po, loc, tz),
    )


def _status(status: str, loc: str) -> str:
    key = f"card.spo.status.{status}"
    return t(key, loc) if known(key) else status_word(status, loc)


def _spo_fields(
    data: Mapping[str, Any], po: Mapping[str, Any], loc: str, total: str
) -> tuple[Field, ...]:
    buyer = str(data.get("buyer") or t("card.spo.buyer_default", loc))
    fields = [
        Field(t("card.spo.buyer", loc), buyer),
        Field(t("card.spo.status", loc), _status(str(po.get("status") or ""), loc)),
        Field(t("card.spo.total", loc), total),
        Field(t("card.spo.requested_arrival", loc), day(po.get("requested_arrival"), loc)),
    ]
    if po.get("expected_arrival"):
        fields.append(Field(t("card.spo.expected_arrival", loc), day(po["expected_arrival"], loc)))
    if po.get("tracking_number"):
        fields.append(Field(t("card.spo.tracking", loc), str(po["tracking_number"])))
    if po.get("status") == "declined" and po.get("reason"):  # their own reason, not ours
        fields.append(Field(t("card.spo.reason", loc), str(po["reason"])))
    return tuple(fields)


def _spo_table(po: Mapping[str, Any], loc: str) -> Table | None:
    currency = str(po.get("currency") or "TWD")
    rows = tuple(
        (
            supplier_code(line),
            str(line.get("name") or DASH),
            quantity(line.get("qty"), loc),
            _price_text(line, loc, currency),
        )
        for line in po.get("lines") or []
    )
    if not rows:
        return None
    header = tuple(t(f"card.spo.col.{c}", loc) for c in ("code", "name", "qty", "price"))
    return Table(header, rows)


def supplier_code(line: Mapping[str, Any]) -> str:
    """The supplier's own code for a line (core falls back to ours when none was agreed)."""
    return str(line.get("supplier_sku") or line.get("sku") or DASH)


def _price_text(line: Mapping[str, Any], loc: str, currency: str) -> str:
    agreed = money(line.get("unit_price"), loc, currency)
    if line.get("proposed_price") is None:
        return agreed
    proposed = money(line["proposed_price"], loc, currency)
    return t("card.spo.price_pending", loc, agreed=agreed, proposed=proposed)


def _spo_buttons(number: str, status: str, loc: str) -> tuple[Button, ...]:
    price = Button(PROPOSE_PRICE, t("card.spo.button.price", loc), number)
    if status == "sent":
        confirm = Button(CONFIRM, t("card.spo.button.confirm", loc), number, ButtonStyle.PRIMARY)
        decline = Button(DECLINE, t("card.spo.button.decline", loc), number, ButtonStyle.DANGER)
        return (confirm, price, decline)
    if status == "confirmed":
        shipped = Button(SHIPPED, t("card.spo.button.shipped", loc), number, ButtonStyle.PRIMARY)
        return (shipped, price)
    return ()


def _spo_footer(
    data: Mapping[str, Any], po: Mapping[str, Any], loc: str, tz: ZoneInfo
) -> tuple[str, ...]:
    """What happened last, said to the supplier; then what we are waiting for."""
    event, status = str(data.get("event") or ""), str(po.get("status") or "")
    lines: list[str] = []
    key = _footer_key(event, data, po)
    if key is not None:
        lines.append(t(key, loc, **_footer_params(data, po, loc, tz)))
    if status == "sent" and event != "reminded":
        lines.append(t("card.spo.footer.please_confirm", loc))
    elif status in ENDED and event not in ("decline", "reassign"):
        lines.append(t("card.spo.footer.ended", loc, status=_status(status, loc)))
    return tuple(lines)


def _footer_key(event: str, data: Mapping[str, Any], po: Mapping[str, Any]) -> str | None:
    if event == "decline" and not (data.get("reason") or po.get("reason")):
        return "card.spo.footer.decline_plain"
    if event == "ship" and not (data.get("tracking") or po.get("tracking_number")):
        return "card.spo.footer.ship_plain"
    key = f"card.spo.footer.{event}"
    return key if event and known(key) else None


def _footer_params(
    data: Mapping[str, Any], po: Mapping[str, Any], loc: str, tz: ZoneInfo
) -> dict[str, str]:
    arrival = data.get("expected_arrival") or po.get("expected_arrival")
    by_code = {str(line.get("sku")): supplier_code(line) for line in po.get("lines") or []}
    price = money(data.get("price"), loc, str(po.get("currency") or "TWD"))
    return {
        "actor": who(data.get("by"), loc),
        "at": when(data.get("at"), loc, tz),
        "day": day(arrival, loc),
        "reason": str(data.get("reason") or po.get("reason") or DASH),
        "tracking": str(data.get("tracking") or po.get("tracking_number") or DASH),
        "code": by_code.get(str(data.get("sku")), DASH),  # never our own code
        "price": price,
    }


# --- after Confirm: the arrival date ---------------------------------------------------------


def lead_time_card(number: str, requested_arrival: date | str | None, locale: str) -> Card:
    """As asked, +1, +3 or +7 working days (dates shown), or another date (a form)."""
    loc = canonical_locale(locale)
    asked = to_date(requested_arrival)
    buttons = [
        Button(
            LEAD_TIME,
            _lead_label(days, asked, loc),
            f"{number}:{days}",
            ButtonStyle.PRIMARY if days == 0 else ButtonStyle.DEFAULT,
        )
        for days in (LEAD_DAYS if asked is not None else LEAD_DAYS[1:])
    ]
    buttons.append(Button(LEAD_TIME, t("card.lead.other", loc), f"{number}:{OTHER_DATE}"))
    text_key = "card.lead.text" if asked is not None else "card.lead.text_plain"
    return Card(
        title=t("card.lead.title", loc, number=number),
        text=t(text_key, loc, day=day(asked, loc)),
        buttons=tuple(buttons),
    )


def _lead_label(days: int, asked: date | None, loc: str) -> str:
    if asked is None:
        return t("card.lead.later_plain", loc, n=days)
    when_ = day(working_days_after(asked, days) if days else asked, loc)
    return t("card.lead.agreed" if days == 0 else "card.lead.later", loc, n=days, day=when_)


# --- after Propose price: which line ---------------------------------------------------------


def price_line_card(po: Mapping[str, Any], locale: str) -> Card:
    """One button per line, in the supplier's codes (`PRICE_LINE`, value `line_value`)."""
    loc = canonical_locale(locale)
    order = order_of(po)
    number = str(order.get("number") or DASH)
    currency = str(order.get("currency") or "TWD")
    lines: Sequence[Mapping[str, Any]] = order.get("lines") or []
    buttons = tuple(
        Button(
            PRICE_LINE,
            t(
                "card.price_line.button",
                loc,
                code=supplier_code(line),
                name=line.get("name") or "",
                price=money(line.get("unit_price"), loc, currency),
            ),
            line_value(number, line, position),
        )
        for position, line in enumerate(lines, start=1)
    )
    return Card(
        title=t("card.price_line.title", loc, number=number),
        text=t("card.price_line.text", loc),
        buttons=buttons,
    )


def line_value(number: str, line: Mapping[str, Any], position: int) -> str:
    """`<po>:<supplier code>`, or `<po>:#<position>` when that would not fit Telegram's
    64 bytes of callback data."""
    value = f"{number}:{supplier_code(line)}"
    data = f"{CALLBACK_CODES[PRICE_LINE]}|{value}"
    return value if len(data.encode()) <= CALLBACK_MAX else f"{number}:#{position}"


def find_line(
    lines: Sequence[Mapping[str, Any]], key: str, *, by: Sequence[str] = ("supplier_sku", "sku")
) -> Mapping[str, Any] | None:
    """The line a button or form names: `#<position>`, or a code (by default the supplier's
    first, as the core does; the manager's buttons name ours: `by=("sku",)`)."""
    if key.startswith("#") and key[1:].isdigit():
        position = int(key[1:])
        return lines[position - 1] if 1 <= position <= len(lines) else None
    for field in by:
        for line in lines:
            if str(line.get(field) or "") == key:
                return line
    return None


# --- forms -----------------------------------------------------------------------------------


def arrival_form(number: str, locale: str) -> Form:
    loc = canonical_locale(locale)
    hint = t("form.arrival.hint", loc)
    return _form(
        ARRIVAL_FORM,
        "arrival",
        number,
        loc,
        Input(ARRIVAL_INPUT, _label("arrival", loc), hint=hint),
    )


def price_form(number: str, line: Mapping[str, Any], context: str, locale: str) -> Form:
    """The new unit price for one line; `context` is the line's `line_value`."""
    loc = canonical_locale(locale)
    intro = t(
        "form.price.intro",
        loc,
        po=number,
        code=supplier_code(line),
        name=line.get("name") or "",
        price=money(line.get("unit_price"), loc),
    )
    field = Input(PRICE_INPUT, _label("price", loc), hint=t("form.price.hint", loc))
    return _form(PRICE_FORM, "price", context, loc, field, intro=intro)


def decline_form(number: str, locale: str) -> Form:
    loc = canonical_locale(locale)
    field = Input(
        REASON_INPUT, _label("decline", loc), multiline=True, hint=t("form.decline.hint", loc)
    )
    return _form(DECLINE_FORM, "decline", number, loc, field)


def shipped_form(number: str, locale: str) -> Form:
    loc = canonical_locale(locale)
    field = Input(
        TRACKING_INPUT, _label("shipped", loc), optional=True, hint=t("form.shipped.hint", loc)
    )
    return _form(SHIPPED_FORM, "shipped", number, loc, field)


def _label(name: str, loc: str) -> str:
    return t(f"form.{name}.label", loc)


def _form(
    form_id: str, name: str, context: str, loc: str, field: Input, *, intro: str = ""
) -> Form:
    number = context.partition(":")[0]
    return Form(
        form_id=form_id,
        title=t(f"form.{name}.title", loc),
        submit=t(f"form.{name}.submit", loc),
        intro=intro or t(f"form.{name}.intro", loc, po=number),
        context=context,
        close=t("card.button.cancel", loc),
        inputs=(field,),
    )
