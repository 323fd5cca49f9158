"""The seeded shop most workflow and chat tests start from: one supplier with two SKUs
(MILK: MOQ 24, case 12; TEA: MOQ 10, case 10), a draft PO, chat bindings, and members.

S1's own chat is not bound by default: a final approval would send the PO straight on to a
bound supplier chat. Tests of the supplier side call `shop.bind_supplier_chat()`."""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session, select

from core.inbox import attempt
from core.members import add_member
from core.models import (
    AuditEvent,
    ChatBinding,
    Member,
    PoLine,
    PurchaseOrder,
    Sku,
    Supplier,
    SupplierTerm,
)
from core.store import Store

PO = "PO20261124-001"
SUPPLIER_CHAT = "-100200"  # S1's Telegram group, once bound


@dataclass(frozen=True)
class Shop:
    store: Store
    ids: dict[str, int]  # member and SKU ids by name

    def member(self, session: Session, name: str) -> Member:
        member = session.get(Member, self.ids[name])
        assert member is not None
        return member

    def run(self, name: str, use_case: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """One use case in its own unit of work, as the bot runs it."""
        with self.store.unit_of_work() as session:
            return use_case(session, self.member(session, name), *args, **kwargs)

    def respond(self, name: str, use_case: Callable[..., Any], *args: Any, **kw: Any) -> dict:
        """Through `attempt`: refusals become answers and audited ones leave a row."""
        with self.store.unit_of_work() as session:
            actor = self.member(session, name)
            return attempt(session, lambda: use_case(session, actor, *args, **kw).as_dict())

    def po(self) -> PurchaseOrder:
        with self.store.read() as session:
            return session.scalars(select(PurchaseOrder).where(PurchaseOrder.number == PO)).one()

    def rows(self, table: Any, *where: Any) -> list[Any]:
        with self.store.read() as session:
            return list(session.scalars(select(table).where(*where).order_by(table.id)))

    def audit(self, action: str) -> list[AuditEvent]:
        return self.rows(AuditEvent, AuditEvent.action == action)

    def bind_supplier_chat(self, supplier: str = "S1", chat: str = SUPPLIER_CHAT) -> None:
        """Bind the supplier's own Telegram group (POs to it are then sent on approval)."""
        with self.store.unit_of_work() as session:
            found = session.scalars(select(Supplier).where(Supplier.code == supplier)).one()
            session.add(
                ChatBinding(
                    purpose="supplier", platform="telegram", chat_id=chat, supplier_id=found.id
                )
            )

    def add_backup_supplier(self) -> None:
        """S2 備援乳品: rank 2 for MILK only (its code B-77, NT$55, 2 days, MOQ 30, case 20)."""
        with self.store.unit_of_work() as session:
            s2 = Supplier(code="S2", name="備援乳品")
            session.add(s2)
            session.flush()
            assert s2.id is not None
            session.add(
                SupplierTerm(
                    supplier_id=s2.id,
                    sku_id=self.ids["MILK"],
                    supplier_sku="B-77",
                    unit_price=Decimal(55),
                    lead_time_days=2,
                    moq=30,
                    case_pack=20,
                    rank=2,
                )
            )

    def add_supplier_member(self, name: str, user_id: str, supplier: str) -> None:
        """A Telegram person speaking for `supplier` (ids[name] is their member id)."""
        with self.store.unit_of_work() as session:
            found = session.scalars(select(Supplier).where(Supplier.code == supplier)).one()
            member = add_member(
                session,
                None,
                platform="telegram",
                user_id=user_id,
                roles=["supplier"],
                display_name=name,
                supplier_id=found.id,
            )
            assert member.id is not None
            self.ids[name] = member.id


MEMBERS = {
    "clerk": ["inventory_clerk"],
    "amy": ["manager"],
    "ben": ["manager"],
    "buyer": ["buyer"],
    "analyst": ["analyst"],
}


@pytest.fixture
def shop(any_store: Store) -> Shop:
    return seed_shop(any_store)


def seed_shop(store: Store) -> Shop:
    ids: dict[str, int] = {}
    with store.unit_of_work() as session:
        supplier = Supplier(code="S1", name="鮮乳坊")
        milk, tea = Sku(code="MILK", name="鮮乳"), Sku(code="TEA", name="紅茶")
        session.add_all([supplier, milk, tea])
        session.flush()
        assert supplier.id
        assert milk.id
        assert tea.id
        for sku, price, moq, pack in ((milk, 50, 24, 12), (tea, 20, 10, 10)):
            session.add(
                SupplierTerm(
                    supplier_id=supplier.id,
                    sku_id=sku.id,
                    unit_price=Decimal(price),
                    moq=moq,
                    case_pack=pack,
                )
            )
        po = PurchaseOrder(number=PO, supplier_id=supplier.id, total=Decimal(2400 + 200))
        session.add(po)
        session.flush()
        session.add(PoLine(po_id=po.id, sku_id=milk.id, qty=48, unit_price=Decimal(50)))
        session.add(PoLine(po_id=po.id, sku_id=tea.id, qty=10, unit_price=Decimal(20)))
        for purpose, platform, chat, supplier_id in (
            ("approvals", "slack", "C-APPROVALS", None),
            ("buyers", "slack", "C-BUYERS", None),
            ("supplier", "telegram", "-100999", None),  # another supplier's group
        ):
            session.add(
                ChatBinding(
                    purpose=purpose, platform=platform, chat_id=chat, supplier_id=supplier_id
                )
            )
        for name, roles in MEMBERS.items():
            member = add_member(
                session, None, platform="slack", user_id=f"U-{name}", roles=roles, display_name=name
            )
            assert member.id is not None
            ids[name] = member.id
        ids |= {"MILK": milk.id, "TEA": tea.id}
    return Shop(store, ids)
