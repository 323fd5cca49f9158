"""A deterministic sample group-buying shop: catalogue, suppliers, stock and 180 days of sales.

`generate()` builds every sample file as a DataFrame from a seed, with no I/O; `write()`
saves them; `python -m bot.sample_data [OUT_DIR]` regenerates `bot/data/sample/`. The history
is fixed (2026-05-29 .. 2026-11-24, Asia/Taipei dates), so the output never depends on the
day it is run. The demand carries the structure the forecasting engine is tested on: Pareto
popularity, smooth and intermittent SKUs, Sunday/Monday peaks, promotions, stockouts and a
recent surge on a few SKUs.
"""

from __future__ import annotations

import gzip
import io
import sys
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_SEED = 20261124
N_DAYS = 180
DAYS = pd.date_range(end="2026-11-24", periods=N_DAYS, freq="D")
AS_OF = "2026-11-24 23:00:00"
OUT_DIR = Path(__file__).resolve().parent / "data" / "sample"
LINES_PER_DAY = 300.0  # mean order lines a day before weekday and promotion effects
# Monday..Sunday: group-buy rounds open on Sunday and Monday evenings.
DOW = np.array([1.35, 0.9, 0.8, 0.85, 0.95, 1.0, 1.45])
# Orders per hour of day on an ordinary day: lunch break and an evening peak.
HOURS = np.array([2, 1, 0.5, 0.3, 0.3, 0.5, 1, 2, 3, 4, 5, 6, 8, 7, 5, 4, 4, 5, 6, 8, 11, 12, 9, 5])
SURGE_DAYS = 7  # the surge started a week before the snapshot
SURGE_MULT = 4.5
CHANNELS = np.array(["line_group", "fb_group", "shop"])
ORDER_SIZES = (np.array([1, 2, 3, 4]), np.array([0.55, 0.27, 0.12, 0.06]))
SKU_COLUMNS = ["sku", "name", "category", "unit", "unit_cost", "price"]
TERM_COLUMNS = ["supplier", "sku", "supplier_sku", "unit_price", "price_band_pct"]
TERM_COLUMNS += ["lead_time_days", "moq", "case_pack", "rank"]
SALES_COLUMNS = ["order_id", "line", "sku", "qty", "timestamp", "channel", "price"]
SALES_COLUMNS += ["location"]
PLANTED = ("surge", "stockout", "zero", "low", "overstock", "intermittent")
ROLES = (*PLANTED, "ds1", "double11", "anniversary")  # story() keys: SKUs per pattern

# One category per paragraph: code, category, SKU count, gross margin, extra units per line,
# popularity, primary supplier; then name prefixes; then products as word/unit/list price.
# Names are prefix + product; which pairs exist is seeded.
CATALOGUE = """
MLK 乳品 32 0.30 0.6 1.8 S01
台東初鹿 屏東 雲林 彰化 花蓮 嘉義
鮮乳936ml/瓶/95 低脂鮮乳936ml/瓶/95 保久乳24入/箱/420 優格500g/盒/85
希臘優格/盒/120 優酪乳/瓶/65 起司片/包/110 奶酪4入/盒/99

FRZ 冷凍食品 36 0.35 0.5 1.2 S02
手工 招牌 經典 家常 阿嬤 老店
水餃50入/包/180 小籠包/盒/220 蔥抓餅10片/包/120 虱目魚肚/包/160 鹽酥雞/包/150
烤肉串/盒/260 黑豬香腸/包/200 鍋貼/包/170 白蝦仁/包/320 牛肉捲餅/盒/190

SNK 零食 40 0.42 1.0 1.0 S02
海鹽 黑糖 蜂蜜 椒麻 抹茶 原味
牛軋糖/盒/250 洋芋片/包/59 綜合堅果/袋/299 蛋捲/盒/280 鳳梨酥/盒/360 米果/包/79
果乾/袋/149 豆干/包/99 夾心餅乾/盒/129

VEG 生鮮蔬果 30 0.25 0.3 1.1 S02
台南 屏東 雲林 彰化 宜蘭 嘉義
芒果5斤/箱/680 芭樂/袋/150 地瓜/袋/120 玉米/袋/130 小番茄/盒/160 香蕉/袋/110
蔬菜箱/箱/399 柳丁10斤/箱/450 鳳梨/箱/520

HOM 日用品 34 0.38 0.5 0.8 S03
抗菌 天然 無香 薰衣草 柑橘
洗衣精/瓶/260 洗碗精/瓶/120 衛生紙/箱/399 廚房紙巾/袋/150 垃圾袋/包/99
沐浴乳/瓶/220 洗手乳/瓶/130 濕紙巾/包/89

HLT 保健食品 28 0.45 0.2 0.6 S03
日本 德國 台灣 高濃度
益生菌/盒/890 葉黃素/盒/760 魚油/瓶/680 膠原蛋白/盒/990 維他命C/瓶/390
鈣片/瓶/450 綜合維他命/瓶/520 滴雞精/盒/1280
"""

