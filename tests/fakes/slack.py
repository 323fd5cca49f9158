"""A local fake of the Slack Web API for offline tests, answered on 127.0.0.1.

The real `slack_sdk.WebClient(base_url=fake.base_url)` talks to it over HTTP, so tests cover
the SDK's own encoding, retries and error handling. Every request is recorded as a `Call`;
`messages` keeps each channel's current messages as Slack would show them.
"""

import functools
import itertools
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

# Fields slack_sdk may send as JSON text inside a form body (or callers may pre-encode).
JSON_FIELDS = frozenset({"blocks", "attachments", "view", "files", "metadata"})
FAKE_TOKEN = "xoxb-fake-token"
BOT = {"user_id": "U0BOT", "bot_id": "B0BOT", "team_id": "T0FAKE", "team": "Fake Team"}


@dataclass(frozen=True)
class Call:
    method: str  # "chat.postMessage", or "upload" / "response_url" for those endpoints
    params: dict[str, Any]
    headers: dict[str, str]
    at: float  # time.monotonic() when the request arrived
    status: int
    path: str = ""


@dataclass
class _Failure:
    status: int
    error: str
    retry_after: int
    times: int


@dataclass
class _State:
    calls: list[Call] = field(default_factory=list)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: dict[str, bytes] = field(default_factory=dict)
    failures: dict[str, list[_Failure]] = field(default_factory=dict)
    bound: dict[str, tuple[str, str]] = field(default_factory=dict)  # response_url → message


class FakeSlack:
    """`with FakeSlack(token="xoxb-test") as fake: WebClient(token=..., base_url=fake.base_url)`."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token
        self._lock = threading.Lock()
        self._state = _State()
        self._ids = itertools.count(1)
        self._stamps = itertools.count(1)  # separate, so the first ts is always …000100
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.fake = self  # type: ignore[attr-defined]
        self.port: int = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.base_url = f"{self.url}api/"
        # A short poll keeps stop() quick: shutdown waits for the loop's next poll.
        serve = functools.partial(self._server.serve_forever, poll_interval=0.02)
        self._thread = threading.Thread(target=serve, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what tests read and script ---------------------------------------------------------

    def response_url(self, name: str, *, channel: str | None = None, ts: str | None = None) -> str:
        """A response_url; bound to (channel, ts), replace/delete_original act on that message."""
        if channel is not None and ts is not None:
            with self._lock:
                self._state.bound[name] = (channel, ts)
        return f"{self.url}response/{urllib.parse.quote(name)}"

    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._state.calls if method is None or c.method == method]

    def responses(self, name: str) -> list[dict[str, Any]]:
        """The JSON bodies POSTed to `response_url(name)`, oldest first."""
        path = f"/response/{urllib.parse.quote(name)}"
        return [c.params for c in self.calls("response_url") if c.path == path]

    def clear(self) -> None:
        """Forget recorded calls; messages, views and uploads stay."""
        with self._lock:
            self._state.calls.clear()

    @property
    def messages(self) -> dict[str, list[dict[str, Any]]]:
        """Channel → its current messages, oldest first (a copy)."""
        with self._lock:
            return json.loads(json.dumps(self._state.messages))

    @property
    def uploads(self) -> dict[str, bytes]:
        with self._lock:
            return dict(self._state.uploads)

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        times: int = 1,
        error: str | None = None,
    ) -> None:
        """The next `times` calls of `method` fail: HTTP `status`, or ok:false with 200."""
        default = {429: "ratelimited", 200: "fatal_error"}.get(status, "internal_error")
        failure = _Failure(status, error or default, retry_after, times)
        with self._lock:
            self._state.failures.setdefault(method, []).append(failure)

    # --- answers ---------------------------------------------------------------------------

    def _next_ts(self) -> str:
        micros = next(self._stamps) * 100
        return f"{1_700_000_000 + micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _post(self, channel: str, content: dict[str, Any]) -> dict[str, Any]:
        ts = self._next_ts()
        message = {"type": "message", "ts": ts, "user": BOT["user_id"], "bot_id": BOT["bot_id"]}
        self._state.messages.setdefault(channel, []).append({**message, **content})
        return {**message, **content}

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._state.failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        return failure

    def _answer(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        s = self._state
        channel = str(p.get("channel") or p.get("channel_id") or "")
        if method == "auth.test":
            return {"ok": True, "url": "https://fake.slack.com/", "user": "replenish", **BOT}
        if method == "chat.postMessage":
            if not channel:
                return {"ok": False, "error": "channel_not_found"}
            message = self._post(channel, _content(p))
            return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}
        if method == "chat.update":
            for message in s.messages.get(channel, []):
                if message["ts"] == p.get("ts"):
                    message.update(_content(p), edited={"user": BOT["user_id"]})
                    return {"ok": True, "channel": channel, "ts": message["ts"]}
            return {"ok": False, "error": "message_not_found"}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method in {"views.open", "views.push", "views.update"}:
            view_id = p.get("view_id") or f"V{next(self._ids):08d}"
            if method == "views.update" and view_id not in s.views:
                return {"ok": False, "error": "not_found"}
            view = {**(p.get("view") or {}), "id": view_id, "hash": f"h{next(self._ids)}"}
            s.views[view_id] = view
            return {"ok": True, "view": view}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ids):08d}"
            return {"ok": True, "upload_url": f"{self.url}upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = [
                {"id": f["id"], "title": f.get("title") or f["id"], "name": f["id"]}
                for f in p.get("files") or []
            ]
            if missing := [f["id"] for f in files if f["id"] not in s.uploads]:
                return {"ok": False, "error": "file_not_found", "missing": missing}
            channels = [c for c in str(p.get("channels", "")).split(",") if c]
            targets = [channel] if channel else channels
            for target in targets:
                self._post(target, {"text": p.get("initial_comment", ""), "files": files})
            return {"ok": True, "files": files}
        if method == "conversations.info":
            info = {"id": channel, "name": channel.lower(), "is_channel": True, "is_member": True}
            return {"ok": True, "channel": info}
        return {"ok": False, "error": "unknown_method"}

    def _respond_url(self, name: str, p: dict[str, Any]) -> None:
        """Slack's response_url: replace or delete the bound message, or post in_channel."""
        channel, ts = self._state.bound.get(name, ("", ""))
        messages = self._state.messages.get(channel, [])
        target = next((m for m in messages if m["ts"] == ts), None)
        if p.get("delete_original") and target is not None:
            messages.remove(target)
        elif p.get("replace_original") and target is not None:
            target.update(_content(p))
        elif p.get("response_type") == "in_channel" and channel:
            self._post(channel, _content(p))


