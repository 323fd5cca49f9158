"""`/replenish` end to end: signed slash commands into our ASGI app, answers read back from
what the fake Slack received on the command's response_url (text, blocks, uploads) and from
the database."""

import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import select

import bot.commands
from bot import cards, formats
from bot.engine import by_urgency, current_plan, default_as_of
from bot.i18n import t
from core.members import add_member
from core.models import (
    InboxEvent,
    Location,
    LocationKind,
    SalesDay,
    Sku,
    StockLevel,
    Supplier,
    SupplierTerm,
)
from core.workflow import ApprovalRules, approve, submit_for_approval
from tests.adapters.conftest import Harness, wait_for
from tests.shop import PO

ZH, EN = "zh-TW", "en"
PNG = b"\x89PNG\r\n\x1a\n"
HISTORY_DAYS = 60


# --- reading what Slack received ------------------------------------------------------------


def _ask(h: Harness, user: str, text: str, name: str) -> dict[str, Any]:
    """Run one command; the one body its response_url received."""
    assert h.command(user, text, name=name).status_code == 200
    [body] = wait_for(lambda: h.fake.responses(name))
    assert body["response_type"] == "ephemeral"  # only the asker sees it
    return body


def _texts(node: Any) -> list[str]:
    """Every `text` string in a response body or its blocks, in order."""
    if isinstance(node, dict):
        found: list[str] = []
        for key, value in node.items():
            found += [value] if key == "text" and isinstance(value, str) else _texts(value)
        return found
    if isinstance(node, list):
        return [text for item in node for text in _texts(item)]
    return []


def _said(body: dict[str, Any]) -> str:
    return "\n".join(_texts(body))


