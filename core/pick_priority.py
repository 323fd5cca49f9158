"""Pick priority (熱銷品優先處理, 顏色標籤): which SKUs a dropship partner picks first, and
how many. Pure: a plan frame and partners in, lists out (`core.picks` stores and posts them).

Where the numbers come from. The plan (`core.planner`) is shop-wide: `core.state` sums
stock over every location, so colours and reasons (the plan's signals: imminent stockout,
surge, low stock) describe the shop, and that is what "hot" means: a SKU about to run out
or surging is to be picked first wherever it ships from. The quantity is the partner's own
part of the expected demand: the plan's daily demand (for a surging SKU, the recent rate)
× the partner's share of that SKU's recent sales (SalesDay at the partner's location, see
`core.picks.partner_shares`) × `horizon_days` (one day: a list is a day's picking),
rounded up. A partner whose feed carries no sales of its own gets the whole shop's demand;
a partner with sales data lists only the SKUs it sold. Red and orange come first, least
cover first; greens are capped, busiest first, so the list stays readable on a phone.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.models import PickColour

COLOUR_RANK = {PickColour.RED.value: 0, PickColour.ORANGE.value: 1, PickColour.GREEN.value: 2}
HORIZON_DAYS = 1.0
GREEN_LIMIT = 10
QUIET_SIGNALS = frozenset({"slow_mover"})  # true, but no reason to pick anything first


@dataclass(frozen=True)
class Partner:
    """A dropship partner as the pure list builder sees it. `share`: SKU id → the partner's
    fraction of that SKU's recent sales; empty when its feed has none (→ the whole plan)."""

    id: int
    code: str = ""
    name: str = ""
    share: Mapping[int, float] = field(default_factory=dict)


def pick_lists(
    planned: pd.DataFrame,
    partners: Iterable[Partner],
    *,
    horizon_days: float = HORIZON_DAYS,
    green_limit: int = GREEN_LIMIT,
) -> dict[int, list[dict[str, Any]]]:
    """Per partner: red, orange, green items ({sku, name, colour, qty, reasons})."""
    base = _candidates(planned)
    return {p.id: _items(base, p.share, horizon_days, green_limit) for p in partners}


def _candidates(planned: pd.DataFrame) -> pd.DataFrame:
    frame = planned[["sku_id", "sku", "name", "pick_colour", "days_of_cover", "signals"]].copy()
    demand = pd.to_numeric(planned["daily_demand"], errors="coerce").fillna(0.0)
    frame["daily_demand"] = demand.clip(lower=0.0)
    frame["rank"] = frame["pick_colour"].map(COLOUR_RANK).fillna(2).astype(int)
    return frame


def _items(
    base: pd.DataFrame, share: Mapping[int, float], horizon: float, green_limit: int
) -> list[dict[str, Any]]:
    weight = base["sku_id"].map(share).fillna(0.0) if share else 1.0
    expected = base["daily_demand"] * weight * horizon
    qty = np.ceil(expected.to_numpy(float) - 1e-6).clip(min=0).astype(int)  # float noise
    rows = base.assign(qty=qty)[qty > 0]  # nothing to pick: not on the list
    urgent = rows[rows["rank"] < 2].sort_values(
        ["rank", "days_of_cover", "qty", "sku"], ascending=[True, True, False, True]
    )
    greens = rows[rows["rank"] == 2].sort_values(["qty", "sku"], ascending=[False, True])
    chosen = pd.concat([urgent, greens.head(green_limit)])
    return [_item(row) for row in chosen.to_dict("records")]


def _item(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "sku": str(row["sku"]),
        "name": str(row["name"]),
        "colour": str(row["pick_colour"]),
        "qty": int(row["qty"]),
        "reasons": [str(s) for s in row["signals"] if s not in QUIET_SIGNALS],
    }


def digest(items: list[dict[str, Any]]) -> str:
    text = json.dumps(items, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
