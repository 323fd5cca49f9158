"""Importing files as the CLI (and later the drop folder) does it: read, import, write the
rejects file beside the input, and summarise in the reader's language."""

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bot.app import App
from bot.i18n import problem_text
from core.imports import ImportReport, import_bytes
from core.ingest import Kind
from core.tabular import escape_formula

SAMPLE_ORDER = (
    Kind.LOCATIONS,
    Kind.SKUS,
    Kind.SUPPLIERS,
    Kind.TERMS,
    Kind.STOCK,
    Kind.SALES,
    Kind.PROMOTIONS,
)


@dataclass(frozen=True)
class FileImport:
    path: Path
    report: ImportReport
    rejects_file: Path | None

    def summary(self) -> dict[str, Any]:
        return {
            "kind": str(self.report.kind),
            "file": str(self.path),
            "imported": self.report.imported,
            "duplicates": self.report.duplicates,
            "rejected": self.report.rejected,
            "rejects_file": str(self.rejects_file) if self.rejects_file else None,
            "ignored_columns": list(self.report.ignored_columns),
            "encoding": self.report.encoding,
        }


def rejects_path(path: Path) -> Path:
    return path.with_name(path.name + ".rejects.csv")


def import_file(app: App, kind: Kind, path: Path, *, dry_run: bool = False) -> FileImport:
    """Import one file; raises TableError (nothing written) when the file is unusable."""
    report = import_bytes(
        app.store,
        kind,
        path.read_bytes(),
        name=path.name,
        tz=app.settings.tz,
        default_location=app.settings.default_location,
        dry_run=dry_run,
    )
    target = rejects_path(path)
    target.unlink(missing_ok=True)  # a stale rejects file would describe an older run
    if report.rejected:
        write_rejects(report, target, app.locale)
        return FileImport(path, report, target)
    return FileImport(path, report, None)


def write_rejects(report: ImportReport, target: Path, locale: str) -> None:
    """The rejected rows with their line and reason, safe to open in Excel (UTF-8 BOM)."""
    source_columns = [c for c in report.rejects.columns if c not in ("row", "problem")]
    with target.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", "reason", *source_columns])
        for record in report.rejects.to_dict("records"):
            cells = [escape_formula(_cell(record[c])) for c in source_columns]
            reason = escape_formula(problem_text(record["problem"], locale))
            writer.writerow([record["row"], reason, *cells])


def _cell(value: object) -> str:
    return "" if pd.isna(value) else str(value)  # type: ignore[arg-type]
