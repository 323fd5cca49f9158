"""Turn the bytes of a CSV or JSON export into a table of strings, whatever its encoding.

Shops in Taiwan export UTF-8, UTF-8 with a BOM (Excel) or Big5/CP950 (older ERPs and
WMSs); we detect which instead of asking. Every cell stays a string here: typing and
validation happen per column in `core.ingest`, where a bad cell becomes a rejected row.
"""

import codecs
import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MAX_CELL_CHARS = 4_000
LEGACY_ENCODINGS = ("cp950", "big5hkscs")


class TableError(ValueError):
    """The whole file is unusable; nothing from it may be imported.

    `code` and `params` let the bot say it in the reader's language; `str()` is English.
    """

    def __init__(self, code: str, english: str, **params: Any) -> None:
        super().__init__(english)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class RawTable:
    """Cells as strings; `rows` holds the 1-based line (CSV) or record (JSON) number."""

    frame: pd.DataFrame
    rows: pd.Series
    fmt: str
    encoding: str


def escape_formula(value: str) -> str:
    """Make a cell safe to open in a spreadsheet: a leading =, +, -, @ stays text."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def read_table(data: bytes, *, name: str = "") -> RawTable:
    """Parse CSV (comma, tab or semicolon) or JSON bytes, gzip-compressed or not."""
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data)
        name = name.removesuffix(".gz")
    text, encoding = decode(data)
    if _looks_like_json(text, name):
        return _read_json(text, encoding)
    return _read_csv(text, encoding)


def _gunzip(data: bytes) -> bytes:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise TableError("gzip_damaged", f"the gzip file is damaged: {exc}") from exc


def decode(data: bytes) -> tuple[str, str]:
    """Decode by BOM, then strict UTF-8, then Big5 (CP950); refuse anything else."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return _strict(data, encoding), encoding
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        line = data[: utf8_error.start].count(b"\n") + 1
        legacy = () if _has_utf8_chinese_line(data) else LEGACY_ENCODINGS
        for encoding in legacy:
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                continue
        raise TableError(
            "bad_encoding",
            f"line {line}: the file is neither UTF-8 nor Big5 (mixed encodings?); "
            "save it again as UTF-8",
            line=line,
        ) from utf8_error


_CHINESE = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def _has_utf8_chinese_line(data: bytes) -> bool:
    """A line of Chinese in valid UTF-8 inside a non-UTF-8 file: two encodings mixed.

    Big5 text practically never forms valid UTF-8 Chinese, so decoding such a file as
    Big5 would turn its UTF-8 lines into nonsense; better to refuse it.
    """
    for line in data.splitlines():
        if line.isascii():
            continue
        try:
            if _CHINESE.search(line.decode("utf-8")):
                return True
        except UnicodeDecodeError:
            continue
    return False


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TableError(
            "bad_encoding", f"line {line}: not valid {encoding} text", line=line
        ) from exc


def _looks_like_json(text: str, name: str) -> bool:
    if name.lower().endswith(".json"):
        return True
    return text.lstrip()[:1] in ("[", "{")


