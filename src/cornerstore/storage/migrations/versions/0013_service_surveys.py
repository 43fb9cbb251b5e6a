"""Follow-up surveys of resolved cases: sent by the system or handed out by staff, answered
through a signed link; cases indexed by opening time for the outcome metrics.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cornerstore.storage.tables

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    moment = cornerstore.storage.tables.UTCDateTime(timezone=True)
    op.create_table(
        "service_surveys",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("handed_out_by", sa.String(length=160), nullable=True),
        sa.Column("exported_at", moment, nullable=True),
        sa.Column("answered_at", moment, nullable=True),
        sa.Column("resolved", sa.Boolean(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_service_surveys_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_service_surveys_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_surveys")),
    )
    with op.batch_alter_table("service_surveys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_surveys_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_service_surveys_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index("ix_service_surveys_exported_at", ["exported_at"], unique=False)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_opened_at", ["opened_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_opened_at")
    with op.batch_alter_table("service_surveys", schema=None) as batch_op:
        batch_op.drop_index("ix_service_surveys_exported_at")
        batch_op.drop_index(batch_op.f("ix_service_surveys_customer_id"))
        batch_op.drop_index(batch_op.f("ix_service_surveys_case_id"))

    op.drop_table("service_surveys")
