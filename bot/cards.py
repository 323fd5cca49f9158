"""PO and alert cards, in the reader's locale (the forms behind their buttons: `bot.forms`).

Inputs are what the core writes or returns: a PO card (`core.outbox.po_card`) or an alert
(`core.alerts.alert_json`, or the flat alert dict). Being plain JSON, an outbox row can be
rendered for any reader, in zh-TW (default) or en, long after the transaction that queued it.
Every word goes through `bot.i18n` and every number and date through `bot.formats`; this
module only chooses keys and decides which buttons still apply. The private replies after a
press are in `bot.replies`.
"""

from collections.abc import Callable, Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from adapters.chat import Button, ButtonStyle, Card, Field, Table, Tone
from bot.formats import (
    DASH,
    INFINITY,
    canonical_locale,
    day,
    joined,
    known,
    money,
    number,
    status_word,
    to_date,
    to_decimal,
    when,
    who,
)
from bot.i18n import t
from bot.ids import (  # the adapters route presses on these
    APPROVE,
    DISMISS,
    DRAFT_PO,
    EDIT,
    EMERGENCY,
    REJECT,
    SNOOZE,
)

OPEN_PO = frozenset({"draft", "pending_approval"})  # the only states a manager acts on
LIVE_ALERT = "open"
FINISHED_ALERT = frozenset({"dismissed", "resolved"})
PICK_TONES = {"red": Tone.RED, "orange": Tone.ORANGE, "green": Tone.GREEN}
KIND_ICONS = {
    "imminent_stockout": "🚨",
    "low_stock": "📉",
    "surge": "📈",
    "slow_mover": "🐢",
    "overdue_po": "⏰",
    "price_out_of_band": "💲",
}
SKU_FIELDS = (  # (detail key, label key, format, shown even when the key is missing)
    ("on_hand", "card.alert.on_hand", "qty", False),
    ("position", "card.alert.position", "qty", True),
    ("on_order", "card.alert.on_order", "qty", False),
    ("days_of_cover", "card.alert.days_of_cover", "days", True),
    ("reorder_point", "card.alert.reorder_point", "qty", True),
    ("safety_stock", "card.alert.safety_stock", "qty", False),
    ("daily_demand", "card.alert.daily_demand", "per_day", True),
    ("order_qty", "card.alert.order_qty", "qty", False),
    ("lead_time_days", "card.alert.lead_time", "days", False),
    ("pick_colour", "card.alert.pick_colour", "pick", False),
)
PO_FIELDS = (  # overdue PO and out-of-band price alerts are about a PO, not stock
    ("po", "card.alert.po", "text", True),
    ("expected_arrival", "card.alert.expected_arrival", "day", False),
    ("agreed_price", "card.alert.agreed_price", "money", False),
    ("proposed_price", "card.alert.proposed_price", "money", False),
    ("price_band_pct", "card.alert.band", "band", False),
)
PO_KINDS = frozenset({"overdue_po", "price_out_of_band"})
EMERGENCY_KINDS = frozenset({"surge", "imminent_stockout"})  # may call for 緊急補貨


def _actor(data: Mapping[str, Any], loc: str, tz: ZoneInfo) -> str:
    """ "王小明 於 11/25 14:05" / "by Amy at 25 Nov 14:05"; the time is left out if unknown."""
    by = who(data.get("by"), loc)
    at = data.get("at")
    return t("card.by_at", loc, by=by, at=when(at, loc, tz)) if at else t("card.by", loc, by=by)


# --- purchase orders --------------------------------------------------------------------


def po_card(data: Mapping[str, Any], locale: str, tz: ZoneInfo) -> Card:
    """The PO card for the approvals channel: buttons only while a manager can still act."""
    loc = canonical_locale(locale)
    po: Mapping[str, Any] = data.get("po") or {}
    number_ = str(po.get("number") or DASH)
    status = str(po.get("status") or "")
    currency = str(po.get("currency") or "TWD")
    emergency = bool(po.get("emergency"))
    is_open = status in OPEN_PO
    total = money(po.get("total"), loc, currency)
    supplier = po.get("supplier_name") or po.get("supplier") or DASH
    title = t("card.po.title", loc, number=number_, supplier=supplier)
    if emergency:
        title = f"{t('card.urgent', loc)} {title}"
    status_text = status_word(status, loc)
    tone = (Tone.RED if emergency else Tone.INFO) if is_open else Tone.DONE
    return Card(
        title=title,
        text=t("card.po.summary", loc, status=status_text, total=total),
        tone=tone,
        fields=_po_fields(po, loc, status_text, total),
        table=_po_table(po.get("lines") or [], loc, currency),
        buttons=_po_buttons(number_, total, loc) if is_open else (),
        footer=_po_footer(data, loc, tz),
    )


