"""`/replenish` for a supplier's people: `help`, `po` (their own open POs), `po <number>`,
`po <number> pdf` (the PO as a file, `png` as a picture) and `bind` — nothing of our stock,
plans or approvals.

Who counts as a supplier: a member with the supplier role (wherever they type), or a newcomer
in a supplier's bound group (linked to that supplier on first contact, as a press would).
Their `po <number>` (and its document) goes through `require_own_po`: another supplier's
number answers exactly like a missing one, and the attempt is audited.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from adapters.chat import Card, Command, Reply, Table
from bot.binding_commands import bind
from bot.formats import DASH, day, money
from bot.i18n import t
from bot.replies import error_text
from bot.supplier_cards import order_of, supplier_po_card
from bot.supplier_documents import FORMAT_WORDS, document_card
from core.inbox import Response, attempt
from core.members import find_member
from core.models import Member, Role
from core.outbox import as_utc
from core.permissions import DomainError
from core.supplier_flow import require_own_po, supplier_open_pos
from core.views import po_view

if TYPE_CHECKING:
    from bot.chatbot import ChatBot

Sub = Callable[["ChatBot", Command, list[str], str], Reply]
OPEN_WORDS = frozenset({"open", "pending", "待處理", "待核准"})


def is_supplier(bot: ChatBot, command: Command) -> bool:
    """Whether the person behind the command speaks for a supplier."""
    with bot.app.store.read() as session:
        member = find_member(session, bot.platform, command.user)
    if member is None:  # perhaps a newcomer in a supplier's group: linked there, as a supplier
        with bot.app.store.unit_of_work() as session:
            member = _actor(bot, session, command)
    return member is not None and Role.SUPPLIER in member.roles


def _actor(bot: ChatBot, session: Session, command: Command) -> Member | None:
    try:
        return bot.actor(session, command.user, chat=command.channel, name=command.user_name)
    except DomainError:
        return None


def supplier_answer(
    bot: ChatBot, command: Command, words: list[str], locale: str, *, staff: Collection[str]
) -> Reply:
    """A supplier's command; our staff's commands (`staff`) are refused politely."""
    name = words[0].lower() if words else "help"
    sub = SUPPLIER_SUBCOMMANDS.get(name)
    if sub is not None:
        return sub(bot, command, words[1:], locale)
    key = "cmd.supplier.refused" if name in staff else "cmd.unknown"
    text = t(key, locale, sub=words[0]) + "\n\n" + t("cmd.help.supplier", locale)
    return Reply(text=text, refused=True)


def _help(bot: ChatBot, command: Command, args: list[str], locale: str) -> Reply:
    return Reply(text=t("cmd.help.supplier", locale))


def _po(bot: ChatBot, command: Command, args: list[str], locale: str) -> Reply:
    """`po`: the supplier's sent and confirmed POs; `po <number>`: one, with its buttons;
    `po <number> pdf|png`: that one as a document."""
    number = args[0].upper() if args and args[0].lower() not in OPEN_WORDS else ""
    fmt = FORMAT_WORDS.get(args[1].lower()) if number and len(args) > 1 else None
    with bot.app.store.unit_of_work() as session:  # a refused number is audited
        answer = attempt(session, lambda: _lookup(bot, session, command, number))
    tz = bot.app.settings.tz
    if "error" in answer:
        return Reply(text=error_text(answer["error"], locale, tz), refused=True)
    if answer.get("po") and fmt:
        data = {**answer["po"], "issued_at": answer.get("issued_at")}
        app = bot.app
        return Reply(card=document_card(data, locale, fmt, settings=app.settings, store=app.store))
    if answer.get("po"):
        return Reply(card=supplier_po_card(answer["po"], locale, tz))
    return _open_list(answer.get("open") or {}, locale)


def _lookup(bot: ChatBot, session: Session, command: Command, number: str) -> Response:
    actor = bot.actor(session, command.user, chat=command.channel, name=command.user_name)
    if number:
        po = require_own_po(session, actor, number)
        issued = as_utc(po.sent_at).isoformat() if po.sent_at else None
        return {"po": po_view(session, number), "issued_at": issued}
    if actor.supplier_id is None:
        return {"open": {}}
    return {"open": supplier_open_pos(session, actor.supplier_id)}


def _open_list(pos: dict[str, Any], locale: str) -> Reply:
    if not pos:
        return Reply(text=t("cmd.supplier.po_none", locale))
    rows = []
    for number, card in pos.items():
        po = order_of(card)
        status = str(po.get("status") or "")
        arrival = po.get("expected_arrival") or po.get("requested_arrival")
        rows.append(
            (
                number,
                t(f"card.spo.status.{status}", locale) if status else DASH,
                day(arrival, locale),
                money(po.get("total"), locale, str(po.get("currency") or "TWD")),
            )
        )
    columns = ("number", "status", "arrival", "total")
    header = tuple(t(f"cmd.supplier.col.{c}", locale) for c in columns)
    return Reply(
        card=Card(
            title=t("cmd.supplier.po_title", locale, n=len(rows)),
            text=t("cmd.supplier.po_hint", locale),
            table=Table(header, tuple(rows)),
        )
    )


SUPPLIER_SUBCOMMANDS: dict[str, Sub] = {
    "help": _help,
    "說明": _help,
    "start": _help,  # Telegram's first message to a bot
    "po": _po,
    "採購單": _po,
    "bind": bind,
    "綁定": bind,
}
