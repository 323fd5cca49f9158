"""feeds.toml (adapters/shop_mapping.py): paths, the events a delivery carries, and a bad
file refused at start with its file, source and key named; Shopify's topics
(adapters/shopify.py); signatures in hex and base64."""

import json
from pathlib import Path
from typing import Any

import pydantic
import pytest

from adapters import shopify
from adapters.ingest import IngestRefused
from adapters.shop_mapping import (
    MappingError,
    load_mapping,
    order_event,
    signatures,
    text_at,
    values_at,
)
from adapters.shop_webhooks import Signature
from bot.settings import FeedsSettings
from core.shop_events import EventKind

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EXAMPLE = FIXTURES / "shop_mapping" / "feeds.toml"

DOC = {
    "data": {
        "no": 7,
        "paid": True,
        "items": [{"sku": "A", "qty": 2.0}, {"sku": "B", "qty": 1}, "junk"],
        "parcels": [{"items": [{"sku": "C"}]}, {"items": [{"sku": "D"}]}],
    }
}


@pytest.mark.parametrize(
    ("path", "found"),
    [
        ("data.no", [7]),
        ("data.items[]", [{"sku": "A", "qty": 2.0}, {"sku": "B", "qty": 1}, "junk"]),
        ("data.items[].sku", ["A", "B"]),
        ("data.parcels[].items[].sku", ["C", "D"]),
        ("data.missing[]", []),
        ("data.no[]", []),  # not an array
    ],
)
def test_values_at_walks_dotted_paths_and_arrays(path: str, found: list[Any]) -> None:
    assert values_at(DOC, path) == found


def test_text_at_gives_scalars_as_text() -> None:
    assert [text_at(DOC, p) for p in ("data.no", "data.paid", "data.items[].qty", "data")] == [
        "7",
        "true",
        "2",
        "",  # an object is no value
    ]
    assert text_at(DOC, None) == ""


def test_example_mapping_loads() -> None:
    [(name, spec)] = load_mapping(EXAMPLE).items()
    assert (name, spec.lines, spec.line.sku, spec.id_header) == (
        "tgshop",
        "data.items[]",
        "sku",
        "x-shop-delivery-id",
    )


