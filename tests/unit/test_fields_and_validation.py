"""core.fields parsers, core.ingest header mapping and validation, and their messages."""

import ast
import datetime as dt
import string
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from bot.i18n import en, problem_text, table_error_text, zh_tw
from core import fields as f
from core.fields import Problem
from core.ingest import (
    KEYS,
    SPECS,
    Kind,
    _header_key,
    duplicate_keys,
    expected_columns,
    map_headers,
    reject_where,
    validate,
)
from core.tabular import DUPLICATE_FIELD, NOT_SCALAR, TableError, read_table

TAIPEI = ZoneInfo("Asia/Taipei")
CORE = Path(__file__).resolve().parents[2] / "core"


def parse(parser, *cells: str, **kwargs):
    """(values, problem codes) of one column."""
    parsed = parser("field", pd.Series(list(cells), dtype=object), **kwargs)
    codes = [p.code if isinstance(p, Problem) else None for p in parsed.problems]
    return parsed.values.tolist(), codes


def one(parser, cell: str, **kwargs):
    values, codes = parse(parser, cell, **kwargs)
    return values[0], codes[0]


def is_missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or value != value


# --- numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("0", 0),
        ("12", 12),
        (" 7 ", 7),
        ("1,234", 1234),
        ("１２", 12),  # full-width digits
        ("１，２３４", 1234),
        ("3.0", 3),
        ("1e3", 1000),
        ("+5", 5),
        ("1000000000", 1_000_000_000),
    ],
)
def test_quantity_accepts(cell, value):
    assert one(f.quantity, cell) == (value, None)


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("-3", "negative"),
        ("-0.5", "negative"),
        ("1.5", "not_whole"),
        ("0.001", "not_whole"),
        ("abc", "not_a_number"),
        ("12abc", "not_a_number"),
        ("inf", "not_a_number"),
        ("-inf", "not_a_number"),
        ("Infinity", "not_a_number"),
        ("nan", "not_a_number"),
        ("NaN", "not_a_number"),
        ("1e309", "not_a_number"),
        ("1000000001", "too_large"),
        ("99999999999999999999999999", "too_large"),
        ("1e20", "too_large"),
        ("0x10", "not_a_number"),
        ("True", "not_a_number"),
        (DUPLICATE_FIELD, "duplicate_field"),
        (NOT_SCALAR, "not_scalar"),
        ("1" * 5000, "too_long"),
    ],
)
def test_quantity_refuses(cell, code):
    value, problem = one(f.quantity, cell)
    assert problem == code
    assert is_missing(value)


def test_quantity_blank_is_missing_not_a_problem():
    assert parse(f.quantity, "", "  ") == ([pd.NA, pd.NA], [None, None])


def test_quantity_column_of_mixed_cells_keeps_alignment():
    values, codes = parse(f.quantity, "1", "-1", "x", "", "2")
    assert codes == [None, "negative", "not_a_number", None, None]
    assert values[0] == 1
    assert values[4] == 2


def test_positive_quantity_refuses_zero():
    assert parse(f.positive_quantity, "0", "1", "-1") == (
        [0, 1, pd.NA],
        ["zero", None, "negative"],
    )


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("12.5", 12.5),
        ("1,234.567", 1234.57),
        ("０.５", 0.5),
        ("0", 0.0),
        ("999999999999", 1e12 - 1),
    ],
)
def test_money_accepts(cell, value):
    got, problem = one(f.money, cell)
    assert problem is None
    assert got == pytest.approx(value)


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("-1", "negative"),
        ("NT$100", "not_a_number"),
        ("nan", "not_a_number"),
        ("1e309", "not_a_number"),
        ("1000000000000", "too_large"),  # 13 digits: more than Numeric(14, 2) holds
    ],
)
def test_money_refuses(cell, code):
    value, problem = one(f.money, cell)
    assert problem == code
    assert is_missing(value)


def test_ratio_allows_fractions_but_not_nonsense():
    values, codes = parse(f.ratio, "1.5", "0", "-1", "1e309", "1001")
    assert values[:2] == [1.5, 0.0]
    assert all(is_missing(v) for v in values[2:])
    assert codes == [None, None, "negative", "not_a_number", "too_large"]


# --- codes and text ---------------------------------------------------------------------------


def test_code_normalises_full_width_and_trims():
    assert parse(f.code, " ＡＢ１２ ", "A-1") == (["AB12", "A-1"], [None, None])


