"""append-only audit table: hash chain columns and triggers

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 09:00:00

The chain format (core/audit_chain.row_hash) and the triggers (core/audit_guard) are
imported, not copied: the backfill must produce exactly what `replenish audit verify`
checks. Changing either in core therefore needs a new migration that re-chains or
re-installs.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from core import audit_guard
from core.audit_chain import GENESIS, row_hash

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
HASH = sqlmodel.sql.sqltypes.AutoString(length=64)

# The table as it stands at this revision (not the model, which may grow later).
audit = sa.table(
    "auditevent",
    sa.column("id", sa.Integer()),
    sa.column("at", sqlmodel.sql.sqltypes.UTCDateTime()),
    sa.column("actor_id", sa.Integer()),
    sa.column("action", sa.String()),
    sa.column("entity", sa.String()),
    sa.column("entity_id", sa.String()),
    sa.column("data", sa.JSON()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)


def upgrade() -> None:
    # NOT NULL needs a default for the rows already there; the backfill then chains them,
    # and the default goes, so a row written without its hash fails instead of hiding.
    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", HASH, nullable=False, server_default=""))
        batch_op.add_column(sa.Column("hash", HASH, nullable=False, server_default=""))
    _backfill(op.get_bind())
    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.alter_column("prev_hash", existing_type=HASH, server_default=None)
        batch_op.alter_column("hash", existing_type=HASH, server_default=None)
    # Last, after the backfill's UPDATEs and SQLite's table copy (which would drop them).
    audit_guard.install(op.get_bind())


def _backfill(connection: sa.Connection) -> None:
    """Chain the existing rows in id order, a page at a time."""
    prev, after = GENESIS, 0
    columns = [audit.c.id, audit.c.at, audit.c.actor_id, audit.c.action]
    columns += [audit.c.entity, audit.c.entity_id, audit.c.data]
    update = (
        sa.update(audit)
        .where(audit.c.id == sa.bindparam("row_id"))
        .values(prev_hash=sa.bindparam("new_prev"), hash=sa.bindparam("new_hash"))
    )
    while True:
        query = sa.select(*columns).where(audit.c.id > after).order_by(audit.c.id).limit(BATCH)
        page = connection.execute(query).all()
        if not page:
            return
        changes = []
        for row in page:
            fields = row._asdict()
            row_id = fields.pop("id")
            digest = row_hash(prev, **fields)
            changes.append({"row_id": row_id, "new_prev": prev, "new_hash": digest})
            prev = digest
        connection.execute(update, changes)
        after = page[-1].id


def downgrade() -> None:
    audit_guard.remove(op.get_bind())
    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
