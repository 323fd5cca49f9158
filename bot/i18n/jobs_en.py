"""English: the scheduled jobs (bot/jobs.py) and `replenish run`, `replenish scheduler`,
`replenish jobs`. Merged into `en.MESSAGES` (see `bot/i18n/__init__.py`); the same keys as
`jobs_zh_tw`."""

MESSAGES: dict[str, str] = {
    # replenish jobs list
    "jobs.list.title": "Scheduled jobs",
    "jobs.col.id": "Job",
    "jobs.col.schedule": "Schedule",
    "jobs.col.next": "Next run",
    "jobs.col.last": "Last run",
    "jobs.col.lease": "Several processes",
    "jobs.every.seconds": "every {n} s",
    "jobs.every.minutes": "every {n} min",
    "jobs.daily": "daily at {time}",
    "jobs.weekly": "{day}s at {time}",
    "jobs.day.mon": "Monday",
    "jobs.day.tue": "Tuesday",
    "jobs.day.wed": "Wednesday",
    "jobs.day.thu": "Thursday",
    "jobs.day.fri": "Friday",
    "jobs.day.sat": "Saturday",
    "jobs.day.sun": "Sunday",
    "jobs.never": "never",
    "jobs.lease.none": "every process (messages claimed one by one)",
    "jobs.lease.ttl": "leased ({minutes} min): once per scheduled time",
    "jobs.lease.catch_up": "; a run missed during downtime runs once at start",
    "jobs.time_zone": "times in {tz}",
    # replenish jobs run NAME
    "jobs.run.unknown": "unknown job {name}; the jobs are: {names}",
    "jobs.run.done": "{job} ran: {summary}",
    "jobs.run.nothing": "(nothing)",
    "jobs.run.held": "{job} is being run by another process ({holder}); not run again",
    "jobs.run.failed": "{job} failed: {error}",
    # replenish run / replenish scheduler
    "cli.run.nothing": "no chat platform is configured: set slack.bot_token (REPLENISH_SLACK__BOT_TOKEN) or telegram.bot_token (REPLENISH_TELEGRAM__BOT_TOKEN); see README, “Connect Slack” or “Connect Telegram”. For the scheduled jobs alone, run replenish scheduler.",
    "cli.run.http_both": "HTTP server listening on http://{host}:{port}: {paths} (health: /healthz; Ctrl-C to stop)",
    "cli.run.scheduler": "scheduler running: {jobs}",
    "cli.run.outbox_only": "scheduler not started (--no-scheduler or scheduler.enabled = false): delivering the outbox only",
    "cli.run.stopping": "stopping: letting the current job finish…",
    "cli.run.stopped": "stopped",
    "cli.scheduler.disabled": "the scheduler is turned off in the settings (scheduler.enabled = false); change it, or set REPLENISH_SCHEDULER__ENABLED=true",
    "cli.scheduler.running": "dedicated scheduler running (no chat listeners; delivering the outbox): {jobs} (Ctrl-C to stop)",
}
