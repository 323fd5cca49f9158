"""adapters.slack_blocks: neutral cards and forms → Block Kit, always inside Slack's limits.

Every rendered block is also parsed back by slack_sdk's own models and must come out equal:
a misspelt field name would be dropped by the model, a broken limit fails its validator.
"""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from adapters.chat import Button, ButtonStyle, Card, Field, Form, Image, Input, Table, Tone
from adapters.slack_blocks import (
    TONE_MARKS,
    base_action_id,
    card_blocks,
    card_text,
    form_errors,
    form_view,
    view_values,
)
from adapters.text_table import display_width, table_lines

MANIFEST = Path(__file__).resolve().parents[2] / "adapters" / "slack_manifest.yml"


def size(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --- a limit checker for whole messages -------------------------------------------------------


def check_text(obj: dict[str, Any], limit: int, kind: str = "plain_text") -> str:
    assert obj["type"] == kind
    text = obj["text"]
    assert text.strip(), obj
    assert size(text) <= limit, (size(text), limit)
    if kind == "mrkdwn":
        # Escaped: no raw control characters, every "&" starts one of Slack's three entities.
        assert "<" not in text
        assert ">" not in text
        assert re.fullmatch(r"(?:[^&]|&amp;|&lt;|&gt;)*", text, re.DOTALL), text
    return text


def check_button(element: dict[str, Any]) -> None:
    assert element["type"] == "button"
    assert 0 < len(element["action_id"]) <= 255
    check_text(element["text"], 75)
    assert size(element.get("value", "")) <= 2000
    assert element.get("style", "primary") in {"primary", "danger"}
    if "confirm" in element:
        confirm = element["confirm"]
        check_text(confirm["title"], 100)
        check_text(confirm["text"], 300)
        check_text(confirm["confirm"], 30)
        check_text(confirm["deny"], 30)


def check_message(blocks: list[dict[str, Any]]) -> None:
    assert 0 < len(blocks) <= 50
    action_ids: list[str] = []
    for block in blocks:
        kind = block["type"]
        if kind == "header":
            check_text(block["text"], 150)
        elif kind == "section":
            assert ("text" in block) != ("fields" in block)
            if "text" in block:
                check_text(block["text"], 3000, "mrkdwn")
            else:
                assert 0 < len(block["fields"]) <= 10
                for item in block["fields"]:
                    check_text(item, 2000, "mrkdwn")
        elif kind == "actions":
            assert 0 < len(block["elements"]) <= 25
            for element in block["elements"]:
                check_button(element)
                action_ids.append(element["action_id"])
        elif kind == "context":
            assert 0 < len(block["elements"]) <= 10
            for element in block["elements"]:
                check_text(element, 3000, "mrkdwn")
        elif kind == "image":
            assert set(block["slack_file"]) == {"id"}
            assert 0 < size(block["alt_text"]) <= 2000
        else:
            pytest.fail(f"unexpected block {kind}")
        # slack_sdk's model of the block: same JSON back (no unknown keys), validators pass.
        assert Block.parse(block).to_dict() == block
    assert len(action_ids) == len(set(action_ids)), "action_id repeated in one message"


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [block["text"]["text"] for block in blocks if "text" in block]


def buttons_of(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for block in blocks if block["type"] == "actions" for e in block["elements"]]


def code_lines(block: dict[str, Any]) -> list[str]:
    text = block["text"]["text"]
    assert text.startswith("```\n")
    assert text.endswith("\n```")
    return text[4:-4].split("\n")


# --- realistic cards --------------------------------------------------------------------------

PO_LINES = (
    ("TW-A001", "超細纖維毛巾（藍）", "120", "35", "4,200"),
    ("TW-B12", "竹炭牙刷 4入", "48", "89", "4,272"),
    ("TW-C3", "日本製保鮮盒 <大> & 小", "6", "1,250", "7,500"),
)


def po_card() -> Card:
    return Card(
        title="採購單 PO-20250611-003 待核准",
        text="供應商 *大和日用品* 的補貨建議，請在 17:00 前決定。<@U0ALL> & 團隊",
        tone=Tone.ORANGE,
        fields=(
            Field("供應商", "大和日用品"),
            Field("合計", "NT$15,972"),
            Field("交期", "5 天"),
            Field("申請人", "庫存管理員 林小姐"),
        ),
        table=Table(("品號", "品名", "數量", "單價", "小計"), PO_LINES),
        buttons=(
            Button(
                "po.approve", "核准", "PO-20250611-003", ButtonStyle.PRIMARY, "確定核准這張採購單？"
            ),
            Button("po.reject", "退回", "PO-20250611-003", ButtonStyle.DANGER),
            Button("po.edit", "修改數量", "PO-20250611-003"),
        ),
        footer=("由 監控排程 於 2025-06-11 09:15 建立", "版本 1"),
    )


def alert_card() -> Card:
    return Card(
        title="即將缺貨：超細纖維毛巾（藍）",
        text="庫存可用 2.1 天，低於安全庫存。",
        tone=Tone.RED,
        fields=(Field("現有庫存", "38"), Field("日均銷量", "18.2"), Field("補貨點", "95")),
        image=Image(png=b"\x89PNG fake", alt="近 28 天銷量與庫存趨勢圖"),
        buttons=(
            Button("alert.draft_po", "建立採購單", "alert-41", ButtonStyle.PRIMARY),
            Button("alert.snooze", "稍後提醒", "alert-41"),
            Button("alert.dismiss", "忽略", "alert-41", confirm="確定忽略這則警示？"),
        ),
    )


def test_po_card_structure() -> None:
    blocks = card_blocks(po_card())
    check_message(blocks)
    assert [b["type"] for b in blocks] == [
        "header",
        "section",  # text
        "section",  # fields
        "section",  # table
        "actions",
        "context",
    ]
    assert blocks[0]["text"]["text"] == "🟠 採購單 PO-20250611-003 待核准"
    # user text escaped: the would-be mention and the ampersand show as typed
    assert blocks[1]["text"]["text"].endswith("&lt;@U0ALL&gt; &amp; 團隊")
    assert [f["text"] for f in blocks[2]["fields"]][:2] == [
        "*供應商*\n大和日用品",
        "*合計*\nNT$15,972",
    ]
    lines = code_lines(blocks[3])
    assert len(lines) == 2 + len(PO_LINES)
    assert "日本製保鮮盒 &lt;大&gt; &amp; 小" in lines[4]

    approve, reject, edit = buttons_of(blocks)
    assert [b["text"]["text"] for b in (approve, reject, edit)] == ["核准", "退回", "修改數量"]
    assert [b["action_id"] for b in (approve, reject, edit)] == [
        "po.approve",
        "po.reject",
        "po.edit",
    ]
    assert {b["value"] for b in (approve, reject, edit)} == {"PO-20250611-003"}
    assert approve["style"] == "primary"
    assert reject["style"] == "danger"
    assert "style" not in edit
    assert approve["confirm"]["text"]["text"] == "確定核准這張採購單？"
    assert approve["confirm"]["confirm"]["text"] == "核准"
    assert approve["confirm"]["deny"]["text"] == "取消"
    assert "confirm" not in reject
    assert blocks[-1]["elements"][0]["text"] == "由 監控排程 於 2025-06-11 09:15 建立\n版本 1"


def test_alert_card_with_uploaded_chart() -> None:
    card = alert_card()
    blocks = card_blocks(card, image_file_id="F0123CHART", cancel_label="Cancel")
    check_message(blocks)
    assert blocks[0]["text"]["text"].startswith("🔴 即將缺貨")
    (image,) = [b for b in blocks if b["type"] == "image"]
    assert image == {
        "type": "image",
        "slack_file": {"id": "F0123CHART"},
        "alt_text": "近 28 天銷量與庫存趨勢圖",
    }
    assert blocks.index(image) < blocks.index(next(b for b in blocks if b["type"] == "actions"))
    dismiss = buttons_of(blocks)[2]
    assert dismiss["confirm"]["deny"]["text"] == "Cancel"
    assert "style" not in dismiss["confirm"]
    # not uploaded (yet): no image block, the rest unchanged
    without = card_blocks(card, cancel_label="Cancel")
    assert [b for b in blocks if b["type"] != "image"] == without


@pytest.mark.parametrize("tone", list(Tone))
def test_every_tone_has_a_mark(tone: Tone) -> None:
    card = Card(title="x", tone=tone)
    assert card_blocks(card)[0]["text"]["text"] == f"{TONE_MARKS[tone]} x"
    assert card_text(card).startswith(TONE_MARKS[tone])


def test_card_text_is_escaped_fallback() -> None:
    text = card_text(po_card())
    assert text.startswith("🟠 採購單 PO-20250611-003 待核准 — 供應商")
    assert "&lt;@U0ALL&gt; &amp;" in text
    assert len(card_text(Card(title="<" * 5000))) <= 3000


# --- limits -----------------------------------------------------------------------------------


def test_long_title_is_truncated() -> None:
    blocks = card_blocks(Card(title="補貨" * 200))
    header = blocks[0]["text"]["text"]
    assert len(header) == 150
    assert header.endswith("…")
    check_message(blocks)


def test_sixty_fields_split_by_ten() -> None:
    fields = tuple(Field(f"門市 {i}", "庫存 " + "多" * 3000) for i in range(60))
    blocks = card_blocks(Card(title="各門市庫存", fields=fields))
    check_message(blocks)
    sections = [b for b in blocks if "fields" in b]
    assert [len(b["fields"]) for b in sections] == [10] * 6
    assert sections[5]["fields"][9]["text"].startswith("*門市 59*\n庫存 多")


def test_thirty_buttons_in_two_action_blocks() -> None:
    buttons = tuple(Button("pick.ack", f"確認 {i}", f"task-{i}") for i in range(30))
    blocks = card_blocks(Card(title="揀貨確認", buttons=buttons))
    check_message(blocks)
    elements = [len(b["elements"]) for b in blocks if b["type"] == "actions"]
    assert elements == [25, 5]
    ids = [e["action_id"] for e in buttons_of(blocks)]
    assert ids[:3] == ["pick.ack", "pick.ack#2", "pick.ack#3"]
    assert {base_action_id(i) for i in ids} == {"pick.ack"}
    assert [e["value"] for e in buttons_of(blocks)] == [f"task-{i}" for i in range(30)]


def test_long_button_label_and_confirm_are_cut() -> None:
    button = Button("po.approve", "核准" * 60, "PO-1", ButtonStyle.DANGER, confirm="確定？" * 200)
    (element,) = buttons_of(card_blocks(Card(title="t", buttons=(button,))))
    check_button(element)
    assert element["text"]["text"].endswith("…")
    assert element["confirm"]["style"] == "danger"


def test_table_of_5000_chars_splits_into_sections() -> None:
    rows = tuple((f"SKU-{i:04d}", "有機燕麥片 500g 家庭號", str(i * 7)) for i in range(200))
    table = Table(("品號", "品名", "數量"), rows)
    assert sum(map(len, table_lines(table))) > 5000
    blocks = card_blocks(Card(title="補貨計畫", table=table))
    check_message(blocks)
    sections = blocks[1:]
    assert len(sections) >= 2
    header = table_lines(table)[:2]
    body: list[str] = []
    for section in sections:
        lines = code_lines(section)
        assert lines[:2] == header  # every piece can be read on its own
        body += lines[2:]
    assert body == table_lines(table)[2:]  # nothing lost, order kept


def test_overfull_card_keeps_header_buttons_and_footer() -> None:
    card = Card(
        title="全部",
        text="\n".join("段落" * 1400 for _ in range(30)),
        fields=tuple(Field(str(i), "v") for i in range(200)),
        table=Table(("a",), tuple((str(i) * 50,) for i in range(3000))),
        image=Image(b"", alt=""),
        buttons=tuple(Button(f"b{i}", "按", "v") for i in range(60)),
        footer=("已記錄",),
    )
    blocks = card_blocks(card, image_file_id="F1")
    check_message(blocks)
    assert len(blocks) == 50
    assert blocks[0]["type"] == "header"
    assert blocks[-1]["elements"][0]["text"] == "已記錄"
    assert len(buttons_of(blocks)) == 60
    cut = [b for b in blocks if b["type"] == "context" and b["elements"][0]["text"] == "…"]
    assert len(cut) == 1
    image = next(b for b in blocks if b["type"] == "image")
    assert image["alt_text"] == "chart.png"  # alt text is required: the file name stands in


def test_what_cannot_be_cut_is_refused() -> None:
    with pytest.raises(ValueError, match="value"):
        card_blocks(Card(title="t", buttons=(Button("po.approve", "核准", "x" * 2001),)))
    with pytest.raises(ValueError, match="'#'"):
        card_blocks(Card(title="t", buttons=(Button("po#approve", "核准", "1"),)))
    with pytest.raises(ValueError, match="too many buttons"):
        card_blocks(Card(title="t", buttons=tuple(Button("a", "b", "c") for i in range(25 * 50))))


def test_base_action_id() -> None:
    assert base_action_id("po.approve") == "po.approve"
    assert base_action_id("po.approve#2") == "po.approve"
    assert base_action_id("po.approve#12") == "po.approve"
    assert base_action_id("po.approve#x") == "po.approve#x"


# --- table alignment --------------------------------------------------------------------------


def column_starts(line: str, cells: tuple[str, ...]) -> list[int]:
    """Display column where each cell (as printed, left-aligned) begins in `line`."""
    starts, pos = [], 0
    for cell in cells:
        pos = line.index(cell, pos)
        starts.append(display_width(line[:pos]))
        pos += len(cell)
    return starts


def test_cjk_table_aligns_by_display_width() -> None:
    table = Table(
        ("品號", "品名", "備註"), (("A1", "毛巾", "ok"), ("TW-B002", "Towel", "藍色（大）"))
    )
    lines = table_lines(table)
    assert len({display_width(line) for line in lines}) == 1  # same visible width
    header, rule, *rows = lines
    assert set(rule) == {"-"}
    starts = column_starts(header, table.header)
    for line, row in zip(rows, table.rows, strict=True):
        assert column_starts(line, row) == starts
    assert display_width("毛巾") == 4
    assert display_width("ℹ️") == 1  # the variation selector takes no room


def test_po_table_alignment_and_numbers_to_the_right() -> None:
    lines = table_lines(Table(("品號", "品名", "數量", "單價", "小計"), PO_LINES))
    assert len({display_width(line) for line in lines}) == 1
    header = lines[0]
    for line, row in zip(lines[2:], PO_LINES, strict=True):
        # text columns start where their header starts
        assert column_starts(line, row[:2]) == column_starts(header, ("品號", "品名"))
        # numeric columns end where their header ends
        assert line.endswith(row[4])
    assert header.endswith("小計")
    # as a reader sees it (each CJK character takes two columns in a monospace font)
    assert lines == [
        "品號     品名                    數量   單價   小計",
        "---------------------------------------------------",
        "TW-A001  超細纖維毛巾（藍）       120     35  4,200",
        "TW-B12   竹炭牙刷 4入              48     89  4,272",
        "TW-C3    日本製保鮮盒 <大> & 小     6  1,250  7,500",
    ]


def test_table_cells_cannot_break_the_code_block() -> None:
    table = Table(("a", "b"), (("```", "x\ny\tz"), ("1",)))
    lines = table_lines(table)
    assert not any("`" in line for line in lines)
    assert len(lines) == 4  # newlines in a cell do not add lines; short rows are padded
    assert len({display_width(line) for line in lines}) == 1


# --- random content ---------------------------------------------------------------------------

TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from("<>&*_~`\n\t 　,.-#|\u200d\ufe0f"),
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # CJK
        st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),  # full-width forms
        st.characters(min_codepoint=0x1F300, max_codepoint=0x1F6FF),  # emoji (2 UTF-16 units)
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
    ),
    max_size=400,
)
LONG_TEXT = st.one_of(TEXT, TEXT.map(lambda t: t * 20))
BUTTONS = st.builds(
    Button,
    action_id=st.sampled_from(["po.approve", "po.reject", "po.edit", "alert.snooze"]),
    label=TEXT,
    value=st.text(max_size=2000),
    style=st.sampled_from(list(ButtonStyle)),
    confirm=st.none() | TEXT,
)
TABLES = st.builds(
    Table,
    header=st.lists(TEXT, max_size=6).map(tuple),
    rows=st.lists(st.lists(TEXT, max_size=6).map(tuple), max_size=60).map(tuple),
)
CARDS = st.builds(
    Card,
    title=LONG_TEXT,
    text=LONG_TEXT,
    tone=st.sampled_from(list(Tone)),
    fields=st.lists(st.builds(Field, TEXT, LONG_TEXT), max_size=70).map(tuple),
    table=st.none() | TABLES,
    image=st.none() | st.builds(Image, png=st.just(b""), alt=TEXT),
    buttons=st.lists(BUTTONS, max_size=60).map(tuple),
    footer=st.lists(LONG_TEXT, max_size=12).map(tuple),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(card=CARDS)
def test_random_cards_stay_within_block_kit_limits(card: Card) -> None:
    blocks = card_blocks(card, image_file_id="F1")
    check_message(blocks)
    rendered = buttons_of(blocks)
    # every button is there, in order, and routes back to its own action
    assert [base_action_id(e["action_id"]) for e in rendered] == [b.action_id for b in card.buttons]
    assert [e.get("value", "") for e in rendered] == [b.value for b in card.buttons]
    assert size(card_text(card)) <= 3000
    assert "<" not in card_text(card)


@settings(max_examples=100, deadline=None)
@given(table=TABLES)
def test_random_tables_align(table: Table) -> None:
    lines = table_lines(table)
    assert len({display_width(line) for line in lines}) <= 1
    assert all("\n" not in line and "`" not in line for line in lines)


# --- forms ------------------------------------------------------------------------------------


def edit_form() -> Form:
    return Form(
        form_id="po.edit",
        title="修改採購單 PO-20250611-003 的數量",
        submit="儲存",
        intro="修改後需重新核准。<注意> & 最小訂購量",
        inputs=(
            Input("qty.TW-A001", "超細纖維毛巾（藍）", initial="120", number=True, min_value=0),
            Input("qty.TW-B12", "竹炭牙刷 4入", initial="48", number=True, hint="箱入數 12"),
            Input("reason", "修改原因", multiline=True, optional=True),
            Input("note", "備註", initial="請先出 A001"),
        ),
    )


def test_form_view_structure() -> None:
    view = form_view(edit_form(), private_metadata='{"po":"PO-20250611-003","v":3}')
    assert view["type"] == "modal"
    assert view["callback_id"] == "po.edit"
    assert view["title"]["text"] == "修改採購單 PO-20250611-003 的…"
    assert len(view["title"]["text"]) == 24
    assert view["submit"]["text"] == "儲存"
    assert view["close"]["text"] == "取消"
    assert view["private_metadata"] == '{"po":"PO-20250611-003","v":3}'
    intro, qty_a, qty_b, reason, note = view["blocks"]
    assert intro["text"]["text"] == "修改後需重新核准。&lt;注意&gt; &amp; 最小訂購量"
    assert qty_a["block_id"] == qty_a["element"]["action_id"] == "qty.TW-A001"
    assert qty_a["element"] == {
        "type": "number_input",
        "action_id": "qty.TW-A001",
        "is_decimal_allowed": False,
        "min_value": "0",
        "initial_value": "120",
    }
    assert qty_b["hint"]["text"] == "箱入數 12"
    assert "min_value" not in qty_b["element"]
    assert reason["optional"] is True
    assert reason["element"] == {
        "type": "plain_text_input",
        "action_id": "reason",
        "multiline": True,
    }
    assert "optional" not in note
    assert note["element"]["initial_value"] == "請先出 A001"
    # slack_sdk's View model agrees (field names, title/submit/close and metadata limits)
    assert View(**view).to_dict() == view


def test_form_view_refusals() -> None:
    with pytest.raises(ValueError, match="private_metadata"):
        form_view(edit_form(), private_metadata="x" * 3001)
    assert form_view(edit_form(), private_metadata="x" * 3000)["private_metadata"] == "x" * 3000
    with pytest.raises(ValueError, match="whole number"):
        form_view(
            Form("f", "t", "ok", (Input("q", "數量", initial="1.5", number=True),)),
            private_metadata="",
        )
    with pytest.raises(ValueError, match="repeated"):
        form_view(Form("f", "t", "ok", (Input("q", "a"), Input("q", "b"))), private_metadata="")


def submission(view: dict[str, Any], typed: dict[str, str | None]) -> dict[str, Any]:
    """What Slack sends back in a view_submission: the view as shown plus its state. Empty
    inputs come as `value: null`; an input never touched may be missing altogether."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input" or block["block_id"] not in typed:
            continue
        element = block["element"]
        values[block["block_id"]] = {
            element["action_id"]: {"type": element["type"], "value": typed[block["block_id"]]}
        }
    return {**view, "id": "V0123", "state": {"values": values}}


def test_round_trip_form_to_values() -> None:
    view = form_view(edit_form(), private_metadata="ctx")
    typed = {"qty.TW-A001": "96", "qty.TW-B12": "60", "reason": None, "note": "請先出 A001 <急>"}
    payload_view = json.loads(json.dumps(submission(view, typed)))  # as it comes off the wire
    assert view_values(payload_view) == {
        "qty.TW-A001": "96",
        "qty.TW-B12": "60",
        "reason": "",
        "note": "請先出 A001 <急>",
    }
    # an optional input missing from the state still reads as ""
    assert view_values(submission(view, {"qty.TW-A001": "1"}))["reason"] == ""
    assert view_values({}) == {}


@settings(max_examples=60, deadline=None)
@given(
    title=TEXT,
    labels=st.lists(TEXT, min_size=1, max_size=8),
    typed=st.lists(st.text(max_size=300), min_size=8, max_size=8),
)
def test_random_forms_valid_and_round_trip(title: str, labels: list[str], typed: list[str]) -> None:
    inputs = tuple(
        Input(f"in{i}", label, hint=label, initial=label, multiline=bool(i % 2))
        for i, label in enumerate(labels)
    )
    view = form_view(Form("f", title, title, inputs, intro=title), private_metadata=title[:100])
    View(**view).validate_json()
    for block in view["blocks"]:
        assert Block.parse(block).to_dict() == block
    answers = {f"in{i}": typed[i] for i in range(len(labels))}
    assert view_values(submission(view, dict(answers))) == answers


def test_form_errors_body() -> None:
    assert form_errors({"qty.TW-A001": "不可小於最小訂購量 12"}) == {
        "response_action": "errors",
        "errors": {"qty.TW-A001": "不可小於最小訂購量 12"},
    }
    with pytest.raises(ValueError, match="at least one"):
        form_errors({})


# --- app manifest -----------------------------------------------------------------------------


def mini_yaml(text: str) -> Any:
    """Just enough YAML for the manifest (nested maps, lists, scalars, comments): PyYAML is not
    a dependency, and adding one for a test is not worth it."""
    lines: list[tuple[int, str]] = []
    for raw in text.splitlines():
        stripped = re.sub(r"""\s+#(?=(?:[^"']|"[^"]*"|'[^']*')*$).*""", "", raw).rstrip()
        if stripped.strip() and not stripped.lstrip().startswith("#"):
            lines.append((len(stripped) - len(stripped.lstrip()), stripped.strip()))
    key_re = re.compile(r"^([A-Za-z_][\w.-]*):(?:\s+(.*))?$")

    def scalar(value: str) -> Any:
        if value.startswith('"'):
            return json.loads(value)
        if value.startswith("'"):
            return value[1:-1].replace("''", "'")
        if value in {"true", "false"}:
            return value == "true"
        return int(value) if re.fullmatch(r"-?\d+", value) else value

    def block(i: int, indent: int) -> tuple[Any, int]:
        if lines[i][1].startswith("- "):
            items = []
            while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
                item = lines[i][1][2:]
                if key_re.match(item):  # a map inside the list: its keys sit at indent + 2
                    lines[i] = (indent + 2, item)
                    value, i = block(i, indent + 2)
                else:
                    value, i = scalar(item), i + 1
                items.append(value)
            return items, i
        mapping: dict[str, Any] = {}
        while i < len(lines) and lines[i][0] == indent and not lines[i][1].startswith("- "):
            match = key_re.match(lines[i][1])
            assert match, lines[i]
            key, value = match.groups()
            i += 1
            if value is not None:
                mapping[key] = scalar(value)
            elif i < len(lines) and lines[i][0] > indent:
                mapping[key], i = block(i, lines[i][0])
            else:
                mapping[key] = None
        return mapping, i

    parsed, end = block(0, 0)
    assert end == len(lines), lines[end]
    return parsed


def test_manifest() -> None:
    text = MANIFEST.read_text(encoding="utf-8")
    manifest = mini_yaml(text)
    try:
        import yaml  # noqa: PLC0415  (optional cross-check when PyYAML happens to be there)
    except ImportError:
        pass
    else:
        assert yaml.safe_load(text) == manifest

    assert manifest["_metadata"] == {"major_version": 1}
    display = manifest["display_information"]
    assert display["name"] == "Replenish 補貨經理"
    assert len(display["name"]) <= 35  # manifest schema limits
    assert 0 < len(display["description"]) <= 140
    assert manifest["features"]["bot_user"]["display_name"]
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/replenish"
    assert re.search(r"[\u4e00-\u9fff]", command["description"])  # zh-TW
    assert re.search(r"[A-Za-z]{4}", command["description"])  # and English
    assert command["usage_hint"] == (
        "stock <SKU> | po [pending|<number>] | plan [top N] | approve <number> | help"
    )
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "commands",
        "chat:write",
        "chat:write.public",
        "files:write",
        "users:read",
    }
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "https://YOUR-HOST/slack/events" in text
    assert "socket_mode_enabled: false" in text  # the HTTP-mode instructions
