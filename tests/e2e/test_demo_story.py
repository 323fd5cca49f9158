"""`replenish demo` as a user runs it: the shipped story end to end (`--script`), a failing
check stopping the script and naming its line, `make demo` with its input piped, and a
supplier in the console who cannot see or press another supplier's PO."""

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from rich.console import Console
from sqlmodel import col, select

from adapters.chat import Interaction
from adapters.console import PLATFORM
from bot.demo import open_demo
from bot.demo_input import EchoedLines
from bot.demo_session import DemoSession, StepFailedError
from bot.ids import CONFIRM
from bot.status import snapshot
from core.models import AuditEvent, PurchaseOrder
from core.store import Store
from tests.helpers import run_replenish, sample_last_day

ROOT = Path(__file__).resolve().parents[2]
STORY = ROOT / "bot" / "data" / "demo_story.txt"
PO = "PO20261124-001"  # S01's draft from the first monitor pass, where MLK-028 is put
# The story's opening: the clerk puts the surging MLK-028 on S01's draft, the manager
# approves it, and it goes to S01's group.
APPROVED = ["/as clerk", "/show MLK-028", "1", "/as manager", f"/show {PO}", "1"]


def _actions(database: Path) -> set[str]:
    store = Store.connect(f"sqlite:///{database}")
    try:
        with store.read() as session:
            return set(session.scalars(select(AuditEvent.action)))
    finally:
        store.dispose()


def test_the_shipped_story_runs_end_to_end(tmp_path: Path) -> None:
    done = run_replenish("demo", "--dir", "demo", "--script", str(STORY), cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr
    lines = STORY.read_text(encoding="utf-8").splitlines()
    checks = sum(1 for line in lines if line.split(" ", 1)[0] in ("expect", "expect-not"))
    assert checks >= 30
    assert f"{checks} 項檢查全部通過" in done.stdout
    # Every step of the story left its mark, through the same use cases as Slack/Telegram.
    assert _actions(tmp_path / "demo" / "replenish.db") >= {
        "alert.po_drafted",
        "po.submitted",
        "po.approved",
        "po.sent",
        "po.price_escalated",
        "po.price_approved",
        "po.confirmed",
        "pick.acked",
        "po.received",
        "refused.po_not_found",  # the other supplier's look, audited
    }
    assert list((tmp_path / "demo" / "files").glob("*.png"))  # the daily report's chart


def test_a_failing_expect_stops_the_script_and_names_its_line(tmp_path: Path) -> None:
    script = tmp_path / "story.txt"
    script.write_text(
        "# 一行註解\nstock MLK-028\nexpect 這句不會出現\n/as buyer\n", encoding="utf-8"
    )
    done = run_replenish("demo", "--dir", "demo", "--script", str(script), cwd=tmp_path)
    assert done.returncode == 1
    assert "示範腳本第 3 行失敗" in done.stderr
    assert "這句不會出現" in done.stderr
    assert "MLK-028" in done.stdout  # the line before ran …
    assert "/as buyer" not in done.stdout  # … the one after did not


def test_piped_input_reaches_the_prompt_and_exits(tmp_path: Path) -> None:
    done = run_replenish("demo", "--dir", "demo", cwd=tmp_path, stdin="/quit\n")
    assert done.returncode == 0, done.stderr
    assert "動態補貨經理 ❯ /quit" in done.stdout  # the prompt, with what the pipe said
    assert "再見" in done.stdout
    assert (tmp_path / "demo" / "replenish.db").exists()


@pytest.fixture
def session(tmp_path: Path) -> tuple[DemoSession, io.StringIO]:
    out = io.StringIO()
    console = Console(file=out, record=True, width=120, color_system=None)
    demo = open_demo(tmp_path / "demo", None, console, EchoedLines([], console), interactive=False)
    for line in APPROVED:
        demo.step(line)
    return demo, out


def test_a_supplier_cannot_see_or_press_another_suppliers_po(
    session: tuple[DemoSession, io.StringIO],
) -> None:
    demo, out = session
    [theirs] = [  # the PO reached S01's group, with its buttons
        m for m in demo.chat.visible(["supplier:S01"]) if PO in m.card.title and m.card.buttons
    ]
    demo.step("/as supplier S02")
    with pytest.raises(StepFailedError, match=f"#{theirs.number}"):
        demo.step(f"#{theirs.number} 1")  # not a card S02's people can see
    with pytest.raises(StepFailedError):
        demo.step(f"/show {PO}")
    demo.step("/list")
    assert PO.casefold() not in demo.window  # what /list printed
    demo.step(f"po {PO}")
    assert f"找不到採購單 {PO}" in out.getvalue()  # as if it did not exist
    # Past the console, the bot itself refuses S02 acting in S01's group.
    press = Interaction(
        platform=PLATFORM,
        team="supplier:S01",
        user="supplier:S02",
        action_id=CONFIRM,
        value=PO,
        key="guess-1",
        message=theirs.ref,
    )
    assert demo.bot.action(press).refused
    with demo.app.store.read() as db:
        status = db.scalars(select(PurchaseOrder.status).where(PurchaseOrder.number == PO)).one()
        refused = db.scalars(
            select(AuditEvent.action).where(col(AuditEvent.action).startswith("refused."))
        ).all()
    assert status == "sent"  # nothing S02 did moved it
    assert "refused.po_not_found" in refused


def test_weeks_after_the_sample_the_demo_moves_it_on_and_fills_the_gap(tmp_path: Path) -> None:
    later = datetime(2026, 12, 10, 1, 0, tzinfo=UTC)  # 09:00 in Taipei, 16 days after it ends
    out = io.StringIO()
    console = Console(file=out, record=True, width=120, color_system=None)
    source = EchoedLines([], console)
    demo = open_demo(
        tmp_path / "demo", None, console, source, interactive=False, wall=lambda: later
    )
    shop = snapshot(demo.app.store)
    assert shop.first_sale == date(2026, 6, 12)  # two whole weeks on: weekdays kept
    assert shop.last_sale == date(2026, 12, 9)  # yesterday: the sample's 12-08, then one day made
    assert sample_last_day({"first_sale": "2026-06-12"}) == date(2026, 12, 8)
    assert "模擬 2026-12-09 的銷售" in out.getvalue()
    assert demo.app.today() == date(2026, 12, 10)
    demo.step("kpi 7d")
    assert "2026-12-03 – 2026-12-09" in out.getvalue()  # the demo's yesterday ends the window
