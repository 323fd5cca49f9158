"""The PO webhook's bot half: `export.*` settings → what the approval rules carry (queue the
approved PO, in the shop's time zone) and the signed HTTP sender the outbox delivers with.

Off while `export.po_webhook_url` is unset: no rows are queued and no sender is built. The
storage half is core/po_webhook.py, the HTTP half adapters/webhook.py.
"""

from adapters.webhook import WebhookConfig, WebhookSender
from bot.settings import Settings
from core.po_webhook import PoWebhook


def po_webhook(settings: Settings) -> PoWebhook | None:
    """What a final approval needs to queue the PO for the ERP; None while it is off."""
    return PoWebhook(settings.tz) if settings.export.po_webhook_url else None


def webhook_sender(settings: Settings) -> WebhookSender | None:
    """The signed POST to `export.po_webhook_url` (a secret is checked present on load)."""
    export = settings.export
    if not export.po_webhook_url or export.po_webhook_secret is None:
        return None
    return WebhookSender(
        WebhookConfig(
            url=export.po_webhook_url,
            secret=export.po_webhook_secret.get_secret_value().encode(),
            timeout=export.po_webhook_timeout_seconds,
        )
    )
