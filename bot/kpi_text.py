"""A `KpiSet` in the reader's words: one (name, value, basis) row per KPI, the basis being the
counts behind the value ("3 / 120 SKU-days"). Shared by `replenish kpi` and `/replenish kpi`."""

from datetime import date

from bot.formats import DASH, money, number
from bot.i18n import t
from core.kpi import Durations, KpiSet

Row = tuple[str, str, str]


def kpi_title(start: date, end: date, locale: str) -> str:
    days = (end - start).days + 1
    return t("kpi.title", locale, start=start.isoformat(), end=end.isoformat(), days=days)


def kpi_scope(locale: str, supplier: str | None = None, category: str | None = None) -> str:
    parts = []
    if supplier:
        parts.append(t("kpi.scope.supplier", locale, supplier=supplier))
    if category:
        parts.append(t("kpi.scope.category", locale, category=category))
    return t("list.separator", locale).join(parts) or t("kpi.scope.all", locale)


def kpi_rows(k: KpiSet, locale: str) -> list[Row]:
    """Every KPI of the set, in the order the article lists them."""
    return [
        _turnover(k, locale),
        _row("stockout_rate", _percent(k.stockout_rate, locale), locale, _stockout(k, locale)),
        _row("fill_rate", _percent(k.fill_rate, locale), locale, _fill(k, locale)),
        _row(
            "sales_growth", _percent(k.sales_growth, locale, sign=True), locale, _growth(k, locale)
        ),
        _row("otif", _percent(k.otif, locale), locale, _otif(k, locale)),
        _minutes_row("approve_minutes", k.approve_minutes, locale, requests=k.emergencies),
        _minutes_row("confirm_minutes", k.confirm_minutes, locale),
    ]


def _row(name: str, value: str, locale: str, basis: str) -> Row:
    return (t(f"kpi.name.{name}", locale), value, basis)


def _percent(value: float | None, locale: str, *, sign: bool = False) -> str:
    if value is None:
        return DASH
    text = f"{value * 100:,.1f}%"  # the same in both locales
    return f"+{text}" if sign and value > 0 else text


def _turnover(k: KpiSet, locale: str) -> Row:
    if k.inventory_turnover is None:
        value = DASH
    else:
        period = number(k.inventory_turnover, locale, 2)
        annual = number(k.inventory_turnover_annualised, locale, 1)
        value = t("kpi.value.turnover", locale, period=period, annual=annual)
    basis = t(
        "kpi.basis.turnover",
        locale,
        cogs=money(round(k.cogs), locale),
        inventory=money(round(k.average_inventory_value), locale),
        days=k.stock_days,
        period=(k.end - k.start).days + 1,
    )
    return _row("inventory_turnover", value, locale, basis)


def _stockout(k: KpiSet, locale: str) -> str:
    out, active = number(k.stockout_sku_days, locale), number(k.active_sku_days, locale)
    return t("kpi.basis.stockout", locale, out=out, active=active)


def _fill(k: KpiSet, locale: str) -> str:
    shipped, demanded = number(k.units_shipped, locale), number(k.units_demanded, locale)
    return t("kpi.basis.fill", locale, shipped=shipped, demanded=demanded)


def _growth(k: KpiSet, locale: str) -> str:
    revenue, previous = money(round(k.revenue), locale), money(round(k.previous_revenue), locale)
    return t("kpi.basis.growth", locale, revenue=revenue, previous=previous)


def _otif(k: KpiSet, locale: str) -> str:
    return t(
        "kpi.basis.otif",
        locale,
        otif=k.lines_otif,
        lines=k.lines_received,
        on_time=k.lines_on_time,
        in_full=k.lines_in_full,
    )


def _minutes_row(name: str, d: Durations, locale: str, *, requests: int | None = None) -> Row:
    value = DASH
    if d.count:
        median, p90 = number(d.median, locale, 1), number(d.p90, locale, 1)
        value = t("kpi.value.minutes", locale, median=median, p90=p90)
    if requests is None:
        basis = t("kpi.basis.confirm", locale, count=d.count)
    else:
        basis = t("kpi.basis.approve", locale, count=d.count, requests=requests)
    return _row(name, value, locale, basis)
