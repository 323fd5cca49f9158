"""The fake Slack Web API answers the real slack_sdk, and the network guard keeps tests local."""

import json
import socket
import threading
from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from tests.fakes.slack import FakeSlack
from tests.network_guard import NetworkGuardError, install, is_loopback

BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*PO-1* needs approval"}}]
VIEW = {"type": "modal", "title": {"type": "plain_text", "text": "Edit PO"}, "blocks": []}


@pytest.fixture
def client(fake_slack: FakeSlack) -> WebClient:
    return WebClient(token=fake_slack.token, base_url=fake_slack.base_url)


def test_auth_test_names_the_bot(client: WebClient) -> None:
    answer = client.auth_test()
    assert (answer["user_id"], answer["team_id"], answer["bot_id"]) == ("U0BOT", "T0FAKE", "B0BOT")
    assert answer["team"]
    assert answer["url"]


def test_post_then_update_keeps_one_message_per_card(
    client: WebClient, fake_slack: FakeSlack
) -> None:
    posted = client.chat_postMessage(channel="C1", text="PO-1", blocks=BLOCKS)
    assert posted["channel"] == "C1"
    assert posted["message"]["blocks"] == BLOCKS
    updated = client.chat_update(channel="C1", ts=posted["ts"], text="PO-1 approved")
    assert (updated["channel"], updated["ts"]) == ("C1", posted["ts"])

    [message] = fake_slack.messages["C1"]
    assert (message["ts"], message["text"]) == (posted["ts"], "PO-1 approved")
    assert message["blocks"] == BLOCKS  # chat.update without blocks keeps them, as Slack does
    [call] = fake_slack.calls("chat.postMessage")
    assert call.params["blocks"] == BLOCKS
    assert call.headers["Authorization"] == f"Bearer {fake_slack.token}"
    assert call.status == 200


def test_update_of_an_unknown_message_fails(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as error:
        client.chat_update(channel="C1", ts="1.000001", text="x")
    assert error.value.response["error"] == "message_not_found"


def test_ts_are_unique_and_increasing(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="C1", text=str(i))["ts"] for i in range(3)]
    assert stamps[0] == "1700000000.000100"
    assert stamps == sorted(stamps, key=float)
    assert len(set(stamps)) == 3


def test_json_inside_form_fields_is_decoded(client: WebClient, fake_slack: FakeSlack) -> None:
    client.api_call("chat.postMessage", data={"channel": "C2", "blocks": json.dumps(BLOCKS)})
    [call] = fake_slack.calls("chat.postMessage")
    assert call.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert call.params["blocks"] == BLOCKS


def test_ephemeral_is_answered_but_not_shown_in_channel(
    client: WebClient, fake_slack: FakeSlack
) -> None:
    answer = client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    assert answer["message_ts"]
    assert fake_slack.messages == {}
    assert fake_slack.calls("chat.postEphemeral")[0].params["user"] == "U1"


def test_views_open_then_update(client: WebClient, fake_slack: FakeSlack) -> None:
    opened = client.views_open(trigger_id="T.1", view=VIEW)
    view_id = opened["view"]["id"]
    assert opened["view"]["title"] == VIEW["title"]
    updated = client.views_update(view_id=view_id, view={**VIEW, "blocks": BLOCKS})
    assert updated["view"]["id"] == view_id
    assert fake_slack.calls("views.update")[0].params["view"]["blocks"] == BLOCKS


def test_conversations_info(client: WebClient) -> None:
    assert client.conversations_info(channel="C9")["channel"]["id"] == "C9"


def test_upload_without_a_channel(client: WebClient, fake_slack: FakeSlack) -> None:
    answer = client.files_upload_v2(content=b"\x89PNG chart", filename="chart.png", title="Cover")
    file_id = answer["file"]["id"]
    assert answer["file"]["title"] == "Cover"
    assert fake_slack.uploads == {file_id: b"\x89PNG chart"}
    assert fake_slack.messages == {}
    [complete] = fake_slack.calls("files.completeUploadExternal")
    assert complete.params["files"] == [{"id": file_id, "title": "Cover"}]
    [upload] = fake_slack.calls("upload")
    assert upload.params == {"file_id": file_id, "length": len(b"\x89PNG chart")}
    assert fake_slack.calls("files.getUploadURLExternal")[0].params["filename"] == "chart.png"


def test_upload_to_a_channel_shares_it_there(client: WebClient, fake_slack: FakeSlack) -> None:
    answer = client.files_upload_v2(
        content=b"png...", filename="chart.png", channel="C3", initial_comment="weekly cover"
    )
    [message] = fake_slack.messages["C3"]
    assert message["text"] == "weekly cover"
    assert message["files"][0]["id"] == answer["file"]["id"]
    assert fake_slack.calls("files.completeUploadExternal")[0].params["channel_id"] == "C3"


def test_response_url_replaces_the_bound_message(client: WebClient, fake_slack: FakeSlack) -> None:
    posted = client.chat_postMessage(channel="C1", text="PO-1", blocks=BLOCKS)
    url = fake_slack.response_url("press-1", channel="C1", ts=posted["ts"])
    assert url.startswith(fake_slack.url)

    answer = WebhookClient(url).send(text="PO-1 approved", replace_original=True)
    assert answer.status_code == 200
    [message] = fake_slack.messages["C1"]
    assert message["text"] == "PO-1 approved"
    assert fake_slack.responses("press-1") == [{"text": "PO-1 approved", "replace_original": True}]

    WebhookClient(url).send(text="done", response_type="in_channel")
    assert [m["text"] for m in fake_slack.messages["C1"]] == ["PO-1 approved", "done"]
    WebhookClient(url).send_dict({"delete_original": True})
    assert [m["text"] for m in fake_slack.messages["C1"]] == ["done"]


