"""The drop folder job: complete files imported once and filed away, half-written ones left."""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from bot.app import App
from bot.drop_folder import import_inbox, kind_of
from bot.jobs import job_named
from bot.settings import FeedsSettings, Settings
from core.ingest import Kind
from core.models import ReplanRequest, Sku, StockLevel
from core.store import Store

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
SKUS = "sku,name,category\nA1,厚棉毛巾,毛巾\nB2,軟毛牙刷,牙刷\n"
STOCK = "sku,location,on_hand,as_of\nA1,,120,2026-11-24 08:00\nZZ,,3,2026-11-24 08:00\n"


def app_for(store: Store, inbox: Path | None) -> App:
    return App(Settings(feeds=FeedsSettings(inbox_dir=inbox)), store)


def count(store: Store, model: type) -> int:
    with store.read() as session:
        return session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def test_names_say_their_kind() -> None:
    assert kind_of("stock-2026-11-25.csv") is Kind.STOCK
    assert kind_of("sales_0001.csv.gz") is Kind.SALES
    assert kind_of("SKUS.json") is Kind.SKUS
    for name in ("stocks.csv", "notes.txt", "stock", ".stock.csv", "stock.csv.done"):
        assert kind_of(name) is None


def test_no_inbox_no_work(store: Store) -> None:
    assert import_inbox(app_for(store, None), T0) == {"inbox": None}
    assert job_named("drop_folder") is not None


def test_a_marked_file_is_imported_once_and_moved_to_done(store: Store, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "skus-2026-11-25.csv").write_text(SKUS, encoding="utf-8")
    (inbox / "skus-2026-11-25.csv.done").write_text("")
    app = app_for(store, inbox)
    result = import_inbox(app, T0)
    assert [s["imported"] for s in result["done"]] == [2]
    assert names(inbox / "done") == {"skus-2026-11-25.csv"}
    assert names(inbox) == {"done", ".state"}  # the marker is gone too
    assert count(store, Sku) == 2
    again = import_inbox(app, T0 + timedelta(minutes=5))
    assert again["done"] == again["failed"] == again["waiting"] == []


def test_a_rejected_row_sends_the_file_to_failed_with_its_rejects(
    store: Store, tmp_path: Path
) -> None:
    inbox = tmp_path
    (inbox / "skus.csv").write_text(SKUS, encoding="utf-8")
    (inbox / "skus.csv.done").write_text("")
    (inbox / "stock_wms.csv").write_text(STOCK, encoding="utf-8")
    (inbox / "stock_wms.csv.done").write_text("")
    (inbox / "junk.csv").write_text("nothing")  # no kind: left alone
    result = import_inbox(app_for(store, inbox), T0)
    assert [s["kind"] for s in result["done"]] == ["skus"]
    assert [(s["imported"], s["rejected"]) for s in result["failed"]] == [(1, 1)]
    assert names(inbox / "failed") == {"stock_wms.csv", "stock_wms.csv.rejects.csv"}
    rejects = (inbox / "failed" / "stock_wms.csv.rejects.csv").read_text(encoding="utf-8-sig")
    assert "ZZ" in rejects
    assert "junk.csv" in names(inbox)
    assert count(store, StockLevel) == 1
    with store.read() as session:  # the accepted stock row's SKU is re-planned soon; skus not
        waiting = session.scalars(sa.select(Sku.code).join(ReplanRequest)).all()
    assert waiting == ["A1"]


def test_a_refused_file_goes_to_failed_with_the_reason(store: Store, tmp_path: Path) -> None:
    (tmp_path / "sales.csv").write_text("what,ever\n1,2\n", encoding="utf-8")
    (tmp_path / "sales.csv.done").write_text("")
    result = import_inbox(app_for(store, tmp_path), T0)
    assert result["failed"][0]["refused"]
    assert names(tmp_path / "failed") == {"sales.csv", "sales.csv.error.txt"}


def test_a_half_written_file_waits_until_it_is_stable(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "skus-2026-11-25.csv"
    path.write_text(SKUS.splitlines(keepends=True)[0] + "A1,厚棉", encoding="utf-8")
    app = app_for(store, tmp_path)
    assert import_inbox(app, T0)["waiting"] == [path.name]  # first seen
    with path.open("a", encoding="utf-8") as handle:  # the sender goes on writing
        handle.write("毛巾,毛巾\nB2,軟毛牙刷,牙刷\n")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert import_inbox(app, T0 + timedelta(minutes=1))["waiting"] == [path.name]  # grew
    assert import_inbox(app, T0 + timedelta(minutes=1, seconds=10))["waiting"] == [path.name]
    assert count(store, Sku) == 0  # never read while it might be incomplete
    done = import_inbox(app, T0 + timedelta(minutes=2))  # unchanged for a minute
    assert [s["imported"] for s in done["done"]] == [2]
    assert import_inbox(app, T0 + timedelta(minutes=3))["done"] == []
    assert names(tmp_path / "done") == {path.name}


def test_the_same_name_dropped_again_does_not_overwrite(store: Store, tmp_path: Path) -> None:
    app = app_for(store, tmp_path)
    for minute in (0, 1):
        (tmp_path / "skus.csv").write_text(SKUS, encoding="utf-8")
        (tmp_path / "skus.csv.done").write_text("")
        import_inbox(app, T0 + timedelta(minutes=minute))
    assert names(tmp_path / "done") == {"skus.csv", "skus.csv.1"}
