"""`export.*` settings: purchase orders out to the shop's ERP/WMS (the PO webhook).

Kept beside bot/settings.py (which includes it as `Settings.export`) so that module stays
small; nothing here is read at import time.
"""

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

MIN_SECRET = 16  # characters: a short shared secret is guessable from signed bodies


class ExportSettings(BaseModel):
    """Purchase orders for the ERP/WMS. The PO webhook is off while `po_webhook_url` is
    unset; set, it needs a secret to sign with (a receiver must be able to check)."""

    po_webhook_url: str | None = Field(
        None,
        description="POST each finally approved PO's JSON (the `po export --format json` "
        "document) here, through the outbox, retried until the receiver answers 2xx. Unset: "
        "off.",
    )
    po_webhook_secret: SecretStr | None = Field(
        None,
        description="The HMAC-SHA256 key of the X-Replenish-Signature header (at least 16 "
        "characters); required with `po_webhook_url`.",
    )
    po_webhook_timeout_seconds: float = Field(
        10.0,
        gt=0,
        le=60,  # a dispatch round waits on each post: it must end well inside its lease
        description="Seconds to wait for the PO webhook to answer.",
    )

    @field_validator("po_webhook_url")
    @classmethod
    def _empty_is_off(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @model_validator(mode="after")
    def _signed_when_on(self) -> "ExportSettings":
        if self.po_webhook_url is None:
            return self
        if not self.po_webhook_url.startswith(("http://", "https://")):
            raise ValueError("export.po_webhook_url: not an http(s) URL")  # not echoed: tokens
        secret = self.po_webhook_secret.get_secret_value() if self.po_webhook_secret else ""
        if len(secret) < MIN_SECRET:
            raise ValueError(
                "export.po_webhook_url needs export.po_webhook_secret "
                f"(REPLENISH_EXPORT__PO_WEBHOOK_SECRET), at least {MIN_SECRET} characters"
            )
        return self
