"""A seeded synthetic group-buying shop for the decision-quality benchmark.

    python benchmarks/synthetic.py OUT_DIR [--skus 300] [--days 364] [--seed 0]

writes OUT_DIR/demand.csv (`date,sku,qty`, zero days omitted), OUT_DIR/items.csv and
OUT_DIR/promos.csv in the formats `replenish simulate` reads.

The demand carries what a group-buying shop sees, each from its own random stream:
- Pareto (Zipf-by-rank) popularity: a few SKUs sell tens of units a day, the tail sells one
  a week;
- intermittent, lumpy SKUs in the slower half (sell on 5-40 % of days, in lumps);
- weekly seasonality around the Sunday/Monday group-buy round openings, per-SKU strength;
- a mild linear trend per SKU;
- announced campaigns (category-wide or a hand-picked set of SKUs, 2-6 days): the true
  uplift varies by SKU, the shop's announced guess is one noisy number per campaign; demand
  dips for a few days afterwards (buyers stocked up);
- unannounced surges (a post going viral in a LINE group): a few SKUs sell 2.5-7x for one
  to three weeks with no warning.
Item terms: unit_cost, lead_time_days 2-14, case_pack and MOQ in proportion to the SKU's
speed, initial_on_hand 5-25 days of cover, order_cost, holding_rate 0.2-0.3 a year, and
the SKU's category (an extra ITEMS column the forecast pools promotion and holiday effects on).
"""

from __future__ import annotations

import argparse
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

# Monday..Sunday, mean 1: group-buy rounds open on Sunday and Monday evenings.
DOW = np.array([1.35, 0.9, 0.8, 0.85, 0.95, 0.75, 1.4])
CATEGORIES = ("乳品", "冷凍食品", "零食", "生鮮蔬果", "日用品", "保健食品", "美妝", "寵物")
CASE_PACKS = np.array([1, 2, 6, 10, 12, 24])


def _rng(seed: int, part: str) -> np.random.Generator:
    # One stream per part, so changing one effect never reshuffles the others.
    return np.random.default_rng([seed, zlib.crc32(part.encode())])