def test_unknown_method_and_bad_token(client: WebClient, fake_slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as error:
        client.api_call("nope.nothing")
    assert error.value.response["error"] == "unknown_method"

    stranger = WebClient(token="xoxb-wrong", base_url=fake_slack.base_url)
    with pytest.raises(SlackApiError) as error:
        stranger.auth_test()
    assert error.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as error:
        WebClient(base_url=fake_slack.base_url).auth_test()
    assert error.value.response["error"] == "not_authed"


def test_scripted_ok_false_consumes_itself(client: WebClient, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=200, error="channel_not_found")
    with pytest.raises(SlackApiError) as error:
        client.chat_postMessage(channel="C1", text="lost")
    assert error.value.response.status_code == 200
    assert error.value.response["error"] == "channel_not_found"
    client.chat_postMessage(channel="C1", text="kept")
    assert [m["text"] for m in fake_slack.messages["C1"]] == ["kept"]
    assert [c.status for c in fake_slack.calls()] == [200, 200]


def test_clear_forgets_calls_but_not_messages(client: WebClient, fake_slack: FakeSlack) -> None:
    client.chat_postMessage(channel="C1", text="x")
    fake_slack.clear()
    assert fake_slack.calls() == []
    assert len(fake_slack.messages["C1"]) == 1


def test_rate_limit_is_retried_after_retry_after(fake_slack: FakeSlack) -> None:
    client = WebClient(
        token=fake_slack.token,
        base_url=fake_slack.base_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=1)
    client.chat_postMessage(channel="C1", text="PO-1")

    first, second = fake_slack.calls("chat.postMessage")
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 1.0
    assert len(fake_slack.messages["C1"]) == 1


def test_rate_limit_answer_carries_retry_after(client: WebClient, fake_slack: FakeSlack) -> None:
    client.retry_handlers.clear()  # see the raw 429
    fake_slack.fail_next("auth.test", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as error:
        client.auth_test()
    assert error.value.response.status_code == 429
    assert error.value.response.headers["Retry-After"] == "7"
    assert error.value.response["error"] == "ratelimited"


def test_server_error_is_retried(fake_slack: FakeSlack) -> None:
    client = WebClient(
        token=fake_slack.token,
        base_url=fake_slack.base_url,
        retry_handlers=[ServerErrorRetryHandler(max_retry_count=1)],
    )
    fake_slack.fail_next("chat.postMessage", status=500)
    client.chat_postMessage(channel="C1", text="PO-1")
    assert [c.status for c in fake_slack.calls("chat.postMessage")] == [500, 200]
    assert len(fake_slack.messages["C1"]) == 1


def test_server_error_without_retry_reaches_the_caller(
    client: WebClient, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next("chat.postMessage", status=500)
    with pytest.raises(SlackApiError) as error:
        client.chat_postMessage(channel="C1", text="PO-1")
    assert error.value.response.status_code == 500
    assert fake_slack.messages == {}


# --- the network guard -------------------------------------------------------------------


def test_guard_refuses_a_remote_host() -> None:
    with pytest.raises(NetworkGuardError, match=r"slack\.com:443.*loopback"):
        socket.create_connection(("slack.com", 443), timeout=1)


@pytest.mark.parametrize("address", [("93.184.215.14", 80), ("2606:4700::1111", 443)])
def test_guard_refuses_a_remote_address(address: tuple[str, int]) -> None:
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with socket.socket(family) as sock, pytest.raises(NetworkGuardError, match=address[0]):
        sock.connect(address)
    with pytest.raises(NetworkGuardError):
        socket.getaddrinfo(address[0], address[1])


def test_guard_refuses_dns_of_remote_names() -> None:
    with pytest.raises(NetworkGuardError, match=r"example\.org"):
        socket.gethostbyname("example.org")


def test_guard_refuses_the_real_slack_api() -> None:
    with pytest.raises(NetworkGuardError, match=r"slack\.com:443"):
        WebClient(token="xoxb-real").auth_test()


def test_guard_holds_in_other_threads() -> None:
    errors: list[BaseException] = []

    def reach_out() -> None:
        try:
            socket.create_connection(("slack.com", 443), timeout=1)
        except BaseException as exc:  # handed back to the test thread
            errors.append(exc)

    thread = threading.Thread(target=reach_out)
    thread.start()
    thread.join()
    assert len(errors) == 1
    assert isinstance(errors[0], NetworkGuardError)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_guard_lets_loopback_through(fake_slack: FakeSlack, host: str) -> None:
    with socket.create_connection((host, fake_slack.port), timeout=5):
        pass


def test_loopback_names() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "127.9.9.9", "::1", "[::1]", "localhost"]))
    assert all(map(is_loopback, ["LOCALHOST.", "app.localhost", "::ffff:127.0.0.1"]))
    assert not any(map(is_loopback, ["slack.com", "10.0.0.1", "0.0.0.0", "", None]))


def test_unix_sockets_are_allowed(tmp_path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as sock, pytest.raises(FileNotFoundError):
        sock.connect(str(tmp_path / "absent.sock"))


def test_a_nested_guard_restores_the_session_guard() -> None:
    install().undo()
    with pytest.raises(NetworkGuardError):
        socket.create_connection(("slack.com", 443), timeout=1)
