"""Suppliers for a plan: lead times in Taiwan working days, and which supplier to order from.

Supplier choice is vectorised with pandas over every SKU that needs an order: the rank-1
supplier by default, the next-ranked one when the primary's lead time would leave a
stockout gap that the backup's would not, or when the primary declined (備用供應商).
"""

from collections.abc import Set
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd

from core.calendar import add_working_days, calendar_days_between
from core.policy import IntArray, Values

# --- lead times in working days -------------------------------------------------------------


def expected_arrival(
    order_date: date | npt.ArrayLike, lead_time_days: Values
) -> date | npt.NDArray[np.datetime64]:
    """The day an order arrives: `lead_time_days` Taiwan working days after the order date."""
    arrival = add_working_days(order_date, lead_time_days)
    return arrival.astype(date) if np.ndim(arrival) == 0 else arrival


def calendar_lead_time(order_date: date | npt.ArrayLike, lead_time_days: Values) -> int | IntArray:
    """Calendar days from the order to its arrival: the L the formulas use (春節 adds days)."""
    days = calendar_days_between(order_date, add_working_days(order_date, lead_time_days))
    return int(days) if np.ndim(days) == 0 else days


# --- supplier choice ------------------------------------------------------------------------

NEED_COLUMNS = ["sku_id", "days_of_cover", "mean_daily_demand"]
TERM_COLUMNS = [
    "sku_id",
    "supplier_id",
    "rank",
    "lead_time_days",
    "lead_time_std_days",
    "unit_price",
    "moq",
    "case_pack",
]
_WHOLE_COLUMNS = ["supplier_id", "rank", "lead_time_days", "moq", "case_pack"]


def _require_columns(frame: pd.DataFrame, columns: list[str], name: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks columns: {', '.join(missing)}")


def _offers(
    needs: pd.DataFrame, terms: pd.DataFrame, declined: Set[tuple[int, int]]
) -> pd.DataFrame:
    """Terms for the needed SKUs, best rank first, with `ahead` (offers ranked before this one)
    and `declined`. Equal ranks go to the shorter lead time, then the lower price."""
    offers = terms.loc[terms["sku_id"].isin(needs["sku_id"]), TERM_COLUMNS]
    order = ["sku_id", "rank", "lead_time_days", "unit_price", "supplier_id"]
    offers = offers.sort_values(order, kind="stable").reset_index(drop=True)
    pairs = pd.MultiIndex.from_frame(offers[["sku_id", "supplier_id"]])
    offers["declined"] = pairs.isin(list(declined)) if declined else False
    offers["ahead"] = offers.groupby("sku_id").cumcount()
    return offers


def _lead_for_gap(offers: pd.DataFrame, order_date: date | None) -> pd.Series:
    """Lead time in the unit of days of cover: calendar days when the order date is known."""
    if order_date is None:
        return offers["lead_time_days"].astype("float64")
    lead = calendar_lead_time(order_date, offers["lead_time_days"].to_numpy(dtype="float64"))
    return pd.Series(np.asarray(lead, dtype="float64"), index=offers.index)


def choose_suppliers(
    needs: pd.DataFrame,
    terms: pd.DataFrame,
    *,
    declined: Set[tuple[int, int]] = frozenset(),
    order_date: date | None = None,
) -> pd.DataFrame:
    """One supplier per needed SKU, in the order of `needs`.

    The best-ranked supplier that has not declined (`declined` holds (sku_id, supplier_id)
    pairs) is the candidate; the next one takes over when the candidate's lead time would
    leave a stockout gap (cover < its lead time) that the next one's would not. Reasons:
    "primary", "primary_declined" (a better-ranked supplier declined), "faster_backup";
    without a candidate: supplier_id NA with "no_terms" or "all_declined".

    Lead times are compared with days of cover as given, or, with `order_date`, as calendar
    days after converting the suppliers' working days. The result keeps the quoted days.
    """
    _require_columns(needs, NEED_COLUMNS, "needs")
    _require_columns(terms, TERM_COLUMNS, "terms")
    if needs["sku_id"].duplicated().any():
        raise ValueError("needs must hold one row per sku_id")
    offers = _offers(needs, terms, declined)
    usable = offers.loc[~offers["declined"]].copy()
    usable["gap_lead"] = _lead_for_gap(usable, order_date)
    usable["place"] = usable.groupby("sku_id").cumcount()
    first = usable.loc[usable["place"] == 0].set_index("sku_id")
    second = usable.loc[usable["place"] == 1].set_index("sku_id")
    cover = needs.set_index("sku_id")["days_of_cover"].astype("float64")
    gap_first = cover.loc[first.index] < first["gap_lead"]
    closes = cover.reindex(second.index) >= second["gap_lead"]
    faster = gap_first[gap_first].index.intersection(closes[closes].index)
    chosen = pd.concat([first.drop(index=faster), second.loc[faster]])
    chosen["reason"] = np.where(chosen["ahead"] > 0, "primary_declined", "primary")
    chosen.loc[faster, "reason"] = "faster_backup"
    return _in_need_order(needs, offers, chosen)


def _in_need_order(needs: pd.DataFrame, offers: pd.DataFrame, chosen: pd.DataFrame) -> pd.DataFrame:
    """One row per needed SKU; SKUs without a supplier say why, with supplier_id NA."""
    result = chosen.reindex(pd.Index(needs["sku_id"], name="sku_id"))
    has_terms = result.index.isin(offers["sku_id"])
    fallback = np.where(has_terms, "all_declined", "no_terms")
    result["reason"] = result["reason"].fillna(pd.Series(fallback, index=result.index))
    result = result.reset_index()[[*TERM_COLUMNS, "reason"]]
    for column in _WHOLE_COLUMNS:  # rows without a supplier turned whole numbers into floats
        if pd.api.types.is_integer_dtype(offers[column]):
            result[column] = result[column].astype("Int64")
    return result
