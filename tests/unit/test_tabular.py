"""core.tabular: bytes of a CSV or JSON export → a table of strings with line numbers."""

import codecs
import gzip

import pandas as pd
import pytest

from bot.i18n import table_error_text
from core.tabular import (
    DUPLICATE_FIELD,
    NOT_SCALAR,
    RawTable,
    TableError,
    decode,
    escape_formula,
    read_table,
    to_records,
)

HEADER_ZH = "品號,名稱,數量\n"
ROWS_ZH = "A001,毛巾,3\nB002,牙刷,5\n"


def cells(table: RawTable) -> list[list[str]]:
    return table.frame.to_numpy().tolist()


def refused(data: bytes, code: str, *, name: str = "") -> TableError:
    with pytest.raises(TableError) as caught:
        read_table(data, name=name)
    assert caught.value.code == code, caught.value
    for locale in ("zh-TW", "en"):  # every refusal can be told in both languages
        assert "{" not in table_error_text(caught.value, locale)
    return caught.value


# --- encodings --------------------------------------------------------------------------------


def test_utf8_chinese_headers():
    table = read_table((HEADER_ZH + ROWS_ZH).encode("utf-8"))
    assert table.encoding == "utf-8"
    assert list(table.frame.columns) == ["品號", "名稱", "數量"]
    assert cells(table) == [["A001", "毛巾", "3"], ["B002", "牙刷", "5"]]
    assert table.rows.tolist() == [2, 3]


def test_utf8_with_bom_from_excel():
    table = read_table(codecs.BOM_UTF8 + (HEADER_ZH + ROWS_ZH).encode("utf-8"))
    assert table.encoding == "utf-8-sig"
    assert list(table.frame.columns) == ["品號", "名稱", "數量"]  # no \ufeff on the first
    assert cells(table)[0] == ["A001", "毛巾", "3"]


