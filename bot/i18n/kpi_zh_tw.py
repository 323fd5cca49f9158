"""繁體中文：指標（bot/kpi_text.py、bot/cli_kpi.py、bot/kpi_commands.py）。併入
`zh_tw.MESSAGES`（見 `bot/i18n/__init__.py`）；鍵與 `kpi_en` 相同。"""

MESSAGES: dict[str, str] = {
    # the KPIs, as a report names them
    "kpi.name.inventory_turnover": "庫存周轉率",
    "kpi.name.stockout_rate": "缺貨率",
    "kpi.name.fill_rate": "訂單滿足率",
    "kpi.name.sales_growth": "銷售額增長率",
    "kpi.name.otif": "補貨準確率（準時足量）",
    "kpi.name.approve_minutes": "緊急補貨響應時間：申請→核准",
    "kpi.name.confirm_minutes": "緊急補貨響應時間：核准→供應商確認",
    # values
    "kpi.value.turnover": "{period} 次（年化 {annual} 次）",
    "kpi.value.minutes": "中位數 {median} 分 · P90 {p90} 分",
    # what each value rests on
    "kpi.basis.turnover": "銷貨成本 {cogs} ÷ 平均庫存 {inventory}（{period} 天中 {days} 天有庫存紀錄）",
    "kpi.basis.stockout": "{out} / {active} 品項日",
    "kpi.basis.fill": "出貨 {shipped} / 需求 {demanded} 件（缺貨日需求為估計）",
    "kpi.basis.growth": "{revenue}，前期 {previous}",
    "kpi.basis.otif": "{otif} / {lines} 行（準時 {on_time}、足量 {in_full}）",
    "kpi.basis.approve": "{count} / {requests} 件已核准",
    "kpi.basis.confirm": "{count} 件已確認",
    # the table and the card
    "kpi.col.name": "指標",
    "kpi.col.value": "數值",
    "kpi.col.basis": "計算依據",
    "kpi.title": "📊 指標 {start} – {end}（{days} 天）",
    "kpi.scope.all": "全部品項",
    "kpi.scope.supplier": "供應商 {supplier}",
    "kpi.scope.category": "分類 {category}",
    "kpi.note": "說明：無資料的指標顯示「—」；庫存指標只計有庫存紀錄的日子。定義見 README「指標」。",
    "cmd.kpi.usage": "用法：`/replenish kpi [7d|30d|90d]`（天數 1 到 {max}，預設 30d）",
    "cli.kpi.bad_period": "期間不正確：結束日 {end} 早於開始日 {start}",
    "cli.kpi.unknown_supplier": "沒有代碼為 {code} 的供應商",
}
