"""Slack: the bolt app (slash command, buttons, modals) and card delivery for the outbox.

The same listeners serve HTTP mode (bolt's request verification on) and Socket Mode. Every
listener acks first — Slack wants an answer within 3 s — and does the slow part (database,
charts, uploads) after. The bot's `ChatHandlers` decide; this module only translates Slack
payloads into neutral `Command`/`Interaction`s and neutral `Reply`s back into Web API calls.
Block Kit itself is in `adapters.slack_blocks`.
"""

import hashlib
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from adapters.chat import Card, Command, DeliveryError, Interaction, MessageRef, Reply
from adapters.slack_blocks import (
    base_action_id,
    card_blocks,
    card_text,
    form_errors,
    form_view,
    view_values,
)
from core.inbox import interaction_key

PLATFORM = "slack"
SlackBolt = App  # for the bot, which does not import slack_bolt itself
log = logging.getLogger(__name__)
ANY = re.compile(".*")
# Errors a retry cannot fix: the message stays in the outbox as failed, for an operator.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "invalid_blocks",
        "msg_too_long",
        "message_not_found",
        "cant_update_message",
    }
)


class ChatHandlers(Protocol):
    """What the bot answers; implementations never raise (they reply with a polite error)."""

    def command(self, command: Command) -> Reply: ...

    def action(self, interaction: Interaction) -> Reply: ...

    def submit(self, interaction: Interaction) -> Reply: ...


@dataclass(frozen=True)
class SlackConfig:
    bot_token: str
    signing_secret: str = ""
    api_base_url: str = "https://slack.com/api/"
    command: str = "/replenish"


def web_client(config: SlackConfig) -> WebClient:
    """The Web API client with slack_sdk's own retries: connection errors, 5xx, and one 429
    after its Retry-After (the outbox reschedules anything still rate limited)."""
    return WebClient(
        token=config.bot_token,
        base_url=config.api_base_url,
        timeout=10,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=1),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def slack_app(config: SlackConfig, handlers: ChatHandlers, *, socket_mode: bool = False) -> App:
    """The bolt app with our listeners. HTTP mode verifies signatures with the signing secret
    (unsigned, stale or tampered requests get 401 before any listener runs)."""
    if not socket_mode and not config.signing_secret:
        raise ValueError("HTTP mode needs the Slack signing secret")
    app = App(
        client=web_client(config),
        signing_secret=config.signing_secret,
        token_verification_enabled=False,  # no call to Slack at start-up; auth.test on demand
        request_verification_enabled=not socket_mode,
    )
    app.command(config.command)(_on_command(handlers))
    app.action(ANY)(_on_action(handlers))
    app.view(ANY)(_on_submit(handlers))
    return app


# --- listeners ---------------------------------------------------------------------------


