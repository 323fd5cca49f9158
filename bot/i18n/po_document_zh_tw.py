"""繁體中文：給供應商的採購單文件（PDF／PNG）與其訊息。併入 `zh_tw.MESSAGES`（見
`bot/i18n/__init__.py`）；鍵與 `po_document_en` 相同。文件上的字不可用表情符號：字型沒有。"""

MESSAGES: dict[str, str] = {
    # the document itself
    "podoc.title": "採購單",
    "podoc.urgent": "緊急",
    "podoc.number": "採購單號",
    "podoc.supplier": "供應商",
    "podoc.issued": "發單日期",
    "podoc.requested_arrival": "要求到貨日",
    "podoc.expected_arrival": "確認到貨日",
    "podoc.deliver_to": "送貨地點",
    "podoc.phone": "聯絡電話：{phone}",
    "podoc.date": "{year}/{day}",
    "podoc.col.no": "項次",
    "podoc.col.code": "貴司品號",
    "podoc.col.name": "品名",
    "podoc.col.qty": "數量",
    "podoc.col.unit_price": "單價",
    "podoc.col.amount": "金額",
    "podoc.total": "合計",
    "podoc.notes": "備註",
    "podoc.footer": "請依採購單號出貨與開立發票；交期請在群組中按「確認」回覆。",
    "podoc.page": "第 {page}／{pages} 頁",
    "podoc.continued": "續下頁",
    # the chat message the file comes with
    "podoc.card.title": "📄 採購單 {number}（PDF）",
    "podoc.card.title_png": "📄 採購單 {number}",
    "podoc.card.text": "正式採購單檔案，可列印或轉給出貨同仁。需要時可再輸入 /po {number} pdf 取得。",
    "podoc.card.alt": "採購單 {number}",
}
