"""X-Replenish-Signature: `sha256=<hex HMAC-SHA256 of the raw body>`, one scheme both ways.

The ingest endpoint checks it on what is pushed in (adapters/ingest.py); the PO webhook
signs what it posts out (adapters/webhook.py). A receiver recomputes the HMAC over the
exact bytes it received, before parsing them, and compares in constant time.
"""

import hashlib
import hmac

SIGNATURE_HEADER = "X-Replenish-Signature"


def signature(secret: bytes, body: bytes) -> str:
    """The X-Replenish-Signature value for `body`: `sha256=<hex HMAC-SHA256>`."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, header: str, body: bytes) -> bool:
    """Whether `header` is `body`'s signature under `secret` (compared in constant time)."""
    return hmac.compare_digest(header.strip().encode(), signature(secret, body).encode())
