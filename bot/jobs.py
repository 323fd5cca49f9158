"""What runs by itself while the bot runs: delivering the outbox, and the watchdogs that chase
suppliers (SLA) and dropship partners (unacknowledged red pick lists).

APScheduler runs each job in its own thread, never two runs of one job at once (missed runs
coalesce). A failing run is logged and retried at the next tick: the work is idempotent
and the outbox never drops a message.
"""

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from adapters.chat import ChatAdapter
from bot.app import App, deliver_outbox
from core.models import utcnow
from core.picks import pick_watchdog
from core.supplier_backup import sla_pass

log = logging.getLogger(__name__)
OUTBOX_SECONDS = 5
WATCHDOG_SECONDS = 60


def watchdogs(app: App) -> dict[str, int]:
    """One pass of the supplier SLA and pick-list watchdogs (idempotent)."""
    now = utcnow()
    picks = app.settings.picks
    with app.store.unit_of_work() as session:
        chased = sla_pass(session, now, sla_hours=app.settings.supplier.sla_working_hours)
        watched = pick_watchdog(
            session,
            now,
            resend_after=timedelta(minutes=picks.resend_after_minutes),
            escalate_after=timedelta(minutes=picks.escalate_after_minutes),
        )
    return {
        "reminded": len(chased.get("reminded", [])),
        "backup_offered": len(chased.get("backup_offered", [])),
        "picks_resent": len(watched.resent),
        "picks_escalated": len(watched.escalated),
    }


def start_background(app: App, adapters: Mapping[str, ChatAdapter]) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=app.settings.tz)
    _every(scheduler, "outbox", OUTBOX_SECONDS, lambda: deliver_outbox(app, adapters))
    _every(scheduler, "watchdogs", WATCHDOG_SECONDS, lambda: watchdogs(app))
    scheduler.start()
    return scheduler


def _every(
    scheduler: BackgroundScheduler, name: str, seconds: int, job: Callable[[], object]
) -> None:
    def run() -> None:
        try:
            job()
        except Exception:
            log.exception("%s job failed; it runs again in %s s", name, seconds)

    scheduler.add_job(run, "interval", seconds=seconds, id=name, max_instances=1, coalesce=True)
