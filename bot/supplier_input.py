"""What suppliers type, read politely: dates, prices and tracking numbers.

People in Taiwan write a date as `2026-12-03`, `2026/12/3`, `12/3`, `12月3日` (or 號),
`115/12/3` (the ROC year) and with full-width digits; a price as `48`, `48.5`, `NT$48`,
`$1,200` or `48元`. Anything else is an inline error, never a guess.
"""

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

CENT = Decimal("0.01")  # NT$ prices have at most cents
MAX_PRICE = Decimal(10_000_000)  # a unit price past this is a typo
ROC_OFFSET = 1911  # 民國 year + 1911 = the Gregorian year
WRAP_DAYS = 180  # a month/day this far in the past means next year (typed in December)
_FULL_DATE = re.compile(r"^(\d{2,4})[-/.年](\d{1,2})[-/.月](\d{1,2})[日號号]?$")
_MONTH_DAY = re.compile(r"^(\d{1,2})[-/.月](\d{1,2})[日號号]?$")
_CURRENCY = re.compile(r"^(NT\$|NTD|TWD|NT|\$)|(元|塊|NTD|TWD)$", re.IGNORECASE)
_NONE = frozenset({"", "-", "—", "無", "没有", "沒有", "none", "n/a", "na", "no"})


@dataclass(frozen=True)
class Unreadable:
    """Why a typed value was refused: the `form.error.<code>` to show next to the input."""

    code: str


def typed(values: Mapping[str, str], input_id: str) -> str:
    """A one-input form's answer: Slack names the input; a Telegram reply arrives whole under
    "" — or, when it looked like `WORD WORD` lines, split into pairs, joined back here."""
    if input_id in values:
        return values[input_id].strip()
    if "" in values:
        return values[""].strip()
    return " ".join(f"{key} {value}" for key, value in values.items()).strip()


def _plain(text: str) -> str:
    """Full-width digits and slashes to ASCII, and no spaces at all."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def parse_arrival(text: str, today: date) -> date | Unreadable:
    """The typed arrival date; a month/day without a year is this year's (next year's when
    that is long past, as when `1/5` is typed in December). A past day is refused."""
    plain = _plain(text)
    full, short = _FULL_DATE.match(plain), _MONTH_DAY.match(plain)
    try:
        if full:
            year = int(full.group(1))
            year += ROC_OFFSET if year < ROC_OFFSET else 0
            found = date(year, int(full.group(2)), int(full.group(3)))
        elif short:
            found = date(today.year, int(short.group(1)), int(short.group(2)))
            if found < today - timedelta(days=WRAP_DAYS):
                found = found.replace(year=today.year + 1)
        else:
            return Unreadable("bad_date")
    except ValueError:  # 2/30, 13/1
        return Unreadable("bad_date")
    return found if found >= today else Unreadable("past_date")


def parse_price(text: str) -> Decimal | Unreadable:
    """A positive unit price, the currency mark and thousands separators ignored."""
    plain = _CURRENCY.sub("", _plain(text)).replace(",", "")
    plain = _CURRENCY.sub("", plain)  # `NT$48元`: both ends
    try:
        price = Decimal(plain)
        exact = price.is_finite() and 0 < price <= MAX_PRICE and price == price.quantize(CENT)
    except InvalidOperation:
        exact = False
    return price if exact else Unreadable("bad_price")


def parse_tracking(text: str) -> str:
    """The tracking number as typed (carrier and spaces kept); "none"-like answers → ""."""
    cleaned = " ".join(text.split())
    return "" if cleaned.lower() in _NONE else cleaned