# name, start, end, uplift, price factor, scope: a category, or a role column picking SKUs.
CAMPAIGNS: tuple[tuple[str, str, str, float, float, str], ...] = (
    ("夏季週年慶", "2026-07-17", "2026-07-19", 1.6, 0.85, "anniversary"),
    ("中秋烤肉節", "2026-09-19", "2026-09-25", 1.8, 0.9, "冷凍食品"),
    ("雙11購物節", "2026-11-08", "2026-11-11", 2.5, 0.8, "零食"),
    ("雙11購物節", "2026-11-08", "2026-11-11", 2.0, 0.85, "double11"),
    ("雙12年終慶", "2026-12-10", "2026-12-12", 2.0, 0.85, "日用品"),  # announced, future
)

LOCATIONS = """location,name,kind
WH,桃園主倉,warehouse
DS1,好速代發,dropship
"""
SUPPLIERS = """supplier,name,contact_name,phone,emergency_contact,emergency_phone,email
S01,鮮牧坊乳品股份有限公司,陳怡君,089-356-218,黃建宏,0912-345-678,order@xianmufang.example.com.tw
S02,宏昌食品股份有限公司,林志明,02-2698-3157,張雅婷,0928-116-405,sales@hongchang.example.com.tw
S03,康健生活用品有限公司,王淑芬,04-2358-7712,李俊傑,0935-772-019,service@kangjian.example.tw
"""
LEAD_DAYS = {"S01": (2, 3), "S02": (4, 8), "S03": (7, 14)}
SUPPLIER_SKU = {"S01": "XM{:04d}", "S02": "HC-{:05d}", "S03": "KJ/A{:04d}"}
CASE_PACK = {"瓶": 12, "箱": 1, "盒": 6, "包": 10, "袋": 10}


