"""import_bytes end to end, on SQLite and PostgreSQL: every kind, re-imports, refusals."""

import datetime as dt
import gzip
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import sqlalchemy as sa

from core.imports import ImportReport, current_stock, import_bytes
from core.ingest import Kind
from core.models import (
    Location,
    Promotion,
    SalesDay,
    SalesLine,
    Sku,
    StockLevel,
    Supplier,
    SupplierTerm,
)
from core.store import Store
from core.tabular import TableError, escape_formula

TAIPEI = ZoneInfo("Asia/Taipei")
TABLES = (Location, Sku, Supplier, SupplierTerm, Promotion, StockLevel, SalesLine, SalesDay)

LOCATIONS_CSV = "倉庫代碼,倉庫名稱,類型\nWH,總倉,倉庫\nDS1,代發夥伴一,代發\n"
SKUS_JSON = json.dumps(
    {
        "exported_at": "2026-11-20",
        "items": [
            {"sku": "A1", "name": "厚棉毛巾", "category": "毛巾", "unit_cost": 80, "price": 150},
            {"sku": "B2", "name": "軟毛牙刷", "category": "牙刷", "price": "1,200.5"},
            {"sku": "C3", "name": "洗衣球", "category": "清潔"},
        ],
    },
    ensure_ascii=False,
)
SUPPLIERS_CSV = (
    "廠商代碼,廠商名稱,聯絡人,緊急電話\nS1,好棉紡織,王小姐,0912-345-678\nS2,潔淨日用,,\n"
)
TERMS_CSV = (
    "supplier,sku,unit_price,lead_time_days,moq,case_pack,rank\n"
    "S1,A1,80,7,50,10,1\n"
    "S2,A1,85,5,,,2\n"
    "S2,B2,30,3,100,,1\n"
)
STOCK_CSV = (
    "品號,倉庫,在庫量,保留量,盤點時間\n"
    "A1,WH,120,5,2026-11-20 08:00\n"
    "B2,WH,40,0,2026-11-20 08:00\n"
    "A1,DS1,12,,2026-11-20 08:00\n"
)
SALES_CSV = (
    "訂單編號,項次,品號,數量,下單時間,通路,單價,倉庫\n"
    "O1,1,A1,2,2026-11-20 23:30,line,150,WH\n"
    "O1,2,B2,1,2026-11-20 23:30,line,30,WH\n"
    "O2,1,A1,3,2026-11-21 00:30,line,140,WH\n"
    "O3,1,A1,1,2026-11-20T10:00:00+08:00,fb,150,WH\n"
    "O4,1,A1,4,2026-11-20T16:00:00Z,line,100,WH\n"
)
PROMOTIONS_CSV = (
    "活動名稱,品號,分類,開始日期,結束日期,預期提升\n"
    "雙11,A1,,2026-11-01,2026-11-11,2.5\n"
    "毛巾週,,毛巾,115/12/01,115/12/07,\n"
)


def run(store: Store, kind: Kind, data: str | bytes, **kwargs) -> ImportReport:
    raw = data.encode() if isinstance(data, str) else data
    return import_bytes(store, kind, raw, tz=TAIPEI, **kwargs)


def snapshot(store: Store) -> dict[str, list[tuple]]:
    """Every row of every import table, ids included, in a stable order."""
    with store.read() as session:
        return {
            model.__tablename__: [
                tuple(row) for row in session.execute(sa.select(model).order_by(model.id)).all()
            ]
            for model in TABLES
        }


def count(store: Store, model) -> int:
    with store.read() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model))


def codes(report: ImportReport) -> dict[int, str]:
    pairs = zip(report.rejects["row"], report.rejects["problem"], strict=True)
    return {int(row): problem.code for row, problem in pairs}


def rows_of(store: Store, model, *columns: str) -> list[tuple]:
    table = model.__table__
    query = sa.select(*(table.c[c] for c in columns)).order_by(*(table.c[c] for c in columns))
    with store.read() as session:
        return [tuple(row) for row in session.execute(query).all()]


