"""`replenish jobs list` (what runs by itself, when it runs next, when it last ran) and
`replenish jobs run NAME` (run one now, through its lease like a scheduled run)."""

import json
from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from datetime import datetime, tzinfo
from typing import Annotated, Any

import typer
from rich.table import Table

from bot.cli_common import (
    EXIT_REFUSED,
    EXIT_REJECTED,
    ConfigOption,
    DbOption,
    LangOption,
    build_or_exit,
    console,
    errors,
)
from bot.i18n import t
from bot.jobs import JOBS, job_named, run_once
from bot.scheduler import JobRow, job_rows, process_holder
from bot.triggers import DAYS, At, Schedule
from core.models import utcnow
from core.outbox import as_utc

jobs_app = typer.Typer(no_args_is_help=True, help="The scheduled jobs: list them, run one now.")
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def register(app: typer.Typer) -> None:
    app.add_typer(jobs_app, name="jobs")


@jobs_app.command("list")
def jobs_list(
    as_json: JsonOption = False,
    db: DbOption = None,
    config: ConfigOption = None,
    lang: LangOption = None,
) -> None:
    """Every job: its schedule, next run and last run (from the lease table)."""
    application = build_or_exit(db, config, lang)
    ui, tz = application.locale, application.settings.tz
    rows = job_rows(application, utcnow())
    if as_json:
        print(json.dumps([_row_json(row) for row in rows], ensure_ascii=False))
        return
    table = Table(title=t("jobs.list.title", ui), title_justify="left")
    for column in ("id", "schedule", "next", "last", "lease"):
        table.add_column(t(f"jobs.col.{column}", ui))
    for row in rows:
        last = _local(row.last.scheduled_for, tz) if row.last else t("jobs.never", ui)
        next_run = _local(row.next_run, tz) if row.next_run else "—"
        table.add_row(row.spec.id, describe(row.schedule, ui), next_run, last, _lease(row, ui))
    console.print(table)
    console.print(t("jobs.time_zone", ui, tz=application.settings.timezone))


def describe(schedule: Schedule, locale: str) -> str:
    if isinstance(schedule, At):
        clock = f"{schedule.hour:02d}:{schedule.minute:02d}"
        if schedule.weekday is None:
            return t("jobs.daily", locale, time=clock)
        day = t(f"jobs.day.{DAYS[schedule.weekday]}", locale)
        return t("jobs.weekly", locale, day=day, time=clock)
    if schedule.seconds % 60:
        return t("jobs.every.seconds", locale, n=schedule.seconds)
    return t("jobs.every.minutes", locale, n=schedule.seconds // 60)


def _lease(row: JobRow, locale: str) -> str:
    ttl = row.spec.lease_ttl
    if ttl is None:
        return t("jobs.lease.none", locale)
    said = t("jobs.lease.ttl", locale, minutes=int(ttl.total_seconds() // 60))
    return said + (t("jobs.lease.catch_up", locale) if row.spec.catch_up else "")


def _local(at: datetime, tz: tzinfo) -> str:
    return f"{_aware(at).astimezone(tz):%Y-%m-%d %H:%M:%S}"


def _aware(at: datetime) -> datetime:
    return as_utc(at)  # SQLite hands datetimes back without their (UTC) offset


def _row_json(row: JobRow) -> dict[str, Any]:
    last = row.last
    return {
        "id": row.spec.id,
        "schedule": describe(row.schedule, "en"),
        "next_run": row.next_run.isoformat() if row.next_run else None,
        "last_run": None
        if last is None
        else {
            "scheduled_for": _aware(last.scheduled_for).isoformat(),
            "finished_at": _aware(last.finished_at).isoformat() if last.finished_at else None,
            "holder": last.holder,
        },
        "leased": row.spec.lease_ttl is not None,
        "catch_up": row.spec.catch_up,
        "misfire_grace_seconds": int(row.spec.misfire_grace.total_seconds()),
    }


@jobs_app.command("run")
def jobs_run(
    name: Annotated[str, typer.Argument(help="A job id (see `replenish jobs list`).")],
    as_json: JsonOption = False,
    db: DbOption = None,
    config: ConfigOption = None,
    lang: LangOption = None,
) -> None:
    """Run one job now (its lease is taken for this moment, like a scheduled run)."""
    application = build_or_exit(db, config, lang)
    ui = application.locale
    spec = job_named(name)
    if spec is None:
        names = t("list.separator", ui).join(job.id for job in JOBS)
        errors.print(t("jobs.run.unknown", ui, name=name, names=names))
        raise typer.Exit(EXIT_REFUSED)
    now = utcnow()
    outcome = run_once(application, spec, now, holder=process_holder())
    if as_json:
        result = plain(outcome.result)
        error = str(outcome.error) if outcome.error else None
        done = {"job": spec.id, "scheduled_for": now.isoformat(), "status": outcome.status}
        print(
            json.dumps(done | {"result": result, "error": error}, ensure_ascii=False, default=str)
        )
    elif outcome.status == "ran":
        console.print(t("jobs.run.done", ui, job=spec.id, summary=summary(outcome.result, ui)))
    elif outcome.status == "held":
        console.print(t("jobs.run.held", ui, job=spec.id, holder=outcome.holder or "?"))
    if outcome.status == "failed":
        if not as_json:
            errors.print(t("jobs.run.failed", ui, job=spec.id, error=outcome.error))
        raise typer.Exit(EXIT_REJECTED)


def plain(result: object) -> Any:
    """A job's result as JSON-able data (dataclasses and `as_dict()` results unfolded)."""
    as_dict = getattr(result, "as_dict", None)
    if callable(as_dict):
        return plain(as_dict())
    if is_dataclass(result) and not isinstance(result, type):
        return plain(asdict(result))
    if isinstance(result, Mapping):
        return {str(key): plain(value) for key, value in result.items()}
    if isinstance(result, list | tuple | set):
        return [plain(value) for value in result]
    return result


def summary(result: object, locale: str) -> str:
    """`opened 2, resolved 1, drafted 1` — lists counted, nested results in brackets."""
    data = plain(result)
    if not isinstance(data, Mapping):
        return t("jobs.run.nothing", locale) if data is None else str(data)
    parts = []
    for key, value in data.items():
        if isinstance(value, Mapping):
            parts.append(f"{key} ({summary(value, locale)})")
        else:
            parts.append(f"{key} {len(value) if isinstance(value, list) else value}")
    return ", ".join(parts) or t("jobs.run.nothing", locale)
