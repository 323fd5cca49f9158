"""繁體中文：電子郵件備援（bot/mail.py）的主旨、開頭說明與頁尾，以及 `--email` 的錯誤訊息。
Merged into `zh_tw.MESSAGES` (see `bot/i18n/__init__.py`); the same keys as `mail_en`."""

MESSAGES: dict[str, str] = {
    # subjects: the card's own title after a tag the inbox can be sorted by
    "mail.subject.red_alert": "【紅色警示】{title}",
    "mail.subject.undelivered": "【聊天訊息未送達】{title}",
    "mail.subject.emergency": "【緊急補貨】{title}",
    # the first paragraph: why this mail came
    "mail.intro.red_alert": "這是一則紅色警示：可能在補貨到貨前斷貨，請盡快處理。",
    "mail.intro.undelivered": "這則訊息自 {since} 起仍未送達 {platform} 的 {target}（{status}），所以改用電子郵件寄給您。聊天訊息之後仍可能送達。",
    "mail.intro.emergency": "有一筆緊急補貨需要您盡快處理。",
    "mail.status.pending": "系統仍在重試",
    "mail.status.failed": "已停止重試，等待管理員處理",
    "mail.platform.slack": "Slack",
    "mail.platform.telegram": "Telegram",
    # the footer
    "mail.footer.act_in_chat": "郵件裡沒有按鈕：請到 Slack 或 Telegram 的同一則訊息操作，或使用 /replenish 指令。",
    "mail.footer.auto": "本郵件由 Replenish 補貨機器人自動寄出，回覆不會有人讀取。",
    # replenish member add --email
    "error.invalid_email": "電子郵件地址 {value} 格式不正確（例如 name@shop.tw，最多 100 個字元）",
}
