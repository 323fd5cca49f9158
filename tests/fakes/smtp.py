"""A real SMTP server for offline tests: aiosmtpd on 127.0.0.1, on a port the OS picks.

`smtplib` talks to it over a socket exactly as it would to a mail provider, so tests cover
the encoding of headers and bodies and how SMTP replies become delivery outcomes. Replies
can be scripted: a recipient refused (`refuse`, e.g. "550 5.1.1 User unknown"), or the next
DATA commands answered with a temporary failure (`fail_data("451 4.3.0 Try again")`).
"""

import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, Self

from aiosmtpd.controller import Controller

ACCEPTED = "250 2.0.0 OK"


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class _EphemeralController(Controller):
    """aiosmtpd's Controller, bound to port 0: the real port is read back once bound."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class _Handler:
    def __init__(self, server: "LocalSmtp") -> None:
        self.server = server

    async def handle_RCPT(
        self, _server: Any, _session: Any, envelope: Any, address: str, _options: Any
    ) -> str:
        refusal = self.server.refusals.get(address.lower())
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return ACCEPTED

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        with self.server.lock:
            self.server.data_commands += 1
            if self.server.data_failures:
                return self.server.data_failures.pop(0)
            self.server.received.append(
                Received(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.content))
            )
        return ACCEPTED


class LocalSmtp:
    """`with LocalSmtp() as smtp: SmtpConfig(host=smtp.host, port=smtp.port, …)`."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.refusals: dict[str, str] = {}
        self.data_failures: list[str] = []
        self.data_commands = 0
        self._controller = _EphemeralController(
            _Handler(self), hostname=self.host, port=0, server_hostname="smtp.test"
        )

    @property
    def port(self) -> int:
        return int(self._controller.port)

    def refuse(self, address: str, reply: str = "550 5.1.1 User unknown") -> None:
        self.refusals[address.lower()] = reply

    def fail_data(self, *replies: str) -> None:
        """Answer the next DATA commands with these replies (then accept again)."""
        with self.lock:
            self.data_failures.extend(replies)

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        with self.lock:
            received = list(self.received)
        return [r.message for r in received if to is None or to in r.rcpt_tos]

    def __enter__(self) -> Self:
        self._controller.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._controller.stop()
