"""The drop folder (`feeds.inbox_dir`): files dropped there — say a nightly WMS export over
SFTP — are imported by the scheduler's `drop_folder` job, then moved to `done/`, or to
`failed/` (refused, or any row rejected) with their rejects file beside them.

Which kind: the first word of the name, before `-`, `_` or `.`: `stock-2026-11-25.csv`,
`sales_0001.csv.gz`, `skus.json`. Files whose first word is no known kind are left alone.

When a file is complete — a half-written file is never read:
- a marker `NAME.done` exists beside it (the sender writes it after the file), or
- its size and mtime are unchanged since an earlier pass at least QUIET seconds before
  (`.state/seen.json` in the inbox remembers each waiting file's size, mtime and since when
  it has been so). The job runs every minute, so a file is imported a minute or two after
  its last write. A sender still writing after a pause of over a minute should use markers.

Exactly once: a file is imported, then moved (os.replace: atomic, the same file system).
A crash between the two leaves it in the inbox, and the next pass imports it again — which
is harmless, as imports are idempotent by design (core/imports.py: upserts by natural key,
sales lines de-duplicated by order and line), so the data is in exactly once. Two schedulers
never run a pass at once (the job is leased, bot/jobs.py).
"""

import json
import logging
import os
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import App
from bot.feeds import replan_imported
from bot.i18n import table_error_text
from bot.importer import import_file
from core.ingest import Kind
from core.tabular import TableError

log = logging.getLogger(__name__)
QUIET = timedelta(seconds=30)
MARKER = ".done"
STATE_DIR, STATE_FILE = ".state", "seen.json"
DONE, FAILED = "done", "failed"
_FIRST_WORD = re.compile(r"^([A-Za-z]+)[-_.]")
_KINDS = {kind.value for kind in Kind}


def kind_of(name: str) -> Kind | None:
    """The kind a file's name says (its first word), or None."""
    if name.startswith(".") or name.endswith((MARKER, ".rejects.csv", ".error.txt")):
        return None
    match = _FIRST_WORD.match(name)
    word = match.group(1).lower() if match else ""
    return Kind(word) if word in _KINDS else None


def import_inbox(app: App, now: datetime) -> dict[str, Any]:
    """One pass over the inbox: import each complete file once and file it away."""
    inbox = app.settings.feeds.inbox_dir
    if inbox is None:
        return {"inbox": None}
    inbox = Path(inbox)
    result: dict[str, Any] = {"inbox": str(inbox), "done": [], "failed": [], "waiting": []}
    if not inbox.is_dir():
        log.warning("drop folder %s does not exist", inbox)
        return result
    seen = _load_state(inbox)
    still_waiting: dict[str, dict[str, Any]] = {}
    for path in sorted(p for p in inbox.iterdir() if p.is_file()):
        kind = kind_of(path.name)
        if kind is None:
            continue
        marker = path.with_name(path.name + MARKER)
        if not marker.exists():
            stat = path.stat()
            now_seen = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
            before = seen.get(path.name)
            if before is None or {k: before[k] for k in now_seen} != now_seen:
                still_waiting[path.name] = now_seen | {"since": now.isoformat()}
                result["waiting"].append(path.name)
                continue
            if now - datetime.fromisoformat(before["since"]) < QUIET:
                still_waiting[path.name] = before
                result["waiting"].append(path.name)
                continue
        summary = _import_one(app, kind, path)
        marker.unlink(missing_ok=True)
        result[summary["moved_to"]].append(summary)
    _save_state(inbox, still_waiting)
    return result


def _import_one(app: App, kind: Kind, path: Path) -> dict[str, Any]:
    inbox = path.parent
    try:
        imported = import_file(app, kind, path)
    except TableError as exc:
        reason = table_error_text(exc, app.locale)
        error_file = path.with_name(path.name + ".error.txt")
        error_file.write_text(reason + "\n", encoding="utf-8")
        moved = _move(path, inbox / FAILED)
        _move(error_file, inbox / FAILED, like=moved)
        log.warning("drop folder: %s refused: %s", path.name, reason)
        return {"file": path.name, "kind": str(kind), "moved_to": FAILED, "refused": reason}
    replan_imported(app, imported.report)
    summary = imported.summary()
    folder = FAILED if imported.report.rejected else DONE
    moved = _move(path, inbox / folder)
    if imported.rejects_file is not None:
        target = _move(imported.rejects_file, inbox / folder, like=moved)
        summary["rejects_file"] = str(target)
    summary |= {"file": str(moved), "moved_to": folder}
    return summary


def _move(path: Path, folder: Path, *, like: Path | None = None) -> Path:
    """Move into `folder` without overwriting an earlier file of the same name (a later
    drop gets a numbered name); `like`: name it after that moved file (its rejects)."""
    folder.mkdir(exist_ok=True)
    if like is not None:
        target = folder / (like.name + _suffix_after(path))
    else:
        target = folder / path.name
        number = 1
        while target.exists():
            target = folder / f"{path.name}.{number}"
            number += 1
    os.replace(path, target)
    return target


def _suffix_after(path: Path) -> str:
    """`.rejects.csv` / `.error.txt`: what the side file adds to its data file's name."""
    for suffix in (".rejects.csv", ".error.txt"):
        if path.name.endswith(suffix):
            return suffix
    return ""


def _load_state(inbox: Path) -> dict[str, dict[str, Any]]:
    try:
        return json.loads((inbox / STATE_DIR / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _save_state(inbox: Path, seen: dict[str, dict[str, Any]]) -> None:
    folder = inbox / STATE_DIR
    folder.mkdir(exist_ok=True)
    scratch = folder / (STATE_FILE + ".tmp")
    scratch.write_text(json.dumps(seen, indent=1), encoding="utf-8")
    os.replace(scratch, folder / STATE_FILE)