def _content(p: dict[str, Any]) -> dict[str, Any]:
    return {k: p[k] for k in ("text", "blocks", "attachments", "metadata", "thread_ts") if k in p}


def _parse(content_type: str, body: bytes, query: str) -> dict[str, Any]:
    params: dict[str, Any] = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    if content_type.startswith("application/json") and body:
        params.update(json.loads(body))
    elif content_type.startswith("application/x-www-form-urlencoded"):
        params.update(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
    for key in JSON_FIELDS & params.keys():
        if isinstance(params[key], str) and params[key].startswith(("[", "{")):
            params[key] = json.loads(params[key])
    return params


class _Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def do_POST(self) -> None:
        fake: FakeSlack = self.server.fake  # type: ignore[attr-defined]
        path, _, query = self.path.partition("?")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        kind, _, rest = path.strip("/").partition("/")
        method = {"api": rest, "upload": "upload", "response": "response_url"}.get(kind, path)
        if method == "upload":
            params: dict[str, Any] = {"file_id": rest, "length": len(body)}
        else:
            params = _parse(self.headers.get("Content-Type", ""), body, query)
        with fake._lock:
            status, answer_headers, payload = self._handle(fake, method, rest, params, body)
            sent = {k.title(): v for k, v in self.headers.items()}  # one spelling to look up
            fake._state.calls.append(Call(method, params, sent, time.monotonic(), status, path))
        self.send_response(status)
        for name, value in answer_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _handle(
        self, fake: FakeSlack, method: str, rest: str, params: dict[str, Any], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if failure := fake._take_failure(method):
            if failure.status == 429:
                headers["Retry-After"] = str(failure.retry_after)
            return failure.status, headers, _json({"ok": False, "error": failure.error})
        if method == "upload":
            fake._state.uploads[rest] = body
            return 200, {"Content-Type": "text/plain"}, f"OK - {len(body)}".encode()
        if method == "response_url":
            fake._respond_url(urllib.parse.unquote(rest), params)
            return 200, headers, _json({"ok": True})
        if fake.token is not None:
            sent = self.headers.get("Authorization", "").removeprefix("Bearer ")
            sent = sent or str(params.pop("token", ""))
            if sent != fake.token:
                error = "invalid_auth" if sent else "not_authed"
                return 200, headers, _json({"ok": False, "error": error})
        return 200, headers, _json(fake._answer(method, params))

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean; every request is in fake.calls


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()
