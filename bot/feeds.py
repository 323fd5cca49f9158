"""The bot's side of POST /ingest/{kind} (adapters/ingest.py): the body goes through the
same import as `replenish import` (core/imports.py), in one transaction; with an
Idempotency-Key the request is recorded as an InboxEvent (platform "ingest") in that same
transaction, so a retry is not applied twice and gets the first answer again."""

import hashlib
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from adapters.ingest import Ingest, IngestEndpoint, IngestRefused
from bot.i18n import problem_text
from core.imports import ImportReport, import_in_session
from core.inbox import MAX_KEY, run_once
from core.ingest import Kind, map_headers
from core.models import Sku
from core.replan import request_replan
from core.tabular import TableError, read_table

if TYPE_CHECKING:  # bot.app mounts the endpoint
    from bot.app import App

PLATFORM = "ingest"
# Stock and sales move the plan: their SKUs are re-planned within seconds (the replan job).
REPLAN_KINDS = (Kind.STOCK, Kind.SALES)
WHOLE_BODY_UNPROCESSABLE = ("missing_columns", "ambiguous_columns")


def feed_endpoint(app: "App") -> IngestEndpoint | None:
    """The endpoint, when at least one feed token is configured."""
    feeds = app.settings.feeds
    if not feeds.tokens:
        return None
    secret = feeds.hmac_secret.get_secret_value().encode() if feeds.hmac_secret else None
    return IngestEndpoint(
        feed_ingest(app),
        tokens=feeds.tokens,
        kinds=[str(kind) for kind in Kind],
        hmac_secret=secret,
        max_body_bytes=feeds.max_body_bytes,
    )


def feed_ingest(app: "App") -> Ingest:
    def ingest(
        kind: str,
        body: bytes,
        content_type: str,
        source: str,
        *,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        which = Kind(kind)
        name = _file_name(content_type)
        rows = _readable_rows(which, body, name)

        def action(session: Session) -> dict[str, Any]:
            report = import_in_session(
                session,
                which,
                body,
                name=name,
                tz=app.settings.tz,
                default_location=app.settings.default_location,
            )
            if which in REPLAN_KINDS:  # committed with the rows, so never lost
                request_replan(session, report.sku_ids)
            return answer(report, source, rows)

        if idempotency_key is None:
            with app.store.unit_of_work() as session:
                return action(session)
        return run_once(app.store, PLATFORM, event_key(source, idempotency_key), action)

    return ingest


def request_replan_codes(session: Session, skus: Collection[str]) -> None:
    """Inside an import's transaction: re-plan these SKU codes soon (unknown ones ignored)."""
    if skus:
        codes = sorted(skus)
        found = session.scalars(select(Sku.id).where(Sku.code.in_(codes)))  # type: ignore[attr-defined]
        request_replan(session, set(found))


def replan_imported(app: "App", report: ImportReport) -> None:
    """After a committed file import of stock or sales: re-plan its SKUs soon."""
    if report.kind in REPLAN_KINDS and report.sku_ids:
        with app.store.unit_of_work() as session:
            request_replan(session, report.sku_ids)


def event_key(source: str, idempotency_key: str) -> str:
    key = f"{source}:{idempotency_key}"
    return key if len(key) <= MAX_KEY else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def answer(report: ImportReport, source: str, rows: list[int]) -> dict[str, Any]:
    """Accepted row numbers and each rejected row with its problem, in English."""
    rejected = [
        {
            "row": int(record["row"]),
            "code": record["problem"].code,
            "field": record["problem"].field,
            "problem": problem_text(record["problem"], "en"),
        }
        for record in report.rejects.to_dict("records")
    ]
    refused = {entry["row"] for entry in rejected}
    return {
        "ok": not rejected,
        "kind": str(report.kind),
        "source": source,
        "imported": report.imported,
        "duplicates": report.duplicates,
        "accepted": [row for row in rows if row not in refused],
        "rejected": rejected,
        "ignored_columns": list(report.ignored_columns),
    }


def _file_name(content_type: str) -> str:
    """A name that tells the reader the format; anything else is sniffed from the body."""
    media = content_type.split(";", maxsplit=1)[0].strip().lower()
    if media.endswith("json"):
        return "body.json"
    if media in ("text/csv", "text/tab-separated-values", "application/csv"):
        return "body.csv"
    return ""


def _readable_rows(kind: Kind, body: bytes, name: str) -> list[int]:
    """Refuse a body that cannot be imported at all, before anything is recorded."""
    try:
        table = read_table(body, name=name)
        map_headers(list(table.frame.columns), kind)
    except TableError as error:
        status = 422 if error.code in WHOLE_BODY_UNPROCESSABLE else 400
        raise IngestRefused(status, error.code, str(error)) from error
    return [int(row) for row in table.rows]
