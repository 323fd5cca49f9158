"""Shopify's order webhooks → neutral order events (core/shop_events.py).

By topic (X-Shopify-Topic), on the REST Order and Refund shapes Shopify posts:
- orders/create, orders/updated: the order's `line_items` as they are now; an order with
  `cancelled_at` set is its cancellation. orders/cancelled: the cancellation.
- refunds/create: the refund's `refund_line_items` (each with its `line_item`).
- anything else: None, answered 200 and ignored (Shopify retries every non-2xx).
A line's quantity is `quantity`, the units ordered: refunds arrive as their own events,
so `current_quantity` (already net of refunds) would count them twice. Its price is
`price`, the unit price in the shop's currency. Shopify's location ids are not our
location codes, so every line counts at the default location.
"""

from collections.abc import Mapping
from typing import Any

from adapters.ingest import IngestRefused
from adapters.shop_webhooks import Signature
from core.shop_events import EventKind, OrderEvent, OrderLine

SOURCE = "shopify"
SIGNATURE_HEADER = "x-shopify-hmac-sha256"
TOPIC_HEADER = "x-shopify-topic"
WEBHOOK_ID_HEADER = "x-shopify-webhook-id"  # the same on every retry of one delivery
ORDER_TOPICS = ("orders/create", "orders/updated")


def signature(secret: bytes) -> Signature:
    """base64(HMAC-SHA256(raw body, secret)) in X-Shopify-Hmac-Sha256."""
    return Signature(SIGNATURE_HEADER, secret, "base64")


def order_event(payload: Any, headers: Mapping[str, str]) -> OrderEvent | None:
    topic = headers.get(TOPIC_HEADER, "").strip().lower()
    if topic not in (*ORDER_TOPICS, "orders/cancelled", "refunds/create"):
        return None
    if not isinstance(payload, dict):
        raise _unusable(f"{topic}: expected a JSON object")
    if topic == "refunds/create":
        return _refund(payload)
    order_id = _required(payload, "id", topic)
    if topic == "orders/cancelled" or payload.get("cancelled_at"):
        return OrderEvent(SOURCE, EventKind.CANCEL, order_id)
    items = payload.get("line_items") or []
    lines = tuple(_line(str(item.get("id", "")), item) for item in _objects(items))
    ordered_at = _text(payload.get("created_at"))
    return OrderEvent(SOURCE, EventKind.ORDER, order_id, ordered_at, lines)


def _refund(payload: dict[str, Any]) -> OrderEvent:
    order_id = _required(payload, "order_id", "refunds/create")
    refund_id = _required(payload, "id", "refunds/create")
    lines = []
    for refunded in _objects(payload.get("refund_line_items") or []):
        item = refunded.get("line_item")
        item = item if isinstance(item, dict) else {}
        line_id = _text(refunded.get("id") or refunded.get("line_item_id"))
        lines.append(_line(line_id, {**item, "quantity": refunded.get("quantity")}))
    return OrderEvent(SOURCE, EventKind.REFUND, order_id, lines=tuple(lines), refund_id=refund_id)


def _line(line_id: str, item: Mapping[str, Any]) -> OrderLine:
    return OrderLine(
        line_id=line_id,
        sku=_text(item.get("sku")),
        qty=_text(item.get("quantity")),
        price=_text(item.get("price")),
    )


def _objects(items: Any) -> list[dict[str, Any]]:
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _required(payload: Mapping[str, Any], name: str, topic: str) -> str:
    value = _text(payload.get(name))
    if not value:
        raise _unusable(f"{topic}: no {name!r} in the payload")
    return value


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, (dict, list)) else str(value).strip()


def _unusable(message: str) -> IngestRefused:
    return IngestRefused(400, "bad_payload", message)
