"""What each import kind looks like, and row-by-row validation of a table against it.

A file is refused whole when it cannot be read or lacks a required column; otherwise each
row is accepted or rejected on its own, with a `Problem` naming the field and the rule.
Column headers may be English or Chinese: `FieldSpec.aliases` is the documented table.
"""

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache, partial
from zoneinfo import ZoneInfo

import pandas as pd

from core import fields as f
from core.fields import Problem
from core.tabular import RawTable, TableError


class Kind(StrEnum):
    LOCATIONS = "locations"
    SKUS = "skus"
    SUPPLIERS = "suppliers"
    TERMS = "terms"
    STOCK = "stock"
    SALES = "sales"
    PROMOTIONS = "promotions"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    aliases: tuple[str, ...]
    parser: str  # a key of `parsers_for`
    required: bool = False  # the column must exist and every cell must be filled
    default: object = None


def _spec(
    name: str, parser: str, *aliases: str, required: bool = False, default: object = None
) -> FieldSpec:
    return FieldSpec(name, (name, *aliases), parser, required, default)


SKU = _spec(
    "sku",
    "code",
    "sku_code",
    "code",
    "item",
    "item_code",
    "product_code",
    "品號",
    "商品編號",
    "料號",
    "貨號",
    "商品代碼",
    "sku編號",
    "品項編號",
    required=True,
)
LOCATION = _spec(
    "location", "code", "warehouse", "location_code", "倉庫", "倉別", "倉庫代碼", "地點", "庫位"
)
SUPPLIER = _spec(
    "supplier",
    "code",
    "supplier_code",
    "vendor",
    "vendor_code",
    "供應商",
    "供應商代碼",
    "廠商",
    "廠商代碼",
    "廠商編號",
    required=True,
)

SPECS: dict[Kind, tuple[FieldSpec, ...]] = {
    Kind.LOCATIONS: (
        _spec("location", "code", "code", "倉庫", "倉別", "倉庫代碼", "地點", required=True),
        _spec("name", "text", "名稱", "倉庫名稱"),
        _spec("kind", "location_kind", "type", "類型", "種類", default="warehouse"),
    ),
    Kind.SKUS: (
        SKU,
        _spec(
            "name",
            "text",
            "sku_name",
            "product_name",
            "title",
            "品名",
            "商品名稱",
            "名稱",
            required=True,
        ),
        _spec("category", "text", "分類", "類別", "商品分類", "品類"),
        _spec("unit", "text", "uom", "單位"),
        _spec("unit_cost", "money", "cost", "成本", "進價", "單位成本"),
        _spec("price", "money", "selling_price", "售價", "單價", "定價"),
    ),
    Kind.SUPPLIERS: (
        SUPPLIER,
        _spec("name", "text", "supplier_name", "供應商名稱", "廠商名稱", "名稱", required=True),
        _spec("contact_name", "text", "contact", "聯絡人", "窗口"),
        _spec("phone", "text", "tel", "電話", "聯絡電話"),
        _spec("emergency_contact", "text", "緊急聯絡人"),
        _spec("emergency_phone", "text", "緊急電話", "緊急聯絡電話"),
        _spec("email", "text", "e-mail", "電子郵件", "信箱"),
    ),
    Kind.TERMS: (
        SUPPLIER,
        SKU,
        _spec(
            "supplier_sku",
            "text",
            "vendor_sku",
            "supplier_code_for_sku",
            "廠商料號",
            "供應商品號",
            "廠商品號",
        ),
        _spec(
            "unit_price",
            "money",
            "price",
            "cost",
            "進價",
            "採購價",
            "採購單價",
            "單價",
            required=True,
        ),
        _spec(
            "price_band_pct",
            "ratio",
            "price_band",
            "band_pct",
            "價格浮動範圍",
            "價格帶",
            "議價範圍",
            default=5.0,
        ),
        _spec(
            "lead_time_days",
            "quantity",
            "lead_time",
            "leadtime",
            "交期",
            "交期天數",
            "前置天數",
            "前置時間",
            required=True,
        ),
        _spec("moq", "positive_quantity", "min_order_qty", "最小訂購量", "起訂量", default=1),
        _spec("case_pack", "positive_quantity", "pack_size", "箱入數", "包裝量", "入數", default=1),
        _spec("rank", "positive_quantity", "priority", "順位", "優先順序", default=1),
    ),
    Kind.STOCK: (
        SKU,
        LOCATION,
        _spec(
            "on_hand",
            "quantity",
            "qty",
            "quantity",
            "stock",
            "在庫量",
            "庫存",
            "庫存數量",
            "現有庫存",
            "數量",
            required=True,
        ),
        _spec("reserved", "quantity", "allocated", "保留量", "保留", "預留", "已配量", default=0),
        _spec(
            "as_of",
            "timestamp",
            "timestamp",
            "date",
            "snapshot_at",
            "盤點時間",
            "時間",
            "日期",
            "快照時間",
        ),
    ),
    Kind.SALES: (
        _spec(
            "order_id",
            "code",
            "order",
            "order_no",
            "order_number",
            "訂單編號",
            "訂單號碼",
            "訂單號",
            required=True,
        ),
        _spec(
            "line",
            "positive_quantity",
            "line_no",
            "line_number",
            "item_no",
            "項次",
            "明細序號",
            "序號",
        ),
        SKU,
        _spec(
            "qty", "positive_quantity", "quantity", "數量", "銷售數量", "購買數量", required=True
        ),
        _spec(
            "timestamp",
            "timestamp",
            "ordered_at",
            "order_time",
            "created_at",
            "date",
            "time",
            "下單時間",
            "訂單時間",
            "訂購日期",
            "交易日期",
            "銷售日期",
            "日期",
            "時間",
            required=True,
        ),
        _spec("channel", "text", "source", "通路", "銷售通路", "來源", default=""),
        _spec("price", "money", "unit_price", "單價", "售價", "成交價"),
        LOCATION,
    ),
    Kind.PROMOTIONS: (
        _spec(
            "name", "text", "promotion", "campaign", "活動名稱", "活動", "檔期名稱", required=True
        ),
        _spec("sku", "code", *SKU.aliases[1:]),
        _spec("category", "text", "分類", "類別", "商品分類"),
        _spec("start", "date", "start_date", "from", "開始日期", "開始", required=True),
        _spec("end", "date", "end_date", "to", "結束日期", "結束", required=True),
        _spec("uplift", "ratio", "expected_uplift", "預期提升", "預估倍數", "提升倍數"),
    ),
}