@pytest.mark.parametrize("cell", ["A\x00B", "A\nB", "A\tB", "X" * 65])
def test_code_refuses_control_characters_and_long_codes(cell):
    assert one(f.code, cell)[1] == "bad_code"


def test_text_strips_control_characters_but_keeps_line_breaks():
    assert one(f.text, " 毛巾\x00\x07 大\n號 ") == ("毛巾 大\n號", None)


def test_text_keeps_formula_like_cells_as_text():
    assert one(f.text, '=HYPERLINK("x")') == ('=HYPERLINK("x")', None)


# --- dates and timestamps ---------------------------------------------------------------------

NOV_5 = dt.date(2026, 11, 5)


@pytest.mark.parametrize(
    "cell",
    [
        "2026-11-05",
        "2026/11/5",
        "2026/11/05",
        "2026.11.05",
        "20261105",
        "115/11/05",
        "115/11/5",
        "115.11.05",
        "115-11-05",
        "民國115年11月5日",
        "民國 115 年 11 月 5 日",
        "115年11月5日",
        "１１５／１１／０５",
        "２０２６－１１－０５",
        "2026-11-05T00:00:00",
        " 2026-11-05 ",
    ],
)
def test_dates(cell):
    assert one(f.local_date, cell) == (NOV_5, None)


@pytest.mark.parametrize(
    "cell",
    [
        "garbage",
        "2026-13-01",
        "2026-02-30",
        "115/2/29",  # 2026 is no leap year
        "2026",
        "2026-11",
        "11/5",
        "now",
        "today",
        "0",
        "1.5",
        "1762300800",
        "1999-12-31",
        "2101-01-01",
        "2026-11-05 13:00",  # a date column takes no time of day
        "2026-11-05T00:00:00+08:00",
        "2026-11-05Z",
        DUPLICATE_FIELD,
    ],
)
def test_bad_dates(cell):
    value, problem = one(f.local_date, cell)
    assert problem in ("bad_date", "duplicate_field")
    assert is_missing(value)


def test_blank_date_is_missing_not_a_problem():
    value, problem = one(f.local_date, "")
    assert problem is None
    assert is_missing(value)


def utc(*args: int) -> pd.Timestamp:
    return pd.Timestamp(dt.datetime(*args, tzinfo=dt.UTC))


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2026-11-20 23:30", utc(2026, 11, 20, 15, 30)),  # naive is Asia/Taipei
        ("2026-11-20T23:30:00", utc(2026, 11, 20, 15, 30)),
        ("2026/11/20 23:30", utc(2026, 11, 20, 15, 30)),
        ("115/11/20 23:30", utc(2026, 11, 20, 15, 30)),
        ("2026-11-21 00:30", utc(2026, 11, 20, 16, 30)),
        ("2026-11-20", utc(2026, 11, 19, 16, 0)),  # midnight local
        ("20261120", utc(2026, 11, 19, 16, 0)),
        ("2026-11-20T23:30:00+08:00", utc(2026, 11, 20, 15, 30)),
        ("2026-11-20T15:30:00Z", utc(2026, 11, 20, 15, 30)),
        ("2026-11-20T15:30:00+00:00", utc(2026, 11, 20, 15, 30)),
        ("2026-11-20T10:30:00-05:00", utc(2026, 11, 20, 15, 30)),
        ("2026-11-20 23:30 +0800", utc(2026, 11, 20, 15, 30)),
        ("2026-11-20T23:30+08", utc(2026, 11, 20, 15, 30)),
    ],
)
def test_timestamps_are_stored_in_utc(cell, expected):
    value, problem = one(f.local_timestamp, cell, tz=TAIPEI)
    assert problem is None
    assert value == expected
    assert str(value.tz) == "UTC"


def test_timestamps_mixing_zones_naive_and_garbage_in_one_column():
    cells = ["2026-11-20 23:30", "2026-11-20T15:30:00Z", "x", "2026-11-20T23:30+08:00", ""]
    values, codes = parse(f.local_timestamp, *cells, tz=TAIPEI)
    assert codes == [None, None, "bad_date", None, None]
    assert values[0] == values[1] == values[3] == utc(2026, 11, 20, 15, 30)


def test_date_column_holding_zoned_and_naive_cells_is_no_crash():
    values, codes = parse(f.local_date, "2026-11-05", "2026-11-05T10:00:00+08:00", "2026-11-05Z")
    assert codes == [None, "bad_date", "bad_date"]
    assert values[0] == NOV_5


