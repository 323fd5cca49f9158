"""Issue 9, Security: what an outsider cannot do, and what never leaks.

Gathered here, or pointed to where an existing test already proves it:
- Slack: unsigned, wrongly signed, stale and replayed requests → 401, nothing written
  (tests/adapters/test_slack_app.py::test_bad_signatures_get_401_and_touch_nothing).
- Telegram: a wrong or missing webhook secret → 403, nothing stored
  (tests/adapters/test_telegram_app.py::test_a_wrong_or_missing_secret_is_refused_and_stores_nothing).
- Slack Connect: a user of another workspace cannot act, even with a member's user id (here).
"""

import json
import urllib.parse
from typing import Any

from bot import cards
from core.models import AuditEvent
from core.workflow import submit_for_approval
from tests.adapters import conftest as slack_fixtures
from tests.adapters.conftest import Harness, wait_for
from tests.shop import PO

harness, serve = slack_fixtures.harness, slack_fixtures.serve  # the Slack end-to-end harness

APPROVALS = "C-APPROVALS"
OTHER_TEAM = "T0OTHER"


def _from_team(body: bytes, team: str) -> bytes:
    """The same signed-to-be payload, pressed by a user whose home workspace is `team`."""
    payload: dict[str, Any] = json.loads(urllib.parse.parse_qs(body.decode())["payload"][0])
    payload["user"]["team_id"] = team
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()


def test_a_slack_connect_user_with_a_members_user_id_is_refused_and_audited(
    harness: Harness,
) -> None:
    h = harness
    h.shop.run("clerk", submit_for_approval, PO)
    h.deliver()
    [card] = h.messages(APPROVALS)
    body = h.press_body("U-amy", cards.APPROVE, PO, card, APPROVALS)  # amy may approve
    assert h.post(_from_team(body, OTHER_TEAM)).status_code == 200
    [refused] = wait_for(lambda: h.shop.audit("refused.not_a_member"))
    assert refused.data["user"] == f"{OTHER_TEAM}:U-amy"
    assert h.shop.po().status == "pending_approval"
    assert h.shop.audit("po.approved") == []
    [told] = wait_for(lambda: h.fake.calls("response_url"))  # told privately, in words
    assert told.params.get("text")


def test_the_same_press_from_the_home_workspace_still_works(harness: Harness) -> None:
    h = harness
    h.shop.run("clerk", submit_for_approval, PO)
    h.deliver()
    [card] = h.messages(APPROVALS)
    assert h.post(h.press_body("U-amy", cards.APPROVE, PO, card, APPROVALS)).status_code == 200
    wait_for(lambda: h.shop.po().status == "approved")
    [approved] = h.shop.audit("po.approved")
    assert isinstance(approved, AuditEvent)
