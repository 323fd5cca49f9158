"""The dropship partner's pick list (熱銷品優先處理): red, orange and green groups of SKUs with
the quantity to pick first and why, and an Acknowledge button while nobody has."""

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from adapters.chat import Button, ButtonStyle, Card, Table, Tone
from bot.formats import DASH, canonical_locale, number, when
from bot.i18n import t
from bot.ids import PICK_ACK

COLOURS = ("red", "orange", "green")
MARKS = {"red": "🔴", "orange": "🟠", "green": "🟢"}


def picks_card(data: Mapping[str, Any], locale: str, tz: ZoneInfo) -> Card:
    loc = canonical_locale(locale)
    items = list(data.get("items") or [])
    partner = str(data.get("partner_name") or data.get("partner") or DASH)
    reds = sum(1 for item in items if item.get("colour") == "red")
    event = str(data.get("event") or "")
    title_key = "card.picks.escalated_title" if event == "escalated" else "card.picks.title"
    open_ = data.get("status") == "open"
    return Card(
        title=t(title_key, loc, partner=partner),
        text=_summary(data, items, reds, loc, tz),
        tone=_tone(open_, reds, items),
        table=_table(items, loc) if items else None,
        buttons=_buttons(data, loc) if open_ else (),
        footer=_footer(data, loc, tz),
    )


def _summary(data: Mapping[str, Any], items: list[Any], reds: int, loc: str, tz: ZoneInfo) -> str:
    if not items:
        return t("card.picks.empty", loc)
    counts = {colour: sum(1 for i in items if i.get("colour") == colour) for colour in COLOURS}
    summary = t("card.picks.summary", loc, **counts, posted=when(data.get("posted_at"), loc, tz))
    if data.get("event") in ("resent", "escalated") and reds:
        waited = data.get("waited_minutes") or 0
        summary += "\n" + t("card.picks.waiting", loc, minutes=waited)
    return summary


def _tone(open_: bool, reds: int, items: list[Any]) -> Tone:
    if not open_:
        return Tone.DONE
    if reds:
        return Tone.RED
    return Tone.ORANGE if any(i.get("colour") == "orange" for i in items) else Tone.GREEN


def _table(items: list[Mapping[str, Any]], loc: str) -> Table:
    header = tuple(t(f"card.picks.col.{c}", loc) for c in ("colour", "sku", "name", "qty", "why"))
    rows = tuple(
        (
            MARKS.get(str(item.get("colour")), ""),
            str(item.get("sku") or DASH),
            str(item.get("name") or DASH),
            number(item.get("qty"), loc, 0),
            _reasons(item.get("reasons") or [], loc),
        )
        for item in items
    )
    return Table(header, rows)


def _reasons(reasons: list[str], loc: str) -> str:
    words = [t(f"signal.{reason}", loc) for reason in reasons]
    return t("list.separator", loc).join(words) or DASH


def _buttons(data: Mapping[str, Any], loc: str) -> tuple[Button, ...]:
    return (Button(PICK_ACK, t("card.picks.ack", loc), str(data.get("id")), ButtonStyle.PRIMARY),)


def _footer(data: Mapping[str, Any], loc: str, tz: ZoneInfo) -> tuple[str, ...]:
    status = data.get("status")
    if status == "acked" and data.get("acked_by"):
        at = when(data.get("acked_at"), loc, tz)
        return (t("card.picks.footer.acked", loc, by=data["acked_by"], at=at),)
    if status == "replaced":
        return (t("card.picks.footer.replaced", loc),)
    return ()