@pytest.mark.parametrize("cell", ["garbage", "2026", "now", "2026-11-20 25:00", "1899-01-01 10:00"])
def test_bad_timestamps(cell):
    value, problem = one(f.local_timestamp, cell, tz=TAIPEI)
    assert problem == "bad_date"
    assert is_missing(value)


def test_business_day_of_a_utc_timestamp():
    stamps = pd.Series([utc(2026, 11, 20, 15, 30), utc(2026, 11, 20, 16, 30)])
    days = f.to_local_date(stamps, TAIPEI).tolist()
    assert days == [dt.date(2026, 11, 20), dt.date(2026, 11, 21)]


# --- headers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("columns", "kind", "expected"),
    [
        (["sku", "name"], Kind.SKUS, {"sku": "sku", "name": "name"}),
        (["SKU", "Name"], Kind.SKUS, {"SKU": "sku", "Name": "name"}),
        (["品號", "品名"], Kind.SKUS, {"品號": "sku", "品名": "name"}),
        (
            ["商品編號", "商品名稱", "售價"],
            Kind.SKUS,
            {"商品編號": "sku", "商品名稱": "name", "售價": "price"},
        ),
        (
            ["Item Code", " Product Name "],
            Kind.SKUS,
            {"Item Code": "sku", " Product Name ": "name"},
        ),
        (["item-code", "PRODUCT_NAME"], Kind.SKUS, {"item-code": "sku", "PRODUCT_NAME": "name"}),
        (["ＳＫＵ", "ｎａｍｅ"], Kind.SKUS, {"ＳＫＵ": "sku", "ｎａｍｅ": "name"}),
        (
            ["訂單編號", "品號", "數量", "下單時間", "通路", "倉庫"],
            Kind.SALES,
            {
                "訂單編號": "order_id",
                "品號": "sku",
                "數量": "qty",
                "下單時間": "timestamp",
                "通路": "channel",
                "倉庫": "location",
            },
        ),
        (
            ["Order No", "Line No", "SKU Code", "Quantity", "Ordered At"],
            Kind.SALES,
            {
                "Order No": "order_id",
                "Line No": "line",
                "SKU Code": "sku",
                "Quantity": "qty",
                "Ordered At": "timestamp",
            },
        ),
        (
            ["廠商代碼", "料號", "進價", "交期天數", "箱入數"],
            Kind.TERMS,
            {
                "廠商代碼": "supplier",
                "料號": "sku",
                "進價": "unit_price",
                "交期天數": "lead_time_days",
                "箱入數": "case_pack",
            },
        ),
        (
            ["品號", "倉別", "在庫量", "盤點時間"],
            Kind.STOCK,
            {"品號": "sku", "倉別": "location", "在庫量": "on_hand", "盤點時間": "as_of"},
        ),
        (
            ["倉庫代碼", "倉庫名稱", "類型"],
            Kind.LOCATIONS,
            {"倉庫代碼": "location", "倉庫名稱": "name", "類型": "kind"},
        ),
        (
            ["廠商編號", "廠商名稱", "緊急電話"],
            Kind.SUPPLIERS,
            {"廠商編號": "supplier", "廠商名稱": "name", "緊急電話": "emergency_phone"},
        ),
    ],
)
def test_header_aliases(columns, kind, expected):
    assert map_headers(columns, kind) == expected


def test_unknown_columns_are_ignored_and_reported():
    table = read_table("品號,名稱,備註\nA1,毛巾,hello\n".encode())
    validated = validate(table, Kind.SKUS, TAIPEI)
    assert validated.ignored_columns == ("備註",)
    assert validated.rows["sku"].tolist() == ["A1"]


def test_aliases_never_mean_two_fields_in_one_kind():
    for kind, specs in SPECS.items():
        seen: dict[str, str] = {}
        for spec in specs:
            for alias in spec.aliases:
                key = _header_key(alias)
                assert seen.setdefault(key, spec.name) == spec.name, (kind, alias)


def test_every_kind_has_a_key_made_of_its_fields():
    for kind, key in KEYS.items():
        names = {spec.name for spec in SPECS[kind]}
        assert set(key) <= names, kind


@pytest.mark.parametrize("kind", list(Kind))
def test_missing_required_column_lists_expected_columns(kind):
    with pytest.raises(TableError) as caught:
        map_headers(["nothing", "useful"], kind)
    error = caught.value
    assert error.code == "missing_columns"
    required = [s.name for s in SPECS[kind] if s.required]
    assert error.params["missing"] == ", ".join(required)
    assert error.params["expected"] == expected_columns(kind)
    for spec in SPECS[kind]:
        assert spec.name in error.params["expected"]
    for locale in ("zh-TW", "en"):
        text = table_error_text(error, locale)
        assert required[0] in text
        assert "{" not in text