def _mapping(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.toml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = EXAMPLE.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (('sku = "sku"', ""), ["'tgshop'", "'line.sku'", "Field required"]),
        (('lines = "data.items[]"', 'lines = "data.items"'), ["'tgshop'", "'lines'", "[]"]),
        (('order_id = "data.order_no"', 'order_id = "data.items[].no"'), ["'order_id'", "no []"]),
        (('encoding = "hex"', 'encoding = "base32"'), ["'signature.encoding'", "hex"]),
        (
            ('"order.returned" = "refund"', '"order.returned" = "refnud"'),
            ["'events.order.returned'"],
        ),
        (('refund_id = "data.return_no"\n', ""), ["'tgshop'", "refund_id"]),
        (
            ("[sources.tgshop]", "[sources.tgshop]\nlimit = 3"),
            ["'tgshop'", "'limit'", "not permitted"],
        ),
        (("sources.tgshop", 'sources."Shop Two"'), ["source 'Shop Two', its name", "pattern"]),
        (("sources.tgshop", "sources.shopify"), ["'shopify' is built in"]),
        (('header = "X-Shop-Signature"', 'header = "X Shop"'), ["'signature.header'"]),
        (('ordered_at = "data.created_at"', 'ordered_at = "data..created_at"'), ["'ordered_at'"]),
    ],
)
def test_bad_mapping_names_file_source_and_key(
    tmp_path: Path, change: tuple[str, str], named: list[str]
) -> None:
    old, new = change
    assert old in GOOD
    path = _mapping(tmp_path, GOOD.replace(old, new))
    with pytest.raises(MappingError) as caught:
        load_mapping(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    for part in named:
        assert part in message


@pytest.mark.parametrize(
    ("text", "says"),
    [("[sources.x\n", "not valid TOML"), ("", "'sources'"), ("[sources]\n", "at least 1")],
)
def test_unreadable_or_empty_mapping(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(MappingError, match=says):
        load_mapping(_mapping(tmp_path, text))
    with pytest.raises(MappingError, match="cannot be read"):
        load_mapping(tmp_path / "nowhere.toml")


def test_settings_refuse_a_bad_mapping_at_start(tmp_path: Path) -> None:
    path = _mapping(tmp_path, GOOD.replace('quantity = "qty"', 'quantity = "qty[]"'))
    with pytest.raises(pydantic.ValidationError) as caught:
        FeedsSettings(mapping_file=path, webhook_secrets={"tgshop": "s"})
    text = str(caught.value)
    for part in (str(path), "'tgshop'", "'line.quantity'"):
        assert part in text


def test_missing_secret_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TGSHOP_WEBHOOK_SECRET", raising=False)
    with pytest.raises(pydantic.ValidationError, match="TGSHOP_WEBHOOK_SECRET"):
        FeedsSettings(mapping_file=EXAMPLE)
    found = signatures(EXAMPLE, load_mapping(EXAMPLE), {}, {"TGSHOP_WEBHOOK_SECRET": "abc"})
    assert found["tgshop"] == Signature("x-shop-signature", b"abc", "hex", "sha256=")


def _payload(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "shop_mapping" / name).read_text(encoding="utf-8"))


def test_mapped_events() -> None:
    spec = load_mapping(EXAMPLE)["tgshop"]
    created = order_event("tgshop", spec, _payload("order_created.json"), {})
    assert created is not None
    assert (created.kind, created.order_id, created.ordered_at) == (
        EventKind.ORDER,
        "TG2611210001",
        "2026-11-21 09:58:00",
    )
    assert [(li.line_id, li.sku, li.qty, li.price, li.location) for li in created.lines] == [
        ("1", "MILK", "2", "89", "WH"),
        ("2", "TEA", "1", "35", "DS"),
    ]
    returned = order_event("tgshop", spec, _payload("order_returned.json"), {})
    assert returned is not None
    assert (returned.kind, returned.refund_id, returned.lines[0].qty) == (
        EventKind.REFUND,
        "RT2611240003",
        "1",
    )
    cancelled = {**_payload("order_created.json"), "event": "order.updated"}
    cancelled["data"] = {**cancelled["data"], "cancelled_at": "2026-11-22 08:00:00"}
    assert order_event("tgshop", spec, cancelled, {}).kind is EventKind.CANCEL  # type: ignore[union-attr]
    assert order_event("tgshop", spec, {"event": "member.created"}, {}) is None
    with pytest.raises(IngestRefused, match="order_id"):
        order_event("tgshop", spec, {"event": "order.created", "data": {}}, {})


def _shopify_payload(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "shopify" / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("topic", "fixture", "kind"),
    [
        ("orders/create", "orders_create.json", EventKind.ORDER),
        ("orders/updated", "orders_updated.json", EventKind.ORDER),
        ("orders/updated", "orders_cancelled.json", EventKind.CANCEL),
        ("orders/cancelled", "orders_cancelled.json", EventKind.CANCEL),
        ("refunds/create", "refunds_create.json", EventKind.REFUND),
    ],
)
def test_shopify_topics(topic: str, fixture: str, kind: EventKind) -> None:
    event = shopify.order_event(_shopify_payload(fixture), {"x-shopify-topic": topic})
    assert event is not None
    assert (event.source, event.kind, event.order_id) == ("shopify", kind, "820982911946154508")


def test_shopify_lines_and_refund_lines() -> None:
    order = shopify.order_event(
        _shopify_payload("orders_create.json"), {"x-shopify-topic": "orders/create"}
    )
    assert order is not None
    assert order.ordered_at == "2026-11-20T23:30:00-05:00"
    assert (
        order.lines[0].line_id,
        order.lines[0].sku,
        order.lines[0].qty,
        order.lines[0].price,
    ) == (
        "866550311766439020",
        "MILK",
        "2",
        "89.00",
    )
    refund = shopify.order_event(
        _shopify_payload("refunds_create.json"), {"x-shopify-topic": "refunds/create"}
    )
    assert refund is not None
    assert refund.refund_id == "929361464"
    assert [(li.line_id, li.sku, li.qty) for li in refund.lines] == [("1058498311", "MILK", "1")]
    assert shopify.order_event({}, {"x-shopify-topic": "app/uninstalled"}) is None


def test_signatures_in_hex_and_base64() -> None:
    body = b'{"id": 1}'
    hexed = Signature("x-sig", b"k", "hex", "sha256=")
    based = shopify.signature(b"k")
    for check in (hexed, based):
        header = check.header.lower()
        assert check.verify({header: check.sign(body)}, body)
        assert not check.verify({header: check.sign(body)}, body + b" ")
        assert not check.verify({}, body)
    assert hexed.verify({"x-sig": hexed.sign(body).upper().replace("SHA256=", "sha256=")}, body)
    assert not based.verify({based.header: based.sign(body).lower()}, body)


@pytest.mark.parametrize("readme", ["README.md", "README.zh-TW.md"])
def test_readme_example_mapping_is_valid(readme: str, tmp_path: Path) -> None:
    text = (FIXTURES.parents[1] / readme).read_text(encoding="utf-8")
    start = text.index("```toml\n[sources.tgshop]") + len("```toml\n")
    example = text[start : text.index("```", start)]
    spec = load_mapping(_mapping(tmp_path, example))["tgshop"]
    assert spec == load_mapping(EXAMPLE)["tgshop"]
