"""Hostile files: the only failure allowed is TableError, and no row ever goes missing."""

import csv
import gzip
import io
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.migrate import upgrade
from core.imports import import_bytes
from core.ingest import SPECS, Kind, validate
from core.store import Store
from core.tabular import TableError, read_table

TAIPEI = ZoneInfo("Asia/Taipei")
FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

HOSTILE = [
    "",
    " ",
    "\ufeff",
    "\ufeffA1",
    "NaN",
    "nan",
    "inf",
    "-Infinity",
    "1e309",
    "-1e309",
    "-3",
    "-0",
    "1.5",
    "0",
    "1,234",
    "１２",
    "99999999999999999999999",
    '=HYPERLINK("http://x","y")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "2026-11-20",
    "2026-11-20 23:30",
    "2026-11-20T23:30:00+08:00",
    "2026-11-20Z",
    "115/11/20",
    "民國115年11月5日",
    "2026",
    "now",
    "\x00",
    "\x00\x00",
    "\x01\x7f",
    '"',
    '""',
    ",",
    ";",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "a\nb",
    "x" * 5000,
    "毛巾",
    "\ud7ff\ue000",
    "\u2028",
    "A1",
    "B2",
    "WH",
    "DS1",
    "S1",
    "O1",
    "warehouse",
    "代發",
]
CELL = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=12),
    st.integers(-(10**13), 10**13).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
NUMBER = st.one_of(
    st.integers(-(10**20), 10**20), st.floats(allow_nan=True, allow_infinity=True), st.none()
)
HUGE = object()  # an integer too long for Python to convert: written out by hand
VALUE = st.one_of(
    CELL, NUMBER, st.booleans(), st.just({"nested": 1}), st.just([1, 2]), st.just(HUGE)
)


def dump(value: object) -> str:
    return "9" * 5000 if value is HUGE else json.dumps(value)


@st.composite
def headers(draw: st.DrawFn, kind: Kind) -> list[str]:
    """Column names for a kind: aliases in any case, required ones sometimes left out."""
    names: list[str] = []
    for spec in SPECS[kind]:
        keep = draw(st.integers(0, 9)) > 0 if spec.required else draw(st.booleans())
        if keep:
            alias = draw(st.sampled_from(spec.aliases))
            names.append(draw(st.sampled_from([alias, alias.upper(), f" {alias} "])))
    if draw(st.booleans()):
        names.append(draw(st.sampled_from(["note", "備註", "Unnamed"])))
    if names and draw(st.integers(0, 19)) == 0:
        names.append(names[0])  # the same column twice
    return draw(st.permutations(names)) if names else ["nothing"]


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[Kind, bytes, int | None]:
    """(kind, bytes, expected data rows or None when the layout is too hostile to count)."""
    kind = draw(st.sampled_from(list(Kind)))
    columns = draw(headers(kind))
    width = len(columns)
    rows = draw(st.lists(st.lists(CELL, min_size=width, max_size=width), max_size=8))
    delimiter = draw(st.sampled_from([",", "\t", ";"]))
    quoted = draw(st.integers(0, 3)) > 0
    if quoted:
        buffer = io.StringIO(newline="")
        newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
        # The csv module quotes a line break only if it is part of the line terminator.
        quoting = csv.QUOTE_MINIMAL if newline == "\r\n" else csv.QUOTE_ALL
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline, quoting=quoting)
        writer.writerows([columns, *rows])
        text = buffer.getvalue()
        expected = sum(any(c.replace("\x00", "") for c in row) for row in rows)
    else:  # no quoting at all: delimiters and line breaks inside cells break the layout
        text = "\n".join(delimiter.join(row) for row in [columns, *rows])
        expected = None
    if draw(st.booleans()):
        text = "\n" * draw(st.integers(0, 2)) + text + "\n" * draw(st.integers(0, 2))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp950"]))
    data = text.encode(encoding, errors="replace")
    if encoding == "cp950" or "\ufeff" in text.lstrip("\n")[:1]:
        expected = None  # replaced characters and a leading BOM change what there is to count
    return kind, data, expected


@st.composite
def json_files(draw: st.DrawFn) -> tuple[Kind, bytes, int | None]:
    kind = draw(st.sampled_from(list(Kind)))
    columns = draw(headers(kind))
    records = draw(
        st.lists(
            st.lists(st.tuples(st.sampled_from(columns), VALUE), max_size=len(columns) + 1),
            max_size=8,
        )
    )
    objects = [
        "{" + ", ".join(f"{json.dumps(k)}: {dump(v)}" for k, v in pairs) + "}" for pairs in records
    ]
    body = "[" + ",\n".join(objects) + "]"
    if draw(st.booleans()):
        body = '{"exported": "2026-11-20", "rows": ' + body + "}"
    return kind, body.encode(draw(st.sampled_from(["utf-8", "utf-8-sig"]))), len(records)


RANDOM_BYTES = st.tuples(st.sampled_from(list(Kind)), st.binary(max_size=300), st.none())
FILES = st.one_of(csv_files(), json_files(), RANDOM_BYTES).flatmap(
    lambda f: st.tuples(st.just(f[0]), st.sampled_from([f[1], gzip.compress(f[1])]), st.just(f[2]))
)


def check_accounted(kind: Kind, data: bytes, expected: int | None) -> None:
    try:
        table = read_table(data)
        result = validate(table, kind, TAIPEI)
    except TableError:
        return
    kept, rejected = result.rows["row"].tolist(), result.rejects["row"].tolist()
    assert len(kept) + len(rejected) == len(table.frame)
    assert sorted(kept + rejected) == sorted(table.rows.tolist())
    assert len(set(kept + rejected)) == len(kept) + len(rejected)  # row numbers unique
    assert all(problem is not None for problem in result.rejects["problem"])
    if expected is not None:
        assert len(table.frame) == expected


@FUZZ
@given(FILES)
def test_hostile_files_are_refused_or_fully_accounted_for(file):
    check_accounted(*file)


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory: pytest.TempPathFactory):
    path: Path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    store = Store.connect(f"sqlite:///{path}")
    upgrade(store)
    seeds = {
        Kind.LOCATIONS: b"location,kind\nWH,warehouse\nDS1,dropship\n",
        Kind.SKUS: b"sku,name\nA1,x\nB2,y\n",
        Kind.SUPPLIERS: b"supplier,name\nS1,z\n",
    }
    for kind, data in seeds.items():
        import_bytes(store, kind, data, tz=TAIPEI)
    yield store
    store.dispose()


@settings(FUZZ, max_examples=40)
@given(file=FILES, dry_run=st.booleans())
def test_hostile_files_through_the_database(fuzz_store, file, dry_run):
    kind, data, _ = file
    try:
        report = import_bytes(fuzz_store, kind, data, tz=TAIPEI, dry_run=dry_run)
    except TableError:
        return
    rows = len(read_table(data).frame)
    assert report.imported + report.duplicates + report.rejected == rows
    assert report.rejects["row"].is_unique
