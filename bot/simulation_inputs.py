"""Reading the simulator's CSV files with errors that name the file, line and column."""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.simulate import ITEM_COLUMNS
from core.tabular import TableError, read_table

DEMAND_COLUMNS = ("date", "sku", "qty")
PROMO_COLUMNS = ("sku", "start", "end", "uplift")
DATE_COLUMNS = {"date", "start", "end"}


@dataclass
class InputError(ValueError):
    file: str
    reason: str


def read_all(
    demand: Path, items: Path, promotions: Path | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    return (
        read(demand, DEMAND_COLUMNS, numeric=("qty",)),
        read(items, tuple(ITEM_COLUMNS), numeric=tuple(ITEM_COLUMNS[1:])),
        read(promotions, PROMO_COLUMNS, numeric=("uplift",)) if promotions else None,
    )


def read(path: Path, required: tuple[str, ...], *, numeric: tuple[str, ...]) -> pd.DataFrame:
    """A CSV with the required columns, numbers and dates checked; raises InputError."""
    if not path.is_file():
        raise InputError(str(path), "file not found")
    try:
        table = read_table(path.read_bytes(), name=path.name)
    except TableError as exc:
        raise InputError(str(path), str(exc)) from exc
    frame = table.frame.rename(columns=str.lower)
    missing = [column for column in required if column not in frame.columns]
    if missing:
        raise InputError(
            str(path), f"missing column(s) {', '.join(missing)}; expected {', '.join(required)}"
        )
    for column in required:
        frame[column] = _typed(path, frame[column], column, table.rows, number=column in numeric)
    return frame


def _typed(
    path: Path, cells: pd.Series, column: str, rows: pd.Series, *, number: bool
) -> pd.Series:
    text = cells.astype(str).str.strip()
    if number:
        values = pd.to_numeric(text, errors="coerce")
        bad = values.isna() | (values < 0) | ~values.abs().lt(float("inf"))
        if column == "uplift":
            bad = (text != "") & bad
    elif column in DATE_COLUMNS:
        values = pd.to_datetime(text, errors="coerce", format="mixed")
        bad = values.isna()
    else:
        values, bad = text, text == ""
    if bad.any():
        first = int(bad.to_numpy().argmax())
        raise InputError(
            str(path), f"line {rows.iloc[first]}: {column} = {cells.iloc[first]!r} is not valid"
        )
    return values