def sales_days(store: Store) -> dict[tuple, tuple[int, Decimal]]:
    """(sku, location, channel, day) → (qty, revenue), by codes."""
    d, s, loc = SalesDay.__table__, Sku.__table__, Location.__table__
    query = (
        sa.select(s.c.code, loc.c.code, d.c.channel, d.c.day, d.c.qty, d.c.revenue)
        .join(s, s.c.id == d.c.sku_id)
        .join(loc, loc.c.id == d.c.location_id)
    )
    with store.read() as session:
        result = session.execute(query).all()
    return {(a, b, c, day): (qty, Decimal(revenue)) for a, b, c, day, qty, revenue in result}


def seed(store: Store, *kinds: Kind) -> None:
    sources = {
        Kind.LOCATIONS: LOCATIONS_CSV,
        Kind.SKUS: SKUS_JSON,
        Kind.SUPPLIERS: SUPPLIERS_CSV,
        Kind.TERMS: TERMS_CSV,
        Kind.STOCK: STOCK_CSV,
        Kind.SALES: SALES_CSV,
        Kind.PROMOTIONS: PROMOTIONS_CSV,
    }
    for kind in kinds:
        report = run(store, kind, sources[kind])
        assert report.rejected == 0, report.rejects


MASTER = (Kind.LOCATIONS, Kind.SKUS, Kind.SUPPLIERS)


# --- each kind --------------------------------------------------------------------------------


def test_locations(any_store):
    report = run(any_store, Kind.LOCATIONS, LOCATIONS_CSV)
    assert (report.imported, report.duplicates, report.rejected) == (2, 0, 0)
    assert rows_of(any_store, Location, "code", "name", "kind") == [
        ("DS1", "代發夥伴一", "dropship"),
        ("WH", "總倉", "warehouse"),
    ]


def test_skus_from_json(any_store):
    report = run(any_store, Kind.SKUS, SKUS_JSON, name="skus.json")
    assert (report.imported, report.rejected) == (3, 0)
    assert report.encoding == "utf-8"
    stored = rows_of(any_store, Sku, "code", "name", "category", "unit_cost", "price")
    assert stored == [
        ("A1", "厚棉毛巾", "毛巾", Decimal("80.00"), Decimal("150.00")),
        ("B2", "軟毛牙刷", "牙刷", None, Decimal("1200.50")),
        ("C3", "洗衣球", "清潔", None, None),
    ]


def test_suppliers(any_store):
    report = run(any_store, Kind.SUPPLIERS, SUPPLIERS_CSV)
    assert report.imported == 2
    assert rows_of(any_store, Supplier, "code", "name", "contact_name", "emergency_phone") == [
        ("S1", "好棉紡織", "王小姐", "0912-345-678"),
        ("S2", "潔淨日用", "", ""),
    ]


def test_terms(any_store):
    seed(any_store, *MASTER)
    report = run(any_store, Kind.TERMS, TERMS_CSV)
    assert (report.imported, report.rejected) == (3, 0)
    t, s, k = SupplierTerm.__table__, Supplier.__table__, Sku.__table__
    query = (
        sa.select(s.c.code, k.c.code, t.c.unit_price, t.c.lead_time_days, t.c.moq, t.c.case_pack)
        .add_columns(t.c.rank, t.c.price_band_pct)
        .join(s, s.c.id == t.c.supplier_id)
        .join(k, k.c.id == t.c.sku_id)
        .order_by(s.c.code, k.c.code)
    )
    with any_store.read() as session:
        stored = [tuple(r) for r in session.execute(query).all()]
    assert stored == [
        ("S1", "A1", Decimal("80.00"), 7, 50, 10, 1, 5.0),
        ("S2", "A1", Decimal("85.00"), 5, 1, 1, 2, 5.0),
        ("S2", "B2", Decimal("30.00"), 3, 100, 1, 1, 5.0),
    ]


def as_utc(value) -> pd.Timestamp:
    """A stored datetime as UTC (SQLite hands it back without its zone)."""
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")


def test_stock(any_store):
    seed(any_store, *MASTER)
    report = run(any_store, Kind.STOCK, STOCK_CSV)
    assert (report.imported, report.rejected) == (3, 0)
    stored = rows_of(any_store, StockLevel, "on_hand", "reserved", "as_of")
    assert [row[:2] for row in stored] == [(12, 0), (40, 0), (120, 5)]
    # 08:00 in Taipei is midnight UTC
    assert {as_utc(row[2]) for row in stored} == {pd.Timestamp("2026-11-20 00:00", tz="UTC")}


