"""The supplier's PO document in the chats: the outbox row core queues when a PO is sent
(`type` po_document, `core.supplier_flow.queue_document`), rendered here as a PDF in the
language the supplier's people read, and `/replenish po <number> pdf|png`, with which a
supplier gets it again — for its own POs only (`core.supplier_flow.require_own_po`)."""

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from adapters.chat import Card
from bot.formats import canonical_locale
from bot.po_document import Letterhead, po_document_card
from bot.settings import Settings
from bot.supplier_cards import order_of
from core.models import Location, Member, Supplier
from core.store import Store

# `po <number> <word>`: the words that ask for the document, and which format each means.
FORMAT_WORDS = {"pdf": "pdf", "檔案": "pdf", "文件": "pdf", "png": "png", "圖片": "png"}


def letterhead(settings: Settings, store: Store) -> Letterhead:
    """The shop's letterhead from `shop.*`; deliveries go to `shop.deliver_to`, else to the
    default location by its name (a bare code means nothing to a supplier)."""
    shop = settings.shop
    deliver_to = shop.deliver_to
    if not deliver_to:
        with store.read() as session:
            query = select(Location.name).where(Location.code == settings.default_location)
            deliver_to = session.scalars(query).first() or ""
    return Letterhead(
        name=shop.name,
        address=shop.address,
        phone=shop.phone,
        deliver_to=deliver_to,
        notes=shop.po_notes,
    )


def supplier_locale(store: Store, supplier_code: object, default: str) -> str:
    """The language most of the supplier's active members read; `default` when it has none
    (or they are split evenly and `default` is one of the languages)."""
    with store.read() as session:
        locales = session.scalars(
            select(Member.locale)
            .join(Supplier, col(Supplier.id) == col(Member.supplier_id))
            .where(Supplier.code == str(supplier_code), col(Member.active).is_(True))
        ).all()
    counts = Counter(canonical_locale(locale) for locale in locales)
    if not counts:
        return default
    best = max(counts.values())
    leaders = sorted(locale for locale, n in counts.items() if n == best)
    return default if default in leaders else leaders[0]


class Application(Protocol):  # bot.app.App, which imports this module
    @property
    def settings(self) -> Settings: ...

    @property
    def store(self) -> Store: ...


def document_renderer(app: Application) -> Callable[[dict[str, Any], str, ZoneInfo], Card]:
    """The outbox's builder for `po_document` rows: the PDF in the supplier's language (the
    dispatcher's `locale` when the supplier has no members yet)."""

    def render(data: dict[str, Any], locale: str, tz: ZoneInfo) -> Card:
        supplier = order_of(data).get("supplier")
        reader = supplier_locale(app.store, supplier, canonical_locale(locale))
        return po_document_card(data, reader, tz, letterhead(app.settings, app.store))

    return render


def document_card(
    data: Mapping[str, Any], locale: str, fmt: str, *, settings: Settings, store: Store
) -> Card:
    """A supplier's own PO (a `po_view`, plus `issued_at`) as a PDF or PNG reply."""
    return po_document_card(data, locale, settings.tz, letterhead(settings, store), fmt=fmt)
