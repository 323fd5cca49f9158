"""The neutral chat model as terminal output: a `Card` becomes a rich Panel.

The border and title take the card's tone (severity or pick colour); fields are a two-column
grid, the table a rich table (rich measures CJK characters as two columns, so Chinese names
line up), the footer dim, and the buttons numbered `[1] 核准  [2] 退回`, which is how the
console user presses them. Pure functions: what is printed, and where, is `adapters.console`.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table as RichTable
from rich.text import Text

from adapters.chat import Button, ButtonStyle, Card, Form, Table, Tone

TONE_STYLES = {
    Tone.RED: "bold red",
    Tone.ORANGE: "bold dark_orange",
    Tone.GREEN: "bold green",
    Tone.INFO: "bold blue",
    Tone.DONE: "grey50",
}
TONE_MARKS = {Tone.RED: "🔴", Tone.ORANGE: "🟠", Tone.GREEN: "🟢", Tone.INFO: "", Tone.DONE: "✅"}
BUTTON_STYLES = {
    ButtonStyle.PRIMARY: "bold green",
    ButtonStyle.DANGER: "bold red",
    ButtonStyle.DEFAULT: "cyan",
}
_NUMBER = re.compile(r"^(?=.*\d)[-+±]?(?:NT\$)?(?:\d[\d,]*)?(?:\.\d+)?%?$")


@dataclass(frozen=True)
class ConsoleTexts:
    """The few words the console adds around cards, in the reader's language (the bot passes
    its own translations; these English ones are for adapters used alone)."""

    updated: str = "updated"
    private: str = "only you see this"
    image_saved: str = "chart saved: {path}"
    document_saved: str = "file saved: {path}"
    more: str = "… {n} more in {chat} (/list {chat})"
    unread: str = "📨 {chat}: {n} new — {hint}"
    form_hint: str = "(Enter keeps: {initial})"
    optional: str = "optional"


def card_panel(
    card: Card,
    *,
    number: int,
    chat: str,
    texts: ConsoleTexts,
    updated: bool = False,
    private: bool = False,
    files: Sequence[str] = (),
) -> Panel:
    """One message as a panel: `#12 🔴 title`, chat name (and what happened) underneath."""
    style = TONE_STYLES.get(card.tone, "blue")
    mark = TONE_MARKS.get(card.tone, "")
    title = Text(f"#{number} ")
    title.append(f"{mark} " if mark else "")
    title.append(card.title, style=style)
    notes = [chat]
    if updated:
        notes.append(texts.updated)
    if private:
        notes.append(texts.private)
    return Panel(
        Group(*card_body(card, texts, files)),
        title=title,
        title_align="left",
        subtitle=Text(" · ".join(notes), style="dim"),
        subtitle_align="right",
        border_style=style,
        box=box.ROUNDED,
        expand=False,
    )


def card_body(card: Card, texts: ConsoleTexts, files: Sequence[str] = ()) -> list[RenderableType]:
    parts: list[RenderableType] = []
    if card.text:
        parts.append(Text(card.text))
    if card.fields:
        parts.append(fields_grid(card))
    if card.table is not None:
        parts.append(table(card.table))
    parts.extend(Text(line, style="magenta") for line in files)
    if card.footer:
        parts.append(Text("\n".join(card.footer), style="dim italic"))
    if card.buttons:
        parts.append(buttons_line(card.buttons))
    return parts or [Text("")]


def fields_grid(card: Card) -> RichTable:
    grid = RichTable.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    for item in card.fields:
        grid.add_row(item.label, item.value)
    return grid


def table(data: Table) -> RichTable:
    """Header and rows; columns whose every cell reads as a number are right-aligned."""
    shown = RichTable(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    width = max([len(data.header), *(len(row) for row in data.rows)], default=0)
    for index in range(width):
        cells = [row[index] for row in data.rows if index < len(row) and row[index]]
        numeric = bool(cells) and all(_NUMBER.match(cell.replace(" ", "")) for cell in cells)
        header = data.header[index] if index < len(data.header) else ""
        shown.add_column(header, justify="right" if numeric else "left", overflow="fold")
    for row in data.rows:
        shown.add_row(*[*row, *[""] * (width - len(row))])
    return shown


def buttons_line(buttons: Sequence[Button]) -> Text:
    line = Text()
    for index, button in enumerate(buttons, start=1):
        if index > 1:
            line.append("  ")
        line.append(f"[{index}] ", style="bold")
        line.append(button.label, style=BUTTON_STYLES.get(button.style, "cyan"))
    return line


def form_panel(form: Form, texts: ConsoleTexts) -> Panel:
    """The form's title and intro; its inputs are then asked one by one."""
    lines: list[RenderableType] = []
    if form.intro:
        lines.append(Text(form.intro))
    for item in form.inputs:
        label = Text(f"• {item.label}")
        if item.hint:
            label.append(f"（{item.hint}）", style="dim")
        if item.optional:
            label.append(f" [{texts.optional}]", style="dim")
        lines.append(label)
    return Panel(
        Group(*lines) if lines else Text(""),
        title=Text(f"📝 {form.title}", style="bold"),
        title_align="left",
        border_style="cyan",
        expand=False,
    )


def file_name(number: int, name: str) -> str:
    """`012-chart.png`: the message number first, so files sort as the chat did."""
    safe = re.sub(r"[^\w.-]+", "_", Path(name).name) or "file"
    return f"{number:03d}-{safe}"