def _po_fields(po: Mapping[str, Any], loc: str, status_text: str, total: str) -> tuple[Field, ...]:
    code, name = po.get("supplier"), po.get("supplier_name")
    supplier = t("card.po.supplier_value", loc, name=name, code=code) if code and name else None
    fields = [
        Field(t("card.po.supplier", loc), supplier or str(name or code or DASH)),
        Field(t("card.po.status", loc), status_text),
        Field(t("card.po.total", loc), total),
        Field(t("card.po.expected_arrival", loc), day(po.get("expected_arrival"), loc)),
        Field(t("card.po.lines", loc), number(len(po.get("lines") or []), loc)),
    ]
    if po.get("reason") and po.get("status") not in {"rejected", "cancelled"}:
        fields.append(Field(t("card.po.reason", loc), str(po["reason"])))  # footer says it else
    return tuple(fields)


def _po_table(lines: Iterable[Mapping[str, Any]], loc: str, currency: str) -> Table | None:
    rows = tuple(
        (
            str(line.get("sku") or DASH),
            str(line.get("name") or DASH),
            number(line.get("qty"), loc),
            money(line.get("unit_price"), loc, currency),
            _band(line.get("price_band_pct"), loc),
        )
        for line in lines
    )
    if not rows:
        return None
    header = tuple(t(f"card.po.col.{c}", loc) for c in ("sku", "name", "qty", "unit_price", "band"))
    return Table(header=header, rows=rows)


def _band(pct: object, loc: str) -> str:
    text = number(pct, loc)
    return DASH if text == DASH else f"±{text}%"


def _po_buttons(number_: str, total: str, loc: str) -> tuple[Button, ...]:
    return (
        Button(
            APPROVE,
            t("card.button.approve", loc),
            number_,
            ButtonStyle.PRIMARY,
            confirm=t("card.po.confirm_approve", loc, number=number_, total=total),
            deny=t("card.button.cancel", loc),
        ),
        Button(REJECT, t("card.button.reject", loc), number_, ButtonStyle.DANGER),
        Button(EDIT, t("card.button.edit", loc), number_),
    )


def _po_footer(data: Mapping[str, Any], loc: str, tz: ZoneInfo) -> tuple[str, ...]:
    """What happened last, in one line (plus one line per edited quantity)."""
    event = str(data.get("event") or "")
    actor = _actor(data, loc, tz)
    if event == "edit":
        edits = _edit_lines(data.get("edits") or {}, data.get("changed") or [], loc)
        return (t("card.po.footer.edit", loc, actor=actor), *edits)
    reason = str(data.get("reason") or "").strip()
    key = _PO_FOOTERS.get(event)
    if event == "approve" and data.get("first_by"):
        key = "card.po.footer.approve_second"
    elif event == "cancel" and reason:
        key = "card.po.footer.cancel_reason"
    elif key is None:
        if not (event and data.get("by")):
            return ()  # nothing said who did what: no footer beats a wrong one
        key = "card.po.footer.other"
    action = t(f"action.{event}", loc) if known(f"action.{event}") else event
    first_by = who(data.get("first_by"), loc)
    return (t(key, loc, actor=actor, reason=reason or DASH, first_by=first_by, action=action),)


_PO_FOOTERS = {
    event: f"card.po.footer.{event}"
    for event in ("drafted", "submit", "approve", "first_approval", "reject", "cancel", "send")
}