def _blocks(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [block for block in body.get("blocks") or [] if block["type"] == kind]


def _action_ids(body: dict[str, Any]) -> list[str]:
    return [
        element["action_id"].split("#")[0]
        for block in _blocks(body, "actions")
        for element in block["elements"]
    ]


def _table_rows(body: dict[str, Any]) -> tuple[str, list[str]]:
    """A card's table (a code block): its header line and its row lines."""
    [code] = [
        block["text"]["text"]
        for block in _blocks(body, "section")
        if "text" in block and block["text"]["text"].startswith("```")
    ]
    header, rule, *rows = code.removeprefix("```\n").removesuffix("\n```").split("\n")
    assert set(rule) == {"-"}
    return header, rows


def _fields(body: dict[str, Any]) -> dict[str, str]:
    """Card fields as label → value (`*label*\\nvalue` in the field sections)."""
    found: dict[str, str] = {}
    for block in _blocks(body, "section"):
        for item in block.get("fields") or []:
            label, _, value = item["text"].partition("\n")
            found[label.strip("*")] = value
    return found


# --- data -----------------------------------------------------------------------------------


def _seed_history(h: Harness, code: str = "MILK") -> date:
    """A warehouse, weekly stock counts over eight weeks and 60 days of sales for `code`,
    up to the day the command plans for (yesterday in the shop's time zone)."""
    as_of = default_as_of(h.app)
    tz = h.app.settings.tz
    with h.shop.store.unit_of_work() as session:
        warehouse = Location(code="WH", name="主倉", kind=LocationKind.WAREHOUSE)
        session.add(warehouse)
        session.flush()
        assert warehouse.id is not None
        sku_id = h.shop.ids[code]
        for weeks in range(8, -1, -1):
            counted = datetime.combine(as_of - timedelta(weeks=weeks), datetime.min.time(), tz)
            session.add(
                StockLevel(
                    sku_id=sku_id,
                    location_id=warehouse.id,
                    on_hand=40 + 15 * weeks,
                    as_of=(counted + timedelta(hours=22)).astimezone(UTC),
                )
            )
        for offset in range(HISTORY_DAYS):
            qty = 8 + offset % 5
            session.add(
                SalesDay(
                    sku_id=sku_id,
                    location_id=warehouse.id,
                    day=as_of - timedelta(days=offset),
                    qty=qty,
                    revenue=Decimal(qty * 80),
                )
            )
    return as_of


def _add_skus(h: Harness, names: dict[str, str], *, supplied: bool = True) -> None:
    """More SKUs, each (when `supplied`) with terms from the seeded supplier."""
    with h.shop.store.unit_of_work() as session:
        supplier_id = session.scalars(select(Supplier.id).where(Supplier.code == "S1")).one()
        for code, name in names.items():
            sku = Sku(code=code, name=name)
            session.add(sku)
            session.flush()
            assert sku.id is not None
            h.shop.ids[code] = sku.id
            if supplied:
                session.add(
                    SupplierTerm(
                        supplier_id=supplier_id, sku_id=sku.id, unit_price=Decimal(30), moq=6
                    )
                )


def _set_locale(h: Harness, user: str, roles: list[str], locale: str) -> None:
    with h.shop.store.unit_of_work() as session:
        add_member(session, None, platform="slack", user_id=user, roles=roles, locale=locale)


# --- help -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["help", "", "   ", "HELP", "說明"])
def test_help_and_an_empty_command_answer_the_help_text(harness: Harness, text: str) -> None:
    body = _ask(harness, "U-clerk", text, "help")
    assert body["text"] == t("cmd.help", ZH)
    assert "`stock <品號或品名>`" in body["text"]
    assert not body.get("blocks")


def test_a_member_whose_locale_is_en_gets_english(harness: Harness) -> None:
    h = harness
    _set_locale(h, "U-ben", ["manager"], EN)
    english = _ask(h, "U-ben", "help", "ben")
    assert english["text"] == t("cmd.help", EN)
    assert "`stock <SKU or name>`" in english["text"]
    assert _ask(h, "U-amy", "help", "amy")["text"] == t("cmd.help", ZH)  # others unchanged


# --- stock ----------------------------------------------------------------------------------


def test_stock_answers_a_card_with_fields_and_an_uploaded_chart(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    as_of = _seed_history(h)
    # The chart waits until our HTTP request has its answer: only an ack sent before the
    # slow part lets the request return at all (else it would wait out the gate, 5 s).
    answered = threading.Event()
    real_chart = bot.commands.stock_chart

    def gated_chart(*args: Any) -> bytes:
        answered.wait(timeout=5)
        return real_chart(*args)

    monkeypatch.setattr(bot.commands, "stock_chart", gated_chart)
    started = time.monotonic()
    assert h.command("U-clerk", "stock MILK", name="stock").status_code == 200
    assert time.monotonic() - started < 3
    answered.set()

    [body] = wait_for(lambda: h.fake.responses("stock"))
    assert body["response_type"] == "ephemeral"
    [header] = _blocks(body, "header")
    assert "MILK 鮮乳" in header["text"]["text"]
    assert "MILK" in body["text"]  # the notification fallback names the SKU too

    [milk] = current_plan(h.app, as_of).query("sku == 'MILK'").to_dict("records")
    assert milk["reorder_point"] > 0  # the history is enough for a real plan
    fields = _fields(body)
    assert fields[t("plan.reorder_point", ZH)] == formats.number(milk["reorder_point"], ZH)
    assert fields[t("plan.on_hand", ZH)] == formats.number(40, ZH)  # the newest count
    assert fields[t("plan.supplier", ZH)] == "S1"

    [image] = _blocks(body, "image")
    file_id = image["slack_file"]["id"]
    assert image["alt_text"] == t("cmd.stock.chart_alt", ZH, sku="MILK", days=60)
    assert h.fake.uploads[file_id].startswith(PNG)
    [completed] = h.fake.calls("files.completeUploadExternal")
    assert [f["id"] for f in completed.params["files"]] == [file_id]
    assert h.fake.messages == {}  # a private file: posted in no channel


def test_stock_by_name_lists_every_match(harness: Harness) -> None:
    h = harness
    _add_skus(h, {"JUICE": "鮮榨柳橙汁"})
    body = _ask(h, "U-clerk", "stock 鮮", "many")
    lines = body["text"].split("\n")
    assert lines == [t("cmd.stock.many", ZH, query="鮮"), "• JUICE 鮮榨柳橙汁", "• MILK 鮮乳"]
    assert not body.get("blocks")


def test_stock_by_a_unique_name_or_lowercase_code_finds_the_sku(harness: Harness) -> None:
    h = harness
    _seed_history(h)
    for name, text in (("name", "庫存 鮮乳"), ("code", "stock milk")):
        body = _ask(h, "U-clerk", text, name)
        [header] = _blocks(body, "header")
        assert "MILK 鮮乳" in header["text"]["text"]


def test_stock_lists_at_most_ten_matches_and_says_how_many_more(harness: Harness) -> None:
    h = harness
    _add_skus(h, {f"MILK{n:02d}": f"鮮乳 {n}" for n in range(11)}, supplied=False)
    lines = _ask(h, "U-clerk", "stock 鮮乳 ", "many")["text"].split("\n")
    # An exact code is not a name; MILK and MILK00…MILK10 all contain 鮮乳: 12 matches.
    assert lines[0] == t("cmd.stock.many", ZH, query="鮮乳")
    assert len(lines[1:-1]) == bot.commands.MAX_MATCHES
    assert lines[-1] == t("cmd.stock.more", ZH, n=2)


def test_stock_without_a_match_or_an_argument(harness: Harness) -> None:
    h = harness
    none = _ask(h, "U-clerk", "stock NOPE", "none")
    assert none["text"] == t("cmd.stock.none", ZH, query="NOPE")
    assert _ask(h, "U-clerk", "stock", "usage")["text"] == t("cmd.stock.usage", ZH)


def test_stock_of_a_sku_nobody_supplies_yet_is_still_answered(harness: Harness) -> None:
    h = harness
    _add_skus(h, {"SOAP": "肥皂"}, supplied=False)
    body = _ask(h, "U-clerk", "stock SOAP", "soap")
    [header] = _blocks(body, "header")
    assert "SOAP 肥皂" in header["text"]["text"]
    assert _fields(body)[t("plan.supplier", ZH)] == "—"  # not "nan"
    assert "nan" not in _said(body)


# --- po -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["po", "po pending", "採購單 待核准"])
def test_po_lists_the_pending_purchase_orders(harness: Harness, text: str) -> None:
    h = harness
    h.shop.run("clerk", submit_for_approval, PO)
    body = _ask(h, "U-buyer", text, "pending")
    [header] = _blocks(body, "header")
    assert t("cmd.po.pending_title", ZH, n=1) in header["text"]["text"]
    columns, rows = _table_rows(body)
    for column in ("number", "supplier", "total", "status"):
        assert t(f"cmd.po.col.{column}", ZH) in columns
    [row] = rows
    assert row.split() == [PO, "鮮乳坊", "NT$2,600", t("po_status.pending_approval", ZH)]
    assert _action_ids(body) == []  # a list; `po <number>` has the buttons


def test_po_with_nothing_pending_says_so(harness: Harness) -> None:
    h = harness
    h.shop.run("clerk", submit_for_approval, PO)
    h.shop.run("amy", approve, PO, rules=ApprovalRules())
    assert _ask(h, "U-buyer", "po", "none")["text"] == t("cmd.po.none_pending", ZH)


def test_po_by_number_shows_the_card_with_its_buttons(harness: Harness) -> None:
    h = harness
    h.shop.run("clerk", submit_for_approval, PO)
    body = _ask(h, "U-amy", f"po {PO.lower()}", "card")
    [header] = _blocks(body, "header")
    assert PO in header["text"]["text"]
    assert "鮮乳坊" in header["text"]["text"]
    assert _action_ids(body) == [cards.APPROVE, cards.REJECT, cards.EDIT]
    [actions] = _blocks(body, "actions")
    assert {element["value"] for element in actions["elements"]} == {PO}
    _, rows = _table_rows(body)
    assert [row.split()[0] for row in rows] == ["MILK", "TEA"]


def test_po_of_an_unknown_number_is_not_found(harness: Harness) -> None:
    body = _ask(harness, "U-amy", "po PO-NOPE", "nope")
    assert body["text"] == t("error.po_not_found", ZH, po="PO-NOPE")
    assert not body.get("blocks")


# --- plan -----------------------------------------------------------------------------------


def test_plan_top_n_lists_the_most_urgent_skus(harness: Harness) -> None:
    h = harness
    as_of = _seed_history(h)
    _add_skus(h, {"JUICE": "柳橙汁", "SOAP": "肥皂", "EGG": "雞蛋"})
    body = _ask(h, "U-analyst", "plan top 3", "top3")
    [header] = _blocks(body, "header")
    assert t("cmd.plan.title", ZH, n=3) in header["text"]["text"]
    columns, rows = _table_rows(body)
    assert t("plan.sku", ZH) in columns
    assert len(rows) == 3
    expected = by_urgency(current_plan(h.app, as_of)).head(3)["sku"].tolist()
    assert [row.split()[0] for row in rows] == expected

    everything = _ask(h, "U-analyst", "計畫", "all")  # default top 10: all five SKUs
    assert len(_table_rows(everything)[1]) == 5


@pytest.mark.parametrize("text", ["plan top 0", "plan top x", "plan 999", "plan top 3 4"])
def test_plan_with_a_bad_count_answers_the_usage(harness: Harness, text: str) -> None:
    body = _ask(harness, "U-analyst", text, "usage")
    assert body["text"] == t("cmd.plan.usage", ZH, max=bot.commands.TOP_MAX)


# --- approve --------------------------------------------------------------------------------


def test_approve_by_a_manager_approves_the_po(harness: Harness) -> None:
    h = harness
    h.shop.run("clerk", submit_for_approval, PO)
    body = _ask(h, "U-amy", f"approve {PO}", "approve")
    assert h.shop.po().status == "approved"
    [approved] = h.shop.audit("po.approved")
    assert approved.actor_id == h.shop.ids["amy"]
    assert t("outcome.approve", ZH, po=PO) in body["text"]
    [header] = _blocks(body, "header")
    assert PO in header["text"]["text"]
    assert _action_ids(body) == []  # approved: nothing left to press
    assert len(h.shop.rows(InboxEvent)) == 1  # recorded once, for a retry of this command


def test_approve_by_a_member_without_the_role_is_refused(harness: Harness) -> None:
    h = harness
    h.shop.run("clerk", submit_for_approval, PO)
    body = _ask(h, "U-analyst", f"核准 {PO}", "refused")
    [refused] = h.shop.audit("refused.permission_denied")
    assert refused.actor_id == h.shop.ids["analyst"]
    assert h.shop.po().status == "pending_approval"
    assert h.shop.audit("po.approved") == []
    assert "analyst" in body["text"]
    assert t("outcome.approve", ZH, po=PO) not in body["text"]


@pytest.mark.parametrize("text", ["approve", f"approve {PO} {PO}"])
def test_approve_without_exactly_one_number_answers_the_usage(harness: Harness, text: str) -> None:
    h = harness
    h.shop.run("clerk", submit_for_approval, PO)
    assert _ask(h, "U-amy", text, "usage")["text"] == t("cmd.approve.usage", ZH)
    assert h.shop.po().status == "pending_approval"
    assert h.shop.audit("po.approved") == h.shop.audit("refused.permission_denied") == []


# --- the unexpected ---------------------------------------------------------------------------


def test_an_unknown_subcommand_gets_the_help(harness: Harness) -> None:
    body = _ask(harness, "U-clerk", "frobnicate now", "unknown")
    unknown = t("cmd.unknown", ZH, sub="frobnicate")
    assert body["text"] == unknown + "\n\n" + t("cmd.help", ZH)
    assert "Traceback" not in body["text"]


def test_an_unbalanced_quote_still_gets_an_answer(harness: Harness) -> None:
    h = harness
    body = _ask(h, "U-clerk", 'stock "MILK', "quote")
    said = _said(body)
    assert said
    assert t("chat.unexpected", ZH) not in said
    assert "Traceback" not in said
    assert _ask(h, "U-clerk", 'po "', "po")["text"] == t("error.po_not_found", ZH, po='"')


def test_a_failure_inside_the_bot_is_a_polite_answer_and_the_server_stays_up(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness

    def broken(*args: Any) -> Any:
        raise RuntimeError("the planner fell over")

    monkeypatch.setattr(bot.commands, "current_plan", broken)
    for name, text in (("stock", "stock MILK"), ("plan", "plan")):
        body = _ask(h, "U-clerk", text, name)
        assert body["text"] == t("chat.unexpected", ZH)
        assert "RuntimeError" not in _said(body)
        assert "planner fell over" not in _said(body)

    assert _ask(h, "U-clerk", "help", "after")["text"] == t("cmd.help", ZH)
    _set_locale(h, "U-ben", ["manager"], EN)
    assert _ask(h, "U-ben", "plan", "en")["text"] == t("chat.unexpected", EN)