@pytest.mark.parametrize("encoding", ["cp950", "big5"])
def test_big5_chinese_headers(encoding):
    table = read_table((HEADER_ZH + ROWS_ZH).encode(encoding))
    assert table.encoding in ("cp950", "big5hkscs")
    assert list(table.frame.columns) == ["品號", "名稱", "數量"]
    assert cells(table) == [["A001", "毛巾", "3"], ["B002", "牙刷", "5"]]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_bom(encoding):
    bom = {"utf-16": b"", "utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}
    data = bom[encoding] + (HEADER_ZH + ROWS_ZH).encode(encoding)
    table = read_table(data)
    assert table.encoding == "utf-16"
    assert list(table.frame.columns) == ["品號", "名稱", "數量"]
    assert cells(table)[1] == ["B002", "牙刷", "5"]


def test_utf16_tab_separated_like_excel_unicode_text():
    data = codecs.BOM_UTF16_LE + "品號\t名稱\nA001\t毛巾\n".encode("utf-16-le")
    assert cells(read_table(data)) == [["A001", "毛巾"]]


def test_mixed_utf8_and_big5_is_refused_naming_the_line():
    data = (HEADER_ZH + "A001,毛巾,3\n").encode("utf-8") + "B002,牙刷,5\n".encode("cp950")
    error = refused(data, "bad_encoding")
    assert error.params == {"line": 3}
    assert "line 3" in str(error)


def test_big5_then_utf8_is_refused_too():
    data = (HEADER_ZH + "A001,毛巾,3\n").encode("cp950") + "B002,牙刷,5\n".encode()
    error = refused(data, "bad_encoding")
    assert error.params["line"] == 1  # the first line that is not UTF-8


def test_bytes_that_are_no_known_encoding_are_refused():
    error = refused(b"sku,name\nA1,ok\nB2,\xff\xfe\xfa\n", "bad_encoding")
    assert error.params == {"line": 3}


def test_bom_promising_utf8_but_holding_big5_is_refused():
    data = codecs.BOM_UTF8 + b"sku,name\n" + "A1,毛巾\n".encode("cp950")
    assert refused(data, "bad_encoding").params == {"line": 2}


def test_decode_plain_ascii_is_utf8():
    assert decode(b"sku\nA1\n") == ("sku\nA1\n", "utf-8")


# --- CSV shapes -------------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", "\t", ";"])
def test_delimiters(delimiter):
    text = delimiter.join(["sku", "name", "qty"]) + "\n" + delimiter.join(["A1", "x", "2"])
    table = read_table(text.encode())
    assert list(table.frame.columns) == ["sku", "name", "qty"]
    assert cells(table) == [["A1", "x", "2"]]


def test_semicolon_file_keeps_commas_inside_cells():
    table = read_table(b"sku;name;price\nA1;Towel, large;1,234\n")
    assert cells(table) == [["A1", "Towel, large", "1,234"]]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_blank_lines_keep_line_numbers(newline):
    lines = ["sku,name", "", "A1,x", "", "", "B2,y", ",", "C3,z", ""]
    table = read_table(newline.join(lines).encode())
    assert cells(table) == [["A1", "x"], ["B2", "y"], ["C3", "z"]]
    assert table.rows.tolist() == [3, 6, 8]


def test_leading_blank_lines_before_the_header():
    table = read_table(b"\n  \r\nsku,name\nA1,x\n\nB2,y\n")
    assert list(table.frame.columns) == ["sku", "name"]
    assert table.rows.tolist() == [4, 6]


def test_quoted_cell_spanning_lines_keeps_later_line_numbers():
    table = read_table(b'sku,name\nA1,"two\nlines"\n\nB2,y\nC3,"a\r\nb\r\nc"\nD4,z\n')
    assert cells(table) == [["A1", "two\nlines"], ["B2", "y"], ["C3", "a\r\nb\r\nc"], ["D4", "z"]]
    assert table.rows.tolist() == [2, 5, 6, 9]


def test_short_rows_are_padded_with_empty_cells():
    table = read_table(b"sku,name,price\nA1\nB2,y,3\n")
    assert cells(table) == [["A1", "", ""], ["B2", "y", "3"]]


def test_row_longer_than_the_header_refuses_the_file():
    error = refused(b"sku,name\nA1,x\nB2,y,surplus\n", "bad_csv")
    assert "3" in error.params["detail"]


def test_row_longer_than_the_header_after_a_multiline_cell():
    refused(b'sku,name\nA1,"x\ny"\nB2,y,surplus\n', "bad_csv")


def test_unterminated_quote_refuses_the_file():
    refused(b'sku,name\nA1,"never closed\nB2,y\n', "bad_csv")


def test_quotes_and_cells_are_kept_verbatim():
    table = read_table(b'sku,name\n"A1","say ""hi"""\n  B2 , y \n')
    assert cells(table) == [["A1", 'say "hi"'], ["  B2 ", " y "]]


def test_header_cells_are_trimmed():
    table = read_table(b" sku , Name \nA1,x\n")
    assert list(table.frame.columns) == ["sku", "Name"]


def test_repeated_header_names_are_kept_not_renamed():
    table = read_table(b"qty,qty\n1,2\n")
    assert list(table.frame.columns) == ["qty", "qty"]


def test_trailing_empty_columns_from_excel():
    table = read_table(b"sku,name,,\nA1,x,,\n")
    assert list(table.frame.columns)[:2] == ["sku", "name"]
    assert table.frame.iloc[0, :2].tolist() == ["A1", "x"]


def test_header_only_gives_an_empty_table():
    table = read_table(b"sku,name\n")
    assert table.frame.empty
    assert list(table.frame.columns) == ["sku", "name"]
    assert table.rows.tolist() == []


@pytest.mark.parametrize("data", [b"", b"\n\n", b"   \r\n\t\n", codecs.BOM_UTF8])
def test_empty_file(data):
    refused(data, "empty_file")


def test_unicode_line_separators_stay_inside_cells():
    table = read_table("sku,name\nA1,b\u2028c\x85d\u2029e\n".encode())
    assert cells(table) == [["A1", "b\u2028c\x85d\u2029e"]]
    assert table.rows.tolist() == [2]


def test_nul_characters_are_dropped_not_cutting_the_cell_short():
    table = read_table("sku,name\nA1,a\x00b\u2028c\nB2\x00,\x00\x00y\n".encode())
    assert cells(table) == [["A1", "ab\u2028c"], ["B2", "y"]]


def test_utf16_without_bom_read_as_utf8_loses_its_nuls_and_still_reads():
    table = read_table("sku,name\nA1,x\n".encode("utf-16-le"))
    assert cells(table) == [["A1", "x"]]


# --- gzip -------------------------------------------------------------------------------------


def test_gzip_csv():
    table = read_table(gzip.compress((HEADER_ZH + ROWS_ZH).encode("cp950")), name="stock.csv.gz")
    assert table.fmt == "csv"
    assert cells(table)[0] == ["A001", "毛巾", "3"]


def test_gzip_json_by_name():
    table = read_table(gzip.compress(b'[{"sku": "A1"}]'), name="items.json.gz")
    assert table.fmt == "json"
    assert cells(table) == [["A1"]]


@pytest.mark.parametrize("damage", ["truncate", "scramble"])
def test_damaged_gzip(damage):
    data = bytearray(gzip.compress(b"sku,name\n" + b"A1,x\n" * 500))
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data[15:40] = b"x" * 25
    refused(bytes(data), "gzip_damaged")


# --- JSON -------------------------------------------------------------------------------------


def test_json_array_of_objects():
    table = read_table('[{"sku": "A1", "數量": 3}, {"sku": "B2", "note": "x"}]'.encode())
    assert table.fmt == "json"
    assert list(table.frame.columns) == ["sku", "數量", "note"]
    assert cells(table) == [["A1", "3", ""], ["B2", "", "x"]]
    assert table.rows.tolist() == [1, 2]


def test_json_object_holding_one_array():
    table = read_table(b'{"exported": "2026-11-20", "count": 1, "items": [{"sku": "A1"}]}')
    assert cells(table) == [["A1"]]


def test_json_object_with_two_arrays_is_ambiguous():
    refused(b'{"items": [{"sku": "A1"}], "more": [{"sku": "B2"}]}', "json_shape")


@pytest.mark.parametrize("data", [b'"just text"', b"42", b'{"sku": "A1"}'])
def test_json_without_rows(data):
    refused(data, "json_shape", name="x.json")


def test_json_empty_array():
    refused(b"[]", "empty_file")


def test_json_row_that_is_not_an_object():
    assert refused(b'[{"sku": "A1"}, ["B2"]]', "json_row_shape").params == {"row": 2}


def test_json_syntax_error_names_the_line():
    assert refused(b'[\n{"sku": "A1"},\n{"sku": }\n]', "bad_json").params == {"line": 3}


def test_json_nested_too_deep_is_refused_not_a_crash():
    refused(b"[" * 100_000, "bad_json")


def test_json_lone_surrogate_escape_is_refused():
    error = refused(b'[\n{"sku": "A1"},\n{"sku": "\\ud800"}\n]', "bad_json")
    assert error.params == {"line": 3}


def test_json_surrogate_pair_is_a_character():
    assert cells(read_table(b'[{"name": "\\ud83d\\ude00"}]')) == [["\U0001f600"]]


def test_json_duplicate_keys_are_marked_not_silently_dropped():
    table = read_table(b'[{"sku": "A1", "qty": 1, "qty": 2}, {"sku": "B2", " sku ": "C3"}]')
    assert cells(table) == [["A1", DUPLICATE_FIELD], [DUPLICATE_FIELD, ""]]


def test_json_nested_values_are_marked():
    table = read_table(b'[{"sku": {"code": "A1"}, "tags": ["x"], "qty": null}]')
    assert cells(table) == [[NOT_SCALAR, NOT_SCALAR, ""]]


def test_json_scalars_become_text():
    data = b'[{"a": 3, "b": 3.0, "c": 2.5, "d": true, "e": -0.0, "f": 12345678901234567890}]'
    assert cells(read_table(data)) == [["3", "3", "2.5", "true", "0", "12345678901234567890"]]


def test_json_integer_too_long_for_python_stays_text():
    table = read_table(b'[{"qty": ' + b"1" * 5000 + b', "n": -0}]')
    assert cells(table) == [["1" * 5000, "-0"]]


def test_json_nan_and_overflowing_numbers_are_not_numbers():
    table = read_table(b'[{"q": NaN}, {"q": 1e309}, {"q": -1e309}, {"q": Infinity}]')
    assert cells(table) == [["nan"], ["inf"], ["-inf"], ["inf"]]


def test_json_in_big5():
    table = read_table('[{"品號": "A1", "名稱": "毛巾"}]'.encode("cp950"), name="x.json")
    assert table.encoding == "cp950"
    assert cells(table) == [["A1", "毛巾"]]


# --- escape_formula and to_records ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\r=1", "'\r=1"),
        ("毛巾", "毛巾"),
        ("A=1", "A=1"),
        ("", ""),
    ],
)
def test_escape_formula(value, escaped):
    assert escape_formula(value) == escaped


def test_to_records_gives_plain_python_with_none_for_missing():
    frame = pd.DataFrame(
        {
            "n": pd.array([1, None], dtype="Int64"),
            "x": [1.5, float("nan")],
            "s": ["a", None],
            "t": pd.to_datetime(["2026-11-20 15:30", None], utc=True),
        }
    )
    first, second = to_records(frame)
    assert first["n"] == 1
    assert first["x"] == 1.5
    assert first["s"] == "a"
    assert first["t"].isoformat() == "2026-11-20T15:30:00+00:00"
    assert second == {"n": None, "x": None, "s": None, "t": None}