def test_expected_columns_shows_chinese_aliases_and_required_marks():
    text = expected_columns(Kind.SKUS)
    assert text.startswith("sku* (品號/")
    assert "name* (" in text
    assert "category (" in text


def test_missing_column_in_a_file():
    table = read_table("品號,數量\nA1,3\n".encode())
    with pytest.raises(TableError) as caught:
        validate(table, Kind.SALES, TAIPEI)
    assert caught.value.code == "missing_columns"
    assert caught.value.params["missing"] == "order_id, timestamp"


@pytest.mark.parametrize(
    ("columns", "field"),
    [
        (["sku", "品號", "name"], "sku"),
        (["SKU", "sku", "name"], "sku"),
        (["sku", "name", "品名"], "name"),
        (["sku", "name", "price", "售價"], "price"),
    ],
)
def test_two_columns_meaning_the_same_field_are_ambiguous(columns, field):
    with pytest.raises(TableError) as caught:
        map_headers(columns, Kind.SKUS)
    assert caught.value.code == "ambiguous_columns"
    assert caught.value.params["field"] == field
    assert "{" not in table_error_text(caught.value, "zh-TW")


def test_repeated_csv_header_is_ambiguous_not_silently_dropped():
    table = read_table(b"order_id,sku,qty,qty,timestamp\nO1,A1,1,5,2026-11-20\n")
    with pytest.raises(TableError) as caught:
        validate(table, Kind.SALES, TAIPEI)
    assert caught.value.code == "ambiguous_columns"
    assert caught.value.params["field"] == "qty"


# --- validation -------------------------------------------------------------------------------


def validated(text: str, kind: Kind):
    return validate(read_table(text.encode()), kind, TAIPEI)


def problems_by_row(result) -> dict[int, tuple[str, str]]:
    pairs = zip(result.rejects["row"], result.rejects["problem"], strict=True)
    return {int(row): (problem.code, problem.field) for row, problem in pairs}


def test_validation_types_the_good_rows_and_rejects_the_bad_with_line_numbers():
    result = validated(
        "sku,location,on_hand,reserved,as_of\n"
        "A1,WH,10,2,2026-11-20 08:00\n"
        "\n"
        "A2,WH,-1,,\n"
        "A3,,１,０,115/11/20\n"
        ",WH,3,,\n"
        "A5,WH,1.5,,\n",
        Kind.STOCK,
    )
    assert result.rows["sku"].tolist() == ["A1", "A3"]
    assert result.rows["row"].tolist() == [2, 5]
    assert result.rows["on_hand"].tolist() == [10, 1]
    assert result.rows["reserved"].tolist() == [2, 0]  # default when blank
    assert result.rows["as_of"].tolist() == [utc(2026, 11, 20, 0, 0), utc(2026, 11, 19, 16, 0)]
    assert problems_by_row(result) == {
        4: ("negative", "on_hand"),
        6: ("missing", "sku"),
        7: ("not_whole", "on_hand"),
    }
    assert result.rejects["sku"].tolist() == ["A2", "", "A5"]  # the source cells stay


def test_defaults_fill_blank_cells_and_missing_columns():
    result = validated("supplier,sku,unit_price,lead_time_days,moq\nS1,A1,10,7,\n", Kind.TERMS)
    row = result.rows.iloc[0]
    assert (row["moq"], row["case_pack"], row["rank"], row["price_band_pct"]) == (1, 1, 1, 5.0)


def test_location_kind_choices():
    result = validated("倉庫,類型\nWH,\nDS,代發\nD2,Dropship\nX,garage\n", Kind.LOCATIONS)
    assert result.rows["kind"].tolist() == ["warehouse", "dropship", "dropship"]
    assert problems_by_row(result) == {5: ("bad_choice", "kind")}


def test_json_duplicate_and_nested_fields_reject_only_their_rows():
    table = read_table(
        b'[{"sku": "A1", "name": "x"}, {"sku": "B2", "name": "y", "name": "z"},'
        b' {"sku": "C3", "name": {"zh": "w"}}]'
    )
    result = validate(table, Kind.SKUS, TAIPEI)
    assert result.rows["sku"].tolist() == ["A1"]
    assert problems_by_row(result) == {2: ("duplicate_field", "name"), 3: ("not_scalar", "name")}


