"""Issue 9, Security: what an outsider cannot do, and what never leaks.

Gathered here, or pointed to where an existing test already proves it:
- Slack: unsigned, wrongly signed, stale and replayed requests → 401, nothing written
  (tests/adapters/test_slack_app.py::test_bad_signatures_get_401_and_touch_nothing).
- Telegram: a wrong or missing webhook secret → 403, nothing stored
  (tests/adapters/test_telegram_app.py::test_a_wrong_or_missing_secret_is_refused_and_stores_nothing).
- Slack Connect: a user of another workspace cannot act, even with a member's user id (here).
- Configured secrets never appear in logs, error replies or exceptions (here; bot/redact.py).
"""

import asyncio
import hashlib
import json
import logging
import urllib.parse
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from telegram import Bot
from typer.testing import CliRunner

from adapters.chat import Card, DeliveryError
from adapters.slack import SlackChat, SlackConfig, web_client
from adapters.telegram import TelegramConfig
from adapters.telegram_delivery import TelegramChat
from bot import cards
from bot.app import App
from bot.cli import app as cli_app
from bot.ids import CALLBACK_CODES, CONFIRM
from bot.settings import Settings, load_settings
from core.invites import create_invite
from core.models import AuditEvent, BindCode, ChatBinding, Supplier, utcnow
from core.store import Store
from core.workflow import submit_for_approval
from tests.adapters import conftest as slack_fixtures
from tests.adapters import test_supplier_chat_e2e as supplier_e2e
from tests.adapters import test_telegram_app as tg_app
from tests.adapters.conftest import SECRET as SLACK_SIGNING_SECRET
from tests.adapters.conftest import Harness, wait_for
from tests.adapters.test_supplier_chat_e2e import S2_GROUP, SAM
from tests.fakes.telegram import FakeTelegram
from tests.shop import PO

harness, serve = slack_fixtures.harness, slack_fixtures.serve  # the Slack end-to-end harness
loop = supplier_e2e.loop  # both platforms, one app: the supplier loop's harness
telegram = tg_app.telegram  # the Telegram webhook served by uvicorn

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


# --- secrets never appear in logs, error replies or exceptions ------------------------------

SECRETS = {
    "REPLENISH_SLACK__BOT_TOKEN": "xoxb-1111-2222-SECRETslackBotToken",
    "REPLENISH_SLACK__SIGNING_SECRET": "SECRET-slack-signing-4242",
    "REPLENISH_SLACK__APP_TOKEN": "xapp-1-SECRETslackAppToken",
    "REPLENISH_TELEGRAM__BOT_TOKEN": "424242:SECRET-telegram-token",
    "REPLENISH_TELEGRAM__WEBHOOK_SECRET": "SECRET-telegram-webhook_42",
    "REPLENISH_FEEDS__HMAC_SECRET": "SECRET-feeds-hmac-4242",
    "REPLENISH_FEEDS__SHOPIFY_SECRET": "SECRET-shopify-4242",
    "REPLENISH_EMAIL__PASSWORD": "SECRET-smtp-password-42",
    "REPLENISH_EXPORT__PO_WEBHOOK_SECRET": "SECRET-po-webhook-4242",
}
FEED_TOKEN = "SECRET-feed-bearer-token-42"  # configured as its SHA-256, as `feed token add` does
CHATTY = ("", "slack_bolt", "slack_sdk", "telegram", "httpx", "httpcore", "uvicorn", "replenish")


def _listen(caplog: pytest.LogCaptureFixture) -> None:
    for name in CHATTY:
        caplog.set_level(logging.DEBUG, logger=name or None)