def _profiles(n: int, seed: int) -> pd.DataFrame:
    rng = _rng(seed, "profiles")
    rank = rng.permutation(n) + 1
    rate = 40.0 * rank**-0.8 * rng.lognormal(0.0, 0.3, n)  # units a day, Pareto over rank
    intermittent = (rank > n // 3) & (rng.random(n) < 0.5)
    p_day = np.where(intermittent, rng.uniform(0.05, 0.4, n), 1.0)
    return pd.DataFrame(
        {
            "sku": [f"SYN-{i:04d}" for i in range(1, n + 1)],
            "category": rng.choice(CATEGORIES, n),
            "rate": rate,
            "p_day": p_day,
            "weekly": rng.uniform(0.2, 1.3, n),  # strength of the weekly pattern
            "slope": rng.uniform(-0.3, 0.4, n),  # relative change over the whole history
        }
    )


def _campaigns(
    prof: pd.DataFrame, dates: pd.DatetimeIndex, seed: int
) -> tuple[np.ndarray, pd.DataFrame]:
    """The true promotion multiplier (n x days) and the announced PROMOS rows."""
    rng = _rng(seed, "campaigns")
    n, days = len(prof), len(dates)
    mult = np.ones((n, days))
    rows: list[pd.DataFrame] = []
    n_campaigns = max(1, round(days / 30))
    starts = np.sort(rng.choice(np.arange(21, days - 7), n_campaigns, replace=False))
    for k, start in enumerate(starts):
        length = int(rng.integers(2, 7))
        if rng.random() < 0.5:
            picked = (prof["category"] == rng.choice(CATEGORIES)).to_numpy()
        else:
            picked = np.zeros(n, dtype=bool)
            picked[rng.choice(n, int(rng.integers(5, 30)), replace=False)] = True
        base = rng.uniform(1.5, 4.0)
        true_uplift = base * rng.lognormal(0.0, 0.35, int(picked.sum()))
        mult[picked, start : start + length] *= true_uplift[:, None]
        mult[picked, start + length : start + length + 3] *= 0.75  # the stocked-up dip
        guess = round(base * rng.lognormal(0.0, 0.25), 1)
        rows.append(
            pd.DataFrame(
                {
                    "sku": prof.loc[picked, "sku"].to_numpy(),
                    "start": dates[start].date(),
                    "end": dates[min(start + length, days) - 1].date(),
                    "uplift": max(guess, 1.1),
                    "name": f"團購檔期{k + 1:02d}",
                }
            )
        )
    return mult, pd.concat(rows, ignore_index=True)


def _surges(n: int, days: int, seed: int) -> np.ndarray:
    """Unannounced surges: about 8 % of SKUs sell several times their rate for a while."""
    rng = _rng(seed, "surges")
    mult = np.ones((n, days))
    for i in np.flatnonzero(rng.random(n) < 0.08):
        start = int(rng.integers(days // 5, days - 10))
        length = int(rng.integers(7, 22))
        mult[i, start : start + length] *= rng.uniform(2.5, 7.0)
    return mult


def _demand(prof: pd.DataFrame, dates: pd.DatetimeIndex, mult: np.ndarray, seed: int):
    rng = _rng(seed, "demand")
    n, days = mult.shape
    trend = 1.0 + prof["slope"].to_numpy()[:, None] * (np.linspace(0.0, 1.0, days) - 0.5)
    dow = DOW[dates.day_of_week.to_numpy()] / DOW.mean()
    weekly = 1.0 + prof["weekly"].to_numpy()[:, None] * (dow[None, :] - 1.0)
    lam = prof["rate"].to_numpy()[:, None] * trend * np.clip(weekly, 0.1, None) * mult
    # Smooth SKUs: Poisson-gamma (over-dispersed); intermittent: sell on few days, in lumps.
    p_day = np.minimum(prof["p_day"].to_numpy(), prof["rate"].to_numpy())[:, None]
    gamma = rng.gamma(4.0, 0.25, (n, days))
    smooth = rng.poisson(lam * gamma)
    sells = rng.random((n, days)) < p_day
    lumps = sells * (1 + rng.poisson(np.maximum(lam / p_day - 1.0, 0.0) * gamma))
    return np.where(prof["p_day"].to_numpy()[:, None] < 1.0, lumps, smooth)


def _items(prof: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = _rng(seed, "items")
    n = len(prof)
    rate = prof["rate"].to_numpy()
    # Fast movers come in bigger cases: the largest pack up to ~4-10 days of demand.
    fits = CASE_PACKS[None, :] <= np.maximum(1.0, rate * rng.uniform(4, 10, n))[:, None]
    case_pack = CASE_PACKS[fits.sum(axis=1) - 1]
    moq = case_pack * rng.integers(1, 3, n)
    return pd.DataFrame(
        {
            "sku": prof["sku"],
            "unit_cost": np.round(np.clip(rng.lognormal(np.log(150), 0.8, n), 15, 3000), 1),
            "lead_time_days": rng.integers(2, 15, n),
            "moq": moq,
            "case_pack": case_pack,
            "initial_on_hand": np.round(rate * rng.uniform(5, 25, n)).astype(int),
            "order_cost": np.round(rng.uniform(150, 400, n), -1),
            "holding_rate": np.round(rng.uniform(0.2, 0.3, n), 3),
            "category": prof["category"],
        }
    )


def generate(
    n_skus: int = 300, days: int = 364, seed: int = 0, start: str = "2025-01-06"
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(demand, items, promos) frames; pure: the same arguments give the same frames."""
    dates = pd.date_range(start, periods=days, freq="D")
    prof = _profiles(n_skus, seed)
    promo_mult, promos = _campaigns(prof, dates, seed)
    qty = _demand(prof, dates, promo_mult * _surges(n_skus, days, seed), seed)
    s, d = np.nonzero(qty)
    demand = pd.DataFrame(
        {"date": dates[d], "sku": prof["sku"].to_numpy()[s], "qty": qty[s, d].astype(int)}
    )
    demand = demand.sort_values(["date", "sku"], ignore_index=True)
    return demand, _items(prof, seed), promos[["sku", "start", "end", "uplift", "name"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--skus", type=int, default=300)
    parser.add_argument("--days", type=int, default=364)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    demand, items, promos = generate(args.skus, args.days, args.seed)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    frames = {"demand.csv": demand.assign(date=demand["date"].dt.strftime("%Y-%m-%d"))}
    frames |= {"items.csv": items, "promos.csv": promos}
    for name, frame in frames.items():
        frame.to_csv(args.out_dir / name, index=False)
        print(f"{args.out_dir / name}  {len(frame):,} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