def _edit_lines(
    edits: Mapping[str, Any], changed: Iterable[Mapping[str, Any]], loc: str
) -> tuple[str, ...]:
    """`A001 120 → 144（箱入數 24）`: old → new, and why the terms raised what was typed."""
    raised = {str(c.get("sku")): c for c in changed}
    lines = []
    for sku, pair in edits.items():
        old, new = (pair[0], pair[-1]) if isinstance(pair, list | tuple) and pair else (None, pair)
        params = {"sku": sku, "old": number(old, loc), "new": number(new, loc)}
        change = raised.pop(sku, None)
        notes = _raise_notes(change, loc, old=old) if change else []
        if notes:
            lines.append(t("card.po.footer.edit_line_note", loc, note=joined(notes, loc), **params))
        else:
            lines.append(t("card.po.footer.edit_line", loc, **params))
    for sku, change in raised.items():  # raised but missing from `edits`: still worth saying
        params = {"sku": sku, "old": number(change.get("asked"), loc)}
        params["new"] = number(change.get("qty"), loc)
        note = joined(raise_reasons(change, loc), loc)
        key = "card.po.footer.edit_line_note" if note else "card.po.footer.edit_line"
        lines.append(t(key, loc, note=note, **params))
    return tuple(lines)


def _raise_notes(change: Mapping[str, Any], loc: str, *, old: object) -> list[str]:
    asked = change.get("asked")
    notes = [] if asked == old else [t("card.po.note.asked", loc, qty=number(asked, loc))]
    return notes + raise_reasons(change, loc)


def raise_reasons(change: Mapping[str, Any], loc: str) -> list[str]:
    """MOQ when the typed quantity was below it; case pack when it was not a whole case."""
    asked = _int(change.get("asked"))
    qty, moq, pack = _int(change.get("qty")), _int(change.get("moq")), _int(change.get("case_pack"))
    reasons = []
    if moq > 1 and asked < moq:
        reasons.append(t("card.po.note.moq", loc, moq=number(moq, loc)))
    if pack > 1 and qty != max(asked, moq):
        reasons.append(t("card.po.note.case_pack", loc, case_pack=number(pack, loc)))
    return reasons


def _int(value: object) -> int:
    parsed = to_decimal(value)
    return int(parsed) if parsed is not None and parsed.is_finite() else 0


# --- alerts -----------------------------------------------------------------------------


def alert_card(alert: Mapping[str, Any], locale: str, tz: ZoneInfo) -> Card:
    """An alert with its numbers; buttons while it is open, a who/when/why footer after."""
    loc = canonical_locale(locale)
    data = _flat_alert(alert)
    kind = str(data.get("kind") or "")
    status = str(data.get("status") or LIVE_ALERT)
    details: Mapping[str, Any] = data.get("details") or {}
    kind_text = _kind(kind, loc)
    subject = _alert_subject(data, details)
    title = t("card.alert.title", loc, kind=kind_text, subject=subject)
    icon = KIND_ICONS.get(kind)
    return Card(
        title=f"{icon} {title}" if icon else title,
        text=t(
            "card.alert.summary",
            loc,
            kind=kind_text,
            subject=subject,
            status=status_word(status, loc),
        ),
        tone=_alert_tone(status, str(data.get("severity") or ""), details.get("pick_colour")),
        fields=_alert_fields(kind, data, details, loc),
        buttons=_alert_buttons(data, details, loc) if status == LIVE_ALERT else (),
        footer=_alert_footer(status, data, details, loc, tz),
    )


def _flat_alert(alert: Mapping[str, Any]) -> dict[str, Any]:
    """`alert_json`'s {"alert": {...}, "by", "at", …} or the flat dict: one shape."""
    inner = alert.get("alert")
    if isinstance(inner, Mapping):
        return {**inner, **{k: v for k, v in alert.items() if k != "alert"}}
    return dict(alert)


def _kind(kind: str, loc: str) -> str:
    key = f"alert.kind.{kind}"
    return t(key, loc) if known(key) else t("alert.kind.other", loc, kind=kind or DASH)


def _alert_subject(data: Mapping[str, Any], details: Mapping[str, Any]) -> str:
    sku = data.get("sku")
    if sku:
        return " ".join(str(part) for part in (sku, data.get("sku_name")) if part)
    if details.get("po"):
        return str(details["po"])
    return f"#{data.get('id')}" if data.get("id") is not None else DASH


def _alert_tone(status: str, severity: str, colour: object) -> Tone:
    if status in FINISHED_ALERT:
        return Tone.DONE
    if status != LIVE_ALERT:
        return Tone.INFO  # snoozed: quiet until it comes back
    if severity == "critical":
        return Tone.RED
    if isinstance(colour, str) and colour in PICK_TONES:
        return PICK_TONES[colour]
    return Tone.ORANGE if severity == "warning" else Tone.INFO


