"""Import a validated file into the database in one transaction.

Reference data (locations, SKUs, suppliers, terms, promotions, stock snapshots) is
upserted by its natural key: a row equal to what is stored counts as a duplicate and
changes nothing. Sales lines are de-duplicated by (order id, line) and the daily demand
(SalesDay) of every day they touch is recomputed from the lines, so re-importing the same
file, or an overlapping one, always leaves the same totals.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from core import fields as f
from core.ingest import (
    KEYS,
    Kind,
    Validated,
    duplicate_keys,
    lookup,
    reject_where,
    validate,
)
from core.models import (
    Location,
    LocationKind,
    Promotion,
    SalesLine,
    Sku,
    StockLevel,
    Supplier,
    SupplierTerm,
)
from core.sales import write_sales
from core.store import Store
from core.tabular import read_table, to_records


@dataclass(frozen=True)
class ImportReport:
    kind: Kind
    imported: int  # rows inserted or that changed a stored row
    duplicates: int  # rows already stored exactly so
    rejects: pd.DataFrame  # row, problem, source cells
    ignored_columns: tuple[str, ...] = ()
    encoding: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    sku_ids: frozenset[int] = frozenset()  # SKUs of the accepted rows (what to re-plan)

    @property
    def rejected(self) -> int:
        return len(self.rejects)


def import_bytes(
    store: Store,
    kind: Kind,
    data: bytes,
    *,
    name: str = "",
    tz: ZoneInfo,
    default_location: str = "WH",
    dry_run: bool = False,
) -> ImportReport:
    """Read, validate and store one file; raises TableError if the file is unusable."""
    table = read_table(data, name=name)
    validated = validate(table, kind, tz)
    with store.unit_of_work() as session:
        report = _write(session, kind, validated, table.encoding, tz, default_location)
        if dry_run:
            session.rollback()
    return report


def import_in_session(
    session: Session,
    kind: Kind,
    data: bytes,
    *,
    name: str = "",
    tz: ZoneInfo,
    default_location: str = "WH",
) -> ImportReport:
    """`import_bytes` inside the caller's transaction (the ingest endpoint's keyed one)."""
    table = read_table(data, name=name)
    validated = validate(table, kind, tz)
    return _write(session, kind, validated, table.encoding, tz, default_location)


def _write(
    session: Session,
    kind: Kind,
    validated: Validated,
    encoding: str,
    tz: ZoneInfo,
    default_location: str,
) -> ImportReport:
    context = _Context(session, default_location, validated.fields)
    validated = _check_references(kind, validated, context)
    validated = reject_where(validated, duplicate_keys(validated.rows, KEYS[kind]))
    imported, duplicates = WRITERS[kind](session, validated.rows, context, tz)
    rows = validated.rows
    sku_ids = frozenset(int(i) for i in rows["sku_id"].dropna()) if "sku_id" in rows else None
    return ImportReport(
        kind,
        imported,
        duplicates,
        validated.rejects,
        validated.ignored_columns,
        encoding,
        sku_ids=sku_ids or frozenset(),
    )


class _Context:
    """Codes → ids of what is already stored, read once per import."""

    def __init__(self, session: Session, default_location: str, fields: Iterable[str]) -> None:
        self.session = session
        self.default_location = default_location
        self.fields = frozenset(fields)  # what the file has columns for
        self.skus = _ids(session, Sku)
        self.suppliers = _ids(session, Supplier)
        self.locations = _ids(session, Location)

    def default_location_id(self) -> int:
        if self.default_location not in self.locations:
            location = Location(
                code=self.default_location, name=self.default_location, kind=LocationKind.WAREHOUSE
            )
            self.session.add(location)
            self.session.flush()
            assert location.id is not None
            self.locations[self.default_location] = location.id
        return self.locations[self.default_location]


def _ids(session: Session, model: type[SQLModel]) -> dict[str, int]:
    table = model.__table__  # type: ignore[attr-defined]
    return dict(session.execute(sa.select(table.c.code, table.c.id)).all())  # type: ignore[arg-type]


def _check_references(kind: Kind, validated: Validated, context: _Context) -> Validated:
    rows = validated.rows
    checks: list[pd.Series] = []
    if "sku" in rows and kind not in (Kind.SKUS,):
        rows["sku_id"], problem = lookup(rows, "sku", context.skus, "unknown_sku")
        checks.append(problem)
    if "supplier" in rows and kind is Kind.TERMS:
        rows["supplier_id"], problem = lookup(
            rows, "supplier", context.suppliers, "unknown_supplier"
        )
        checks.append(problem)
    if "location" in rows and kind in (Kind.STOCK, Kind.SALES):
        rows["location_id"], problem = lookup(
            rows, "location", context.locations, "unknown_location"
        )
        checks.append(problem)
        blank = rows["location"] == ""
        if blank.any():  # the default location, also when the key is checked for repeats
            rows.loc[blank, "location_id"] = context.default_location_id()
            rows.loc[blank, "location"] = context.default_location
    if kind is Kind.PROMOTIONS:
        checks.append(_promotion_problems(rows))
    checks.append(_length_problems(MODELS[kind], rows))
    return reject_where(validated, f._first(*checks))


def _length_problems(model: type[SQLModel], rows: pd.DataFrame) -> pd.Series:
    """Text longer than its column holds (PostgreSQL would refuse the whole file)."""
    columns = model.__table__.c  # type: ignore[attr-defined]
    checks = [pd.Series(None, index=rows.index, dtype=object)]
    for name in rows.columns:
        length = getattr(columns[name].type, "length", None) if name in columns else None
        if isinstance(length, int) and pd.api.types.is_string_dtype(rows[name]):
            too_long = rows[name].str.len() > length
            checks.append(f._problems(name, rows[name], too_long, "too_long"))
    return f._first(*checks)


def _promotion_problems(rows: pd.DataFrame) -> pd.Series:
    has_sku, has_category = rows["sku"] != "", rows["category"] != ""
    both_or_neither = has_sku == has_category
    backwards = rows["end"] < rows["start"]
    cells = rows["name"]
    return f._first(
        f._problems("sku", cells, both_or_neither, "sku_or_category"),
        f._problems("end", cells, backwards, "end_before_start"),
        f._problems("uplift", cells, rows["uplift"].fillna(1) <= 0, "zero"),
    )


# --- writers: each returns (imported, duplicates) ---------------------------------------


def _upsert(
    session: Session,
    model: type[SQLModel],
    frame: pd.DataFrame,
    key: list[str],
    values: list[str],
    present: Collection[str] | None = None,
) -> tuple[int, int]:
    """Insert new keys, update changed rows, count unchanged ones as duplicates.

    A stored row is compared and updated only in the `present` columns (all when None):
    a file without, say, a category column leaves the stored categories alone.
    """
    if frame.empty:
        return 0, 0
    table = model.__table__  # type: ignore[attr-defined]
    stored = pd.DataFrame(
        session.execute(sa.select(table.c.id, *(table.c[c] for c in key + values))).all(),
        columns=["id", *key, *values],
    )
    for column in key:  # stored datetimes come back as objects; match the frame's dtype
        if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            stored[column] = pd.to_datetime(stored[column], utc=True).astype(frame[column].dtype)
    merged = frame.merge(stored, on=key, how="left", suffixes=("", "_stored"))
    new = merged["id"].isna()
    updated = [v for v in values if present is None or v in present]
    changed = ~new & ~_equal(merged, updated)
    if new.any():
        session.execute(sa.insert(table), to_records(merged.loc[new, key + values]))
    if changed.any():
        session.execute(sa.update(model), to_records(merged.loc[changed, ["id", *updated]]))
    return int(new.sum() + changed.sum()), int((~new & ~changed).sum())


def _equal(merged: pd.DataFrame, columns: list[str]) -> pd.Series:
    same = pd.Series(True, index=merged.index)
    for column in columns:
        ours, theirs = merged[column], merged[f"{column}_stored"]
        if pd.api.types.is_numeric_dtype(ours):
            theirs = pd.to_numeric(theirs.astype(object), errors="coerce").astype("float64")
            ours = ours.astype("float64")
            equal = np.isclose(ours, theirs, atol=1e-9) | (ours.isna() & theirs.isna())
        else:
            equal = (ours.astype(object) == theirs.astype(object)) | (ours.isna() & theirs.isna())
        same &= equal
    return same


def _write_locations(
    session: Session, rows: pd.DataFrame, context: _Context, _tz: ZoneInfo
) -> tuple[int, int]:
    frame = rows.rename(columns={"location": "code"})
    return _upsert(session, Location, frame, ["code"], ["name", "kind"], context.fields)


def _write_skus(
    session: Session, rows: pd.DataFrame, context: _Context, _tz: ZoneInfo
) -> tuple[int, int]:
    frame = rows.rename(columns={"sku": "code"})
    values = ["name", "category", "unit", "unit_cost", "price"]
    return _upsert(session, Sku, frame, ["code"], values, context.fields)


def _write_suppliers(
    session: Session, rows: pd.DataFrame, context: _Context, _tz: ZoneInfo
) -> tuple[int, int]:
    frame = rows.rename(columns={"supplier": "code"})
    values = ["name", "contact_name", "phone", "emergency_contact", "emergency_phone", "email"]
    return _upsert(session, Supplier, frame, ["code"], values, context.fields)


def _write_terms(
    session: Session, rows: pd.DataFrame, context: _Context, _tz: ZoneInfo
) -> tuple[int, int]:
    values = [
        "supplier_sku",
        "unit_price",
        "price_band_pct",
        "lead_time_days",
        "moq",
        "case_pack",
        "rank",
    ]
    key = ["supplier_id", "sku_id"]
    return _upsert(session, SupplierTerm, rows, key, values, context.fields)


def _write_promotions(
    session: Session, rows: pd.DataFrame, context: _Context, _tz: ZoneInfo
) -> tuple[int, int]:
    frame = rows.rename(columns={"start": "start_date", "end": "end_date"})
    frame["category"] = frame["category"].where(frame["category"] != "", None)
    frame["sku_id"] = frame["sku"].map(context.skus)
    key = ["name", "sku_id", "category", "start_date"]
    present = {"end_date" if name == "end" else name for name in context.fields}
    return _upsert(session, Promotion, frame, key, ["end_date", "uplift"], present)


def _write_stock(
    session: Session, rows: pd.DataFrame, _c: _Context, _tz: ZoneInfo
) -> tuple[int, int]:
    """A snapshot without `as_of` is taken now, unless it repeats the current level."""
    frame = rows.copy()
    undated = frame["as_of"].isna()
    if undated.any():
        frame = _drop_unchanged_undated(session, frame, undated)
    repeats = len(rows) - len(frame)
    frame["as_of"] = frame["as_of"].fillna(pd.Timestamp.now(tz="UTC"))
    imported, duplicates = _upsert(
        session, StockLevel, frame, ["sku_id", "location_id", "as_of"], ["on_hand", "reserved"]
    )
    return imported, duplicates + repeats


def _drop_unchanged_undated(
    session: Session, frame: pd.DataFrame, undated: pd.Series
) -> pd.DataFrame:
    current = current_stock(session)
    merged = frame.merge(
        current, on=["sku_id", "location_id"], how="left", suffixes=("", "_current")
    )
    same = (merged["on_hand"] == merged["on_hand_current"]) & (
        merged["reserved"] == merged["reserved_current"]
    )
    keep = ~(undated.to_numpy() & same.fillna(False).to_numpy())
    return frame[keep].reset_index(drop=True)


def current_stock(session: Session) -> pd.DataFrame:
    """The newest snapshot per SKU and location."""
    s = StockLevel.__table__  # type: ignore[attr-defined]
    newest = (
        sa.select(s.c.sku_id, s.c.location_id, sa.func.max(s.c.as_of).label("as_of"))
        .group_by(s.c.sku_id, s.c.location_id)
        .subquery()
    )
    query = sa.select(s.c.sku_id, s.c.location_id, s.c.on_hand, s.c.reserved, s.c.as_of).join(
        newest,
        sa.and_(
            s.c.sku_id == newest.c.sku_id,
            s.c.location_id == newest.c.location_id,
            s.c.as_of == newest.c.as_of,
        ),
    )
    return pd.DataFrame(
        session.execute(query).all(),
        columns=["sku_id", "location_id", "on_hand", "reserved", "as_of"],
    )


MODELS: dict[Kind, type[SQLModel]] = {
    Kind.LOCATIONS: Location,
    Kind.SKUS: Sku,
    Kind.SUPPLIERS: Supplier,
    Kind.TERMS: SupplierTerm,
    Kind.STOCK: StockLevel,
    Kind.PROMOTIONS: Promotion,
    Kind.SALES: SalesLine,
}

WRITERS = {
    Kind.LOCATIONS: _write_locations,
    Kind.SKUS: _write_skus,
    Kind.SUPPLIERS: _write_suppliers,
    Kind.TERMS: _write_terms,
    Kind.STOCK: _write_stock,
    Kind.PROMOTIONS: _write_promotions,
    Kind.SALES: write_sales,
}
