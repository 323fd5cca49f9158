"""`/replenish receive <PO> [SKU qty …]` (收貨): logistics books goods arriving against a
confirmed PO — the whole remainder of every line, or the counted quantities of some. The
stock goes up at the shop's default warehouse and the PO card follows (core/receiving.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from adapters.chat import Command, Reply
from bot.i18n import t
from core.models import Location, LocationKind, Member, Sku
from core.receiving import NoWarehouse
from core.receiving import receive as receive_goods
from core.workflow import Outcome
from core.workflow_errors import NotOnOrder

if TYPE_CHECKING:
    from bot.chatbot import ChatBot


def receive(bot: ChatBot, command: Command, args: list[str], locale: str) -> Reply:
    counted = _counted(args[1:]) if args else None
    if counted is None:
        return Reply(text=t("cmd.receive.usage", locale))
    number, now = args[0].upper(), bot.app.clock()
    home = bot.app.settings.default_location

    def use_case(session: Session, actor: Member) -> Outcome:
        quantities = _sku_ids(session, number, counted) if counted else None
        return receive_goods(
            session,
            actor,
            number,
            location_id=_warehouse(session, home),
            now=now,
            quantities=quantities,
        )

    answer = bot.once(command, use_case)
    return bot.po_reply(number, answer, command.user, replace=False)


def _counted(words: list[str]) -> dict[str, int] | None:
    """`A001 24 B002 12` → {A001: 24, B002: 12}; None when it does not read that way."""
    if len(words) % 2:
        return None
    counted: dict[str, int] = {}
    for code, qty in zip(words[::2], words[1::2], strict=True):
        if not qty.isdigit():
            return None
        counted[code.upper()] = int(qty)
    return counted


def _sku_ids(session: Session, number: str, counted: dict[str, int]) -> dict[int, int]:
    found = dict(
        session.execute(select(Sku.code, Sku.id).where(col(Sku.code).in_(counted))).tuples().all()
    )
    for code in counted:
        if code not in found:
            raise NotOnOrder(po=number, sku=code)
    return {int(found[code]): qty for code, qty in counted.items()}


def _warehouse(session: Session, code: str) -> int:
    """The settings' default location, else the first warehouse on file."""
    location = session.scalars(select(Location).where(Location.code == code)).first()
    if location is None:
        location = session.scalars(
            select(Location)
            .where(Location.kind == LocationKind.WAREHOUSE)
            .order_by(col(Location.id))
        ).first()
    if location is None or location.id is None:
        raise NoWarehouse(value=code)
    return location.id
