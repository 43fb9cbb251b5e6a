"""Identity resolution on the stored profiles: trained models (one active) and the review queue
of candidate pairs with staff decisions.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cornerstore.storage.tables

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_models",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "trained_at", cornerstore.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=160), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_models")),
    )
    op.create_table(
        "identity_reviews",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("left_id", sa.String(length=32), nullable=False),
        sa.Column("right_id", sa.String(length=32), nullable=False),
        sa.Column("match_probability", sa.Float(), nullable=False),
        sa.Column("match_weight", sa.Float(), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at", cornerstore.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("decided_by", sa.String(length=160), nullable=True),
        sa.Column(
            "decided_at", cornerstore.storage.tables.UTCDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["left_id"], ["customers.id"], name=op.f("fk_identity_reviews_left_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["right_id"], ["customers.id"], name=op.f("fk_identity_reviews_right_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_reviews")),
        sa.UniqueConstraint(
            "left_id", "right_id", name=op.f("uq_identity_reviews_left_id_right_id")
        ),
    )
    with op.batch_alter_table("identity_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_reviews_right_id"), ["right_id"], unique=False
        )
        batch_op.create_index(
            "ix_identity_reviews_status_match_weight", ["status", "match_weight"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("identity_reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_identity_reviews_status_match_weight")
        batch_op.drop_index(batch_op.f("ix_identity_reviews_right_id"))

    op.drop_table("identity_reviews")
    op.drop_table("identity_models")
