"""The tables. Data only: rules live in functions elsewhere in core.

Conventions: datetimes are timezone-aware and stored in UTC; business dates (`sale_date`, promotion
windows, expected arrivals) are local dates in the shop's time zone. Money is `Decimal`
in TWD (Numeric(14, 2)). Statuses and kinds are plain strings validated by the StrEnums
below, so adding a state needs no database enum migration.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

MONEY = sa.Numeric(14, 2)

# Named constraints let Alembic drop and alter them on SQLite (batch mode) and PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def money_column(**kwargs: Any) -> Any:
    return Field(sa_type=MONEY, **kwargs)


def json_column(**kwargs: Any) -> Any:
    return Field(sa_type=sa.JSON, **kwargs)


class LocationKind(StrEnum):
    WAREHOUSE = "warehouse"
    DROPSHIP = "dropship"


class PoStatus(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    SENT = "sent"
    CONFIRMED = "confirmed"
    RECEIVED = "received"
    CLOSED = "closed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    DECLINED = "declined"
    REASSIGNED = "reassigned"


class AlertStatus(StrEnum):
    OPEN = "open"
    SNOOZED = "snoozed"
    DISMISSED = "dismissed"
    RESOLVED = "resolved"


class PickColour(StrEnum):
    RED = "red"
    ORANGE = "orange"
    GREEN = "green"


class Role(StrEnum):
    MANAGER = "manager"
    INVENTORY_CLERK = "inventory_clerk"
    BUYER = "buyer"
    LOGISTICS = "logistics"
    ANALYST = "analyst"
    SUPPLIER = "supplier"
    DROPSHIP = "dropship"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


# --- master data -------------------------------------------------------------------------


class Sku(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=64)
    name: str = Field(max_length=200)
    category: str = Field(default="", index=True, max_length=100)
    unit: str = Field(default="", max_length=20)
    unit_cost: Decimal | None = money_column(default=None)
    price: Decimal | None = money_column(default=None)
    active: bool = True


class Location(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=64)
    name: str = Field(default="", max_length=200)
    kind: str = Field(default=LocationKind.WAREHOUSE, max_length=20)


class Supplier(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=64)
    name: str = Field(max_length=200)
    contact_name: str = Field(default="", max_length=100)
    phone: str = Field(default="", max_length=50)
    emergency_contact: str = Field(default="", max_length=100)
    emergency_phone: str = Field(default="", max_length=50)
    email: str = Field(default="", max_length=200)


class SupplierTerm(SQLModel, table=True):
    """What one supplier agreed for one SKU (the article's 事前協議)."""

    __table_args__ = (sa.UniqueConstraint("supplier_id", "sku_id"),)

    id: int | None = Field(default=None, primary_key=True)
    supplier_id: int = Field(foreign_key="supplier.id", index=True)
    sku_id: int = Field(foreign_key="sku.id", index=True)
    supplier_sku: str = Field(default="", max_length=64)
    unit_price: Decimal = money_column()
    price_band_pct: float = 5.0
    lead_time_days: int = 7
    lead_time_std_days: float = 0.0
    moq: int = 1
    case_pack: int = 1
    rank: int = 1


class Promotion(SQLModel, table=True):
    """A promotion or group-buy campaign for one SKU or a whole category."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    sku_id: int | None = Field(default=None, foreign_key="sku.id", index=True)
    category: str | None = Field(default=None, max_length=100)
    start_date: date
    end_date: date
    uplift: float | None = None


# --- stock and sales ---------------------------------------------------------------------


class StockLevel(SQLModel, table=True):
    """An on-hand snapshot; the newest `as_of` per SKU and location is current."""

    __table_args__ = (sa.UniqueConstraint("sku_id", "location_id", "as_of"),)

    id: int | None = Field(default=None, primary_key=True)
    sku_id: int = Field(foreign_key="sku.id", index=True)
    location_id: int = Field(foreign_key="location.id")
    on_hand: int
    reserved: int = 0
    as_of: datetime


class SalesLine(SQLModel, table=True):
    """One order line as the shop reported it; (order_id, line_no) de-duplicates."""

    __table_args__ = (sa.UniqueConstraint("order_id", "line_no"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(max_length=100)
    line_no: int
    sku_id: int = Field(foreign_key="sku.id")
    location_id: int = Field(foreign_key="location.id")
    channel: str = Field(default="", max_length=50)
    ordered_at: datetime
    sale_date: date = Field(index=True)
    qty: int
    price: Decimal | None = money_column(default=None)


class SalesDay(SQLModel, table=True):
    """Daily demand per SKU, location and channel, aggregated from SalesLine."""

    __table_args__ = (sa.UniqueConstraint("sku_id", "location_id", "channel", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    sku_id: int = Field(foreign_key="sku.id", index=True)
    location_id: int = Field(foreign_key="location.id")
    channel: str = Field(default="", max_length=50)
    day: date = Field(index=True)
    # Sums of many lines: wider than a line's own columns, so a busy day cannot overflow.
    qty: int = Field(sa_type=sa.BigInteger)
    revenue: Decimal = Field(default=Decimal(0), sa_type=sa.Numeric(24, 2))


# --- purchasing ---------------------------------------------------------------------------


# Optimistic locking: two managers approving at once → one wins, one is told who did.
_PO_VERSION = sa.Column("version", sa.Integer, nullable=False)


class PurchaseOrder(SQLModel, table=True):
    __mapper_args__ = {"version_id_col": _PO_VERSION}

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True, index=True, max_length=32)
    supplier_id: int = Field(foreign_key="supplier.id", index=True)
    status: str = Field(default=PoStatus.DRAFT, index=True, max_length=20)
    emergency: bool = False
    currency: str = Field(default="TWD", max_length=3)
    total: Decimal = money_column(default=Decimal(0))
    requested_by_id: int | None = Field(default=None, foreign_key="member.id")
    reassigned_from_id: int | None = Field(default=None, foreign_key="purchaseorder.id")
    reason: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    requested_at: datetime | None = None
    approved_at: datetime | None = None
    sent_at: datetime | None = None
    confirmed_at: datetime | None = None
    received_at: datetime | None = None
    closed_at: datetime | None = None
    expected_arrival: date | None = None
    requested_arrival: date | None = None  # what we asked the supplier for
    shipped_at: datetime | None = None
    tracking_number: str = Field(default="", max_length=100)
    reminded_at: datetime | None = None  # supplier SLA: first nudge
    backup_offered_at: datetime | None = None  # supplier SLA: backup supplier offered
    version: int = Field(default=1, sa_column=_PO_VERSION)


class PoLine(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("po_id", "sku_id"),)

    id: int | None = Field(default=None, primary_key=True)
    po_id: int = Field(foreign_key="purchaseorder.id", index=True)
    sku_id: int = Field(foreign_key="sku.id", index=True)
    qty: int
    unit_price: Decimal = money_column()
    received_qty: int = 0
    proposed_price: Decimal | None = money_column(default=None)  # supplier's, awaiting the manager


# --- decisions and tasks ------------------------------------------------------------------


class Alert(SQLModel, table=True):
    # One live alert per dedupe key; resolved ones stay as history.
    __table_args__ = (
        sa.Index(
            "ix_alert_live_dedupe_key",
            "dedupe_key",
            unique=True,
            sqlite_where=sa.text("status IN ('open', 'snoozed')"),
            postgresql_where=sa.text("status IN ('open', 'snoozed')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    sku_id: int | None = Field(default=None, foreign_key="sku.id", index=True)
    severity: str = Field(default="info", max_length=20)
    status: str = Field(default=AlertStatus.OPEN, index=True, max_length=20)
    dedupe_key: str = Field(max_length=200)
    details: dict[str, Any] = json_column(default_factory=dict)
    opened_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    snoozed_until: datetime | None = None
    resolved_at: datetime | None = None


class PickList(SQLModel, table=True):
    """The pick-priority message for one dropship partner (red / orange / green): what was
    posted, whether someone acknowledged it, and the reminders sent while nobody did."""

    id: int | None = Field(default=None, primary_key=True)
    partner_id: int = Field(foreign_key="location.id", index=True)
    digest: str = Field(max_length=64)  # of the items: an unchanged list is not re-posted
    items: list[dict[str, Any]] = json_column(default_factory=list)
    status: str = Field(default="open", index=True, max_length=20)  # open, acked, replaced
    posted_at: datetime = Field(default_factory=utcnow)
    acked_by_id: int | None = Field(default=None, foreign_key="member.id")
    acked_at: datetime | None = None
    resent_at: datetime | None = None
    escalated_at: datetime | None = None


class PickTask(SQLModel, table=True):
    """A pick-priority colour for one SKU at one dropship partner (熱銷品優先處理)."""

    id: int | None = Field(default=None, primary_key=True)
    partner_id: int = Field(foreign_key="location.id", index=True)
    sku_id: int = Field(foreign_key="sku.id")
    colour: str = Field(default=PickColour.GREEN, max_length=10)
    status: str = Field(default="open", index=True, max_length=20)
    created_at: datetime = Field(default_factory=utcnow)
    acked_by_id: int | None = Field(default=None, foreign_key="member.id")
    acked_at: datetime | None = None


# --- people and chats ---------------------------------------------------------------------


class Member(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("platform", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    user_id: str = Field(max_length=100)
    display_name: str = Field(default="", max_length=200)
    roles: list[str] = json_column(default_factory=list)
    supplier_id: int | None = Field(default=None, foreign_key="supplier.id")
    partner_id: int | None = Field(default=None, foreign_key="location.id")
    locale: str = Field(default="zh-TW", max_length=10)
    email: str = Field(default="", max_length=200)  # the e-mail fallback for red alerts
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class ChatBinding(SQLModel, table=True):
    """Where messages for a purpose go: a Slack channel, a supplier's Telegram group…"""

    __table_args__ = (sa.UniqueConstraint("platform", "chat_id", "purpose"),)

    id: int | None = Field(default=None, primary_key=True)
    purpose: str = Field(max_length=40)
    platform: str = Field(max_length=20)
    chat_id: str = Field(max_length=100)
    supplier_id: int | None = Field(default=None, foreign_key="supplier.id")
    partner_id: int | None = Field(default=None, foreign_key="location.id")
    created_at: datetime = Field(default_factory=utcnow)


class EmergencyRequest(SQLModel, table=True):
    """緊急補貨: a request for stock now, with its own approvers and a response-time clock.
    The times are the KPI (request → approval, approval → supplier confirmation)."""

    id: int | None = Field(default=None, primary_key=True)
    sku_id: int = Field(foreign_key="sku.id", index=True)
    qty: int
    reason: str = ""
    status: str = Field(default="open", index=True, max_length=20)  # open, approved, confirmed, …
    alert_id: int | None = Field(default=None, foreign_key="alert.id")
    po_id: int | None = Field(default=None, foreign_key="purchaseorder.id", index=True)
    requested_by_id: int | None = Field(default=None, foreign_key="member.id")
    requested_at: datetime = Field(default_factory=utcnow, index=True)
    approved_at: datetime | None = None
    confirmed_at: datetime | None = None
    escalation_level: int = 0  # how far up the approver chain it has gone
    reminded_at: datetime | None = None
    escalated_at: datetime | None = None
    backup_offered_at: datetime | None = None
    closed_at: datetime | None = None


class BindCode(SQLModel, table=True):
    """A one-time code that binds a chat group to a supplier, a partner or a purpose. Only
    its hash is stored; the code is shown once to the manager who asked for it."""

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(unique=True, max_length=64)
    purpose: str = Field(max_length=40)
    supplier_id: int | None = Field(default=None, foreign_key="supplier.id")
    partner_id: int | None = Field(default=None, foreign_key="location.id")
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None
    used_by_chat: str | None = Field(default=None, max_length=100)


class LeadTimeObservation(SQLModel, table=True):
    """A supplier's lead time in days as confirmed for a PO (and later as received): the
    sample behind the lead-time mean and σ_L the engine plans with."""

    id: int | None = Field(default=None, primary_key=True)
    supplier_id: int = Field(foreign_key="supplier.id", index=True)
    po_id: int = Field(foreign_key="purchaseorder.id", index=True)
    kind: str = Field(default="confirmed", max_length=20)  # confirmed, received
    days: int
    at: datetime = Field(default_factory=utcnow)


# --- reliability ----------------------------------------------------------------------------


class AuditEvent(SQLModel, table=True):
    """Append-only record of every state change (triggers refuse UPDATE and DELETE:
    core/audit_guard.py)."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, foreign_key="member.id")
    action: str = Field(max_length=60)
    entity: str = Field(max_length=40)
    entity_id: str = Field(max_length=64)
    data: dict[str, Any] = json_column(default_factory=dict)
    # The hash chain (core/audit_chain.py fills both at flush): hex SHA-256 of the row
    # before this one, and of this row's fields with that.
    prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(default="", max_length=64)


class OutboxMessage(SQLModel, table=True):
    """A message owed to a chat, delivered at least once by the outbox job."""

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    target: str = Field(max_length=100)
    kind: str = Field(default="card", max_length=40)
    card: dict[str, Any] = json_column(default_factory=dict)
    dedupe_key: str | None = Field(default=None, unique=True, max_length=200)
    status: str = Field(default=OutboxStatus.PENDING, index=True, max_length=20)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    last_error: str = ""
    message_ref: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class InboxEvent(SQLModel, table=True):
    """A platform event already handled: a repeat is answered from `response`."""

    __table_args__ = (sa.UniqueConstraint("platform", "event_key"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    event_key: str = Field(max_length=300)
    received_at: datetime = Field(default_factory=utcnow)
    response: dict[str, Any] = json_column(default_factory=dict)
    # A webhook stores the raw update (status "received") before answering 200, so a crash
    # after the answer loses nothing; processing turns it "done" with its response.
    payload: dict[str, Any] = json_column(default_factory=dict)
    status: str = Field(default="done", index=True, max_length=20)
    processed_at: datetime | None = None


class JobLease(SQLModel, table=True):
    """One row per (job, scheduled run): whoever inserts it runs the job."""

    __table_args__ = (sa.UniqueConstraint("job", "scheduled_for"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=60)
    scheduled_for: datetime
    holder: str = Field(max_length=200)
    acquired_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    finished_at: datetime | None = None


class ReplanRequest(SQLModel, table=True):
    """A SKU whose stock or sales a feed just changed: the replan job plans it again soon
    (bot/jobs.py), so a surge is flagged within a minute, not at the next monitor tick."""

    sku_id: int = Field(foreign_key="sku.id", primary_key=True)
    requested_at: datetime = Field(default_factory=utcnow)