KEYS: dict[Kind, tuple[str, ...]] = {
    Kind.LOCATIONS: ("location",),
    Kind.SKUS: ("sku",),
    Kind.SUPPLIERS: ("supplier",),
    Kind.TERMS: ("supplier", "sku"),
    Kind.STOCK: ("sku", "location", "as_of"),
    Kind.SALES: ("order_id", "line"),
    Kind.PROMOTIONS: ("name", "sku", "category", "start"),
}


def parsers_for(tz: ZoneInfo) -> dict[str, f.Parser]:
    return {
        "text": f.text,
        "code": f.code,
        "money": f.money,
        "ratio": f.ratio,
        "quantity": f.quantity,
        "positive_quantity": f.positive_quantity,
        "date": f.local_date,
        "timestamp": partial(f.local_timestamp, tz=tz),
        "location_kind": _location_kind,
    }


def _location_kind(name: str, column: pd.Series) -> f.Parsed:
    values = (
        f.normalise(column)
        .str.lower()
        .replace({"": "warehouse", "倉庫": "warehouse", "代發": "dropship"})
    )
    bad = ~values.isin(["warehouse", "dropship"])
    return f.Parsed(
        values, f._first(f.structural(name, column), f._problems(name, column, bad, "bad_choice"))
    )


@lru_cache(maxsize=4096)  # every request maps its headers and all ~60 aliases (22 ms a call)
def _header_key(header: str) -> str:
    return re.sub(r"[\s_\-.()（）]", "", f.normalise(pd.Series([header]))[0].lower())


def map_headers(columns: list[str], kind: Kind) -> dict[str, str]:
    """Source column → field name. Refuses a file missing a required column."""
    by_alias = {_header_key(a): spec.name for spec in SPECS[kind] for a in spec.aliases}
    mapping: dict[str, str] = {}
    for column in columns:
        name = by_alias.get(_header_key(column))
        if name is None:
            continue
        if name in mapping.values():
            other = next(c for c, n in mapping.items() if n == name)
            raise TableError(
                "ambiguous_columns",
                f"columns {other!r} and {column!r} both mean {name!r}",
                field=name,
                columns=f"{other}, {column}",
            )
        mapping[column] = name
    missing = [s.name for s in SPECS[kind] if s.required and s.name not in mapping.values()]
    if missing:
        raise TableError(
            "missing_columns",
            f"missing required column(s) {', '.join(missing)};"
            f" expected columns: {expected_columns(kind)}",
            missing=", ".join(missing),
            expected=expected_columns(kind),
        )
    return mapping