def test_sales_and_local_day_bucketing(any_store):
    seed(any_store, *MASTER)
    report = run(any_store, Kind.SALES, SALES_CSV)
    assert (report.imported, report.duplicates, report.rejected) == (5, 0, 0)
    nov20, nov21 = dt.date(2026, 11, 20), dt.date(2026, 11, 21)
    assert sales_days(any_store) == {
        # 23:30 local on the 20th stays on the 20th; 16:00Z is 00:00 on the 21st in Taipei
        ("A1", "WH", "line", nov20): (2, Decimal("300.00")),
        ("B2", "WH", "line", nov20): (1, Decimal("30.00")),
        ("A1", "WH", "fb", nov20): (1, Decimal("150.00")),
        ("A1", "WH", "line", nov21): (3 + 4, Decimal("820.00")),
    }
    stored = rows_of(any_store, SalesLine, "order_id", "line_no", "ordered_at", "sale_date")
    assert [row[:2] for row in stored] == [("O1", 1), ("O1", 2), ("O2", 1), ("O3", 1), ("O4", 1)]
    assert as_utc(stored[0][2]) == pd.Timestamp("2026-11-20 15:30", tz="UTC")
    assert as_utc(stored[2][2]) == pd.Timestamp("2026-11-20 16:30", tz="UTC")
    assert [row[3] for row in stored] == [nov20, nov20, nov21, nov20, nov21]


def test_promotions(any_store):
    seed(any_store, *MASTER)
    report = run(any_store, Kind.PROMOTIONS, PROMOTIONS_CSV)
    assert (report.imported, report.rejected) == (2, 0)
    stored = rows_of(any_store, Promotion, "name", "category", "start_date", "end_date", "uplift")
    assert stored == [
        ("毛巾週", "毛巾", dt.date(2026, 12, 1), dt.date(2026, 12, 7), None),
        ("雙11", None, dt.date(2026, 11, 1), dt.date(2026, 11, 11), 2.5),
    ]


def test_big5_file_with_chinese_headers(any_store):
    data = SUPPLIERS_CSV.replace("0912-345-678", "0912345678").encode("cp950")
    report = run(any_store, Kind.SUPPLIERS, data)
    assert report.encoding == "cp950"
    assert rows_of(any_store, Supplier, "name") == [("好棉紡織",), ("潔淨日用",)]


def test_gzip_sales_file(any_store):
    seed(any_store, *MASTER)
    report = run(any_store, Kind.SALES, gzip.compress(SALES_CSV.encode()), name="sales.csv.gz")
    assert report.imported == 5


# --- importing again --------------------------------------------------------------------------

SOURCES = {
    Kind.LOCATIONS: (LOCATIONS_CSV, 2),
    Kind.SKUS: (SKUS_JSON, 3),
    Kind.SUPPLIERS: (SUPPLIERS_CSV, 2),
    Kind.TERMS: (TERMS_CSV, 3),
    Kind.STOCK: (STOCK_CSV, 3),
    Kind.SALES: (SALES_CSV, 5),
    Kind.PROMOTIONS: (PROMOTIONS_CSV, 2),
}


@pytest.mark.parametrize("kind", list(SOURCES))
def test_reimporting_the_same_bytes_changes_nothing(any_store, kind):
    seed(any_store, *MASTER)
    data, rows = SOURCES[kind]
    if kind not in MASTER:
        run(any_store, kind, data)
    before = snapshot(any_store)
    report = run(any_store, kind, data)
    assert (report.imported, report.duplicates, report.rejected) == (0, rows, 0)
    assert snapshot(any_store) == before


def test_changed_row_updates_in_place(any_store):
    seed(any_store, *MASTER)
    data = "sku,name,category,price\nA1,厚棉毛巾(大),毛巾,160\nB2,軟毛牙刷,牙刷,1200.5\n"
    report = run(any_store, Kind.SKUS, data)
    assert (report.imported, report.duplicates) == (1, 1)
    assert count(any_store, Sku) == 3
    assert rows_of(any_store, Sku, "code", "name", "price", "unit_cost")[0] == (
        "A1",
        "厚棉毛巾(大)",
        Decimal("160.00"),
        Decimal("80.00"),  # no unit_cost column: the stored cost stays
    )


