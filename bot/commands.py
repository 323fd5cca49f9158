"""`/replenish <sub>`: stock, po, plan, approve, help — parsed into replies (cards).

Anything unknown or malformed gets a short private explanation and the help text, never a
stack trace. The plan behind `stock` and `plan` is computed once and kept for a few
minutes: it covers every SKU, and people ask about several in a row.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa
from sqlmodel import col, select

from adapters.chat import Card, Command, Field, Image, Reply, Table, Tone
from bot import cards, formats
from bot.binding_commands import bind, invite
from bot.charts import stock_chart
from bot.emergency_commands import emergency
from bot.engine import by_urgency, current_plan, default_as_of
from bot.i18n import t
from bot.kpi_commands import kpi
from bot.receive_commands import receive
from bot.report_commands import report
from bot.supplier_commands import is_supplier, supplier_answer
from core.members import find_member
from core.models import PoStatus, PurchaseOrder, Role, SalesDay, Sku, StockLevel, Supplier
from core.views import po_view
from core.workflow import approve

if TYPE_CHECKING:
    from bot.chatbot import ChatBot

PLAN_TTL_SECONDS = 300
CHART_DAYS = 60
TOP_DEFAULT, TOP_MAX = 10, 50
MAX_MATCHES = 10
PENDING = (PoStatus.DRAFT, PoStatus.PENDING_APPROVAL)
TONES = {"red": Tone.RED, "orange": Tone.ORANGE, "green": Tone.GREEN}
Sub = Callable[["ChatBot", Command, list[str], str], Reply]


def answer(bot: ChatBot, command: Command) -> Reply:
    locale = bot.locale_of(command.user)
    try:
        words = shlex.split(command.text)
    except ValueError:  # an unbalanced quote
        words = command.text.split()
    if is_supplier(bot, command):  # their own POs, bind and help; none of our internals
        return supplier_answer(bot, command, words, locale, staff=SUBCOMMANDS)
    if not words:
        return _help(bot, command, [], locale)
    sub = SUBCOMMANDS.get(words[0].lower())
    if sub is None:
        return Reply(text=t("cmd.unknown", locale, sub=words[0]) + "\n\n" + t("cmd.help", locale))
    if sub not in OPEN_TO_ALL and not _staff(bot, command):
        return Reply(text=t("cmd.staff_only", locale), refused=True)
    return sub(bot, command, words[1:], locale)


def _staff(bot: ChatBot, command: Command) -> bool:
    """Slack: anyone in the shop's own workspace may ask. Telegram groups are open to the
    world, so there only members with a staff role see stock, plans and POs."""
    if bot.platform == "slack":
        return True
    with bot.app.store.read() as session:
        member = find_member(session, bot.platform, command.user)
    return member is not None and bool(set(member.roles) - EXTERNAL_ROLES)


def _help(bot: ChatBot, command: Command, args: list[str], locale: str) -> Reply:
    return Reply(text=t("cmd.help", locale))


# --- stock ------------------------------------------------------------------------------------


def _stock(bot: ChatBot, command: Command, args: list[str], locale: str) -> Reply:
    if not args:
        return Reply(text=t("cmd.stock.usage", locale))
    query = " ".join(args)
    matches = _find_skus(bot, query)
    if not matches:
        return Reply(text=t("cmd.stock.none", locale, query=query))
    if len(matches) > 1:
        listed = "\n".join(f"• {code} {name}" for code, name in matches[:MAX_MATCHES])
        more = len(matches) - MAX_MATCHES
        tail = "\n" + t("cmd.stock.more", locale, n=more) if more > 0 else ""
        return Reply(text=t("cmd.stock.many", locale, query=query) + "\n" + listed + tail)
    code = matches[0][0]
    planned = _plan(bot)
    rows = planned[planned["sku"] == code]
    if rows.empty:
        return Reply(text=t("cmd.stock.no_plan", locale, sku=code))
    return Reply(card=_stock_card(bot, rows.iloc[0].to_dict(), locale))


def _find_skus(bot: ChatBot, query: str) -> list[tuple[str, str]]:
    """An exact code first; else codes and names containing the words."""
    with bot.app.store.read() as session:
        exact = session.execute(
            select(Sku.code, Sku.name).where(sa.func.lower(Sku.code) == query.lower())
        ).all()
        if exact:
            return [(c, n) for c, n in exact]
        pattern = f"%{query}%"
        found = session.execute(
            select(Sku.code, Sku.name)
            .where(sa.or_(col(Sku.code).ilike(pattern), col(Sku.name).ilike(pattern)))
            .order_by(Sku.code)
            .limit(MAX_MATCHES + 50)
        ).all()
    return [(c, n) for c, n in found]


def _stock_card(bot: ChatBot, row: dict[str, Any], locale: str) -> Card:
    def num(name: str) -> str:
        return formats.number(row.get(name), locale)

    colour = str(row.get("pick_colour") or "green")
    fields = (
        Field(t("plan.on_hand", locale), num("on_hand")),
        Field(t("plan.on_order", locale), num("on_order")),
        Field(t("plan.days_of_cover", locale), num("days_of_cover")),
        Field(t("plan.reorder_point", locale), num("reorder_point")),
        Field(t("plan.daily_demand", locale), num("daily_demand")),
        Field(t("plan.lead_time_days", locale), num("lead_time_days")),
        Field(t("plan.order_qty", locale), num("order_qty")),
        Field(t("plan.supplier", locale), _plan_cell("supplier", row.get("supplier"), locale)),
        Field(t("plan.pick_colour", locale), t(f"pick_colour.{colour}", locale)),
    )
    title = f"{row['sku']} {row['name']}"
    png = _chart(bot, int(row["sku_id"]), title, float(row.get("reorder_point") or 0), locale)
    signals = [t(f"signal.{kind}", locale) for kind in row.get("signals") or []]
    return Card(
        title=title,
        text=t("list.separator", locale).join(signals),
        tone=TONES.get(colour, Tone.INFO),
        fields=fields,
        image=Image(png, t("cmd.stock.chart_alt", locale, sku=row["sku"], days=CHART_DAYS)),
    )


def _chart(bot: ChatBot, sku_id: int, title: str, reorder_point: float, locale: str) -> bytes:
    end = default_as_of(bot.app)
    days = [end - timedelta(days=n) for n in range(CHART_DAYS - 1, -1, -1)]
    with bot.app.store.read() as session:
        sold = dict(
            session.execute(
                select(SalesDay.day, sa.func.sum(SalesDay.qty))
                .where(SalesDay.sku_id == sku_id, col(SalesDay.day) >= days[0])
                .group_by(SalesDay.day)
            ).all()
        )
        snapshots = session.execute(
            select(StockLevel.location_id, StockLevel.as_of, StockLevel.on_hand)
            .where(StockLevel.sku_id == sku_id)
            .order_by(StockLevel.as_of)
        ).all()
    stock = _daily_stock(snapshots, days, bot.app.settings.tz)
    sales = [float(sold.get(d, 0)) for d in days]
    return stock_chart(title, days, sales, stock, reorder_point, locale)


def _daily_stock(snapshots: list[Any], days: list[date], tz: Any) -> list[float | None]:
    """End-of-day on hand, all locations together, each carried forward from its last count."""
    if not snapshots:
        return [None] * len(days)
    frame = pd.DataFrame(snapshots, columns=["location", "as_of", "on_hand"])
    frame["day"] = [_local_day(value, tz) for value in frame["as_of"]]
    daily = frame.groupby(["day", "location"])["on_hand"].last().unstack("location")
    index = pd.Index(sorted(set(daily.index) | set(days)))
    filled = daily.reindex(index).ffill().sum(axis=1, min_count=1)
    return [None if pd.isna(filled.get(d)) else float(filled[d]) for d in days]


def _local_day(value: datetime, tz: Any) -> date:
    return value.astimezone(tz).date() if value.tzinfo else value.date()


# --- po, plan, approve --------------------------------------------------------------------------


def _po(bot: ChatBot, command: Command, args: list[str], locale: str) -> Reply:
    if args and args[0].lower() not in ("pending", "待核准"):
        number = args[0].upper()
        with bot.app.store.read() as session:
            data = po_view(session, number)
        if data is None:
            return Reply(text=t("error.po_not_found", locale, po=number))
        return Reply(card=cards.po_card(data, locale, bot.app.settings.tz))
    with bot.app.store.read() as session:
        rows = session.execute(
            select(PurchaseOrder, Supplier.name)
            .join(Supplier)
            .where(col(PurchaseOrder.status).in_(PENDING))
            .order_by(col(PurchaseOrder.emergency).desc(), PurchaseOrder.number)
        ).all()
    if not rows:
        return Reply(text=t("cmd.po.none_pending", locale))
    table = Table(
        header=tuple(
            t(f"cmd.po.col.{c}", locale) for c in ("number", "supplier", "total", "status")
        ),
        rows=tuple(
            (
                ("🚨 " if po.emergency else "") + po.number,
                name,
                formats.money(po.total, locale, po.currency),
                t(f"po_status.{po.status}", locale),
            )
            for po, name in rows
        ),
    )
    title = t("cmd.po.pending_title", locale, n=len(rows))
    return Reply(card=Card(title=title, text=t("cmd.po.pending_hint", locale), table=table))


def _plan_top(bot: ChatBot, command: Command, args: list[str], locale: str) -> Reply:
    top = TOP_DEFAULT
    if args:
        words = [a for a in args if a.lower() != "top"]
        if len(words) != 1 or not words[0].isdigit() or not 1 <= int(words[0]) <= TOP_MAX:
            return Reply(text=t("cmd.plan.usage", locale, max=TOP_MAX))
        top = int(words[0])
    planned = by_urgency(_plan(bot)).head(top)
    if planned.empty:
        return Reply(text=t("cmd.plan.empty", locale))
    columns = ("sku", "name", "pick_colour", "days_of_cover", "order_qty", "supplier")
    rows = tuple(
        tuple(_plan_cell(column, row[column], locale) for column in columns)
        for row in planned.to_dict("records")
    )
    header = tuple(t(f"plan.{c}", locale) for c in columns)
    title = t("cmd.plan.title", locale, n=len(rows))
    return Reply(card=Card(title=title, table=Table(header, rows)))


def _plan_cell(column: str, value: Any, locale: str) -> str:
    if column == "pick_colour":
        return {"red": "🔴", "orange": "🟠", "green": "🟢"}.get(str(value), "")
    if column in ("days_of_cover", "order_qty"):
        return formats.number(value, locale)
    return "—" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _approve(bot: ChatBot, command: Command, args: list[str], locale: str) -> Reply:
    if len(args) != 1:
        return Reply(text=t("cmd.approve.usage", locale))
    number = args[0].upper()
    answer_ = bot.once(command, lambda s, actor: approve(s, actor, number, rules=bot.rules))
    return bot.po_reply(number, answer_, command.user, replace=False)


def _plan(bot: ChatBot) -> pd.DataFrame:
    as_of = default_as_of(bot.app)
    cached = bot.plan_cache.get("plan")
    if (
        cached is not None
        and cached[0] == as_of
        and time.monotonic() - cached[1] < PLAN_TTL_SECONDS
    ):
        return cached[2]
    planned = current_plan(bot.app, as_of)
    bot.plan_cache["plan"] = (as_of, time.monotonic(), planned)
    return planned


SUBCOMMANDS: dict[str, Sub] = {
    "stock": _stock,
    "庫存": _stock,
    "po": _po,
    "採購單": _po,
    "plan": _plan_top,
    "計畫": _plan_top,
    "approve": _approve,
    "核准": _approve,
    "emergency": emergency,
    "緊急": emergency,
    "kpi": kpi,
    "指標": kpi,
    "report": report,
    "報表": report,
    "receive": receive,
    "收貨": receive,
    "help": _help,
    "說明": _help,
    "start": _help,  # Telegram's first message to a bot
    "invite": invite,
    "邀請": invite,
    "bind": bind,
    "綁定": bind,
}
OPEN_TO_ALL = frozenset({_help, bind})  # a stranger may read the help and redeem a code
EXTERNAL_ROLES = frozenset({Role.SUPPLIER.value, Role.DROPSHIP.value})