def expected_columns(kind: Kind) -> str:
    """`sku* (品號/商品編號/…), name*, …`: the columns a kind takes, * when required."""
    return ", ".join(_expected(spec) for spec in SPECS[kind])


def _expected(spec: FieldSpec) -> str:
    chinese = "/".join(a for a in spec.aliases if not a.isascii())
    return f"{spec.name}{'*' if spec.required else ''}" + (f" ({chinese})" if chinese else "")


@dataclass(frozen=True)
class Validated:
    """Typed rows that passed (with their `row` number) and the rows that did not."""

    rows: pd.DataFrame
    rejects: pd.DataFrame  # row, problem (a Problem), and the source cells
    source: pd.DataFrame  # the file's cells, indexed by row number
    ignored_columns: tuple[str, ...]
    fields: tuple[str, ...] = ()  # the fields the file has a column for


def validate(table: RawTable, kind: Kind, tz: ZoneInfo) -> Validated:
    """Type every field and keep the first problem of each row."""
    mapping = map_headers(list(table.frame.columns), kind)
    cells_by_field = table.frame.rename(columns=mapping)
    parsers = parsers_for(tz)
    typed: dict[str, pd.Series] = {}
    problems: list[pd.Series] = []
    for spec in SPECS[kind]:
        cells = cells_by_field.get(spec.name, pd.Series("", index=table.frame.index)).astype(str)
        parsed = parsers[spec.parser](spec.name, cells)
        missing = (cells.str.strip() == "") & spec.required
        problems.append(
            f._first(f._problems(spec.name, cells, missing, "missing"), parsed.problems)
        )
        typed[spec.name] = _with_default(parsed.values, cells, spec)
    rows = pd.DataFrame(typed).assign(row=table.rows.to_numpy())
    if kind is Kind.SALES:
        rows = _number_lines(rows)
    source = table.frame.set_axis(table.rows.to_numpy())
    ignored = tuple(c for c in table.frame.columns if c not in mapping)
    no_rejects = source.iloc[:0].assign(row=[], problem=[])
    empty = Validated(rows, no_rejects, source, ignored, tuple(mapping.values()))
    return reject_where(empty, f._first(*problems))


def _number_lines(rows: pd.DataFrame) -> pd.DataFrame:
    """Without a line column, lines are numbered in file order within each order.

    Every row of the file counts, rejected ones too, so fixing a rejected row and importing
    the file again gives each line the number it had the first time.
    """
    implicit = rows.groupby("order_id", sort=False).cumcount() + 1
    return rows.assign(line=rows["line"].fillna(implicit).astype("Int64"))


def _with_default(values: pd.Series, cells: pd.Series, spec: FieldSpec) -> pd.Series:
    if spec.default is None:
        return values
    return values.where(cells.str.strip() != "", spec.default)


def reject_where(validated: Validated, problems: pd.Series) -> Validated:
    """Move the rows that have a problem (aligned with `rows`) to the rejects."""
    bad = problems.notna().to_numpy()
    if not bad.any():
        return validated
    rows = validated.rows
    numbers = rows["row"].to_numpy()[bad]
    moved = validated.source.loc[numbers].assign(row=numbers, problem=problems.to_numpy()[bad])
    rejects = pd.concat([validated.rejects, moved], ignore_index=True).sort_values("row")
    rejects["row"] = rejects["row"].astype("int64")
    rejects = rejects.reset_index(drop=True)
    kept = rows[~bad].reset_index(drop=True)
    return dataclasses.replace(validated, rows=kept, rejects=rejects)


def lookup(
    rows: pd.DataFrame, column: str, ids: Mapping[str, int], code: str
) -> tuple[pd.Series, pd.Series]:
    """Map codes to ids; a filled-in code that is not known becomes a Problem."""
    found = rows[column].map(ids)
    unknown = found.isna() & (rows[column] != "")
    return found, f._problems(column, rows[column], unknown, code)


def duplicate_keys(rows: pd.DataFrame, key: tuple[str, ...]) -> pd.Series:
    """A Problem on every row whose key already appeared on an earlier row."""
    columns = list(key)
    repeated = rows.duplicated(columns, keep="first").to_numpy()
    out = pd.Series(None, index=rows.index, dtype=object)
    if repeated.any():
        first = rows.groupby(columns, dropna=False, sort=False)["row"].transform("first")
        keys = rows[columns].astype(object)
        shown = keys.where(keys.notna(), "").astype(str).agg(" / ".join, axis=1)
        out[repeated] = [
            Problem("duplicate_key", "+".join(key), value, {"row": str(row)})
            for value, row in zip(shown[repeated], first[repeated], strict=True)
        ]
    return out
