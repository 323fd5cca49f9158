"""The supplier flow's buttons and forms: a supplier confirms (arrival date), proposes a price,
declines or reports a shipment; a manager decides an escalated price or hands a PO to the
backup supplier.

Every state change runs through `ChatBot.once` (exactly once per press or reply, with the
acting member resolved in the chat's context, so another supplier's people are nobody in a
supplier's group). A press that only opens a choice or a form is checked the same way
first — a supplier never types a reason for a PO it may not touch, and a guessed number of
another supplier's PO reads exactly like a missing one. Replies carry the card as it now
stands (`replace=True`) and a short line saying what happened.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from adapters.chat import Interaction, Reply
from bot import supplier_cards as sc
from bot.decision_cards import backup_offer_card, price_card
from bot.formats import day, joined
from bot.i18n import t
from bot.ids import (
    ARRIVAL_FORM,
    CONFIRM,
    DECLINE,
    DECLINE_FORM,
    LEAD_TIME,
    PRICE_ACCEPT,
    PRICE_FORM,
    PRICE_LINE,
    PRICE_REFUSE,
    PROPOSE_PRICE,
    REASSIGN,
    SHIPPED,
    SHIPPED_FORM,
)
from bot.supplier_input import Unreadable, parse_arrival, parse_price, parse_tracking, typed
from bot.supplier_views import offer_view, price_view
from core.inbox import Response
from core.models import Member, PurchaseOrder, Role
from core.permissions import Action, require
from core.supplier_backup import decline, reassign
from core.supplier_flow import confirm, decide_price, mark_shipped, propose_price, require_own_po
from core.views import po_view
from core.workflow import ENTITY, next_status
from core.workflow_errors import NotOnOrder, PoNotFound

if TYPE_CHECKING:
    from bot.chatbot import ChatBot

Handler = Callable[["ChatBot", Interaction], Reply]
UseCase = Callable[[Session, Member], Any]
STATE_ERRORS = frozenset({"already_done", "illegal_transition", "po_changed"})  # card still shown


# --- confirm: the arrival date ---------------------------------------------------------------


def _confirm(bot: ChatBot, press: Interaction) -> Reply:
    number = press.value.strip()
    refused = _refused(bot, press, Action.CONFIRM, number)
    if refused is not None:
        return refused
    data = _view(bot, number) or {}
    asked = sc.order_of(data).get("requested_arrival")
    return Reply(card=sc.lead_time_card(number, asked, bot.locale_of(press.user)))


def _lead_time(bot: ChatBot, press: Interaction) -> Reply:
    number, _, choice = press.value.partition(":")
    if choice == sc.OTHER_DATE:
        refused = _refused(bot, press, Action.CONFIRM, number)
        return refused or Reply(form=sc.arrival_form(number, bot.locale_of(press.user)))
    if not choice.isdigit() or int(choice) > sc.MAX_EXTRA_DAYS:
        return _error(bot, press.user, PoNotFound(po=number).as_dict())
    days, today = int(choice), _today(bot)
    answer = bot.once(press, lambda s, a: confirm(s, a, number, extra_days=days, today=today))
    return _supplier_reply(bot, number, answer, press.user)


def _arrival(bot: ChatBot, form: Interaction) -> Reply:
    number, today = form.value.strip(), _today(bot)
    arrival = parse_arrival(typed(form.values, sc.ARRIVAL_INPUT), today)
    if isinstance(arrival, Unreadable):
        return _inline(bot, form, sc.ARRIVAL_INPUT, arrival)
    answer = bot.once(form, lambda s, a: confirm(s, a, number, arrival=arrival, today=today))
    return _supplier_reply(bot, number, answer, form.user)


# --- a new price (價格浮動範圍) ----------------------------------------------------------------


def _propose(bot: ChatBot, press: Interaction) -> Reply:
    """One line: straight to the price form; several: which line first."""
    number = press.value.strip()
    refused = _refused(bot, press, Action.PROPOSE_PRICE, number)
    if refused is not None:
        return refused
    data, locale = _view(bot, number) or {}, bot.locale_of(press.user)
    lines = sc.order_of(data).get("lines") or []
    if len(lines) == 1:
        context = sc.line_value(number, lines[0], 1)
        return Reply(form=sc.price_form(number, lines[0], context, locale))
    return Reply(card=sc.price_line_card(data, locale))


def _price_line(bot: ChatBot, press: Interaction) -> Reply:
    number, _, key = press.value.partition(":")
    refused = _refused(bot, press, Action.PROPOSE_PRICE, number)
    if refused is not None:
        return refused
    line = _line(bot, number, key)
    if line is None:
        return _error(bot, press.user, NotOnOrder(po=number, sku=key).as_dict())
    return Reply(form=sc.price_form(number, line, press.value, bot.locale_of(press.user)))


def _price(bot: ChatBot, form: Interaction) -> Reply:
    number, _, key = form.value.partition(":")
    price = parse_price(typed(form.values, sc.PRICE_INPUT))
    if isinstance(price, Unreadable):
        return _inline(bot, form, sc.PRICE_INPUT, price)
    line = _line(bot, number, key)
    code = sc.supplier_code(line) if line is not None else key  # the core refuses by name
    answer = bot.once(form, lambda s, a: propose_price(s, a, number, sku=code, price=price))
    return _supplier_reply(bot, number, answer, form.user)


# --- cannot supply, shipped ------------------------------------------------------------------


def _open_decline(bot: ChatBot, press: Interaction) -> Reply:
    number = press.value.strip()
    refused = _refused(bot, press, Action.DECLINE, number)
    return refused or Reply(form=sc.decline_form(number, bot.locale_of(press.user)))


def _decline(bot: ChatBot, form: Interaction) -> Reply:
    number, reason = form.value.strip(), typed(form.values, sc.REASON_INPUT)
    if not reason:
        text = t("form.error.reason_required", bot.locale_of(form.user))
        return Reply(errors={sc.REASON_INPUT: text})
    answer = bot.once(form, lambda s, a: decline(s, a, number, reason=reason))
    return _supplier_reply(bot, number, answer, form.user)


def _open_shipped(bot: ChatBot, press: Interaction) -> Reply:
    number = press.value.strip()
    refused = _refused(bot, press, Action.SHIP, number)
    return refused or Reply(form=sc.shipped_form(number, bot.locale_of(press.user)))


def _shipped(bot: ChatBot, form: Interaction) -> Reply:
    number, tracking = form.value.strip(), parse_tracking(typed(form.values, sc.TRACKING_INPUT))
    answer = bot.once(form, lambda s, a: mark_shipped(s, a, number, tracking=tracking))
    return _supplier_reply(bot, number, answer, form.user)


# --- the manager: price decisions and the backup supplier --------------------------------------


def _decide(accept: bool) -> Handler:
    def handle(bot: ChatBot, press: Interaction) -> Reply:
        number, _, key = press.value.partition(":")
        line = _line(bot, number, key, by=("sku",))  # our code (or its position)
        sku = str(line["sku"]) if line is not None else key
        answer = bot.once(press, lambda s, a: decide_price(s, a, number, sku=sku, accept=accept))
        locale = bot.locale_of(press.user)
        with bot.app.store.read() as session:
            data = price_view(session, number, sku)
        card = price_card(data, locale, bot.app.settings.tz) if data and _shown(answer) else None
        text, refused = bot.answer_text(answer, locale), "error" in answer
        return Reply(card=card, text=text, replace=card is not None, refused=refused)

    return handle


def _reassign(bot: ChatBot, press: Interaction) -> Reply:
    number, today = press.value.strip(), _today(bot)
    answer = bot.once(press, lambda s, a: reassign(s, a, number, today=today))
    locale = bot.locale_of(press.user)
    with bot.app.store.read() as session:
        data = offer_view(session, number)
    card = backup_offer_card(data, locale, bot.app.settings.tz) if data and _shown(answer) else None
    text = [bot.answer_text(answer, locale)]
    if answer.get("new_pos"):
        text.append(t("outcome.reassign_new", locale, pos=joined(answer["new_pos"], locale)))
    if answer.get("no_backup"):
        skus = joined(answer["no_backup"], locale)
        text.append(t("outcome.reassign_by_hand", locale, skus=skus))
    refused = "error" in answer
    return Reply(card=card, text="\n".join(text), replace=card is not None, refused=refused)


# --- shared ----------------------------------------------------------------------------------


def _refused(bot: ChatBot, press: Interaction, action: Action, number: str) -> Reply | None:
    """None when the presser may do `action` on this PO now; else the polite refusal (with
    the card as it stands when only the PO's state is in the way)."""
    answer = bot.once(press, _may(action, number))
    return None if "error" not in answer else _supplier_reply(bot, number, answer, press.user)


def _may(action: Action, number: str) -> UseCase:
    def check(session: Session, actor: Member) -> Response:
        if Role.SUPPLIER in actor.roles:  # another supplier's PO is "not found", audited
            po = require_own_po(session, actor, number)
        else:
            found = select(PurchaseOrder).where(PurchaseOrder.number == number)
            po = session.scalars(found).first() or _missing(number)
        require(actor, action, entity=ENTITY, entity_id=number, supplier_id=po.supplier_id)
        next_status(po.status, action, po=number)
        return {"po": number, "status": po.status, "may": action.value}

    return check


def _missing(number: str) -> PurchaseOrder:
    raise PoNotFound(po=number)


def _supplier_reply(bot: ChatBot, number: str, answer: Response, user: str) -> Reply:
    locale = bot.locale_of(user)
    data = _view(bot, number) if _shown(answer) else None
    card = sc.supplier_po_card(data, locale, bot.app.settings.tz) if data else None
    text = bot.answer_text(answer, locale)
    po = sc.order_of(data or {})
    if answer.get("action") == "confirm" and po.get("expected_arrival"):
        text += "\n" + t("outcome.confirm_arrival", locale, day=day(po["expected_arrival"], locale))
    if answer.get("action") == "ship" and po.get("tracking_number"):
        text += "\n" + t("outcome.ship_tracking", locale, tracking=po["tracking_number"])
    return Reply(card=card, text=text, replace=card is not None, refused="error" in answer)


def _shown(answer: Response) -> bool:
    """The card goes with a success, or a refusal about the PO's state only: never with a
    refusal about who is asking (another supplier learns nothing of the PO)."""
    return "error" not in answer or answer["error"].get("code") in STATE_ERRORS


def _view(bot: ChatBot, number: str) -> dict[str, Any] | None:
    with bot.app.store.read() as session:
        return po_view(session, number)


def _line(
    bot: ChatBot, number: str, key: str, *, by: tuple[str, ...] = ("supplier_sku", "sku")
) -> Mapping[str, Any] | None:
    lines = sc.order_of(_view(bot, number) or {}).get("lines") or []
    return sc.find_line(lines, key, by=by)


def _inline(bot: ChatBot, form: Interaction, input_id: str, problem: Unreadable) -> Reply:
    text = t(f"form.error.{problem.code}", bot.locale_of(form.user))
    return Reply(errors={input_id: text})


def _error(bot: ChatBot, user: str, error: dict[str, Any]) -> Reply:
    return Reply(text=bot.answer_text({"error": error}, bot.locale_of(user)), refused=True)


def _today(bot: ChatBot) -> date:
    return bot.app.today()


SUPPLIER_FLOW_ACTIONS: dict[str, Handler] = {
    CONFIRM: _confirm,
    LEAD_TIME: _lead_time,
    PROPOSE_PRICE: _propose,
    PRICE_LINE: _price_line,
    DECLINE: _open_decline,
    SHIPPED: _open_shipped,
    PRICE_ACCEPT: _decide(accept=True),
    PRICE_REFUSE: _decide(accept=False),
    REASSIGN: _reassign,
}
SUPPLIER_FLOW_FORMS: dict[str, Handler] = {
    ARRIVAL_FORM: _arrival,
    PRICE_FORM: _price,
    DECLINE_FORM: _decline,
    SHIPPED_FORM: _shipped,
}
