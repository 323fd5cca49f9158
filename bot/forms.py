"""The forms behind the PO and alert card buttons (reject, edit quantities, dismiss), in the
reader's locale: each a neutral `Form` the adapters show as a modal (Slack) or a prompt to
reply to (Telegram), whose `context` tells the submission which PO or alert it is about."""

from collections.abc import Mapping
from typing import Any

from adapters.chat import Form, Input
from bot.formats import DASH, canonical_locale
from bot.i18n import t
from bot.ids import DISMISS_FORM, EDIT_FORM, REJECT_FORM  # the adapters route submissions on these

REASON_INPUT = "reason"  # input_id of the reason in the reject and dismiss forms


def reject_form(po_number: str, locale: str, context: str = "") -> Form:
    """The rejection reason (required: the requester reads it). `context` defaults to the
    PO number so the submission still knows which PO it was."""
    loc = canonical_locale(locale)
    return Form(
        form_id=REJECT_FORM,
        title=t("form.reject.title", loc),
        submit=t("form.reject.submit", loc),
        intro=t("form.reject.intro", loc, po=po_number),
        context=context or po_number,
        close=t("card.button.cancel", loc),
        inputs=(
            Input(
                REASON_INPUT,
                t("form.reject.reason", loc),
                multiline=True,
                hint=t("form.reject.hint", loc),
            ),
        ),
    )


def edit_form(po: Mapping[str, Any], locale: str, context: str = "") -> Form:
    """One whole-number input per line (input_id = SKU code), filled with today's quantity.
    Takes the PO dict or the whole PO card JSON."""
    loc = canonical_locale(locale)
    inner = po.get("po")
    order: Mapping[str, Any] = inner if isinstance(inner, Mapping) else po
    number_ = str(order.get("number") or "")
    hint = t("form.edit.hint", loc)
    inputs = tuple(
        Input(
            str(line.get("sku")),
            " ".join(str(p) for p in (line.get("sku"), line.get("name")) if p),
            initial=str(line.get("qty") or ""),
            number=True,
            min_value=1,
            hint=hint,
        )
        for line in order.get("lines") or []
        if line.get("sku")
    )
    return Form(
        form_id=EDIT_FORM,
        title=t("form.edit.title", loc),
        submit=t("form.edit.submit", loc),
        intro=t("form.edit.intro", loc, po=number_ or DASH),
        context=context or number_,
        close=t("card.button.cancel", loc),
        inputs=inputs,
    )


def dismiss_form(alert_id: int | str, locale: str, context: str = "") -> Form:
    loc = canonical_locale(locale)
    return Form(
        form_id=DISMISS_FORM,
        title=t("form.dismiss.title", loc),
        submit=t("form.dismiss.submit", loc),
        intro=t("form.dismiss.intro", loc),
        context=context or str(alert_id),
        close=t("card.button.cancel", loc),
        inputs=(Input(REASON_INPUT, t("form.dismiss.reason", loc), multiline=True),),
    )
