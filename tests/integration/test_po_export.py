"""`replenish po export`: approved POs out as CSV (read back equal) or JSON, bad status → 2."""

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from sqlmodel import select
from typer.testing import CliRunner

from bot import cli_po
from core import po_export
from core.models import PoStatus, PurchaseOrder, Supplier, SupplierTerm
from core.store import Store
from tests.conftest import TAIPEI
from tests.shop import PO, seed_shop

APPROVED_AT = datetime(2026, 11, 24, 17, 30, tzinfo=UTC)  # 01:30 on the 25th in Taipei


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    cli_po.register(app)

    @app.callback()
    def _root() -> None:  # keeps `po` a subcommand group
        pass

    return app


@pytest.fixture
def approved(store: Store) -> Store:
    seed_shop(store)
    with store.unit_of_work() as session:
        po = session.exec(select(PurchaseOrder).where(PurchaseOrder.number == PO)).one()
        po.status, po.approved_at = PoStatus.APPROVED, APPROVED_AT
        po.requested_arrival, po.emergency = date(2026, 11, 27), True
        session.add(po)
        supplier = session.exec(select(Supplier)).one()
        supplier.name = "=鮮乳坊"  # a formula-looking name stays text in Excel
        for term in session.exec(select(SupplierTerm)):
            term.supplier_sku = f"X-{term.sku_id}"
            session.add(term)
    return store


def export(cli: typer.Typer, store: Store, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["po", "export", "--db", str(store.engine.url), *args])
    return result.exit_code, result.output


def test_csv_round_trips(cli: typer.Typer, approved: Store, tmp_path: Path) -> None:
    out = tmp_path / "po.csv"
    code, output = export(cli, approved, "--format", "csv", "--out", str(out))
    assert code == 0, output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with the BOM
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert tuple(rows[0]) == po_export.COLUMNS
    money = [
        (r["sku"], int(r["qty"]), Decimal(r["unit_price"]), Decimal(r["line_total"])) for r in rows
    ]
    assert money == [("MILK", 48, 50, 2400), ("TEA", 10, 20, 200)]
    with approved.read() as session:  # every cell reads back as what is stored
        stored = po_export.po_rows(session, PoStatus.APPROVED, TAIPEI)
    assert [{c: po_export.text(row[c]) for c in po_export.COLUMNS} for row in stored] == [
        r | {"supplier_name": r["supplier_name"].removeprefix("'")} for r in rows
    ]
    first = rows[0]
    assert first["po_number"] == PO
    assert (first["supplier_code"], first["supplier_name"]) == ("S1", "'=鮮乳坊")
    assert (first["status"], first["emergency"], first["currency"]) == ("approved", "true", "TWD")
    assert first["supplier_sku"].startswith("X-")
    assert first["requested_arrival"] == "2026-11-27"
    assert first["expected_arrival"] == ""
    assert datetime.fromisoformat(first["approved_at"]) == APPROVED_AT
    assert first["approved_at"] == "2026-11-25T01:30:00+08:00"


def test_json_is_pos_with_lines(cli: typer.Typer, approved: Store, tmp_path: Path) -> None:
    out = tmp_path / "po.json"
    code, output = export(cli, approved, "--format", "json", "--out", str(out))
    assert code == 0, output
    (order,) = json.loads(out.read_text(encoding="utf-8"))
    assert order["po_number"] == PO
    assert order["emergency"] is True
    assert order["supplier_name"] == "=鮮乳坊"  # JSON is data, not a spreadsheet
    assert Decimal(order["total"]) == Decimal(2600)
    assert Decimal(order["lines"][0]["line_total"]) == Decimal(2400)
    assert [(line["sku"], line["qty"]) for line in order["lines"]] == [("MILK", 48), ("TEA", 10)]
    assert order["approved_at"] == "2026-11-25T01:30:00+08:00"


def test_other_statuses_are_not_exported(cli: typer.Typer, approved: Store) -> None:
    code, output = export(cli, approved, "--status", "sent", "--format", "json")
    assert code == 0, output
    assert json.loads(output) == []


def test_a_bad_status_exits_2_naming_the_valid_ones(cli: typer.Typer, approved: Store) -> None:
    result = CliRunner().invoke(
        cli, ["po", "export", "--status", "aproved", "--lang", "en", "--db", "sqlite://"]
    )
    assert result.exit_code == 2
    assert "aproved" in result.output
    assert "approved, sent" in result.output
