"""The alert card's Emergency order button (緊急補貨) and the form it opens: quantity (the
alert's gap filled in) and an optional reason → `core.emergency.open_emergency`, exactly
once per submission. The reply updates the alert card in place (its button gone, a footer
naming the emergency PO); the approvers get the emergency card through the outbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from adapters.chat import Interaction, Reply
from bot.cards import alert_card
from bot.emergency_cards import QTY_INPUT, REASON_INPUT, emergency_form
from bot.emergency_commands import emergency_rules, whole_number
from bot.i18n import t
from bot.ids import EMERGENCY, EMERGENCY_FORM
from bot.replies import error_text
from bot.supplier_input import typed
from core.alerts import LIVE, AlertNotFound, _closed
from core.emergency import EmergencyInFlight, alert_gap, open_emergency
from core.inbox import Response
from core.members import NotAMember, find_member
from core.models import Alert, Member, Sku, utcnow
from core.permissions import PERMISSIONS, Action, PermissionDenied, can
from core.views import alert_view

if TYPE_CHECKING:
    from bot.chatbot import ChatBot

Handler = Callable[["ChatBot", Interaction], Reply]


def _open_form(bot: ChatBot, press: Interaction) -> Reply:
    """The form, once it is clear the presser may order and the alert still wants it."""
    locale = bot.locale_of(press.user)
    alert_id = int(press.value) if press.value.isdigit() else None
    with bot.app.store.read() as session:
        refused = _refusal(bot, session, press.user, alert_id)
        if refused is not None:
            return Reply(text=error_text(refused, locale, bot.app.settings.tz), refused=True)
        alert = session.get(Alert, alert_id or 0)
        sku = session.get(Sku, alert.sku_id) if alert and alert.sku_id else None
        if alert is None or sku is None:  # _refusal saw both: deleted meanwhile
            return Reply(text=t("chat.unexpected", locale), refused=True)
        gap, label = alert_gap(alert.details), f"{sku.code} {sku.name}"
    return Reply(form=emergency_form(alert.id or 0, label, gap, locale))


def _refusal(
    bot: ChatBot, session: Session, user: str, alert_id: int | None
) -> dict[str, Any] | None:
    member = find_member(session, bot.platform, user)
    if member is None:
        return NotAMember(platform=bot.platform, user=user).as_dict()
    if not can(member, Action.DRAFT_PO):
        needed = sorted(role.value for role in PERMISSIONS[Action.DRAFT_PO])
        name = member.display_name or member.user_id
        return PermissionDenied(action=Action.DRAFT_PO.value, user=name, needed=needed).as_dict()
    alert = session.get(Alert, alert_id) if alert_id is not None else None
    if alert is None:
        return AlertNotFound(alert=alert_id).as_dict()
    if alert.status not in LIVE or alert.sku_id is None:
        return _closed(session, alert).as_dict()
    sku = session.get(Sku, alert.sku_id)
    if alert.details.get("emergency"):
        code = sku.code if sku else alert.sku_id
        return EmergencyInFlight(sku=code, po=alert.details["emergency"]).as_dict()
    return None


def _submit(bot: ChatBot, form: Interaction) -> Reply:
    locale = bot.locale_of(form.user)
    if QTY_INPUT in form.values:  # Slack: one value per input
        qty_text, reason = form.values[QTY_INPUT], form.values.get(REASON_INPUT, "")
    else:  # Telegram: one reply, "120 團購爆量"
        qty_text, _, reason = typed(form.values, QTY_INPUT).partition(" ")
    qty = whole_number(qty_text)
    if qty is None or qty < 1:
        problem = "form.error.whole_number" if qty is None else "form.error.at_least_one"
        return Reply(errors={QTY_INPUT: t(problem, locale)})
    if not form.value.isdigit():
        return Reply(
            text=error_text(AlertNotFound(alert=form.value).as_dict(), locale), refused=True
        )
    alert_id, rules = int(form.value), emergency_rules(bot.app.settings)

    def use_case(session: Session, actor: Member) -> Any:
        alert = session.get(Alert, alert_id)
        if alert is None:
            raise AlertNotFound(alert=alert_id)
        return open_emergency(
            session,
            actor,
            sku_id=alert.sku_id or 0,
            qty=qty,
            reason=reason.strip(),
            alert_id=alert_id,
            now=utcnow(),
            rules=rules,
        )

    return _alert_reply(bot, alert_id, bot.once(form, use_case), form.user)


def _alert_reply(bot: ChatBot, alert_id: int, answer: Response, user: str) -> Reply:
    locale = bot.locale_of(user)
    with bot.app.store.read() as session:
        data = alert_view(session, alert_id)
    card = alert_card(data, locale, bot.app.settings.tz) if data else None
    text, refused = bot.answer_text(answer, locale), "error" in answer
    return Reply(card=card, text=text, replace=card is not None, refused=refused)


EMERGENCY_ACTIONS: dict[str, Handler] = {EMERGENCY: _open_form}
EMERGENCY_FORMS: dict[str, Handler] = {EMERGENCY_FORM: _submit}