def test_duplicate_key_names_the_earlier_row():
    result = validated("sku,name\nA1,x\nB2,y\nA1,z\nＡ１,w\n", Kind.SKUS)
    result = reject_where(result, duplicate_keys(result.rows, KEYS[Kind.SKUS]))
    assert result.rows["row"].tolist() == [2, 3]
    rejects = dict(zip(result.rejects["row"], result.rejects["problem"], strict=True))
    assert set(rejects) == {4, 5}
    for problem in rejects.values():
        assert problem.code == "duplicate_key"
        assert problem.params == {"row": "2"}
        assert problem.value == "A1"
    assert "2" in problem_text(rejects[4], "en")
    assert "第 2 列" in problem_text(rejects[4], "zh-TW")


def test_duplicate_key_with_a_blank_part_of_the_key():
    result = validated("sku,on_hand\nA1,1\nA1,2\n", Kind.STOCK)
    problems = duplicate_keys(result.rows, KEYS[Kind.STOCK])
    assert pd.isna(problems.iloc[0])
    assert problems.iloc[1].code == "duplicate_key"
    assert problems.iloc[1].params == {"row": "2"}


def test_sales_lines_are_numbered_in_file_order_counting_rejected_rows():
    result = validated(
        "order_id,sku,qty,timestamp\n"
        "O1,A1,1,2026-11-20\n"
        "O1,A2,bad,2026-11-20\n"
        "O2,A1,1,2026-11-20\n"
        "O1,A3,1,2026-11-20\n",
        Kind.SALES,
    )
    kept = dict(zip(result.rows["row"], result.rows["line"], strict=True))
    assert kept == {2: 1, 4: 1, 5: 3}  # row 5 stays line 3 whether or not row 3 is fixed


def test_header_only_file_validates_to_nothing():
    result = validated("sku,name\n", Kind.SKUS)
    assert result.rows.empty
    assert result.rejects.empty


# --- messages for every code ------------------------------------------------------------------

# Where a code is the n-th positional argument of a call.
_CODE_ARGUMENT = {"TableError": 0, "Problem": 0, "_problems": 3, "lookup": 3}


def _codes_in_core() -> tuple[set[str], set[str]]:
    problems: set[str] = set()
    tables: set[str] = set()
    for path in CORE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            position = _CODE_ARGUMENT.get(name)
            if position is None or len(node.args) <= position:
                continue
            argument = node.args[position]
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                (tables if name == "TableError" else problems).add(argument.value)
    return problems, tables


def test_the_scan_finds_codes():
    problems, tables = _codes_in_core()
    assert {"missing", "negative", "bad_date", "unknown_sku", "duplicate_key"} <= problems
    assert {"bad_encoding", "missing_columns", "ambiguous_columns", "bad_csv"} <= tables


@pytest.mark.parametrize("catalog", [en.MESSAGES, zh_tw.MESSAGES], ids=["en", "zh-TW"])
def test_every_code_core_can_produce_has_a_message(catalog):
    problems, tables = _codes_in_core()
    missing = sorted(
        [f"problem.{c}" for c in problems if f"problem.{c}" not in catalog]
        + [f"table.{c}" for c in tables if f"table.{c}" not in catalog]
    )
    assert missing == []


def test_both_catalogs_have_the_same_keys():
    assert set(en.MESSAGES) == set(zh_tw.MESSAGES)


def test_both_catalogs_use_the_same_placeholders():
    def fields(template: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name}

    for key, english in en.MESSAGES.items():
        assert fields(english) == fields(zh_tw.MESSAGES[key]), key


def test_every_problem_of_a_real_file_reads_without_placeholders():
    result = validated(
        "order_id,line,sku,qty,timestamp,price\n"
        "O1,1,A1,-1,2026-11-20,1\n"
        "O1,2,A1,1.5,2026-11-20,1\n"
        "O1,3,A1,x,2026-11-20,1\n"
        "O1,4,A1,0,2026-11-20,1\n"
        "O1,5,A1,1,garbage,1\n"
        "O1,6,A1,1,2026-11-20,1e13\n"
        "O\x01,7,A1,1,2026-11-20,1\n"
        ",8,A1,1,2026-11-20,1\n",
        Kind.SALES,
    )
    assert len(result.rejects) == 8
    for problem in result.rejects["problem"]:
        for locale in ("zh-TW", "en"):
            text = problem_text(problem, locale)
            assert "{" not in text
            assert text != f"problem.{problem.code}"
