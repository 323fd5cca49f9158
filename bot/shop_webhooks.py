"""The bot's side of POST /webhooks/{source} (adapters/shop_webhooks.py): Shopify when
`feeds.shopify_secret` is set, and every source of `feeds.mapping_file` (feeds.toml).

A verified delivery becomes one order event (adapters/shopify.py, adapters/shop_mapping.py),
applied by core/shop_orders.apply_order_event in one transaction. The platform's delivery
id (X-Shopify-Webhook-Id, or the mapping's `id_header`) is recorded as an InboxEvent
(platform "shop_webhook") in that same transaction, so a redelivery is applied once and gets the
first answer again. The SKUs whose demand changed are asked to be re-planned
(core/replan.py) in that same transaction too, so the request is never lost.
"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from adapters import shopify
from adapters.shop_mapping import load_mapping, order_event, signatures
from adapters.shop_webhooks import Signature, WebhookEndpoint, WebhookHandler
from bot.feeds import event_key, request_replan_codes
from bot.i18n import problem_text
from core.inbox import run_once
from core.shop_events import OrderEvent, OrderResult
from core.shop_orders import apply_order_event

if TYPE_CHECKING:  # bot.app mounts the endpoint
    from bot.app import App
    from bot.settings import FeedsSettings

PLATFORM = "shop_webhook"  # InboxEvent.platform of shop deliveries
log = logging.getLogger(__name__)
Translate = Callable[[Any, Mapping[str, str]], OrderEvent | None]


@dataclass(frozen=True)
class Source:
    signature: Signature
    translate: Translate  # payload, headers → the event, or None to ignore it
    id_header: str  # the delivery id that makes a redelivery a repeat


def webhook_endpoint(app: "App") -> WebhookEndpoint | None:
    """The endpoint, when Shopify's secret or a mapping file is set."""
    sources = webhook_sources(app.settings.feeds)
    if not sources:
        return None
    return WebhookEndpoint(
        webhook_handler(app, sources),
        signatures={name: source.signature for name, source in sources.items()},
        max_body_bytes=app.settings.feeds.max_body_bytes,
    )


def webhook_sources(feeds: "FeedsSettings") -> dict[str, Source]:
    sources: dict[str, Source] = {}
    if feeds.shopify_secret is not None:
        secret = feeds.shopify_secret.get_secret_value().encode()
        sources[shopify.SOURCE] = Source(
            shopify.signature(secret), shopify.order_event, shopify.WEBHOOK_ID_HEADER
        )
    if feeds.mapping_file is not None:
        specs = load_mapping(feeds.mapping_file)
        checks = signatures(feeds.mapping_file, specs, feeds.webhook_secret_values())
        for name, spec in specs.items():
            translate = partial(order_event, name, spec)
            sources[name] = Source(checks[name], translate, spec.id_header)
    return sources


def webhook_handler(app: "App", sources: Mapping[str, Source]) -> WebhookHandler:
    def handle(source: str, payload: Any, headers: Mapping[str, str]) -> dict[str, Any]:
        which = sources[source]
        event = which.translate(payload, headers)
        if event is None:  # a topic or event we do not use: 200, or the shop retries it
            log.info("webhook %s: delivery ignored (not an order event we use)", source)
            return {"ok": True, "source": source, "ignored": True}
        delivery = headers.get(which.id_header, "").strip()
        answer, applied = apply_event(app, event, delivery)
        if applied:
            _log_problems(answer)
        return answer

    return handle


def apply_event(app: "App", event: OrderEvent, delivery: str) -> tuple[dict[str, Any], bool]:
    """The answer, and whether it was applied now (False: a redelivery, answered again)."""
    applied = False

    def action(session: Session) -> dict[str, Any]:
        nonlocal applied
        applied = True
        settings = app.settings
        result = apply_order_event(
            session, event, tz=settings.tz, default_location=settings.default_location
        )
        request_replan_codes(session, result.affected_skus)
        return answer(event, result)

    if not delivery:  # the events themselves replace what they touch: a repeat is harmless
        with app.store.unit_of_work() as session:
            return action(session), True
    return run_once(app.store, PLATFORM, event_key(event.source, delivery), action), applied


def answer(event: OrderEvent, result: OrderResult) -> dict[str, Any]:
    """What was stored and removed, the SKUs to re-plan, and each refused line (English)."""
    return {
        "ok": not result.rejected and not result.unmatched,
        "source": event.source,
        "event": str(event.kind),
        "order_id": event.order_id,
        "stored": result.stored,
        "removed": result.removed,
        "affected_skus": result.affected_skus,
        "rejected": [
            {
                "line_id": line.line_id,
                "sku": line.sku,
                "code": line.problem.code,
                "field": line.problem.field,
                "problem": problem_text(line.problem, "en"),
            }
            for line in result.rejected
        ],
        "unmatched": [{"line_id": u.line_id, "sku": u.sku, "qty": u.qty} for u in result.unmatched],
    }


def _log_problems(answer: dict[str, Any]) -> None:
    where = f"webhook {answer['source']} {answer['event']} of order {answer['order_id']}"
    for line in answer["rejected"]:
        log.warning(
            "%s: line %s (SKU %r) refused: %s", where, line["line_id"], line["sku"], line["problem"]
        )
    for line in answer["unmatched"]:
        log.warning("%s: %s × %s refunded but not in the order", where, line["qty"], line["sku"])