def test_a_file_without_a_column_leaves_that_column_alone(any_store):
    seed(any_store, *MASTER, Kind.TERMS, Kind.PROMOTIONS)
    before = snapshot(any_store)
    skus = run(any_store, Kind.SKUS, "sku,name\nA1,厚棉毛巾\nB2,軟毛牙刷\nC3,洗衣球\n")
    assert (skus.imported, skus.duplicates) == (0, 3)
    terms = run(any_store, Kind.TERMS, "supplier,sku,unit_price,lead_time_days\nS1,A1,80,7\n")
    assert (terms.imported, terms.duplicates) == (0, 1)  # moq 50, case pack 10 stay
    suppliers = run(any_store, Kind.SUPPLIERS, "supplier,name\nS1,好棉紡織\n")
    assert (suppliers.imported, suppliers.duplicates) == (0, 1)
    promotions = run(
        any_store, Kind.PROMOTIONS, "name,sku,start,end\n雙11,A1,2026-11-01,2026-11-11\n"
    )
    assert (promotions.imported, promotions.duplicates) == (0, 1)  # the uplift stays
    assert snapshot(any_store) == before
    run(any_store, Kind.SKUS, "sku,name,category\nC3,洗衣球,\n")  # a blank cell does clear
    assert rows_of(any_store, Sku, "code", "category")[2] == ("C3", "")


def test_new_rows_from_a_partial_file_get_defaults(any_store):
    seed(any_store, *MASTER)
    report = run(any_store, Kind.SKUS, "sku,name\nD4,新品\n")
    assert report.imported == 1
    assert rows_of(any_store, Sku, "code", "category", "unit", "price")[3] == ("D4", "", "", None)


def test_sales_deduplicated_by_order_and_line(any_store):
    seed(any_store, *MASTER)
    run(any_store, Kind.SALES, SALES_CSV)
    before = sales_days(any_store)
    again = SALES_CSV.replace("O1,1,A1,2,", "O1,1,A1,99,")  # same key, other cells
    report = run(any_store, Kind.SALES, again)
    assert (report.imported, report.duplicates) == (0, 5)
    assert sales_days(any_store) == before
    assert count(any_store, SalesLine) == 5


def test_overlapping_sales_file_only_adds_new_lines(any_store):
    seed(any_store, *MASTER)
    run(any_store, Kind.SALES, SALES_CSV)
    overlap = (
        "訂單編號,項次,品號,數量,下單時間,通路,單價,倉庫\n"
        "O2,1,A1,3,2026-11-21 00:30,line,140,WH\n"  # already stored
        "O4,1,A1,4,2026-11-20T16:00:00Z,line,100,WH\n"  # already stored
        "O5,1,A1,5,2026-11-21 12:00,line,100,WH\n"
        "O5,2,B2,2,2026-11-22 09:00,line,30,\n"  # blank location: the default, WH
        "O6,1,B2,1,2026-11-20 22:00,fb,,WH\n"  # no price: counts in qty, adds no revenue
    )
    report = run(any_store, Kind.SALES, overlap)
    assert (report.imported, report.duplicates, report.rejected) == (3, 2, 0)
    nov20, nov21, nov22 = (dt.date(2026, 11, d) for d in (20, 21, 22))
    assert sales_days(any_store) == {
        ("A1", "WH", "line", nov20): (2, Decimal("300.00")),
        ("B2", "WH", "line", nov20): (1, Decimal("30.00")),
        ("A1", "WH", "fb", nov20): (1, Decimal("150.00")),
        ("B2", "WH", "fb", nov20): (1, Decimal("0.00")),
        ("A1", "WH", "line", nov21): (3 + 4 + 5, Decimal("1320.00")),
        ("B2", "WH", "line", nov22): (2, Decimal("60.00")),
    }
    assert count(any_store, SalesLine) == 8


