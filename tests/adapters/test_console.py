"""The console chat adapter: numbered cards in rooms, updates in place, what the person at
the keyboard sees (their rooms in full, other rooms announced), bursts cut short, charts
saved as files, and CJK tables that line up."""

import io
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console

from adapters.chat import (
    Button,
    ButtonStyle,
    Card,
    DeliveryError,
    Field,
    Image,
    MessageRef,
    Table,
    Tone,
)
from adapters.console import SHOW_AT_ONCE, ConsoleChat

PNG = b"\x89PNG\r\n\x1a\n-a-chart"


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=100, color_system=None, highlight=False), out


def _chat(tmp_path: Path) -> tuple[ConsoleChat, io.StringIO]:
    console, out = _console()
    chat = ConsoleChat(
        console,
        files_dir=tmp_path / "files",
        names={"approvals": "#核准", "supplier:S01": "鮮牧坊"},
        hints={"supplier:S01": "/as supplier S01"},
    )
    return chat, out


def _po(status: str = "待核准", tone: Tone = Tone.INFO) -> Card:
    return Card(
        title="採購單 PO20261124-001",
        text=status,
        tone=tone,
        fields=(Field("供應商", "鮮牧坊乳品"),),
        table=Table(("品號", "品名", "數量"), (("MLK-001", "台東初鹿鮮乳936ml", "132"),)),
        buttons=(
            Button("po.approve", "核准", "PO1", ButtonStyle.PRIMARY),
            Button("po.reject", "退回", "PO1", ButtonStyle.DANGER),
        ),
        footer=("🤖 依補貨計畫建立的草稿",),
    )


def test_a_post_in_a_watched_room_is_shown_numbered_with_its_buttons(tmp_path: Path) -> None:
    chat, out = _chat(tmp_path)
    chat.watch(["approvals"])
    ref = chat.post("approvals", _po())
    assert ref == MessageRef("approvals", "1")
    text = out.getvalue()
    assert "#1" in text
    assert "採購單 PO20261124-001" in text
    assert "[1] 核准" in text
    assert "[2] 退回" in text
    assert "#核准" in text  # the room's name under the card
    assert chat.latest(["approvals"]) is chat.messages[1]


def test_an_update_rewrites_the_message_and_says_so(tmp_path: Path) -> None:
    chat, out = _chat(tmp_path)
    chat.watch(["approvals"])
    ref = chat.post("approvals", _po())
    assert chat.update(ref, _po("已核准", Tone.DONE)) == ref
    assert chat.messages[1].card.text == "已核准"
    assert chat.messages[1].updates == 1
    assert out.getvalue().count("#1") == 2
    assert "updated" in out.getvalue()
    before = out.getvalue()
    chat.update(ref, _po("已核准", Tone.DONE))  # the same card again: not shown twice
    assert out.getvalue() == before
    with pytest.raises(DeliveryError):
        chat.update(MessageRef("approvals", "99"), _po())
    with pytest.raises(DeliveryError):
        chat.update(MessageRef("supplier:S01", "1"), _po())  # number 1 lives elsewhere


def test_other_rooms_wait_as_unread_until_the_person_goes_there(tmp_path: Path) -> None:
    chat, out = _chat(tmp_path)
    chat.watch(["approvals"])
    chat.post("supplier:S01", _po())
    chat.post("supplier:S01", _po("已發送"))
    text = out.getvalue()
    assert "採購單" not in text  # not shown in full …
    assert "鮮牧坊: 2 new — /as supplier S01" in text  # … announced, with how to read it
    assert chat.latest(["approvals"]) is None
    assert chat.watch(["supplier:S01"]) == 2
    assert out.getvalue().count("採購單 PO20261124-001") == 2
    assert chat.unread == {}
    assert chat.latest(["supplier:S01"]) is chat.messages[2]


def test_a_burst_shows_the_loudest_few_and_counts_the_rest(tmp_path: Path) -> None:
    chat, out = _chat(tmp_path)
    chat.watch(["approvals"])
    chat.begin()
    for n in range(6):
        chat.post("approvals", Card(title=f"info {n}", tone=Tone.INFO))
    chat.post("approvals", Card(title="red one", tone=Tone.RED))
    assert out.getvalue() == ""  # nothing until the round is over
    chat.flush()
    text = out.getvalue()
    assert "red one" in text
    shown = [n for n in range(6) if f"info {n}" in text]
    assert len(shown) == SHOW_AT_ONCE - 1
    assert f"{7 - SHOW_AT_ONCE} more in #核准" in text
    assert len(chat.visible(["approvals"])) == 7  # every card is still there to list


def test_charts_are_saved_as_files_and_their_paths_printed(tmp_path: Path) -> None:
    chat, out = _chat(tmp_path)
    opened: list[Path] = []
    chat.viewer = opened.append
    card = Card(title="MLK-001", image=Image(PNG, "60 天銷量", filename="chart.png"))
    message = chat.reply("dm:manager", card)
    saved = tmp_path / "files" / "001-chart.png"
    assert saved.read_bytes() == PNG
    assert message.private
    assert str(saved) in out.getvalue()
    assert opened == [saved]  # the viewer is only ever what the caller handed in


def test_cjk_table_columns_line_up(tmp_path: Path) -> None:
    chat, out = _chat(tmp_path)
    table = Table(
        ("品號", "品名", "數量"),
        (("MLK-001", "台東初鹿鮮乳936ml", "132"), ("SNK-7", "蜂蜜洋芋片", "8")),
    )
    chat.reply("dm:manager", Card(title="計畫", table=table))
    rows = [line for line in out.getvalue().splitlines() if "MLK-001" in line or "SNK-7" in line]
    assert len(rows) == 2
    # The quantity column ends at the same display column on both rows (right-aligned).
    ends = [
        cell_len(row[: row.index(qty) + len(qty)])
        for row, qty in zip(rows, ("132", "8"), strict=True)
    ]
    assert ends[0] == ends[1]
    starts = [
        cell_len(row[: row.index(name)]) for row, name in zip(rows, ("台東", "蜂蜜"), strict=True)
    ]
    assert starts[0] == starts[1]


def test_find_searches_only_the_rooms_given(tmp_path: Path) -> None:
    chat, _ = _chat(tmp_path)
    chat.post("supplier:S01", Card(title="PO20261124-001 鮮牧坊"))
    chat.post("approvals", Card(title="PO20261124-002"))
    assert chat.find("po20261124-001", ["approvals"]) is None
    found = chat.find("PO20261124", ["approvals", "supplier:S01"])
    assert found is not None
    assert found.number == 2  # the newest
