"""繁體中文：`replenish audit verify`（稽核紀錄的雜湊鏈檢查）。併入 `zh_tw.MESSAGES`（見
`bot/i18n/__init__.py`）；鍵與 `audit_en` 相同。"""

MESSAGES: dict[str, str] = {
    "audit.verify.ok": "稽核紀錄完整：已檢查 {count} 筆，雜湊鏈無誤。最新一筆的雜湊：{head}",
    "audit.verify.hash": "稽核紀錄第 {id} 筆遭改動：內容與它的雜湊不符（已檢查 {checked} 筆）。",
    "audit.verify.link": "稽核紀錄第 {id} 筆的 prev_hash 與前一筆（第 {previous} 筆）的雜湊不符：兩筆之間有紀錄被刪除或插入，或第 {previous} 筆連同雜湊被改寫（已檢查 {checked} 筆）。",
    "audit.verify.link_first": "稽核紀錄第 {id} 筆是現存的第一筆，但它的 prev_hash 不是起始值：更早的紀錄被刪除了。",
    "audit.verify.unguarded": "稽核表禁止修改與刪除的觸發器不見了或被停用：紀錄可能被改動。請資料庫管理員重新建立（見 core/audit_guard.py）。",
}
