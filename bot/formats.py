"""Numbers, money, dates and small words in the reader's locale, for cards and replies:
`money`, `number`, `when` and `day` turn the core's plain JSON values (Decimals, numeric
strings, ISO dates, naive UTC datetimes from SQLite) into short zh-TW or en text, with `—`
for a missing value and `∞` for the engine's "inf"; beside them sit their parsers
(`to_decimal`, `to_date`), the locale normaliser (`canonical_locale`) and the few words that
both `bot.cards` and `bot.replies` need (who did it, a status, a joined list, whether the
catalogs know a key). Every word goes through `bot.i18n`.
"""

from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from bot.i18n import DEFAULT_LOCALE, en, t

DASH = "—"
INFINITY = "∞"


# --- numbers, money and dates ----------------------------------------------------------


def money(amount: Decimal | str | float | None, locale: str, currency: str = "TWD") -> str:
    """`NT$1,234`, `NT$1,234.50`, `-NT$80`; other currencies `USD 1,234.50`. The same
    grouping reads right in both locales, so `locale` is only kept for a future one."""
    value = to_decimal(amount)
    if value is None or not value.is_finite():
        return DASH
    code = (currency or "TWD").upper()
    cents = value.quantize(Decimal("0.01"), ROUND_HALF_UP)
    sign = "-" if cents < 0 else ""
    size = abs(cents)
    if code == "TWD":  # NT dollars: cents are rare, so whole amounts drop them
        body = f"{size:,.0f}" if size == size.to_integral_value() else f"{size:,.2f}"
        return f"{sign}NT${body}"
    return f"{sign}{code} {size:,.2f}"


def number(n: object, locale: str, digits: int = 1) -> str:
    """`1,234`, `12.5`; `—` for missing, `∞` for the engine's "inf" (no demand, no end)."""
    value = to_decimal(n)
    if value is None:
        return DASH
    if value.is_infinite():
        return INFINITY if value > 0 else f"-{INFINITY}"
    rounded = value.quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
    if rounded == rounded.to_integral_value():
        return f"{int(rounded):,}"
    return f"{rounded.normalize():,f}"


def when(dt: datetime | str | None, locale: str, tz: ZoneInfo) -> str:
    """A moment in the reader's time zone: zh-TW `11/25 14:05`, en `25 Nov 14:05`."""
    moment = _datetime(dt)
    if moment is None:
        return str(dt) if dt else DASH
    local = moment.astimezone(tz)
    loc = canonical_locale(locale)
    return t(
        "card.date.time",
        loc,
        month=_month(local.month, loc),
        day=local.day,
        time=f"{local:%H:%M}",
    )


def day(d: date | str | None, locale: str) -> str:
    """A calendar day: zh-TW `11/28（六）`, en `Sat 28 Nov`."""
    value = to_date(d)
    if value is None:
        return str(d) if d else DASH
    loc = canonical_locale(locale)
    weekday = t("card.date.weekdays", loc).split(",")[value.weekday()]
    return t("card.date.day", loc, month=_month(value.month, loc), day=value.day, weekday=weekday)


def _month(month: int, loc: str) -> str:
    return t("card.date.months", loc).split(",")[month - 1]


def to_decimal(value: object) -> Decimal | None:
    """A finite or infinite Decimal from a number or numeric string; None for blank or NaN."""
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        parsed = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return None if parsed.is_nan() else parsed


def _datetime(value: object) -> datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    # SQLite hands back naive datetimes; the core stores UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def to_date(value: object) -> date | None:
    """The day of a date, a datetime or an ISO string (its first ten characters)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def canonical_locale(locale: str | None) -> str:
    """zh, zh_TW, zh-tw → zh-TW; en-US → en; anything else as given (t() falls back)."""
    if not locale:
        return DEFAULT_LOCALE
    lowered = locale.replace("_", "-").lower()
    if lowered.startswith("zh"):
        return "zh-TW"
    return "en" if lowered.startswith("en") else locale


# --- words shared by cards and replies --------------------------------------------------


def who(name: object, loc: str) -> str:
    """A person's name as given; "the system" when nobody (or "system") did it."""
    return t("card.system", loc) if not name or name == "system" else str(name)


def joined(items: Iterable[str], loc: str) -> str:
    """Items joined with the locale's list separator (`、` in zh-TW)."""
    return t("list.separator", loc).join(items)


def known(key: str) -> bool:
    """Whether the catalogs have a message for `key` (en holds every key)."""
    return key in en.MESSAGES


def status_word(status: str, loc: str) -> str:
    """A PO or alert status in words; the raw status (or `—`) when it has none."""
    for key in (f"po_status.{status}", f"status.alert.{status}"):
        if known(key):
            return t(key, loc)
    return status or DASH
