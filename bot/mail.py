"""The e-mail fallback's bot half: the SMTP adapter from settings, the mail version of a card
(subject, why-this-mail intro, where to act), and the pass the scheduler runs.

Mail rows are ordinary outbox rows (platform "email"), so `deliver_outbox` sends them with
the others; `email_fallback` only decides what to queue (core/mail_fallback.py).
"""

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from adapters.chat import Card
from adapters.email import EmailChat, SmtpConfig
from bot.formats import canonical_locale, known, when
from bot.i18n import t
from bot.settings import EmailSettings
from core.mail_fallback import queue_red_alerts, queue_undelivered
from core.models import utcnow

if TYPE_CHECKING:
    from bot.app import App

Render = Callable[[dict[str, Any], str], Card]


def email_chat(settings: EmailSettings) -> EmailChat:
    """The SMTP adapter (settings are checked complete when `enabled` is loaded)."""
    password = settings.password.get_secret_value() if settings.password else ""
    return EmailChat(
        SmtpConfig(
            host=settings.host,
            port=settings.port,
            sender=settings.sender,
            username=settings.username,
            password=password,
            starttls=settings.starttls,
            use_ssl=settings.use_ssl,
            timeout=settings.timeout_seconds,
            local_hostname=settings.local_hostname,
        )
    )


def email_fallback(app: "App", now: datetime | None = None) -> int:
    """One pass (idempotent) in its own transaction: red alerts, and chat messages
    undelivered past the threshold, queued for e-mail. Returns the mails queued; 0 while
    e-mail is off."""
    with app.store.unit_of_work() as session:
        return email_fallback_step(app, session, now or utcnow())


def email_fallback_step(app: "App", session: Session, now: datetime) -> int:
    """The same pass in the caller's transaction: the shape of an `sla_watchdog` step."""
    settings = app.settings.email
    if not settings.enabled:
        return 0
    after = timedelta(minutes=settings.undelivered_after_minutes)
    return queue_red_alerts(session, now) + queue_undelivered(session, now, after)


def is_mail(data: Mapping[str, Any]) -> bool:
    return isinstance(data.get("mail"), Mapping)


def mail_card(data: Mapping[str, Any], locale: str, tz: ZoneInfo, render: Render) -> Card:
    """The card inside, rendered in the reader's own locale, as a mail: the subject tagged
    with why it came, an intro line, no buttons (a footer says where to act)."""
    meta: Mapping[str, Any] = data["mail"]
    loc = canonical_locale(str(meta.get("locale") or locale))
    inner = render({key: value for key, value in data.items() if key != "mail"}, loc)
    reason = str(meta.get("reason") or "")
    subject_key = f"mail.subject.{reason}"
    title = t(subject_key, loc, title=inner.title) if known(subject_key) else inner.title
    intro = _intro(reason, meta, loc, tz)
    footer = list(inner.footer)
    if inner.buttons:
        footer.append(t("mail.footer.act_in_chat", loc))
    footer.append(t("mail.footer.auto", loc))
    return replace(
        inner,
        title=title,
        text="\n\n".join(part for part in (intro, inner.text) if part),
        buttons=(),
        footer=tuple(footer),
    )


def _intro(reason: str, meta: Mapping[str, Any], loc: str, tz: ZoneInfo) -> str:
    key = f"mail.intro.{reason}"
    if not known(key):
        return ""
    platform = str(meta.get("platform") or "")
    status_key = f"mail.status.{meta.get('status')}"
    platform_key = f"mail.platform.{platform}"
    return t(
        key,
        loc,
        since=when(meta.get("since"), loc, tz),
        platform=t(platform_key, loc) if known(platform_key) else platform,
        target=str(meta.get("target") or ""),
        status=t(status_key, loc) if known(status_key) else str(meta.get("status") or ""),
    )
