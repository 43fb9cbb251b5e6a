"""Relations between customers who are different people, such as a household.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cornerstore.storage.tables

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_relations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("other_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("found_by", sa.String(length=32), nullable=False),
        sa.Column(
            "created_at", cornerstore.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_relations_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["other_id"], ["customers.id"], name=op.f("fk_customer_relations_other_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_relations")),
        sa.UniqueConstraint(
            "customer_id",
            "other_id",
            "kind",
            name=op.f("uq_customer_relations_customer_id_other_id_kind"),
        ),
    )
    with op.batch_alter_table("customer_relations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_relations_other_id"), ["other_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("customer_relations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_relations_other_id"))
    op.drop_table("customer_relations")
