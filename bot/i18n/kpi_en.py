"""English: the KPIs (bot/kpi_text.py, bot/cli_kpi.py, bot/kpi_commands.py). Merged into
`en.MESSAGES` (see `bot/i18n/__init__.py`); the same keys as `kpi_zh_tw`."""

MESSAGES: dict[str, str] = {
    # the KPIs, as a report names them
    "kpi.name.inventory_turnover": "Inventory turnover",
    "kpi.name.stockout_rate": "Stockout rate",
    "kpi.name.fill_rate": "Fill rate",
    "kpi.name.sales_growth": "Sales growth",
    "kpi.name.otif": "Replenishment accuracy (OTIF)",
    "kpi.name.approve_minutes": "Emergency response: request → approval",
    "kpi.name.confirm_minutes": "Emergency response: approval → supplier confirmation",
    # values
    "kpi.value.turnover": "{period}× ({annual}× a year)",
    "kpi.value.minutes": "median {median} min · p90 {p90} min",
    # what each value rests on
    "kpi.basis.turnover": "COGS {cogs} ÷ average inventory {inventory} (stock history on {days} of {period} days)",
    "kpi.basis.stockout": "{out} / {active} SKU-days",
    "kpi.basis.fill": "shipped {shipped} / demanded {demanded} units (estimated on stockout days)",
    "kpi.basis.growth": "{revenue} vs {previous} before",
    "kpi.basis.otif": "{otif} / {lines} lines ({on_time} on time, {in_full} in full)",
    "kpi.basis.approve": "{count} / {requests} requests approved",
    "kpi.basis.confirm": "{count} confirmed",
    # the table and the card
    "kpi.col.name": "KPI",
    "kpi.col.value": "Value",
    "kpi.col.basis": "Based on",
    "kpi.title": "📊 KPIs {start} – {end} ({days} days)",
    "kpi.scope.all": "all SKUs",
    "kpi.scope.supplier": "supplier {supplier}",
    "kpi.scope.category": "category {category}",
    "kpi.note": "A KPI without data shows “—”; stock KPIs count only days with stock history. Definitions: README, “KPIs”.",
    "cmd.kpi.usage": "Usage: `/replenish kpi [7d|30d|90d]` (1 to {max} days, default 30d)",
    "cli.kpi.bad_period": "Bad period: it ends ({end}) before it starts ({start})",
    "cli.kpi.unknown_supplier": "No supplier has the code {code}",
}
