"""feeds.toml: how another shop platform's order webhooks read, so a new platform needs
configuration, not code. Each `[sources.<name>]` serves POST /webhooks/<name>.

Paths are dotted keys into the JSON body; `[]` walks every element of an array
(`data.items[]`). `lines` finds the order's lines; the `[sources.<name>.line]` paths are
read inside each line; the others from the top of the body. Without `event` or
`event_header`, every delivery is the order as it is now; with one, `events` maps its
values to "order", "cancel", "refund" (quantities taken back) or "ignore" (an unlisted
value is ignored too). A bad file is refused at startup, naming the file, source and key.
"""

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from adapters.ingest import IngestRefused
from adapters.shop_webhooks import Signature
from core.shop_events import SOURCE_MAX, EventKind, OrderEvent, OrderLine

_SEGMENT = r"[A-Za-z0-9_\-]+(?:\[\])?"
_PATH = re.compile(rf"{_SEGMENT}(?:\.{_SEGMENT})*")
_HEADER = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")
RESERVED = ("shopify",)  # served by code (adapters/shopify.py)


class MappingError(ValueError):
    """A feeds.toml that cannot be used; the message names the file, source and key."""


def _path(value: str) -> str:
    if not _PATH.fullmatch(value):
        raise ValueError(f"{value!r} is not a dotted path such as order.items[].sku")
    return value


def _scalar(value: str) -> str:
    if "[]" in _path(value):
        raise ValueError(f"{value!r} must name one value: no []")
    return value


def _array(value: str) -> str:
    if "[]" not in _path(value):
        raise ValueError(f"{value!r} must walk an array: add [] (e.g. order.items[])")
    return value


def _header(value: str) -> str:
    if not _HEADER.fullmatch(value):
        raise ValueError(f"{value!r} is not an HTTP header name")
    return value.lower()