def _alert_fields(
    kind: str, data: Mapping[str, Any], details: Mapping[str, Any], loc: str
) -> tuple[Field, ...]:
    about_po = kind in PO_KINDS or (not data.get("sku") and kind not in KIND_ICONS)
    specs = PO_FIELDS if about_po else SKU_FIELDS
    currency = str(details.get("currency") or "TWD")
    fields = []
    for key, label, fmt, always in specs:
        value = _detail(details, key)
        if value is _MISSING and not always:
            continue
        shown = None if value is _MISSING else value
        fields.append(Field(t(label, loc), _format_detail(shown, fmt, loc, currency)))
    if about_po and data.get("sku") and kind == "price_out_of_band":
        fields.insert(0, Field(t("card.po.col.sku", loc), _alert_subject(data, {})))
    return tuple(fields)


_MISSING = object()
_ALIASES = {  # older or hand-written alert details use the shorter names
    "agreed_price": ("agreed",),
    "proposed_price": ("proposed",),
    "price_band_pct": ("band_pct",),
}


def _detail(details: Mapping[str, Any], key: str) -> object:
    for name in (key, *_ALIASES.get(key, ())):
        if name in details:
            return details[name]
    return _MISSING


def _format_detail(value: object, fmt: str, loc: str, currency: str) -> str:
    if fmt in _FORMATTERS:
        return _FORMATTERS[fmt](value, loc, currency)
    text = number(value, loc)
    if text in {DASH, INFINITY} or fmt == "qty":  # no unit on "no value" or "never runs out"
        return text
    return t("card.alert.days" if fmt == "days" else "card.alert.per_day", loc, n=text)


def _pick(value: object, loc: str, _currency: str) -> str:
    key = f"card.alert.pick.{value}"
    return t(key, loc) if known(key) else str(value or DASH)


_FORMATTERS: dict[str, Callable[[object, str, str], str]] = {
    "money": lambda value, loc, currency: money(to_decimal(value), loc, currency),
    "day": lambda value, loc, _currency: day(to_date(value) or str(value or ""), loc),
    "band": lambda value, loc, _currency: _band(value, loc),
    "pick": _pick,
    "text": lambda value, _loc, _currency: str(value) if value not in (None, "") else DASH,
}


def _alert_buttons(
    data: Mapping[str, Any], details: Mapping[str, Any], loc: str
) -> tuple[Button, ...]:
    alert_id = str(data.get("id") or "")
    buttons = []
    if data.get("sku") and not details.get("po"):  # a SKU already on a PO needs no second one
        buttons.append(
            Button(DRAFT_PO, t("card.button.draft_po", loc), alert_id, ButtonStyle.PRIMARY)
        )
    kind = str(data.get("kind") or "")
    if kind in EMERGENCY_KINDS and data.get("sku") and not details.get("emergency"):
        label = t("card.button.emergency", loc)
        buttons.append(Button(EMERGENCY, label, alert_id, ButtonStyle.DANGER))
    buttons.append(Button(SNOOZE, t("card.button.snooze", loc), alert_id))
    buttons.append(Button(DISMISS, t("card.button.dismiss", loc), alert_id))
    return tuple(buttons)


def _alert_footer(
    status: str, data: Mapping[str, Any], details: Mapping[str, Any], loc: str, tz: ZoneInfo
) -> tuple[str, ...]:
    actor = _actor(data, loc, tz)
    lines = []
    if details.get("po") and data.get("sku"):
        lines.append(t("card.alert.footer.po", loc, po=details["po"]))
    if details.get("emergency") and data.get("sku"):
        lines.append(t("card.alert.footer.emergency", loc, po=details["emergency"]))
    if status == "snoozed":
        until = when(data.get("snoozed_until") or data.get("until"), loc, tz)
        lines.append(t("card.alert.footer.snoozed", loc, actor=actor, until=until))
    elif status == "dismissed":
        reason = str(data.get("reason") or "").strip()
        key = "card.alert.footer.dismissed" if reason else "card.alert.footer.dismissed_plain"
        lines.append(t(key, loc, actor=actor, reason=reason))
    elif status == "resolved":
        lines.append(t("card.alert.footer.resolved", loc, actor=actor))
    elif data.get("at"):
        lines.append(t("card.alert.footer.updated", loc, at=when(data["at"], loc, tz)))
    return tuple(lines)
