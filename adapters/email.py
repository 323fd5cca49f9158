"""E-mail as one more outbox platform ("email"; the target is an address), sent with smtplib.

`EmailChat` is a `ChatAdapter`: the outbox hands it cards as it hands them to Slack, so
mail inherits at-least-once delivery, dedupe keys and retries. One SMTP connection per
message, with a timeout on every socket operation; STARTTLS (port 587) or implicit TLS
(`use_ssl`, port 465) with certificate checks. A server that does not offer STARTTLS when it
is asked for is an error (retried), never a reason to send in clear.

Outcomes as the dispatcher reads them: a 4xx reply, a refused login, an unreachable server →
`DeliveryError` (retried with backoff); 5xx for the recipient or the message itself (user
unknown, message rejected) → permanent (the outbox row ends `failed`, kept for an operator).
A mail cannot be edited: `update` sends a new mail, threaded under the earlier one.
"""

import re
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr

from adapters.chat import Card, DeliveryError, MessageRef
from adapters.email_render import compose
from core.members import MAX_EMAIL, is_email_address

PLATFORM = "email"
_REASON_TEXT = 300


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    sender: str  # the From header: `bot@shop.tw` or `補貨小幫手 <bot@shop.tw>`
    port: int = 587
    username: str = ""
    password: str = ""
    starttls: bool = True
    use_ssl: bool = False
    timeout: float = 30.0  # seconds, per socket operation
    local_hostname: str | None = None  # the EHLO name; None: this machine's FQDN
    ssl_context: ssl.SSLContext | None = None  # None: the system's CAs, hostname checked


class EmailChat:
    """Cards out by mail. `post(address, card)` → the mail's Message-ID as the ref."""

    platform = PLATFORM

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def post(self, target: str, card: Card) -> MessageRef:
        return self._send(target, card, in_reply_to=None)

    def update(self, ref: MessageRef, card: Card) -> MessageRef:
        """Mail cannot be edited: the new state goes out as a new mail, a reply to the
        earlier one (In-Reply-To), and the returned ref is the new mail's."""
        return self._send(ref.channel, card, in_reply_to=ref.ts or None)

    def _send(self, address: str, card: Card, *, in_reply_to: str | None) -> MessageRef:
        if not is_email_address(address):
            raise DeliveryError(f"not an e-mail address: {address[:MAX_EMAIL]!r}", permanent=True)
        envelope_from = parseaddr(self.config.sender)[1]
        message_id = _message_id(envelope_from)
        message = compose(
            card,
            sender=self.config.sender,
            to=address,
            message_id=message_id,
            in_reply_to=in_reply_to,
        )
        self._transmit(message, envelope_from, address)
        return MessageRef(address, message_id)

    def _transmit(self, message: EmailMessage, envelope_from: str, address: str) -> None:
        try:
            with self._connect() as smtp:
                smtp.send_message(message, from_addr=envelope_from, to_addrs=[address])
        except smtplib.SMTPRecipientsRefused as error:
            code, text = error.recipients.get(address, (0, b""))
            raise _refusal("recipient refused", code, text, final=True) from error
        except smtplib.SMTPDataError as error:  # the message itself: too big, spam, policy
            refused = _refusal("message refused", error.smtp_code, error.smtp_error, final=True)
            raise refused from error
        except smtplib.SMTPResponseException as error:  # sender, login, greeting: our setup
            raise _refusal("mail server refused", error.smtp_code, error.smtp_error) from error
        except (smtplib.SMTPException, OSError) as error:  # unreachable, timeout, no STARTTLS
            raise DeliveryError(f"mail server: {type(error).__name__}: {error}"[:500]) from error

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        context = config.ssl_context or ssl.create_default_context()
        if config.use_ssl:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                config.host,
                config.port,
                local_hostname=config.local_hostname,
                timeout=config.timeout,
                context=context,
            )
        else:
            smtp = smtplib.SMTP(
                config.host,
                config.port,
                local_hostname=config.local_hostname,
                timeout=config.timeout,
            )
        try:
            if config.starttls and not config.use_ssl:
                smtp.starttls(context=context)  # not offered → SMTPNotSupportedError
            if config.username:
                smtp.login(config.username, config.password)
        except BaseException:
            smtp.close()
            raise
        return smtp


def _refusal(what: str, code: int, text: bytes | str, *, final: bool = False) -> DeliveryError:
    """4xx: try again later. 5xx: permanent when `final` (about this recipient or message),
    else a setup problem an operator fixes, so the message waits rather than fails.

    The reason names the reply class (`5xx`), not the bare code: the dispatcher reads a bare
    5xx in a reason as an HTTP server error and would retry a refused recipient forever."""
    permanent = final and 500 <= code < 600
    detail = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    detail = re.sub(r"\s+", " ", detail).strip()[:_REASON_TEXT]
    kind = f"{code // 100}xx" if code else "no reply code"
    suffix = "" if permanent else f" ({code})"
    return DeliveryError(f"SMTP {what} [{kind}]{suffix}: {detail}", permanent=permanent)


def _message_id(sender: str) -> str:
    """Short and unique: the outbox stores `address|message-id` in 200 characters."""
    domain = sender.rpartition("@")[2][:60] or "replenish.local"
    return f"<{uuid.uuid4().hex}@{domain}>"