def _on_command(handlers: ChatHandlers) -> Callable[..., None]:
    def listener(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        command = Command(
            platform=PLATFORM,
            team=str(body.get("team_id", "")),
            user=str(body.get("user_id", "")),
            channel=str(body.get("channel_id", "")),
            text=str(body.get("text", "")),
            user_name=str(body.get("user_name", "")),
            key=interaction_key(
                str(body.get("team_id", "")),
                str(body.get("user_id", "")),
                str(body.get("command", "")),
                str(body.get("channel_id", "")),
                str(body.get("trigger_id", "")),
            ),
        )
        reply = handlers.command(command)
        if reply.form is not None and body.get("trigger_id"):
            _open_form(client, str(body["trigger_id"]), reply, None)
        _respond(client, respond, reply)

    return listener


def _on_action(handlers: ChatHandlers) -> Callable[..., None]:
    def listener(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        action = body["actions"][0]
        message = _message_ref(body)
        interaction = Interaction(
            platform=PLATFORM,
            team=_team(body),
            user=_actor(body),
            user_name=str(body["user"].get("name", "")),
            action_id=base_action_id(str(action["action_id"])),
            value=str(action.get("value", "")),
            message=message,
            key=interaction_key(
                _team(body),
                str(body["user"]["id"]),
                str(action["action_id"]),
                message.ts if message else "",
                str(action.get("action_ts", "")),
            ),
        )
        reply = handlers.action(interaction)
        if reply.form is not None:
            _open_form(client, str(body.get("trigger_id", "")), reply, message)
        _deliver(client, respond, reply, message, str(body["user"]["id"]))

    return listener


def _on_submit(handlers: ChatHandlers) -> Callable[..., None]:
    def listener(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        view = body["view"]
        context = json.loads(view.get("private_metadata") or "{}")
        message = MessageRef.decode(context["m"]) if context.get("m") else None
        values = view_values(view)
        interaction = Interaction(
            platform=PLATFORM,
            team=_team(body),
            user=_actor(body),
            user_name=str(body["user"].get("name", "")),
            action_id=str(view["callback_id"]),
            value=str(context.get("c", "")),
            message=message,
            values=values,
            key=interaction_key(
                _team(body),
                str(body["user"]["id"]),
                str(view["callback_id"]),
                str(view.get("id", "")),
                _digest(view.get("hash", ""), values),
            ),
        )
        reply = handlers.submit(interaction)
        if reply.errors:
            ack(**form_errors(reply.errors))
            return
        ack()
        _deliver(client, None, reply, message, str(body["user"]["id"]))

    return listener


# --- replies -----------------------------------------------------------------------------


def _respond(client: WebClient, respond: Respond, reply: Reply) -> None:
    """A slash command's answer through its response_url (works in any channel)."""
    if reply.card is None and not reply.text:
        return
    blocks = _blocks(client, reply.card) if reply.card else None
    response_type = "ephemeral" if reply.private else "in_channel"
    respond(text=_text(reply), blocks=blocks, response_type=response_type)


def _deliver(
    client: WebClient,
    respond: Respond | None,
    reply: Reply,
    message: MessageRef | None,
    user: str,
) -> None:
    """Update the pressed message in place, then tell the presser privately. An ephemeral
    message (a slash command's answer) can only be replaced through its response_url."""
    if reply.replace and reply.card is not None and message is not None:
        if message.ephemeral and respond is not None:
            card = reply.card
            _guarded(
                respond, text=card_text(card), blocks=_blocks(client, card), replace_original=True
            )
        else:
            _guarded(client.chat_update, **_update_args(client, message, reply.card))
    if not reply.text and (reply.card is None or reply.replace):
        return
    card_blocks_ = _blocks(client, reply.card) if reply.card and not reply.replace else None
    if respond is not None:
        _guarded(respond, text=reply.text, blocks=card_blocks_, replace_original=False)
    elif message is not None:
        _guarded(
            client.chat_postEphemeral,
            channel=message.channel,
            user=user,
            text=reply.text,
            blocks=card_blocks_,
        )


def _open_form(
    client: WebClient, trigger_id: str, reply: Reply, message: MessageRef | None
) -> None:
    assert reply.form is not None
    metadata = json.dumps({"c": reply.form.context, "m": message.encode() if message else ""})
    _guarded(
        client.views_open,
        trigger_id=trigger_id,
        view=form_view(reply.form, private_metadata=metadata),
    )


def _guarded(call: Callable[..., Any], **kwargs: Any) -> None:
    """A reply that cannot be delivered is logged, never raised into bolt (the state change
    is already committed, and the outbox brings the card up to date)."""
    try:
        call(**kwargs)
    except (SlackApiError, SlackClientError, OSError) as error:
        log.warning("slack reply failed: %s", error)


def _text(reply: Reply) -> str:
    return reply.text or (card_text(reply.card) if reply.card else "")


def _blocks(client: WebClient, card: Card) -> list[dict[str, Any]]:
    return card_blocks(card, image_file_id=_upload(client, card))


def _upload(client: WebClient, card: Card) -> str | None:
    """Charts go up as private files and are shown with an image block (slack_file)."""
    if card.image is None:
        return None
    try:
        uploaded = client.files_upload_v2(
            content=card.image.png, filename=card.image.filename, title=card.image.alt
        )
    except (SlackApiError, SlackClientError, OSError) as error:
        log.warning("chart upload failed: %s", error)
        return None
    file = uploaded.get("file") or {}
    return str(file.get("id")) if file.get("id") else None


def _update_args(client: WebClient, ref: MessageRef, card: Card) -> dict[str, Any]:
    return {
        "channel": ref.channel,
        "ts": ref.ts,
        "text": card_text(card),
        "blocks": _blocks(client, card),
    }


def _message_ref(body: Mapping[str, Any]) -> MessageRef | None:
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    if not (channel and ts):
        return None
    return MessageRef(str(channel), str(ts), ephemeral=bool(container.get("is_ephemeral")))


def _digest(view_hash: object, values: Mapping[str, str]) -> str:
    """A redelivered submission repeats its values; a corrected one (after an inline error,
    same view and hash) does not, and must not be answered from the first one's record."""
    typed = json.dumps(values, sort_keys=True, ensure_ascii=False).encode()
    return f"{view_hash}:{hashlib.sha256(typed).hexdigest()[:16]}"


def _team(body: Mapping[str, Any]) -> str:
    team = body.get("team") or {}
    return str(team.get("id", "") if isinstance(team, Mapping) else team)


def _actor(body: Mapping[str, Any]) -> str:
    """Who pressed or submitted. A user of another workspace (Slack Connect) is named with
    their own team, so they never pass for a member whose user id happens to be the same:
    the bot finds no such member, refuses and audits."""
    user, team = body["user"], body.get("team") or {}
    home = {_team(body)}
    if isinstance(team, Mapping):
        home.add(str(team.get("enterprise_id", "")))  # Enterprise Grid reports the org id
    user_team = str(user.get("team_id", ""))
    if user_team and _team(body) and user_team not in home:
        return f"{user_team}:{user['id']}"
    return str(user["id"])


# --- the outbox's delivery ---------------------------------------------------------------


class SlackChat:
    """`ChatAdapter` for the outbox dispatcher: post and update cards, errors mapped to
    DeliveryError (429 → retry_after; channel gone, bad token → permanent)."""

    platform = PLATFORM

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def post(self, target: str, card: Card) -> MessageRef:
        answer = self._call(
            self.client.chat_postMessage,
            channel=target,
            text=card_text(card),
            blocks=_blocks(self.client, card),
            unfurl_links=False,
        )
        return MessageRef(str(answer["channel"]), str(answer["ts"]))

    def update(self, ref: MessageRef, card: Card) -> MessageRef:
        answer = self._call(self.client.chat_update, **_update_args(self.client, ref, card))
        return MessageRef(str(answer.get("channel", ref.channel)), str(answer.get("ts", ref.ts)))

    @staticmethod
    def _call(method: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return method(**kwargs)
        except SlackApiError as error:
            raise delivery_error(error) from error
        except (SlackClientError, OSError) as error:  # network trouble: retry later
            raise DeliveryError(str(error)) from error


def delivery_error(error: SlackApiError) -> DeliveryError:
    response = error.response
    code = str(response.get("error", "")) if isinstance(response.data, dict) else ""
    status = response.status_code
    if status == 429 or code == "ratelimited":
        retry_after = _seconds(
            response.headers.get("Retry-After") or response.headers.get("retry-after")
        )
        return DeliveryError(f"rate limited ({status})", retry_after=retry_after or 1.0)
    if status >= 500:
        return DeliveryError(f"slack server error {status}")
    return DeliveryError(code or f"http {status}", permanent=code in PERMANENT_ERRORS)


def _seconds(value: Any) -> float | None:
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None


def socket_mode_handler(app: App, app_token: str) -> SocketModeHandler:
    """Socket Mode: Slack delivers over a WebSocket this process opens (no public URL); the
    same listeners as HTTP mode. `connect()` returns at once, `close()` ends it."""
    return SocketModeHandler(app, app_token, web_client=app.client)


def serve_socket_mode(app: App, app_token: str) -> None:
    """Socket Mode until interrupted."""
    socket_mode_handler(app, app_token).start()