def test_sales_day_equals_the_sum_of_its_lines(any_store):
    seed(any_store, *MASTER)
    run(any_store, Kind.SALES, SALES_CSV)
    run(any_store, Kind.SALES, SALES_CSV.replace("O", "P"))
    lines = SalesLine.__table__
    query = sa.select(
        lines.c.sku_id, lines.c.location_id, lines.c.channel, lines.c.sale_date, lines.c.qty
    )
    with any_store.read() as session:
        frame = pd.DataFrame(session.execute(query).all(), columns=["s", "l", "c", "d", "q"])
    expected = frame.groupby(["s", "l", "c", "d"])["q"].sum().to_dict()
    days = SalesDay.__table__
    query = sa.select(days.c.sku_id, days.c.location_id, days.c.channel, days.c.day, days.c.qty)
    with any_store.read() as session:
        stored = {tuple(r[:4]): r[4] for r in session.execute(query).all()}
    assert stored == expected
    assert sum(stored.values()) == 2 * (2 + 1 + 3 + 1 + 4)


def test_sales_without_a_line_column_keep_their_line_numbers_when_fixed(any_store):
    seed(any_store, *MASTER)
    broken = (
        "order_id,sku,qty,timestamp\n"
        "O1,A1,1,2026-11-20 10:00\n"
        "O1,B2,many,2026-11-20 10:00\n"
        "O1,C3,3,2026-11-20 10:00\n"
    )
    first = run(any_store, Kind.SALES, broken)
    assert (first.imported, codes(first)) == (2, {3: "not_a_number"})
    fixed = run(any_store, Kind.SALES, broken.replace("many", "2"))
    assert (fixed.imported, fixed.duplicates) == (1, 2)
    stored = rows_of(any_store, SalesLine, "line_no", "qty")
    assert stored == [(1, 1), (2, 2), (3, 3)]
    day = dt.date(2026, 11, 20)
    assert {k[0]: v[0] for k, v in sales_days(any_store).items() if k[3] == day} == {
        "A1": 1,
        "B2": 2,
        "C3": 3,
    }


# --- stock history ----------------------------------------------------------------------------


def _current(store: Store) -> dict[tuple[str, str], tuple[int, int]]:
    with store.read() as session:
        frame = current_stock(session)
        skus = dict(session.execute(sa.select(Sku.id, Sku.code)).all())
        locations = dict(session.execute(sa.select(Location.id, Location.code)).all())
    return {
        (skus[r.sku_id], locations[r.location_id]): (r.on_hand, r.reserved)
        for r in frame.itertuples()
    }


def test_newer_snapshot_supersedes_and_history_is_kept(any_store):
    seed(any_store, *MASTER, Kind.STOCK)
    report = run(any_store, Kind.STOCK, "sku,location,on_hand,as_of\nA1,WH,90,2026-11-21 08:00\n")
    assert report.imported == 1
    assert _current(any_store)[("A1", "WH")] == (90, 0)
    assert count(any_store, StockLevel) == 4
    older = run(any_store, Kind.STOCK, "sku,location,on_hand,as_of\nA1,WH,500,2026-11-19 08:00\n")
    assert older.imported == 1  # kept as history, not current
    assert _current(any_store)[("A1", "WH")] == (90, 0)
    assert count(any_store, StockLevel) == 5


def test_undated_snapshot_equal_to_current_is_a_duplicate(any_store):
    seed(any_store, *MASTER, Kind.STOCK)
    same = run(any_store, Kind.STOCK, "sku,location,on_hand,reserved\nA1,WH,120,5\nB2,,40,0\n")
    assert (same.imported, same.duplicates) == (0, 2)
    assert count(any_store, StockLevel) == 3
    changed = run(any_store, Kind.STOCK, "sku,location,on_hand,reserved\nA1,WH,100,5\nB2,,40,0\n")
    assert (changed.imported, changed.duplicates) == (1, 1)
    assert _current(any_store)[("A1", "WH")] == (100, 5)
    assert count(any_store, StockLevel) == 4


def test_blank_and_default_location_in_one_file_are_the_same_key(any_store):
    seed(any_store, *MASTER)
    report = run(any_store, Kind.STOCK, "sku,location,on_hand\nA1,,5\nA1,WH,6\n")
    assert (report.imported, codes(report)) == (1, {3: "duplicate_key"})
    assert report.rejects["problem"][0].params == {"row": "2"}


