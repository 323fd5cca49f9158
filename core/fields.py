"""Column parsers for imports: vectorised over a whole column, one Problem per bad cell.

Each parser takes a column of strings and returns the typed values and, for every cell
it could not accept, a `Problem` (None where the cell is fine). Problems carry a code and
parameters, never prose, so the bot can say them in the reader's language.
"""

import dataclasses
import re
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from core.tabular import DUPLICATE_FIELD, MAX_CELL_CHARS, NOT_SCALAR

MAX_QUANTITY = 1_000_000_000
MAX_MONEY = 999_999_999_999  # Numeric(14, 2) holds twelve digits before the point


@dataclass(frozen=True)
class Problem:
    """Why a row was refused: `code` names the rule, the rest fills in its message."""

    code: str
    field: str = ""
    value: str = ""
    params: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class Parsed:
    values: pd.Series
    problems: pd.Series  # Problem or None, aligned with values


Parser = Callable[[str, pd.Series], Parsed]


def _problems(name: str, column: pd.Series, mask: pd.Series, code: str) -> pd.Series:
    out = pd.Series(None, index=column.index, dtype=object)
    if mask.any():
        out[mask] = [Problem(code, name, _shown(v)) for v in column[mask]]
    return out


def _shown(value: str) -> str:
    return value if len(value) <= 40 else value[:37] + "…"


def _first(*series: pd.Series) -> pd.Series:
    """Per row, the first problem found among several checks."""
    result = series[0].copy()
    for other in series[1:]:
        result = result.where(result.notna(), other)
    return result


def structural(name: str, column: pd.Series) -> pd.Series:
    """Problems any column can have: a repeated JSON key, a nested value, a huge cell."""
    return _first(
        _problems(name, column, column == DUPLICATE_FIELD, "duplicate_field"),
        _problems(name, column, column == NOT_SCALAR, "not_scalar"),
        _problems(name, column, column.str.len() > MAX_CELL_CHARS, "too_long"),
    )


def normalise(column: pd.Series) -> pd.Series:
    """NFKC turns full-width digits and letters (０１２, ＡＢＣ) into ASCII."""
    stripped = column.str.strip()
    if not stripped.str.contains(r"[^\x00-\x7f]", regex=True).any():
        return stripped
    return stripped.map(lambda v: unicodedata.normalize("NFKC", v))


_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"


def text(name: str, column: pd.Series) -> Parsed:
    """Free text, stripped of control characters (a NUL cannot even be stored)."""
    values = column.str.replace(_CONTROL, "", regex=True).str.strip()
    return Parsed(values, structural(name, column))


def code(name: str, column: pd.Series) -> Parsed:
    values = normalise(column)
    bad = values.str.contains(r"[\x00-\x1f\x7f]", regex=True) | (values.str.len() > 64)
    return Parsed(
        values, _first(structural(name, column), _problems(name, column, bad, "bad_code"))
    )


def _number(name: str, column: pd.Series, *, limit: float) -> tuple[pd.Series, pd.Series]:
    cleaned = normalise(column).str.replace(",", "", regex=False)
    numbers = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    finite = np.isfinite(numbers)
    not_number = ~finite & (cleaned != "")
    problems = _first(
        structural(name, column),
        _problems(name, column, not_number, "not_a_number"),
        _problems(name, column, finite & (numbers < 0), "negative"),
        _problems(name, column, finite & (numbers.abs() > limit), "too_large"),
    )
    return numbers, problems


def quantity(name: str, column: pd.Series) -> Parsed:
    numbers, problems = _number(name, column, limit=MAX_QUANTITY)
    fractional = np.isfinite(numbers) & (numbers != np.floor(numbers))
    problems = _first(problems, _problems(name, column, fractional, "not_whole"))
    values = numbers.where(problems.isna() & np.isfinite(numbers)).astype("Int64")
    return Parsed(values, problems)


def positive_quantity(name: str, column: pd.Series) -> Parsed:
    parsed = quantity(name, column)
    zero = parsed.values.fillna(1) == 0
    return Parsed(parsed.values, _first(parsed.problems, _problems(name, column, zero, "zero")))


def money(name: str, column: pd.Series) -> Parsed:
    numbers, problems = _number(name, column, limit=MAX_MONEY)
    return Parsed(numbers.where(problems.isna()).round(2), problems)