_LEADING_BLANK_LINES = re.compile(r"(?:[ \t]*(?:\r\n|\r|\n))*")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _read_csv(text: str, encoding: str) -> RawTable:
    # A NUL is never text, and the C parser may cut a cell short at one.
    text = text.lstrip("\ufeff").replace("\x00", "")
    skipped = _LEADING_BLANK_LINES.match(text)
    body = text[skipped.end() if skipped else 0 :]
    if not body.strip():
        raise TableError("empty_file", "the file is empty")
    first_line = _LINE_BREAK.split(body, maxsplit=1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    cells, lines = _csv_cells(body, delimiter)
    lines = lines + _count_lines(text[: len(text) - len(body)])
    header = [str(c).strip().lstrip("\ufeff") for c in cells.iloc[0]]
    frame = cells.iloc[1:].set_axis(header, axis=1)
    blank = (frame == "").all(axis=1).to_numpy()
    rows = pd.Series(lines[1:][~blank], dtype="int64")
    return RawTable(frame[~blank].reset_index(drop=True), rows, "csv", encoding)


def _count_lines(text: str) -> int:
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def _csv_cells(body: str, delimiter: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Every record (the header too) as strings, and the line each record starts on."""
    try:
        cells = pd.read_csv(
            io.StringIO(body),
            sep=delimiter,
            header=None,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            quoting=csv.QUOTE_MINIMAL,
            on_bad_lines="error",
            engine="c",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise _bad_csv(str(exc).strip()) from exc
    physical = _count_lines(body) + (not body.endswith(("\n", "\r")))
    if len(cells) == physical:
        return cells, np.arange(1, physical + 1)
    return _csv_cells_spanning_lines(body, delimiter)


def _csv_cells_spanning_lines(body: str, delimiter: str) -> tuple[pd.DataFrame, np.ndarray]:
    """The slower reader for files where a quoted cell holds a line break."""
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter)
    records: list[list[str]] = []
    starts: list[int] = []
    last_line = 0
    try:
        for record in reader:
            starts.append(last_line + 1)
            last_line = reader.line_num
            records.append(record)
    except csv.Error as exc:
        raise _bad_csv(str(exc).strip()) from exc
    width = len(records[0])
    for line, record in zip(starts, records, strict=True):
        if len(record) > width:
            raise _bad_csv(f"expected {width} fields in line {line}, saw {len(record)}")
    padded = [record + [""] * (width - len(record)) for record in records]
    return pd.DataFrame(padded, dtype=str), np.array(starts)


def _bad_csv(detail: str) -> TableError:
    return TableError("bad_csv", f"not a readable CSV file: {detail}", detail=detail)


def _read_json(text: str, encoding: str) -> RawTable:
    try:
        # Integers stay as written: Python refuses to convert one of over 4,300 digits.
        document = json.loads(text, object_pairs_hook=_pairs_keeping_duplicates, parse_int=str)
    except json.JSONDecodeError as exc:
        raise _bad_json(exc.lineno, exc.msg) from exc
    except RecursionError as exc:
        raise _bad_json(1, "nested too deeply") from exc
    records = _records_of(document)
    columns = _column_order(records)
    cells = [[_cell_text(record, column) for column in columns] for record in records]
    _require_unicode(text, [columns, *cells])
    frame = pd.DataFrame(cells, columns=columns, dtype=object)
    rows = pd.Series(range(1, len(records) + 1))
    return RawTable(frame, rows, "json", encoding)


def _bad_json(line: int, reason: str) -> TableError:
    return TableError("bad_json", f"line {line}: not valid JSON ({reason})", line=line)


_SURROGATE_ESCAPE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u[dD][89a-fA-F][0-9a-fA-F]{2}"
)


def _require_unicode(text: str, rows: list[list[str]]) -> None:
    """Refuse a `\\ud800` escape that pairs with nothing: it is no character at all."""
    try:
        "".join("".join(row) for row in rows).encode("utf-8")
    except UnicodeEncodeError as exc:
        lone = (m for m in _SURROGATE_ESCAPE.finditer(text) if len(m.group()) == 6)
        where = next(lone, None)
        line = text.count("\n", 0, where.start()) + 1 if where else 1
        raise _bad_json(line, "a \\u escape that is half of a character") from exc


class _Pairs(list[tuple[str, Any]]):
    """A JSON object kept as its key/value pairs, so a repeated key can be reported."""


def _pairs_keeping_duplicates(pairs: list[tuple[str, Any]]) -> _Pairs:
    return _Pairs(pairs)


def _records_of(document: Any) -> list[_Pairs]:
    if isinstance(document, _Pairs):
        lists = [value for _, value in document if isinstance(value, list)]
        if len(lists) != 1:
            raise TableError(
                "json_shape", "expected a JSON array of rows, or an object holding one"
            )
        document = lists[0]
    if not isinstance(document, list):
        raise TableError("json_shape", "expected a JSON array of rows")
    if not document:
        raise TableError("empty_file", "the file holds no rows")
    for number, record in enumerate(document, start=1):
        if not isinstance(record, _Pairs):
            raise TableError(
                "json_row_shape", f"row {number}: expected an object with named fields", row=number
            )
    return document


def _column_order(records: Iterable[_Pairs]) -> list[str]:
    seen: dict[str, None] = {}
    for record in records:
        for key, _ in record:
            seen.setdefault(str(key).strip(), None)
    return list(seen)


DUPLICATE_FIELD = "\x00duplicate"
NOT_SCALAR = "\x00nested"


def _cell_text(record: _Pairs, column: str) -> str:
    values = [value for key, value in record if str(key).strip() == column]
    if not values:
        return ""
    if len(values) > 1:
        return DUPLICATE_FIELD
    return _scalar_text(values[0])


def _scalar_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (_Pairs, list)):
        return NOT_SCALAR
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def to_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain Python values (None where missing), as database drivers want them."""
    columns: dict[str, np.ndarray] = {}
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column):
            values = np.array(column.dt.to_pydatetime(), dtype=object)
        else:
            values = column.astype(object).to_numpy(copy=True)
        values[column.isna().to_numpy()] = None
        columns[str(name)] = values
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]
