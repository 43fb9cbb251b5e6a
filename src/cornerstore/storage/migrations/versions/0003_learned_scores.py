"""Learning: the scores computed for each customer (value, loyalty, churn risk, ...).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cornerstore.storage.tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scores",
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column(
            "computed_at", cornerstore.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_scores_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("customer_id", "name", name=op.f("pk_scores")),
    )


def downgrade() -> None:
    op.drop_table("scores")