def ratio(name: str, column: pd.Series) -> Parsed:
    numbers, problems = _number(name, column, limit=1000)
    return Parsed(numbers.where(problems.isna()), problems)


_ROC_DATE = re.compile(
    r"^(?:民國)?\s*(\d{2,3})\s*[/.\-年]\s*(\d{1,2})\s*[/.\-月]\s*(\d{1,2})(?:\s*日)?(.*)$"
)
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TZ_SUFFIX = re.compile(r"(?:Z|[+-]\d{2}(?::?\d{2})?)$")
# Year, month and day all written out: "2026" or "2026-11" alone is no day.
_HAS_DAY = re.compile(r"^(?:民國)?\s*(?:\d{8}|\d{2,4}\D+\d{1,2}\D+\d{1,2})(?:\D|$)")


def _slow_timestamp(value: str) -> pd.Timestamp | None:
    """Formats the fast ISO path misses: 2026/11/5, 20261105, 民國115/11/05 (ROC years)."""
    roc = _ROC_DATE.match(value)
    if roc:
        year, month, day, rest = roc.groups()
        value = f"{int(year) + 1911}-{int(month):02d}-{int(day):02d}{rest}"
    compact = _COMPACT_DATE.match(value)
    if compact:
        value = "-".join(compact.groups())
    try:
        parsed = pd.Timestamp(value.replace("/", "-"))
    except (ValueError, OverflowError):
        return None
    return None if pd.isna(parsed) or parsed.tzinfo is not None else parsed


def _iso_times(values: pd.Series) -> pd.Series:
    """The fast vectorised path: ISO 8601 without a zone; NaT for everything else."""
    none = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # "mixed time zones" we refuse anyway
        try:
            fast = pd.to_datetime(values, format="ISO8601", errors="coerce")
        except ValueError:  # cells with a zone in a column meant to have none
            return none
    if fast.dtype.kind != "M" or fast.dt.tz is not None:
        return none
    return fast.astype("datetime64[us]")


def _parse_times(values: pd.Series) -> pd.Series:
    """Naive timestamps from strings; the fast vectorised path first, per cell for the rest."""
    fast = _iso_times(values)
    missing = fast.isna() & (values != "")
    if missing.any():
        slow = values[missing].map(_slow_timestamp)
        fast[missing] = pd.to_datetime(slow, errors="coerce").astype("datetime64[us]")
    no_day = fast.notna() & ~values.str.contains(_HAS_DAY, regex=True)
    return fast.mask(no_day)


def local_timestamp(name: str, column: pd.Series, tz: ZoneInfo) -> Parsed:
    """Timestamps in UTC; one written without a zone is the shop's local time."""
    values = normalise(column)
    zoned = values.str.contains(_TZ_SUFFIX, regex=True) & values.str.contains(
        r"\d[T ]\d", regex=True
    )
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us, UTC]")
    naive = _parse_times(values[~zoned])
    if len(naive):
        local = naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
        result[~zoned] = local.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
    if zoned.any():
        aware = pd.to_datetime(values[zoned], utc=True, errors="coerce", format="ISO8601")
        result[zoned] = aware.astype("datetime64[us, UTC]")
    out_of_range = result.notna() & ((result.dt.year < 2000) | (result.dt.year > 2100))
    bad = (result.isna() & (values != "")) | out_of_range
    problems = _first(structural(name, column), _problems(name, column, bad, "bad_date"))
    return Parsed(result.where(problems.isna()), problems)


def local_date(name: str, column: pd.Series) -> Parsed:
    values = normalise(column)
    parsed = _parse_times(values)
    has_time = parsed.notna() & (parsed != parsed.dt.normalize())
    bad = (parsed.isna() & (values != "")) | has_time
    bad |= parsed.notna() & ((parsed.dt.year < 2000) | (parsed.dt.year > 2100))
    problems = _first(structural(name, column), _problems(name, column, bad, "bad_date"))
    return Parsed(parsed.dt.date.where(problems.isna() & parsed.notna()), problems)


def to_local_date(utc: pd.Series, tz: ZoneInfo) -> pd.Series:
    """The shop's business day of each timestamp."""
    return utc.dt.tz_convert(tz).dt.date
