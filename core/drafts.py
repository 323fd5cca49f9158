"""Drafting purchase orders, shared by the monitor pass and the alert card's Draft PO button:
both take the same lock (`lock_drafting`) and add their lines to the supplier's one open draft
(`open_draft`), so a supplier never has two; a new PO is numbered `PO<yyyymmdd>-<nnn>` by the
day it is opened (`_next_number`, also for a backup supplier's PO), and `po_total` recomputes a
PO's total from its lines for whoever changed them (drafts, edits, prices, backups). Nothing
here checks permissions, audits or commits: the callers do, in their own transaction."""

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.models import PoLine, PoStatus, PurchaseOrder


def lock_drafting(session: Session) -> None:
    """One drafter at a time on PostgreSQL (SQLite's BEGIN IMMEDIATE already does this), so
    two drafters never open two drafts for one supplier."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('replenish.monitor'))"))


def open_draft(session: Session, supplier_id: int, today: date) -> PurchaseOrder:
    """The supplier's open draft, or a new one: never two drafts for one supplier."""
    draft = session.scalars(
        select(PurchaseOrder).where(
            PurchaseOrder.supplier_id == supplier_id, PurchaseOrder.status == PoStatus.DRAFT
        )
    ).first()
    if draft is None:
        draft = PurchaseOrder(number=_next_number(session, today), supplier_id=supplier_id)
        session.add(draft)
        session.flush()
    return draft


def _next_number(session: Session, today: date) -> str:
    prefix = f"PO{today:%Y%m%d}-"
    taken = (
        session.scalar(select(sa.func.count()).where(col(PurchaseOrder.number).startswith(prefix)))
        or 0
    )
    return f"{prefix}{taken + 1:03d}"


def po_total(session: Session, po: PurchaseOrder) -> Decimal:
    total = session.scalar(
        select(sa.func.sum(PoLine.qty * PoLine.unit_price)).where(PoLine.po_id == po.id)
    )
    return Decimal(str(total or 0)).quantize(Decimal("0.01"))
