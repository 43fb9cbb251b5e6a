"""Privacy: what the firewall removed, consent history, the erasure suppression list, and
installation secrets.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cornerstore.storage.tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "installation_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column(
            "created_at", cornerstore.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_installation_secrets")),
    )
    op.create_table(
        "privacy_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", cornerstore.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("entrance", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("field", sa.String(length=512), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_events")),
    )
    with op.batch_alter_table("privacy_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_privacy_events_at"), ["at"], unique=False)

    op.create_table(
        "suppressions",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column(
            "erased_at", cornerstore.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_suppressions")),
    )
    op.create_table(
        "consents",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("at", cornerstore.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("touchpoint", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_consents_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consents_customer_id_purpose_at", ["customer_id", "purpose", "at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index("ix_consents_customer_id_purpose_at")

    op.drop_table("consents")
    op.drop_table("suppressions")
    with op.batch_alter_table("privacy_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_privacy_events_at"))

    op.drop_table("privacy_events")
    op.drop_table("installation_secrets")
