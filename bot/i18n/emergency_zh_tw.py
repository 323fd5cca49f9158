"""繁體中文：緊急補貨（bot/emergency_cards.py、bot/emergency_commands.py、
bot/emergency_actions.py）。併入 `zh_tw.MESSAGES`（見 `bot/i18n/__init__.py`）；鍵與
`emergency_en` 相同。"""

MESSAGES: dict[str, str] = {
    # the alert card
    "card.button.emergency": "緊急補貨",
    "card.alert.footer.emergency": "🚨 已提出緊急補貨，採購單 {po}",
    # the emergency card
    "card.emergency.title": "🚨 緊急補貨 · {sku} × {qty}",
    "card.emergency.opened": "{by} 提出緊急補貨，請盡快核准",
    "card.emergency.opened_reason": "{by} 提出緊急補貨：{reason}",
    "card.emergency.reminded": "⏰ 提醒：這筆緊急補貨已等待 {minutes} 分鐘，仍待核准",
    "card.emergency.escalated": "⬆️ 已等待 {minutes} 分鐘未核准，改請第 {level} 層核准人處理",
    "card.emergency.done": "緊急補貨：採購單目前為「{status}」",
    "card.emergency.sku": "品項",
    "card.emergency.qty": "數量",
    "card.emergency.qty_raised": "{qty}（申請 {asked}，依供應商條件調整）",
    "card.emergency.supplier": "供應商",
    "card.emergency.supplier_backup": "{name}（備用供應商，交期較快）",
    "card.emergency.lead_time": "交期",
    "card.emergency.lead_days": "{n} 個工作天",
    "card.emergency.arrival": "預計到貨",
    "card.emergency.po": "採購單",
    "card.emergency.po_value": "{number} · {total}",
    "card.emergency.clock": "回應時間",
    "card.emergency.waited": "已等待 {minutes} 分鐘",
    "card.emergency.approvers": "核准人",
    "card.emergency.approvers_level": "{names}（第 {level}/{levels} 層）",
    "card.emergency.nobody": "（沒有可核准的成員，請經理設定 emergency.approvers）",
    "card.emergency.reason": "原因",
    "card.emergency.contacts": "📇 緊急聯絡人名錄",
    "card.emergency.col.kind": "類別",
    "card.emergency.col.name": "名稱",
    "card.emergency.col.person": "聯絡人",
    "card.emergency.col.phone": "電話／信箱",
    "card.emergency.kind.supplier": "供應商",
    "card.emergency.kind.backup": "備用供應商",
    "card.emergency.kind.logistics": "物流協調員",
    "card.emergency.footer": "{by} 於 {at} 提出",
    "card.emergency.confirm_approve": "確定核准緊急採購單 {number}（{total}）？核准後立即發送給供應商",
    # the backup offer when the supplier does not confirm in time
    "card.backup.emergency_overdue": "緊急補貨：{supplier} 已 {minutes} 分鐘未確認（時限 {limit} 分鐘）",
    # the form behind the alert button
    "form.emergency.title": "緊急補貨",
    "form.emergency.submit": "送出",
    "form.emergency.intro": "{sku}：以交期最快的供應商下單，並立即通知核准人。建議數量 {gap}（警示缺口）。",
    "form.emergency.qty": "數量",
    "form.emergency.qty_hint": "整數，至少 1；會依供應商的最小訂購量與箱入數調整",
    "form.emergency.reason": "原因（選填）",
    "form.emergency.reason_hint": "例如：團購爆量、供應商斷貨",
    # the command and the replies
    "cmd.emergency.usage": "用法：`/replenish 緊急 <品號> <數量> [原因]`，例如 `/replenish 緊急 MILK 120 團購爆量`",
    "cmd.emergency.unknown_sku": "找不到品號 {sku}",
    "outcome.emergency_opened": "已提出緊急補貨，採購單 {po} 已送核准人",
    "outcome.emergency_supplier": "供應商：{supplier}，交期 {days} 個工作天",
    "error.sku_not_found": "找不到品號 {sku}",
    "error.emergency_in_flight": "品號 {sku} 已有進行中的緊急補貨（採購單 {po}）",
}
