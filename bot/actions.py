"""Button presses and form submissions: an `Interaction` → a workflow call → a `Reply`.

State changes run through `core.inbox.run_once`, keyed by the platform's identity of the
press, so a retried or double-clicked press is applied once and answered the same way. The
reply carries the card as it now stands (the adapter updates the pressed message in place)
and a private line for the presser: what happened, or politely why not.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from adapters.chat import Interaction, Reply
from bot import cards, forms
from bot.emergency_actions import EMERGENCY_ACTIONS, EMERGENCY_FORMS
from bot.i18n import t
from bot.ids import PICK_ACK
from bot.pick_cards import picks_card
from bot.replies import error_text
from bot.supplier_actions import SUPPLIER_FLOW_ACTIONS, SUPPLIER_FLOW_FORMS
from core.alerts import AlertNotFound, dismiss, draft_po, snooze
from core.inbox import Response
from core.members import NotAMember, find_member
from core.models import Alert, Member, PickList, PoLine, PurchaseOrder, Sku
from core.permissions import PERMISSIONS, Action, can
from core.picks import PickListNotFound, acknowledge, pick_card
from core.views import alert_view, po_view
from core.workflow import approve, edit_quantities, reject
from core.workflow_errors import PoNotFound

if TYPE_CHECKING:
    from bot.chatbot import ChatBot

Handler = Callable[["ChatBot", Interaction], Reply]


# --- purchase orders -------------------------------------------------------------------------


def _approve(bot: ChatBot, press: Interaction) -> Reply:
    number = press.value
    answer = bot.once(press, lambda s, actor: approve(s, actor, number, rules=bot.rules))
    return bot.po_reply(number, answer, press.user, replace=True)


def _open_reject(bot: ChatBot, press: Interaction) -> Reply:
    refused = _cannot(bot, press, Action.REJECT, press.value)
    if refused is not None:
        return refused
    form = forms.reject_form(press.value, bot.locale_of(press.user), context=press.value)
    return Reply(form=form)


def _open_edit(bot: ChatBot, press: Interaction) -> Reply:
    refused = _cannot(bot, press, Action.EDIT, press.value)
    if refused is not None:
        return refused
    with bot.app.store.read() as session:
        data = po_view(session, press.value)
    if data is None:
        return _error(bot, press.user, PoNotFound(po=press.value).as_dict())
    form = forms.edit_form(data["po"], bot.locale_of(press.user), context=press.value)
    return Reply(form=form)


def _reject(bot: ChatBot, form: Interaction) -> Reply:
    reason = form.values.get(forms.REASON_INPUT, "").strip()
    locale = bot.locale_of(form.user)
    if not reason:
        return Reply(errors={forms.REASON_INPUT: t("form.error.reason_required", locale)})
    number = form.value
    answer = bot.once(form, lambda s, actor: reject(s, actor, number, reason=reason))
    return bot.po_reply(number, answer, form.user, replace=True)


def _edit(bot: ChatBot, form: Interaction) -> Reply:
    number, locale = form.value, bot.locale_of(form.user)
    asked: dict[str, int] = {}
    errors: dict[str, str] = {}
    for sku, text in form.values.items():
        try:
            asked[sku] = int(text.strip())
        except ValueError:
            errors[sku] = t("form.error.whole_number", locale)
            continue
        if asked[sku] < 1:
            errors[sku] = t("form.error.at_least_one", locale)
    if errors:
        return Reply(errors=errors)

    def use_case(session: Session, actor: Member) -> Any:
        return edit_quantities(session, actor, number, _sku_ids(session, number, asked))

    answer = bot.once(form, use_case)
    return bot.po_reply(number, answer, form.user, replace=True)


def _sku_ids(session: Session, number: str, asked: dict[str, int]) -> dict[int, int]:
    """SKU codes typed against the PO's own lines (a code not on it is left for the
    workflow to refuse by name)."""
    rows = session.execute(
        select(Sku.code, Sku.id)
        .join(PoLine)
        .join(PurchaseOrder)
        .where(PurchaseOrder.number == number)
    ).all()
    ids = {code: sku_id for code, sku_id in rows}
    unknown = [code for code in asked if code not in ids]
    for code in unknown:
        sku_id = session.scalars(select(Sku.id).where(Sku.code == code)).first()
        if sku_id is not None:
            ids[code] = sku_id
    return {ids[code]: qty for code, qty in asked.items() if code in ids}


# --- alerts ----------------------------------------------------------------------------------


def _draft(bot: ChatBot, press: Interaction) -> Reply:
    alert_id = _alert_id(press.value)
    if alert_id is None:
        return _error(bot, press.user, AlertNotFound(alert=press.value).as_dict())
    today = bot.app.today()
    answer = bot.once(press, lambda s, a: draft_po(s, a, alert_id, today=today))
    return _alert_reply(bot, alert_id, answer, press.user)


def _snooze(bot: ChatBot, press: Interaction) -> Reply:
    alert_id = _alert_id(press.value)
    if alert_id is None:
        return _error(bot, press.user, AlertNotFound(alert=press.value).as_dict())
    until = bot.app.clock() + timedelta(days=1)
    answer = bot.once(press, lambda s, a: snooze(s, a, alert_id, until=until))
    return _alert_reply(bot, alert_id, answer, press.user)


def _open_dismiss(bot: ChatBot, press: Interaction) -> Reply:
    refused = _cannot(bot, press, Action.DISMISS_ALERT, press.value)
    if refused is not None:
        return refused
    form = forms.dismiss_form(press.value, bot.locale_of(press.user), context=press.value)
    return Reply(form=form)


def _dismiss(bot: ChatBot, form: Interaction) -> Reply:
    reason = form.values.get(forms.REASON_INPUT, "").strip()
    if not reason:
        locale = bot.locale_of(form.user)
        return Reply(errors={forms.REASON_INPUT: t("form.error.reason_required", locale)})
    alert_id = _alert_id(form.value)
    if alert_id is None:
        return _error(bot, form.user, AlertNotFound(alert=form.value).as_dict())
    answer = bot.once(form, lambda s, a: dismiss(s, a, alert_id, reason=reason))
    return _alert_reply(bot, alert_id, answer, form.user)


def _alert_reply(bot: ChatBot, alert_id: int, answer: Response, user: str) -> Reply:
    locale = bot.locale_of(user)
    with bot.app.store.read() as session:
        data = alert_view(session, alert_id)
    card = cards.alert_card(data, locale, bot.app.settings.tz) if data else None
    text, refused = bot.answer_text(answer, locale), "error" in answer
    return Reply(card=card, text=text, replace=card is not None, refused=refused)


def _alert_id(value: str) -> int | None:
    return int(value) if value.isdigit() else None


# --- dropship pick lists ---------------------------------------------------------------------


def _ack_picks(bot: ChatBot, press: Interaction) -> Reply:
    if not press.value.isdigit():
        return _error(bot, press.user, PickListNotFound(pick_list=press.value).as_dict())
    list_id = int(press.value)
    answer = bot.once(press, lambda s, a: acknowledge(s, a, list_id))
    locale = bot.locale_of(press.user)
    with bot.app.store.read() as session:
        pick_list = session.get(PickList, list_id)
        data = pick_card(session, pick_list, "acked") if pick_list else None
    card = picks_card(data, locale, bot.app.settings.tz) if data else None
    text, refused = bot.answer_text(answer, locale), "error" in answer
    return Reply(card=card, text=text, replace=card is not None, refused=refused)


# --- refusals before a form opens ------------------------------------------------------------


def _cannot(bot: ChatBot, press: Interaction, action: Action, subject: str) -> Reply | None:
    """Say no before someone types a reason they may not submit (the submission itself is
    checked, and audited, again)."""
    with bot.app.store.read() as session:
        member = find_member(session, bot.platform, press.user)
        if member is not None and can(member, action):
            return None
        exists = (
            session.get(Alert, int(subject)) is not None
            if subject.isdigit()
            else session.scalars(
                select(PurchaseOrder.id).where(PurchaseOrder.number == subject)
            ).first()
            is not None
        )
    if member is None:
        error = NotAMember(platform=bot.platform, user=press.user).as_dict()
    elif not exists:
        error = {"code": "not_found", "params": {"what": subject}}
    else:
        needed = sorted(role for role in _roles_for(action))
        error = {
            "code": "permission_denied",
            "params": {"action": action.value, "user": member.display_name, "needed": needed},
        }
    return _error(bot, press.user, error)


def _roles_for(action: Action) -> list[str]:
    return [role.value for role in PERMISSIONS[action]]


def _error(bot: ChatBot, user: str, error: dict[str, Any]) -> Reply:
    text = error_text(error, bot.locale_of(user), bot.app.settings.tz)
    return Reply(text=text, refused=True)


ACTIONS: dict[str, Handler] = {
    cards.APPROVE: _approve,
    cards.REJECT: _open_reject,
    cards.EDIT: _open_edit,
    cards.DRAFT_PO: _draft,
    cards.SNOOZE: _snooze,
    cards.DISMISS: _open_dismiss,
    PICK_ACK: _ack_picks,
    **SUPPLIER_FLOW_ACTIONS,
    **EMERGENCY_ACTIONS,
}
FORMS: dict[str, Handler] = {
    forms.REJECT_FORM: _reject,
    forms.EDIT_FORM: _edit,
    forms.DISMISS_FORM: _dismiss,
    **SUPPLIER_FLOW_FORMS,
    **EMERGENCY_FORMS,
}