def _leaks(text: str, secrets: Iterable[str]) -> list[str]:
    return [secret for secret in secrets if secret in text]


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    """Every secret set through the environment, as an operator would."""
    monkeypatch.setenv("REPLENISH_DATABASE_URL", f"sqlite:///{tmp_path / 'replenish.db'}")
    monkeypatch.setenv("REPLENISH_FEEDS__TOKENS", json.dumps({"pos": _sha256(FEED_TOKEN)}))
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    return load_settings()


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_config_show_and_check_print_no_secret(
    configured: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    _listen(caplog)
    runner = CliRunner()
    for args in (["config", "show"], ["config", "check"]):
        done = runner.invoke(cli_app, args)
        assert done.exception is None or isinstance(done.exception, SystemExit), done.output
        assert _leaks(done.output, [*SECRETS.values(), FEED_TOKEN]) == [], args
    assert _leaks(caplog.text, SECRETS.values()) == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("REPLENISH_LOCALE", "xx"),
        ("REPLENISH_SLACK__NO_SUCH_SETTING", "oops"),
        ("REPLENISH_EMAIL__ENABLED", "true"),  # without host and sender
        ("REPLENISH_TELEGRAM__WEBHOOK_URL", "not a url"),
    ],
)
def test_a_settings_error_names_no_secret(
    configured: Settings, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    assert _leaks(_refusal(load_settings), SECRETS.values()) == []
    done = CliRunner().invoke(cli_app, ["config", "check"])
    assert _leaks(done.output, SECRETS.values()) == []


def test_telegram_requests_and_errors_log_no_token(
    configured: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """httpx logs every request URL at INFO, and PTB's URL holds the bot token; PTB logs
    each call's parameters at DEBUG, setWebhook's secret_token among them."""
    _listen(caplog)
    App(configured, Store.connect(configured.database_url))  # building the app redacts
    token = SECRETS["REPLENISH_TELEGRAM__BOT_TOKEN"]
    webhook_secret = SECRETS["REPLENISH_TELEGRAM__WEBHOOK_SECRET"]
    card = Card(title="PO-SECRET-TEST", text="hello")
    with FakeTelegram(token=token) as fake:
        bot = Bot(token, base_url=fake.base_url)
        asyncio.run(bot.set_webhook("https://shop.example/telegram", secret_token=webhook_secret))
        assert fake.webhook["secret_token"] == webhook_secret  # it was sent, not logged
        fake.add_chat(-1001, title="buyers")
        chat = TelegramChat(TelegramConfig(token, api_base_url=fake.base_url), _no_migration)
        fake.fail_next("sendMessage", status=403, description="Forbidden: bot was kicked")
        with pytest.raises(DeliveryError) as kicked:
            chat.post("-1001", card)
        assert _leaks(f"{kicked.value}\n{kicked.value!r}", [token]) == []
    with FakeTelegram() as other:  # the configured token is not the one this server knows
        wrong = TelegramChat(TelegramConfig(token, api_base_url=other.base_url), _no_migration)
        with pytest.raises(DeliveryError) as refused:
            wrong.post("-1001", card)
        assert _leaks(f"{refused.value}\n{refused.value!r}", [token]) == []
    assert "HTTP Request" in caplog.text  # httpx did log the requests, token masked
    assert _leaks(caplog.text, SECRETS.values()) == []


def test_slack_bad_signatures_and_delivery_errors_log_no_secret(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    _listen(caplog)
    h, token = harness, str(harness.fake.token)
    secrets = [token, SLACK_SIGNING_SECRET]
    assert h.post(b"command=%2Freplenish&text=help", signed=False).status_code == 401
    assert h.post(b"command=%2Freplenish&text=help", tamper=True).status_code == 401
    chat = SlackChat(web_client(SlackConfig(token, api_base_url=h.fake.base_url)))
    with pytest.raises(DeliveryError) as missing:
        chat.post("", Card(title="nowhere"))
    assert _leaks(f"{missing.value}\n{missing.value!r}", secrets) == []
    assert _leaks(caplog.text, secrets) == []


def _refusal(call: Callable[[], object]) -> str:
    """What an exception from `call` says, as the CLI or a log would show it ("" if none)."""
    try:
        call()
    except Exception as error:
        return f"{error}\n{error!r}"
    return ""


def _no_migration(old: str, new: str) -> None:
    raise AssertionError(f"no migration expected: {old} → {new}")


# --- a supplier sees and acts on its own POs only ------------------------------------------
# Already proven elsewhere: `require_own_po` in the core
# (tests/integration/test_supplier_flow.py::
#  test_another_supplier_is_told_the_po_does_not_exist_and_is_audited),
# `/po <other number> pdf` over Telegram
# (tests/adapters/test_po_document_telegram.py::test_another_supplier_cannot_get_the_pdf),
# someone of another supplier inside a supplier's group
# (tests/integration/test_invites.py::test_someone_of_another_supplier_never_acts_for_this_one).

MISSING = "PO20991231-999"


def _said_to(loop: supplier_e2e.Loop, chat: int) -> list[str]:
    return [
        str(c.params.get("text", ""))
        for c in loop.tg.calls("sendMessage")
        if c.params.get("chat_id") == chat
    ]


def _answers(loop: supplier_e2e.Loop) -> list[str]:
    """What the presser was told (a callback alert or a message in S2's group)."""
    alerts = [str(c.params.get("text", "")) for c in loop.tg.calls("answerCallbackQuery")]
    return [text for text in alerts + _said_to(loop, S2_GROUP) if PO in text or MISSING in text]


def test_a_forged_button_with_another_suppliers_po_is_answered_as_missing(
    loop: supplier_e2e.Loop,
) -> None:
    supplier_e2e._approved_and_sent(loop)  # PO is S1's, sent to S1's group
    before = loop.po()
    loop.tg.clear()
    for number in (PO, MISSING):  # S2's person, in S2's own group, forging S1's number
        forged = f"{CALLBACK_CODES[CONFIRM]}|{number}"
        assert len(forged.encode()) <= 64  # fits Telegram's callback data
        loop.tap(SAM, S2_GROUP, {"message_id": 1}, CONFIRM, number)
        wait_for(lambda n=number: any(r.entity_id == n for r in _refused(loop)))
    assert [(r.actor_id, r.entity_id) for r in _refused(loop)] == [
        (loop.shop.ids["sam"], PO),
        (loop.shop.ids["sam"], MISSING),
    ]
    after = loop.po()
    assert (after.status, after.version) == ("sent", before.version)  # nothing changed
    said = wait_for(lambda: _answers(loop) if len(_answers(loop)) >= 2 else None)
    theirs, missing = said[:2]
    assert theirs.replace(PO, "#") == missing.replace(MISSING, "#")  # same words as a missing PO
    assert f"找不到採購單 {PO}" in theirs


def test_po_commands_for_another_suppliers_number_are_answered_as_missing(
    loop: supplier_e2e.Loop,
) -> None:
    supplier_e2e._approved_and_sent(loop)
    before = loop.po()
    loop.tg.clear()
    commands = (f"/po {PO}", f"/po {MISSING}", f"/po {PO} pdf", f"/po {PO} png")
    for count, text in enumerate(commands, start=1):  # one at a time: answers in order
        loop._post(loop.tg.message_update(S2_GROUP, SAM, text, queue=False))
        wait_for(lambda n=count: len(_said_to(loop, S2_GROUP)) >= n)
    theirs, missing, pdf, png = _said_to(loop, S2_GROUP)
    assert theirs.replace(PO, "#") == missing.replace(MISSING, "#") == pdf.replace(PO, "#")
    assert png == pdf
    assert f"找不到採購單 {PO}" in theirs
    assert loop.tg.calls("sendDocument") == loop.tg.calls("sendPhoto") == []
    assert all(not c.params.get("reply_markup") for c in loop.tg.calls("sendMessage"))
    assert [r.entity_id for r in _refused(loop)] == [PO, MISSING, PO, PO]
    after = loop.po()
    assert (after.status, after.version) == (before.status, before.version)


def _refused(loop: supplier_e2e.Loop) -> list[AuditEvent]:
    return loop.shop.audit("refused.po_not_found")


# --- bind codes: single use, and guessing is rate limited ----------------------------------
# Proven in the core (tests/integration/test_invites.py): a code binds once, a used code is
# refused like a wrong one (test_a_valid_code_binds_the_chat_once), two groups racing for
# one code get one binding (test_two_groups_racing_for_one_code_get_one_binding), five
# refusals make a chat wait an hour (test_a_chat_guessing_codes_waits_an_hour), per chat
# (test_the_limit_is_per_chat); over Telegram, a reused code
# (tests/adapters/test_telegram_app.py::test_bind_with_a_valid_then_a_reused_code).
# Here: guessing over the real Telegram webhook, until even a valid code is not looked at.


def test_guessing_bind_codes_in_a_group_is_stopped_and_audited(
    telegram: tg_app.Telegram,
) -> None:
    tg, group = telegram, -4242
    with tg.shop.store.unit_of_work() as session:
        s1 = session.scalars(select(Supplier).where(Supplier.code == "S1")).one()
        code = create_invite(session, None, purpose="supplier", supplier_id=s1.id, now=utcnow())
    for guess in range(5):
        tg.say(5001, group, f"/bind WRNG-{guess}AAA")
        wait_for(lambda n=guess: len(tg.messages(group)) > n)
    tg.say(5001, group, f"/bind {code}")  # the right code, too late: not even checked
    wait_for(lambda: len(tg.messages(group)) > 5)
    told = [str(m.get("text", "")) for m in tg.messages(group)]
    assert all("綁定碼無效" in text for text in told[:5])
    assert "次數過多" in told[5]
    assert tg.shop.rows(ChatBinding, ChatBinding.chat_id == str(group)) == []
    assert len(tg.audit("refused.bind_code_invalid")) == 5
    assert len(tg.audit("refused.bind_rate_limited")) == 1
    with tg.shop.store.read() as session:
        [invite] = session.scalars(select(BindCode)).all()
        assert invite.used_at is None  # still good for the real supplier's group
