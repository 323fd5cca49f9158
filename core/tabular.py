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
    except (OSError, EOFError) as exc:
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
        for encoding in LEGACY_ENCODINGS:
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                continue
        line = data[: utf8_error.start].count(b"\n") + 1
        raise TableError(
            "bad_encoding",
            f"line {line}: the file is neither UTF-8 nor Big5 (mixed encodings?); "
            "save it again as UTF-8",
            line=line,
        ) from utf8_error


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


def _read_csv(text: str, encoding: str) -> RawTable:
    if not text.strip():
        raise TableError("empty_file", "the file is empty")
    header_line = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=header_line.count)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            skipinitialspace=False,
            quoting=csv.QUOTE_MINIMAL,
            on_bad_lines="error",
            engine="c",
        )
    except (pd.errors.ParserError, csv.Error) as exc:
        raise TableError("bad_csv", f"not a readable CSV file: {exc}", detail=str(exc)) from exc
    rows = pd.Series(frame.index + 2, index=frame.index)  # header is line 1
    blank = (frame == "").all(axis=1)
    frame, rows = frame[~blank], rows[~blank]
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    return RawTable(frame.reset_index(drop=True), rows.reset_index(drop=True), "csv", encoding)


def _read_json(text: str, encoding: str) -> RawTable:
    try:
        document = json.loads(text, object_pairs_hook=_pairs_keeping_duplicates)
    except json.JSONDecodeError as exc:
        raise TableError(
            "bad_json", f"line {exc.lineno}: not valid JSON ({exc.msg})", line=exc.lineno
        ) from exc
    records = _records_of(document)
    columns = _column_order(records)
    cells = [[_cell_text(record, column) for column in columns] for record in records]
    frame = pd.DataFrame(cells, columns=columns, dtype=object)
    rows = pd.Series(range(1, len(records) + 1))
    return RawTable(frame, rows, "json", encoding)


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