def test_default_location_is_created_when_missing(any_store):
    run(any_store, Kind.SKUS, SKUS_JSON)
    report = run(any_store, Kind.STOCK, "sku,on_hand\nA1,5\n", default_location="MAIN")
    assert report.imported == 1
    assert rows_of(any_store, Location, "code") == [("MAIN",)]


# --- rejects ----------------------------------------------------------------------------------


def test_unknown_references_are_rejected_and_good_rows_imported(any_store):
    seed(any_store, *MASTER)
    terms = run(
        any_store,
        Kind.TERMS,
        "supplier,sku,unit_price,lead_time_days\nS1,A1,80,7\nS9,A1,80,7\nS1,ZZ,80,7\nS2,B2,30,3\n",
    )
    assert terms.imported == 2
    assert codes(terms) == {3: "unknown_supplier", 4: "unknown_sku"}
    stock = run(any_store, Kind.STOCK, "sku,location,on_hand\nA1,WH,1\nA1,NOWHERE,1\nZZ,WH,1\n")
    assert stock.imported == 1
    assert codes(stock) == {3: "unknown_location", 4: "unknown_sku"}
    sales = run(
        any_store,
        Kind.SALES,
        "order_id,sku,qty,timestamp,location\nO1,A1,1,2026-11-20,WH\n"
        "O2,ZZ,1,2026-11-20,WH\nO3,A1,1,2026-11-20,XX\nO4,A1,0,2026-11-20,WH\n",
    )
    assert sales.imported == 1
    assert codes(sales) == {3: "unknown_sku", 4: "unknown_location", 5: "zero"}
    promotions = run(
        any_store,
        Kind.PROMOTIONS,
        "name,sku,category,start,end\nP1,ZZ,,2026-11-01,2026-11-02\nP2,A1,毛巾,2026-11-01,2026-11-02\n"
        "P3,,,2026-11-01,2026-11-02\nP4,A1,,2026-11-05,2026-11-01\nP5,A1,,2026-11-01,2026-11-02\n",
    )
    assert promotions.imported == 1
    assert codes(promotions) == {
        2: "unknown_sku",
        3: "sku_or_category",
        4: "sku_or_category",
        5: "end_before_start",
    }
    assert rows_of(any_store, Promotion, "name") == [("P5",)]


def test_rejects_keep_the_source_cells(any_store):
    seed(any_store, *MASTER)
    report = run(any_store, Kind.STOCK, "品號,倉庫,在庫量,備註\nA1,WH,-3,盤點差異\n")
    assert report.rejects.loc[0, "品號"] == "A1"
    assert report.rejects.loc[0, "在庫量"] == "-3"
    assert report.rejects.loc[0, "備註"] == "盤點差異"
    assert report.ignored_columns == ("備註",)


def test_text_longer_than_its_column_is_rejected_not_a_database_error(any_store):
    long_name = "毛" * 201
    report = run(
        any_store, Kind.SKUS, f"sku,name,unit\nA1,{long_name},個\nB2,ok,{'x' * 21}\nC3,ok,個\n"
    )
    assert report.imported == 1
    assert codes(report) == {2: "too_long", 3: "too_long"}
    assert [p.field for p in report.rejects["problem"]] == ["name", "unit"]


def test_channel_longer_than_its_column_is_rejected(any_store):
    seed(any_store, *MASTER)
    report = run(
        any_store,
        Kind.SALES,
        "order_id,sku,qty,timestamp,channel\n"
        f"O1,A1,1,2026-11-20,{'c' * 51}\n"
        "O2,A1,1,2026-11-20,ok\n",
    )
    assert (report.imported, codes(report)) == (1, {2: "too_long"})


def test_money_at_the_edge_of_its_column(any_store):
    report = run(any_store, Kind.SKUS, "sku,name,price\nA1,x,999999999999\nB2,y,1000000000000\n")
    assert (report.imported, codes(report)) == (1, {3: "too_large"})
    assert rows_of(any_store, Sku, "price") == [(Decimal("999999999999.00"),)]


def test_control_characters_in_names_are_dropped_before_storing(any_store):
    report = run(any_store, Kind.SKUS, b'[{"sku": "A1", "name": "\\u0000Towel\\u0007 L"}]')
    assert report.imported == 1
    assert rows_of(any_store, Sku, "name") == [("Towel L",)]


