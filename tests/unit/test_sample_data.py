"""The sample shop: reproducible, committed as generated, consistent, and carrying the planted
demand patterns (weekday peaks, promotions, intermittency, stockouts, a recent surge)."""

import gzip
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bot.sample_data import OUT_DIR, generate, story, to_csv_bytes, write

DAYS = pd.date_range("2026-05-29", "2026-11-24", freq="D")
FILES = [
    "locations.csv",
    "skus.csv",
    "suppliers.csv",
    "terms.csv",
    "stock.csv",
    "sales.csv.gz",
    "promotions.csv",
]


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return generate()


@pytest.fixture(scope="module")
def sales(frames) -> pd.DataFrame:
    out = frames["sales.csv.gz"].copy()
    out["date"] = pd.to_datetime(out["timestamp"].str[:10])
    return out


@pytest.fixture(scope="module")
def qty(sales) -> pd.DataFrame:
    """Units per SKU (rows) and day (columns), zero-filled over the whole history."""
    table = sales.groupby(["sku", "date"])["qty"].sum().unstack(fill_value=0)
    return table.reindex(columns=DAYS, fill_value=0)


def _file_text(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _daily(qty: pd.DataFrame, skus: list[str] | set[str]) -> pd.Series:
    return qty.reindex(sorted(skus), fill_value=0).sum(axis=0)


def _outside_promotions(promotions: pd.DataFrame) -> np.ndarray:
    mask = np.ones(len(DAYS), dtype=bool)
    for row in promotions.itertuples():
        mask &= ~DAYS.to_series().between(row.start, row.end).to_numpy()
    return mask


# --- reproducibility -----------------------------------------------------------------------


def test_generate_twice_gives_identical_frames(frames) -> None:
    again = generate()
    assert list(again) == FILES
    for name in FILES:
        pd.testing.assert_frame_equal(frames[name], again[name], check_exact=True)


def test_another_seed_gives_another_history(frames) -> None:
    other = generate(seed=7)
    assert not other["sales.csv.gz"].equals(frames["sales.csv.gz"])


def test_committed_files_are_exactly_what_generate_produces(frames) -> None:
    assert sorted(p.name for p in OUT_DIR.iterdir() if p.name != "__init__.py") == sorted(FILES)
    for name in FILES:
        assert _file_text(OUT_DIR / name) == to_csv_bytes(frames[name]), name


def test_sales_gzip_has_no_timestamp() -> None:
    header = (OUT_DIR / "sales.csv.gz").read_bytes()[:10]
    assert header[:2] == b"\x1f\x8b"
    assert header[4:8] == b"\x00\x00\x00\x00"  # mtime=0: the bytes do not change per run


def test_write_reproduces_the_committed_files(tmp_path) -> None:
    paths = write(tmp_path)
    assert [p.name for p in paths] == FILES
    for path in paths:
        assert _file_text(path) == _file_text(OUT_DIR / path.name), path.name


def test_files_are_plain_utf8_csv_without_formula_cells() -> None:
    for name in FILES:
        text = _file_text(OUT_DIR / name)
        assert not text.startswith(b"\xef\xbb\xbf")
        assert b"\r" not in text
        table = pd.read_csv(OUT_DIR / name, dtype=str, keep_default_na=False)
        assert not table.columns.str.startswith("Unnamed").any()
        cells = pd.Series(table.to_numpy().ravel())
        assert not cells.str.match(r"^[=+\-@]").any(), name


# --- shape ---------------------------------------------------------------------------------


def test_locations(frames) -> None:
    locations = frames["locations.csv"]
    assert locations.to_dict("list") == {
        "location": ["WH", "DS1"],
        "name": ["桃園主倉", "好速代發"],
        "kind": ["warehouse", "dropship"],
    }


def test_skus(frames) -> None:
    skus = frames["skus.csv"]
    assert list(skus.columns) == ["sku", "name", "category", "unit", "unit_cost", "price"]
    assert 190 <= len(skus) <= 210
    assert skus["sku"].is_unique
    assert skus["name"].is_unique
    assert skus["sku"].str.fullmatch(r"[A-Z]{3}-\d{3}").all()
    assert 4 <= skus["category"].nunique() <= 6
    assert set(skus["unit"]) <= {"瓶", "包", "盒", "箱", "袋"}
    margin = 1 - skus["unit_cost"] / skus["price"]
    assert (margin > 0.1).all()
    assert (margin < 0.65).all()
    assert (skus["unit_cost"] * 10 == (skus["unit_cost"] * 10).round()).all()


def test_suppliers(frames) -> None:
    suppliers = frames["suppliers.csv"]
    assert len(suppliers) == 3
    assert suppliers["supplier"].is_unique
    assert suppliers["name"].str.contains("乳").sum() == 1
    landline, mobile = r"0\d{1,2}-\d{3,4}-\d{3,4}", r"09\d{2}-\d{3}-\d{3}"
    assert suppliers["phone"].str.fullmatch(landline).all()
    assert suppliers["emergency_phone"].str.fullmatch(mobile).all()
    assert suppliers["email"].str.fullmatch(r"[a-z]+@[a-z]+\.example\.(com\.)?tw").all()


def test_terms(frames) -> None:
    terms, skus = frames["terms.csv"], frames["skus.csv"]
    assert set(terms["supplier"]) == set(frames["suppliers.csv"]["supplier"])
    primary = terms[terms["rank"] == 1]
    assert primary["sku"].is_unique
    assert set(primary["sku"]) == set(skus["sku"])
    backup = terms[terms["rank"] == 2]
    assert 20 <= len(backup) <= 40
    assert backup["sku"].is_unique
    assert set(terms["rank"]) == {1, 2}
    pair = backup.merge(primary, on="sku", suffixes=("_2", "_1"))
    assert (pair["supplier_2"] != pair["supplier_1"]).all()
    assert (pair["unit_price_2"] > pair["unit_price_1"]).all()
    assert (pair["lead_time_days_2"] != pair["lead_time_days_1"]).all()
    assert not terms.duplicated(["supplier", "supplier_sku"]).any()
    assert terms["price_band_pct"].between(3, 10).all()
    assert terms["lead_time_days"].between(2, 14).all()
    assert (terms["case_pack"] >= 1).all()
    assert (terms["moq"] >= 1).all()
    assert (terms["moq"] % terms["case_pack"] != 0).any()


def test_stock_snapshot(frames) -> None:
    stock, skus = frames["stock.csv"], frames["skus.csv"]
    assert list(stock.columns) == ["品號", "倉庫", "在庫量", "保留量", "盤點時間"]
    warehouse = stock[stock["倉庫"] == "WH"]
    assert warehouse["品號"].is_unique
    assert set(warehouse["品號"]) == set(skus["sku"])
    assert 3 <= (stock["倉庫"] == "DS1").sum() <= 30
    assert set(stock["倉庫"]) == {"WH", "DS1"}
    assert (stock["保留量"] >= 0).all()
    assert (stock["保留量"] <= stock["在庫量"]).all()
    assert (stock["盤點時間"] == "2026-11-24 23:00:00").all()
    assert (warehouse["在庫量"] == 0).sum() >= 2


def test_stock_cover_is_believable(frames, qty) -> None:
    warehouse = frames["stock.csv"].query("倉庫 == 'WH'").set_index("品號")["在庫量"]
    rate = qty.iloc[:, -35:-7].mean(axis=1).reindex(warehouse.index)
    cover = (warehouse / rate)[rate > 0]
    assert 10 <= cover.median() <= 40
    assert cover.between(7, 42).mean() >= 0.5
    assert (cover > 90).sum() >= 10  # overstocked slow movers
    assert (warehouse <= 3).sum() >= 5  # a handful near zero


def test_sales_lines(frames, sales) -> None:
    skus, locations = frames["skus.csv"], frames["locations.csv"]
    assert not sales.duplicated(["order_id", "line"]).any()
    assert sales["order_id"].str.fullmatch(r"GB\d{8}-\d{5}").all()
    assert (sales["order_id"].str[2:10] == sales["date"].dt.strftime("%Y%m%d")).all()
    per_order = sales.groupby("order_id").agg(
        n=("line", "size"),
        top=("line", "max"),
        times=("timestamp", "nunique"),
        skus=("sku", "nunique"),
    )
    assert (per_order["n"] == per_order["top"]).all()
    assert per_order["n"].between(1, 4).all()
    assert (per_order["times"] == 1).all()
    assert (per_order["skus"] == per_order["n"]).all()
    assert set(sales["sku"]) <= set(skus["sku"])
    assert set(sales["location"]) == set(locations["location"])
    assert set(sales["channel"]) == {"line_group", "fb_group", "shop"}
    assert (sales["qty"] >= 1).all()
    assert sales["timestamp"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").all()
    assert sorted(sales["date"].unique()) == list(DAYS)
    assert 150 <= len(sales) / len(DAYS) <= 400
    assert (OUT_DIR / "sales.csv.gz").stat().st_size < 1_500_000


def test_sales_prices_are_list_prices_or_promo_discounts(frames, sales) -> None:
    price = sales["sku"].map(frames["skus.csv"].set_index("sku")["price"])
    in_promo = ~_outside_promotions(frames["promotions.csv"])[
        (sales["date"] - DAYS[0]).dt.days.to_numpy()
    ]
    assert (sales.loc[~in_promo, "price"] == price[~in_promo]).all()
    assert (sales["price"] <= price).all()
    assert (sales["price"] < price).any()


def test_dropship_lines_only_for_skus_stocked_there(frames, sales) -> None:
    stocked = set(frames["stock.csv"].query("倉庫 == 'DS1'")["品號"])
    assert set(sales.loc[sales["location"] == "DS1", "sku"]) == stocked


def test_promotions(frames) -> None:
    promos, skus = frames["promotions.csv"], frames["skus.csv"]
    filled = (promos["sku"] != "").astype(int) + (promos["category"] != "").astype(int)
    assert (filled == 1).all()
    assert set(promos.loc[promos["sku"] != "", "sku"]) <= set(skus["sku"])
    assert set(promos.loc[promos["category"] != "", "category"]) <= set(skus["category"])
    assert (promos["start"] <= promos["end"]).all()
    assert promos["uplift"].between(1.5, 3).all()
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", d) for d in [*promos["start"], *promos["end"]])
    double11 = promos[promos["name"].str.contains("雙11")]
    assert set(double11["start"]) == {"2026-11-08"}
    assert set(double11["end"]) == {"2026-11-11"}
    assert (promos["start"] > "2026-11-24").sum() >= 1  # an announced future campaign
    assert (promos["end"] < "2026-11-01").sum() >= 1  # and earlier ones in the history


# --- demand structure ----------------------------------------------------------------------


def test_weekday_seasonality(sales) -> None:
    daily = sales.groupby("date")["qty"].sum()
    by_weekday = daily.groupby(daily.index.day_of_week).mean()
    assert by_weekday.max() / by_weekday.min() >= 1.3
    assert set(by_weekday.nlargest(2).index) == {0, 6}  # Monday and Sunday


def test_evening_peak(sales) -> None:
    hours = sales.drop_duplicates("order_id")["timestamp"].str[11:13].astype(int)
    share = hours.value_counts(normalize=True)
    assert share.loc[[20, 21, 22]].sum() >= 0.25
    assert share.loc[[2, 3, 4]].sum() <= 0.03


def test_double11_uplift_on_promoted_skus(frames, qty) -> None:
    promos, skus = frames["promotions.csv"], frames["skus.csv"]
    rows = promos[promos["name"].str.contains("雙11")]
    promoted = set(rows["sku"]) - {""}
    promoted |= set(skus.loc[skus["category"].isin(rows["category"]), "sku"])
    daily = _daily(qty, promoted)
    window = (DAYS >= "2026-11-08") & (DAYS <= "2026-11-11")
    normal = _outside_promotions(promos)
    assert daily[window].mean() >= 1.5 * daily[normal].mean()
    others = _daily(qty, set(skus["sku"]) - promoted)
    assert others[window].mean() < 1.3 * others[normal].mean()  # the promotion is targeted


def test_mid_autumn_bump(frames, qty) -> None:
    skus = frames["skus.csv"]
    frozen = _daily(qty, set(skus.loc[skus["category"] == "冷凍食品", "sku"]))
    window = (DAYS >= "2026-09-19") & (DAYS <= "2026-09-25")
    assert (
        frozen[window].mean() >= 1.3 * frozen[_outside_promotions(frames["promotions.csv"])].mean()
    )


def test_recent_surge(qty) -> None:
    surge = story()["surge"]
    assert 3 <= len(surge) <= 5
    recent, prior = qty.iloc[:, -6:].mean(axis=1), qty.iloc[:, -35:-7].mean(axis=1)
    ratio = recent / prior
    assert (ratio[surge] >= 3).all(), ratio[surge]
    # Among SKUs that sold steadily before, only the planted ones surged on most days (the
    # median ignores one-off bulk orders).
    steady = (qty.iloc[:, -35:-7] > 0).mean(axis=1) >= 0.6
    typical = qty.iloc[:, -6:].median(axis=1) / prior
    detected = typical[steady & (prior >= 1) & (typical >= 3)].index
    assert set(detected) == set(surge)


def test_pareto_popularity(qty) -> None:
    totals = qty.sum(axis=1).sort_values(ascending=False)
    top = int(len(totals) * 0.2)
    assert totals.iloc[:top].sum() / totals.sum() >= 0.5
    assert totals.iloc[0] >= 20 * totals.median()


def test_smooth_and_intermittent_skus(qty) -> None:
    selling_days = (qty > 0).mean(axis=1)
    intermittent = story()["intermittent"]
    assert (selling_days >= 0.9).sum() >= 20
    assert (selling_days.reindex(intermittent) <= 0.35).mean() >= 0.8
    assert (selling_days <= 0.2).sum() >= 15  # a few days a month at most


def test_stockout_stretches(qty) -> None:
    for sku in story()["stockout"]:
        row = qty.loc[sku].to_numpy()
        zero_runs = np.diff(np.flatnonzero(np.diff(np.r_[1, row, 1] == 0)))[::2]
        assert zero_runs.max() >= 3, sku
        assert np.median(row) >= 2, sku  # a normally steady seller
    for sku in story()["zero"]:
        assert qty.loc[sku].iloc[-2:].sum() == 0  # out of stock at the snapshot
