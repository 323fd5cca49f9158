"""Plain-text tables for a monospace font, measured in display columns (a CJK character takes
two, a combining mark none) so that columns line up as a reader sees them: Slack shows the
lines in a code block, Telegram in <pre>. Pure functions, no I/O."""

import re
import unicodedata
from collections.abc import Sequence

from adapters.chat import Table

ELLIPSIS = "…"
_NUMBER = re.compile(r"^(?=.*\d)[-+]?(?:\d[\d,]*)?(?:\.\d+)?%?$")  # 1,000 · -2.5 · 12%
_TABLE_CELL_WIDTH = 40  # display columns; wider cells are cut, the table stays readable
_COLUMN_GAP = "  "


def display_width(text: str) -> int:
    """Columns `text` takes in a monospace font: CJK wide and full-width characters take two,
    combining marks and format characters (variation selectors, ZWJ) none."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) in {"Mn", "Me", "Cf"}:
            continue
        width += 2 if unicodedata.east_asian_width(ch) in {"W", "F"} else 1
    return width


def _cell(value: str) -> str:
    # One line per row; "```" inside a cell would close Slack's code block, so backticks become
    # a look-alike (U+02CB); other control characters are dropped.
    value = re.sub(r"[\r\n\t]+", " ", str(value)).replace("`", "ˋ")
    return "".join(ch for ch in value if unicodedata.category(ch) != "Cc")


def _cut_width(text: str, width: int) -> str:
    if display_width(text) <= width:
        return text
    kept: list[str] = []
    used = display_width(ELLIPSIS)
    for ch in text:
        used += display_width(ch)
        if used > width:
            break
        kept.append(ch)
    return "".join(kept) + ELLIPSIS


def pad(text: str, width: int, *, right: bool = False) -> str:
    """`text` filled with spaces to `width` display columns, on the right unless `right`."""
    space = " " * (width - display_width(text))
    return space + text if right else text + space


def table_lines(table: Table) -> list[str]:
    """The table as aligned monospace lines (header, a rule, rows), unescaped. Numeric columns
    are right-aligned; every line has the same display width."""
    columns = max([len(table.header), *(len(row) for row in table.rows)], default=0)
    if columns == 0:
        return []

    def cells(row: Sequence[str]) -> list[str]:
        padded = [*row, *[""] * (columns - len(row))]
        return [_cut_width(_cell(value), _TABLE_CELL_WIDTH) for value in padded]

    header = cells(table.header) if table.header else None
    rows = [cells(row) for row in table.rows]
    widths = [
        max(display_width(row[i]) for row in [*([header] if header else []), *rows])
        for i in range(columns)
    ]
    numeric = [
        any(row[i] for row in rows) and all(_NUMBER.match(row[i]) for row in rows if row[i])
        for i in range(columns)
    ]

    def line(row: Sequence[str]) -> str:
        return _COLUMN_GAP.join(
            pad(value, widths[i], right=numeric[i]) for i, value in enumerate(row)
        )

    body = [line(row) for row in rows]
    if header is None:
        return body
    rule = "-" * display_width(line(header))
    return [line(header), rule, *body]