def test_formula_cells_are_stored_as_text(any_store):
    formula = '=HYPERLINK("http://evil.example","點我")'
    data = pd.DataFrame({"sku": ["A1", "B2"], "name": [formula, "+1+1"]}).to_csv(index=False)
    report = run(any_store, Kind.SKUS, data)
    assert report.imported == 2
    stored = dict(rows_of(any_store, Sku, "code", "name"))
    assert stored == {"A1": formula, "B2": "+1+1"}
    assert escape_formula(stored["A1"]) == "'" + formula
    assert escape_formula(stored["B2"]) == "'+1+1"


# --- nothing written --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (
            "訂單編號,品號,數量,下單時間\nO1,A1,1,2026-11-20\n".encode()
            + "O2,A1,1,2026-11-20\nO3,毛巾,1,2026-11-20\n".encode("cp950"),
            "bad_encoding",
        ),
        (b"order_id,sku,timestamp\nO9,A1,2026-11-20\n", "missing_columns"),
        (b"order_id,sku,qty,qty,timestamp\nO9,A1,1,1,2026-11-20\n", "ambiguous_columns"),
        (b"order_id,sku,qty,timestamp\nO9,A1,1,2026-11-20,surplus\n", "bad_csv"),
        (b'[{"order_id": "O9", "sku": "A1"', "bad_json"),
        (b"", "empty_file"),
        (gzip.compress(SALES_CSV.encode())[:40], "gzip_damaged"),
    ],
)
def test_broken_file_writes_nothing(any_store, data, code):
    seed(any_store, *MASTER, Kind.SALES)
    before = snapshot(any_store)
    with pytest.raises(TableError) as caught:
        run(any_store, Kind.SALES, data)
    assert caught.value.code == code
    assert snapshot(any_store) == before


def test_database_error_mid_import_writes_nothing(any_store, monkeypatch):
    seed(any_store, *MASTER)
    before = snapshot(any_store)
    with monkeypatch.context() as patch:
        patch.setattr("core.sales._rebuild_sales_days", _fail)
        with pytest.raises(RuntimeError, match="disk full"):  # the cause, not a follow-up error
            run(any_store, Kind.SALES, SALES_CSV)
    assert snapshot(any_store) == before
    assert run(any_store, Kind.SALES, SALES_CSV).imported == 5  # no staging table left over


def test_database_refusal_is_reported_as_itself(any_store, monkeypatch):
    seed(any_store, *MASTER)
    broken = sa.text("INSERT INTO no_such_table VALUES (1)")

    def refuse(connection, _stage):
        connection.execute(broken)

    monkeypatch.setattr("core.sales._rebuild_sales_days", refuse)
    with pytest.raises(sa.exc.DatabaseError) as caught:
        run(any_store, Kind.SALES, SALES_CSV)
    assert "no_such_table" in str(caught.value)
    assert count(any_store, SalesLine) == 0


def _fail(*_args, **_kwargs):
    raise RuntimeError("disk full")


@pytest.mark.parametrize("kind", list(SOURCES))
def test_dry_run_writes_nothing_but_reports_counts(any_store, kind):
    if kind not in MASTER:
        seed(any_store, *MASTER)
    before = snapshot(any_store)
    data, rows = SOURCES[kind]
    report = run(any_store, kind, data, dry_run=True)
    assert (report.imported, report.duplicates, report.rejected) == (rows, 0, 0)
    assert snapshot(any_store) == before
    real = run(any_store, kind, data)
    assert (real.imported, real.duplicates) == (rows, 0)


def test_dry_run_does_not_create_the_default_location(any_store):
    run(any_store, Kind.SKUS, SKUS_JSON)
    report = run(any_store, Kind.STOCK, "sku,on_hand\nA1,5\n", dry_run=True)
    assert report.imported == 1
    assert count(any_store, Location) == 0
    assert count(any_store, StockLevel) == 0


def test_dry_run_reports_rejects(any_store):
    seed(any_store, *MASTER)
    report = run(any_store, Kind.STOCK, "sku,location,on_hand\nA1,WH,1\nZZ,WH,1\n", dry_run=True)
    assert (report.imported, codes(report)) == (1, {3: "unknown_sku"})
    assert count(any_store, StockLevel) == 0
