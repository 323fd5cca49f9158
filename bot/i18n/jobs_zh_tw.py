"""繁體中文：排程工作（bot/jobs.py）與 `replenish run`、`replenish scheduler`、`replenish jobs`
的訊息。合併進 `zh_tw.MESSAGES`（見 `bot/i18n/__init__.py`）；鍵與 `jobs_en` 相同。"""

MESSAGES: dict[str, str] = {
    # replenish jobs list
    "jobs.list.title": "排程工作",
    "jobs.col.id": "工作",
    "jobs.col.schedule": "排程",
    "jobs.col.next": "下次執行",
    "jobs.col.last": "上次執行",
    "jobs.col.lease": "多程序",
    "jobs.every.seconds": "每 {n} 秒",
    "jobs.every.minutes": "每 {n} 分鐘",
    "jobs.daily": "每天 {time}",
    "jobs.weekly": "每週{day} {time}",
    "jobs.day.mon": "一",
    "jobs.day.tue": "二",
    "jobs.day.wed": "三",
    "jobs.day.thu": "四",
    "jobs.day.fri": "五",
    "jobs.day.sat": "六",
    "jobs.day.sun": "日",
    "jobs.never": "尚未執行",
    "jobs.lease.none": "每個程序都執行（訊息逐筆認領）",
    "jobs.lease.ttl": "租約（{minutes} 分鐘），同一時段只執行一次",
    "jobs.lease.catch_up": "；停機錯過時啟動後補跑一次",
    "jobs.time_zone": "時間為 {tz}",
    # replenish jobs run NAME
    "jobs.run.unknown": "不明的工作 {name}；可用的工作：{names}",
    "jobs.run.done": "{job} 已執行：{summary}",
    "jobs.run.nothing": "（無）",
    "jobs.run.held": "{job} 正由另一個程序執行（{holder}），未重複執行",
    "jobs.run.failed": "{job} 執行失敗：{error}",
    # replenish run / replenish scheduler
    "cli.run.nothing": "沒有設定任何聊天平台：請設定 slack.bot_token（REPLENISH_SLACK__BOT_TOKEN）或 telegram.bot_token（REPLENISH_TELEGRAM__BOT_TOKEN），請見 README「連接 Slack」或「連接 Telegram」。只要排程工作，請用 replenish scheduler。",
    "cli.run.http_both": "HTTP 伺服器監聽 http://{host}:{port}：{paths}（健康檢查：/healthz；Ctrl-C 停止）",
    "cli.run.scheduler": "排程器執行中：{jobs}",
    "cli.run.outbox_only": "排程器未啟動（--no-scheduler 或 scheduler.enabled = false）：只遞送訊息佇列",
    "cli.run.stopping": "正在停止：等目前的工作完成…",
    "cli.run.stopped": "已停止",
    "cli.scheduler.disabled": "排程器已在設定中關閉（scheduler.enabled = false）；要執行請改設定，或設 REPLENISH_SCHEDULER__ENABLED=true",
    "cli.scheduler.running": "專用排程器執行中（不接收聊天訊息，但遞送訊息佇列）：{jobs}（Ctrl-C 停止）",
}
