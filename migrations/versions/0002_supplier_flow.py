"""supplier flow, bind codes, pick lists, webhook inbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 06:19:23.472024
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Generated, then adjusted: NOT NULL columns added to existing tables get a server
    # default so databases with rows upgrade cleanly.
    op.create_table(
        "bindcode",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=True),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("used_by_chat", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["member.id"], name=op.f("fk_bindcode_created_by_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["location.id"], name=op.f("fk_bindcode_partner_id_location")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["supplier.id"], name=op.f("fk_bindcode_supplier_id_supplier")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bindcode")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_bindcode_code_hash")),
    )
    op.create_table(
        "picklist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("posted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("acked_by_id", sa.Integer(), nullable=True),
        sa.Column("acked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("resent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("escalated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["acked_by_id"], ["member.id"], name=op.f("fk_picklist_acked_by_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["location.id"], name=op.f("fk_picklist_partner_id_location")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_picklist")),
    )
    with op.batch_alter_table("picklist", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_picklist_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_picklist_status"), ["status"], unique=False)

    op.create_table(
        "leadtimeobservation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("po_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["po_id"], ["purchaseorder.id"], name=op.f("fk_leadtimeobservation_po_id_purchaseorder")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["supplier.id"],
            name=op.f("fk_leadtimeobservation_supplier_id_supplier"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leadtimeobservation")),
    )
    with op.batch_alter_table("leadtimeobservation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_leadtimeobservation_po_id"), ["po_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_leadtimeobservation_supplier_id"), ["supplier_id"], unique=False
        )

    with op.batch_alter_table("inboxevent", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("payload", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch_op.add_column(
            sa.Column(
                "status",
                sqlmodel.sql.sqltypes.AutoString(length=20),
                nullable=False,
                server_default="done",
            )
        )
        batch_op.add_column(
            sa.Column("processed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_inboxevent_status"), ["status"], unique=False)

    with op.batch_alter_table("poline", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("proposed_price", sa.Numeric(precision=14, scale=2), nullable=True)
        )

    with op.batch_alter_table("purchaseorder", schema=None) as batch_op:
        batch_op.add_column(sa.Column("requested_arrival", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("shipped_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "tracking_number",
                sqlmodel.sql.sqltypes.AutoString(length=100),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(
            sa.Column("reminded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("backup_offered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )

    # ### end Alembic commands ###


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table("purchaseorder", schema=None) as batch_op:
        batch_op.drop_column("backup_offered_at")
        batch_op.drop_column("reminded_at")
        batch_op.drop_column("tracking_number")
        batch_op.drop_column("shipped_at")
        batch_op.drop_column("requested_arrival")

    with op.batch_alter_table("poline", schema=None) as batch_op:
        batch_op.drop_column("proposed_price")

    with op.batch_alter_table("inboxevent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inboxevent_status"))
        batch_op.drop_column("processed_at")
        batch_op.drop_column("status")
        batch_op.drop_column("payload")

    with op.batch_alter_table("leadtimeobservation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leadtimeobservation_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_leadtimeobservation_po_id"))

    op.drop_table("leadtimeobservation")
    with op.batch_alter_table("picklist", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_picklist_status"))
        batch_op.drop_index(batch_op.f("ix_picklist_partner_id"))

    op.drop_table("picklist")
    op.drop_table("bindcode")
    # ### end Alembic commands ###