def _table(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def _rng(seed: int, part: str) -> np.random.Generator:
    # One stream per part, so tuning one table never reshuffles the others.
    return np.random.default_rng([seed, zlib.crc32(part.encode())])


def _categories() -> list[tuple[list[str], list[str], list[list[str]]]]:
    """CATALOGUE paragraphs as (header fields, name prefixes, [word, unit, price] products)."""
    out = []
    for block in CATALOGUE.strip().split("\n\n"):
        head, prefixes, *products = block.splitlines()
        items = [item.split("/") for item in " ".join(products).split()]
        out.append((head.split(), prefixes.split(), items))
    return out


def _catalogue(seed: int) -> pd.DataFrame:
    """SKUs with names, units and prices, plus the category knobs demand needs."""
    rng = _rng(seed, "catalogue")
    frames = []
    for head, words, items in _categories():
        code, category, count, margin, extra, weight, supplier = head
        pairs = [(p, w) for p in range(len(items)) for w in range(len(words))]
        chosen = sorted(pairs[k] for k in rng.permutation(len(pairs))[: int(count)])
        frame = pd.DataFrame(
            {
                "sku": [f"{code}-{i:03d}" for i in range(1, len(chosen) + 1)],
                "name": [words[w] + items[p][0] for p, w in chosen],
                "unit": [items[p][1] for p, _ in chosen],
                "base": [float(items[p][2]) for p, _ in chosen],
            }
        )
        knobs = {"margin": margin, "extra": extra, "weight": weight}
        frames.append(frame.assign(category=category, supplier=supplier, **knobs))
    skus = pd.concat(frames, ignore_index=True).astype(
        {"margin": float, "extra": float, "weight": float}
    )
    n = len(skus)
    # Group-buy prices end in 9; costs keep one decimal like a supplier's quote.
    price = np.round(skus["base"] * rng.uniform(0.85, 1.2, n) / 10) * 10 - 1
    skus["price"] = np.maximum(price, 29).astype(int)
    margin = skus["margin"] * rng.uniform(0.8, 1.25, n)
    skus["unit_cost"] = np.round(skus["price"] * (1 - margin), 1)
    return skus


def _pick(rng: np.random.Generator, pool: np.ndarray, k: int) -> np.ndarray:
    """A boolean mask of k SKUs drawn from a boolean pool."""
    out = np.zeros(len(pool), dtype=bool)
    out[rng.choice(np.flatnonzero(pool), size=k, replace=False)] = True
    return out


def _profiles(skus: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Per-SKU demand: Pareto rate, intermittency, units per line, trend and roles."""
    rng = _rng(seed, "profiles")
    prof = skus.copy()
    n = len(prof)
    score = prof["weight"] * rng.lognormal(0.0, 0.9, n) / (prof["price"] / 100) ** 0.35
    rank = score.rank(ascending=False, method="first").to_numpy()
    share = rank**-0.85  # a few fast movers, a long tail of slow ones
    prof["rank"] = rank.astype(int)
    prof["rate"] = LINES_PER_DAY * share / share.sum()
    intermittent = (rank > 70) & (rng.random(n) < 0.4)
    prof["p_day"] = np.where(intermittent, rng.uniform(0.07, 0.3, n), 1.0)
    # Intermittent SKUs sell in lumps (a case for an office, a box for a family event).
    prof["qmean"] = prof["extra"] + np.where(intermittent, 1.5, 0.0)
    prof["slope"] = rng.uniform(-0.3, 0.4, n)
    return _roles(prof, rng, ~intermittent)


def _roles(prof: pd.DataFrame, rng: np.random.Generator, smooth: np.ndarray) -> pd.DataFrame:
    """Which SKUs carry the story: surge, stockouts, promotions, odd stock positions."""
    rank = prof["rank"].to_numpy()
    category = prof["category"].to_numpy()
    unpromoted = ~np.isin(category, ["零食", "保健食品"])  # 雙11 and the surge stay apart
    prof["ds1"] = rank <= 12
    prof["surge"] = _pick(rng, smooth & unpromoted & (rank >= 8) & (rank <= 30), 4)
    prof["double11"] = _pick(rng, (category == "保健食品") & smooth & (rank <= 150), 4)
    prof["anniversary"] = _pick(rng, unpromoted & (rank <= 60), 6)
    steady = smooth & ~prof["surge"].to_numpy()
    prof["stockout"] = _pick(rng, steady & (rank >= 3) & (rank <= 18), 6)
    steady &= ~prof["stockout"].to_numpy()
    prof["zero"] = _pick(rng, steady & (rank >= 20) & (rank <= 100), 4)
    steady &= ~prof["zero"].to_numpy()
    prof["low"] = _pick(rng, steady & (rank >= 20) & (rank <= 120), 4)
    odd = (prof["zero"] | prof["low"]).to_numpy()
    prof["overstock"] = _pick(rng, (rank > 100) & ~odd, 15)
    return prof


def _campaign_skus(prof: pd.DataFrame, scope: str) -> np.ndarray:
    if scope in prof.columns:
        return prof[scope].to_numpy(dtype=bool)
    return (prof["category"] == scope).to_numpy()


def _promotions(prof: pd.DataFrame) -> pd.DataFrame:
    """One row per category-wide campaign, one row per SKU for SKU-scoped ones."""
    rows: list[dict[str, object]] = []
    for name, start, end, uplift, _factor, scope in CAMPAIGNS:
        base = {"name": name, "start": start, "end": end, "uplift": uplift}
        if scope in prof.columns:
            rows += [
                {**base, "sku": s, "category": ""}
                for s in prof.loc[_campaign_skus(prof, scope), "sku"]
            ]
        else:
            rows.append({**base, "sku": "", "category": scope})
    return pd.DataFrame(rows)[["name", "sku", "category", "start", "end", "uplift"]]


def _promo_effects(prof: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """SKU x day matrices: demand multiplier and price factor from the campaigns."""
    uplift = np.ones((len(prof), N_DAYS))
    factor = np.ones((len(prof), N_DAYS))
    for _name, start, end, up, price_factor, scope in CAMPAIGNS:
        days = DAYS.to_series().between(start, end).to_numpy()
        cells = np.ix_(_campaign_skus(prof, scope), days)
        uplift[cells] *= up
        factor[cells] = price_factor
    return uplift, factor


def _availability(prof: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """1 where a SKU could sell, 0 during stockout stretches (and at the end for 0 stock)."""
    avail = np.ones((len(prof), N_DAYS))
    for i in np.flatnonzero(prof["stockout"].to_numpy()):
        start = int(rng.integers(20, 150))
        avail[i, start : start + int(rng.integers(3, 8))] = 0.0
    avail[prof["zero"].to_numpy(), -2:] = 0.0
    return avail


def _daily_lines(prof: pd.DataFrame, uplift: np.ndarray, seed: int) -> np.ndarray:
    """Order lines per SKU and day (SKU x day counts), drawn from the demand intensity."""
    rng = _rng(seed, "daily")
    trend = 1.0 + prof["slope"].to_numpy()[:, None] * (np.linspace(0.0, 1.0, N_DAYS) - 0.5)
    shop = rng.gamma(30.0, 1 / 30.0, N_DAYS)  # weather, paydays: shop-wide day-to-day noise
    weekly = DOW[DAYS.day_of_week.to_numpy()]
    lam = prof["rate"].to_numpy()[:, None] * trend * (weekly * shop)[None, :] * uplift
    lam[prof["surge"].to_numpy(), -SURGE_DAYS:] *= SURGE_MULT
    lam *= _availability(prof, rng)
    p_day = prof["p_day"].to_numpy()[:, None]
    sells = rng.random(lam.shape) < p_day  # intermittent SKUs sell on few days, in lumps
    return rng.poisson(lam / p_day * sells)


def _order_lines(counts: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Expand counts into lines, shuffle within each day and cut the day into orders."""
    s_idx, d_idx = np.nonzero(counts)
    reps = counts[s_idx, d_idx]
    sku, day = np.repeat(s_idx, reps), np.repeat(d_idx, reps)
    order = np.lexsort((rng.random(len(day)), day))
    sku, day = sku[order], day[order]
    position = np.arange(len(day)) - np.searchsorted(day, day)
    ends = np.cumsum(rng.choice(ORDER_SIZES[0], size=len(day) + 2000, p=ORDER_SIZES[1]))
    # A random offset per day into one shared run of order sizes keeps days independent.
    offset = rng.integers(0, 1000, N_DAYS)[day]
    local = np.searchsorted(ends, position + offset, "right") - np.searchsorted(
        ends, offset, "right"
    )
    return pd.DataFrame({"okey": day * 100_000 + local, "sku": sku, "day": day})


def _order_headers(orders: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Time, channel and a per-day sequence number (GBYYYYMMDD-00001) for each order."""
    day = orders["day"].to_numpy()
    weights = np.tile(HOURS.astype(float), (7, 1))
    weights[[0, 6], 20:23] *= 2.5  # the Sunday/Monday 20:00 round openings
    cumulative = np.cumsum(weights, axis=1)
    cumulative /= cumulative[:, -1:]
    dow = DAYS.day_of_week.to_numpy()[day]
    hour = (rng.random(len(day))[:, None] > cumulative[dow]).sum(axis=1)
    seconds = hour * 3600 + rng.integers(0, 3600, len(day))
    out = orders[["okey"]].assign(day=day, seconds=seconds)
    out["channel"] = rng.choice(CHANNELS, size=len(day), p=[0.5, 0.32, 0.18])
    out = out.sort_values(["day", "seconds", "okey"], ignore_index=True)
    seq = out.groupby("day").cumcount() + 1
    dates = pd.Series(DAYS[out["day"].to_numpy()])
    out["order_id"] = "GB" + dates.dt.strftime("%Y%m%d") + "-" + seq.astype(str).str.zfill(5)
    stamp = dates + pd.to_timedelta(out["seconds"], unit="s")
    out["timestamp"] = stamp.dt.strftime("%Y-%m-%d %H:%M:%S")
    return out.drop(columns=["day", "seconds"])


def _sales(prof: pd.DataFrame, counts: np.ndarray, factor: np.ndarray, seed: int) -> pd.DataFrame:
    """Order lines with quantities, prices (promo-discounted) and shipping location."""
    rng = _rng(seed, "orders")
    lines = _order_lines(counts, rng)
    lines["qty"] = 1 + rng.poisson(prof["qmean"].to_numpy()[lines["sku"].to_numpy()])
    # The same SKU twice in one order is one line with the summed quantity.
    lines = lines.groupby(["okey", "sku"], as_index=False).agg(
        day=("day", "first"), qty=("qty", "sum")
    )
    headers = _order_headers(lines.drop_duplicates("okey"), rng)
    lines = lines.merge(headers, on="okey", validate="many_to_one")
    lines["shuffle"] = rng.random(len(lines))
    lines = lines.sort_values(["order_id", "shuffle"], ignore_index=True)
    lines["line"] = lines.groupby("order_id").cumcount() + 1
    s, d = lines["sku"].to_numpy(), lines["day"].to_numpy()
    lines["price"] = np.round(prof["price"].to_numpy()[s] * factor[s, d]).astype(int)
    from_ds1 = prof["ds1"].to_numpy()[s] & (rng.random(len(lines)) < 0.35)
    lines["location"] = np.where(from_ds1, "DS1", "WH")
    lines["sku"] = prof["sku"].to_numpy()[s]
    return lines[SALES_COLUMNS]


def _stock(prof: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The WMS snapshot: cover against expected demand, with a few empty and overfull SKUs."""
    rng = _rng(seed, "stock")
    n = len(prof)
    # Expected units a day at the end of the history, before any surge (what a planner saw).
    daily = prof["rate"] * (1 + prof["qmean"]) * DOW.mean() * (1 + 0.5 * prof["slope"])
    daily = daily.to_numpy()
    cover = rng.uniform(7, 42, n)
    cover = np.where(prof["overstock"], rng.uniform(90, 240, n), cover)
    cover = np.where(prof["surge"], rng.uniform(10, 16, n), cover)
    on_hand = np.maximum(np.ceil(daily * cover), rng.integers(2, 13, n))
    on_hand = np.where(prof["low"], rng.integers(1, 4, n), on_hand)
    on_hand = np.where(prof["zero"], 0, on_hand).astype(int)
    ds1 = prof["ds1"].to_numpy()
    ds1_hand = np.ceil(daily[ds1] * 0.35 * rng.uniform(3, 10, ds1.sum())).astype(int)
    stock = pd.DataFrame(
        {
            "品號": np.concatenate([prof["sku"].to_numpy(), prof.loc[ds1, "sku"].to_numpy()]),
            "倉庫": ["WH"] * n + ["DS1"] * int(ds1.sum()),
            "在庫量": np.concatenate([on_hand, ds1_hand]),
        }
    )
    stock["保留量"] = rng.binomial(stock["在庫量"].to_numpy(), 0.04)  # awaiting pick
    stock["盤點時間"] = AS_OF
    return stock


def _terms(prof: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Rank-1 terms for every SKU, and a dearer rank-2 backup (S02) for all dairy."""
    rng = _rng(seed, "terms")
    dairy = prof[prof["category"] == "乳品"]
    backup_price = np.round(dairy["unit_cost"] * rng.uniform(1.03, 1.08, len(dairy)), 1)
    primary = prof[["supplier", "sku", "unit_cost", "unit"]].assign(rank=1)
    backup = dairy[["sku", "unit_cost", "unit"]].assign(supplier="S02", rank=2)
    backup["unit_cost"] = backup_price
    terms = pd.concat([primary, backup], ignore_index=True)
    terms = terms.rename(columns={"unit_cost": "unit_price"})
    n = len(terms)
    numbers = terms.groupby("supplier").cumcount() + 1001
    terms["supplier_sku"] = [
        SUPPLIER_SKU[s].format(i) for s, i in zip(terms["supplier"], numbers, strict=True)
    ]
    terms["price_band_pct"] = rng.integers(3, 11, n)
    low = terms["supplier"].map(lambda s: LEAD_DAYS[s][0]).to_numpy()
    high = terms["supplier"].map(lambda s: LEAD_DAYS[s][1]).to_numpy()
    terms["lead_time_days"] = rng.integers(low, high + 1)
    # The backup delivers dairy from its own cold chain: slower than the farm.
    terms.loc[terms["rank"] == 2, "lead_time_days"] = rng.integers(4, 7, len(dairy))
    terms["case_pack"] = terms["unit"].map(CASE_PACK)
    terms["moq"] = terms["case_pack"] * rng.integers(1, 4, n)
    # Some suppliers take a loose MOQ that is not a whole number of cases.
    loose = (rng.random(n) < 0.1) & (terms["case_pack"] > 1).to_numpy()
    terms.loc[loose, "moq"] += terms.loc[loose, "case_pack"] // 2
    return terms[TERM_COLUMNS]


def generate(seed: int = DEFAULT_SEED) -> dict[str, pd.DataFrame]:
    """Every sample file as a DataFrame, keyed by file name. Pure: same seed, same frames."""
    prof = _profiles(_catalogue(seed), seed)
    uplift, factor = _promo_effects(prof)
    counts = _daily_lines(prof, uplift, seed)
    return {
        "locations.csv": _table(LOCATIONS),
        "skus.csv": prof[SKU_COLUMNS].copy(),
        "suppliers.csv": _table(SUPPLIERS),
        "terms.csv": _terms(prof, seed),
        "stock.csv": _stock(prof, seed),
        "sales.csv.gz": _sales(prof, counts, factor, seed),
        "promotions.csv": _promotions(prof),
    }


def story(seed: int = DEFAULT_SEED) -> dict[str, list[str]]:
    """The SKUs behind each planted pattern, for tests and demos that need the answer key."""
    prof = _profiles(_catalogue(seed), seed)
    prof["intermittent"] = prof["p_day"] < 1.0
    return {role: prof.loc[prof[role], "sku"].tolist() for role in ROLES}


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The exact bytes a sample file holds (before gzip): UTF-8, header, `\\n`, no index."""
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def write(out_dir: Path, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write the sample files into out_dir; gzip with mtime=0 so the bytes are reproducible."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for name, frame in generate(seed).items():
        data = to_csv_bytes(frame)
        if name.endswith(".gz"):
            data = gzip.compress(data, compresslevel=9, mtime=0)
        path = out_dir / name
        path.write_bytes(data)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out_dir = Path(args[0]) if args else OUT_DIR
    for path in write(out_dir):
        print(f"{path}  {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