ScalarPath = Annotated[str, AfterValidator(_scalar)]
ArrayPath = Annotated[str, AfterValidator(_array)]
Header = Annotated[str, AfterValidator(_header)]
SourceName = Annotated[str, Field(pattern=rf"^[a-z0-9][a-z0-9_-]{{0,{SOURCE_MAX - 1}}}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SignatureSpec(_Strict):
    header: Header
    encoding: Literal["hex", "base64"] = "hex"
    prefix: str = ""  # written before the digest, e.g. "sha256="
    secret_env: str | None = None  # else feeds.webhook_secrets.<source>


class LineSpec(_Strict):
    """Paths inside each line."""

    sku: ScalarPath
    quantity: ScalarPath
    id: ScalarPath | None = None  # else lines are told apart by position
    price: ScalarPath | None = None
    location: ScalarPath | None = None  # our location codes; else the default location


class SourceSpec(_Strict):
    signature: SignatureSpec
    lines: ArrayPath
    order_id: ScalarPath
    ordered_at: ScalarPath
    line: LineSpec
    cancelled_at: ScalarPath | None = None  # set (not empty, false or 0): the order is cancelled
    refund_id: ScalarPath | None = None  # needed when an event is "refund"
    event: ScalarPath | None = None
    event_header: Header | None = None
    events: dict[str, Literal["order", "cancel", "refund", "ignore"]] = Field(default_factory=dict)
    id_header: Header = "idempotency-key"  # the delivery id: a redelivery is applied once

    @model_validator(mode="after")
    def _events_complete(self) -> "SourceSpec":
        if self.event is not None and self.event_header is not None:
            raise ValueError("give event or event_header, not both")
        if self.events and self.event is None and self.event_header is None:
            raise ValueError("events needs event (a path) or event_header")
        if "refund" in self.events.values() and self.refund_id is None:
            raise ValueError("refund_id (a path) is required: an event maps to refund")
        return self


class MappingFile(_Strict):
    sources: dict[SourceName, SourceSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _not_reserved(self) -> "MappingFile":
        taken = sorted(set(self.sources) & set(RESERVED))
        if taken:
            raise ValueError(f"source {taken[0]!r} is built in; name yours differently")
        return self


def load_mapping(path: Path) -> dict[str, SourceSpec]:
    """The file's sources, or a MappingError naming the file, the source and the key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise MappingError(f"{path}: cannot be read ({error.strerror or error})") from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise MappingError(f"{path}: not valid TOML ({error})") from error
    try:
        return dict(MappingFile.model_validate(data).sources)
    except ValidationError as error:
        raise MappingError(f"{path}: " + "; ".join(_where(e) for e in error.errors())) from error


def _where(error: Any) -> str:
    loc = [str(part) for part in error["loc"]]
    message = str(error["msg"]).removeprefix("Value error, ")
    if len(loc) >= 2 and loc[0] == "sources":
        if loc[2:] == ["[key]"]:  # the source's name itself
            return f"source {loc[1]!r}, its name: {message}"
        key = ".".join(loc[2:])
        return (
            f"source {loc[1]!r}, key {key!r}: {message}" if key else f"source {loc[1]!r}: {message}"
        )
    return f"key {'.'.join(loc) or '(top level)'!r}: {message}"


def signatures(
    path: Path,
    sources: Mapping[str, SourceSpec],
    given: Mapping[str, str],
    environ: Mapping[str, str] = os.environ,
) -> dict[str, Signature]:
    """Each source's signature check, its secret from `given` (feeds.webhook_secrets) or
    the environment variable its `secret_env` names."""
    found: dict[str, Signature] = {}
    for name, spec in sources.items():
        sig = spec.signature
        secret = given.get(name) or (environ.get(sig.secret_env, "") if sig.secret_env else "")
        if not secret:
            where = (
                f"environment variable {sig.secret_env} is empty or not set"
                if sig.secret_env
                else "no secret_env"
            )
            raise MappingError(
                f"{path}: source {name!r}, key 'signature.secret_env': {where}"
                f" (or set feeds.webhook_secrets.{name})"
            )
        found[name] = Signature(sig.header, secret.encode(), sig.encoding, sig.prefix)
    return found


# --- reading a payload --------------------------------------------------------------------


def values_at(document: Any, path: str) -> list[Any]:
    """Every value the path reaches; `[]` walks an array's elements."""
    current = [document]
    for segment in path.split("."):
        name, many = segment.removesuffix("[]"), segment.endswith("[]")
        reached = [item[name] for item in current if isinstance(item, dict) and name in item]
        if many:
            reached = [value for array in reached if isinstance(array, list) for value in array]
        current = reached
    return current


def text_at(document: Any, path: str | None) -> str:
    """The one value a path names, as text; "" when absent, null or not a scalar."""
    found = values_at(document, path) if path else []
    value = found[0] if found else None
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def order_event(
    name: str, spec: SourceSpec, payload: Any, headers: Mapping[str, str]
) -> OrderEvent | None:
    """The event a delivery carries, or None when its event is to be ignored."""
    kind = _kind(spec, payload, headers)
    if kind is None:
        return None
    order_id = _required(payload, spec.order_id, "order_id")
    if kind is EventKind.ORDER and text_at(payload, spec.cancelled_at).lower() not in (
        "",
        "false",
        "0",
    ):
        kind = EventKind.CANCEL
    refund_id = _required(payload, spec.refund_id, "refund_id") if kind is EventKind.REFUND else ""
    lines = tuple(_line(spec.line, item, kind) for item in values_at(payload, spec.lines))
    ordered_at = text_at(payload, spec.ordered_at)
    return OrderEvent(name, kind, order_id, ordered_at, lines, refund_id)


def _kind(spec: SourceSpec, payload: Any, headers: Mapping[str, str]) -> EventKind | None:
    if spec.event is None and spec.event_header is None:
        return EventKind.ORDER
    value = text_at(payload, spec.event) if spec.event else headers.get(spec.event_header or "", "")
    meant = spec.events.get(value.strip(), "ignore")
    return None if meant == "ignore" else EventKind(meant)


def _line(spec: LineSpec, item: Any, kind: EventKind) -> OrderLine:
    qty = text_at(item, spec.quantity)
    if kind is EventKind.REFUND:  # some platforms write what comes back as negative
        qty = qty.removeprefix("-")
    return OrderLine(
        line_id=text_at(item, spec.id),
        sku=text_at(item, spec.sku),
        qty=qty,
        price=text_at(item, spec.price),
        location=text_at(item, spec.location),
    )


def _required(payload: Any, path: str | None, key: str) -> str:
    value = text_at(payload, path)
    if not value:
        raise IngestRefused(400, "bad_payload", f"no {key} at {path!r} in the payload")
    return value
