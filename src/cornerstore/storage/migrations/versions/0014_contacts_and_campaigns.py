"""Contacts and campaigns: the contact log frequency caps count.

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cornerstore.storage.tables

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_UTC = cornerstore.storage.tables.UTCDateTime
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("at", _UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_contacts_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    op.create_index("ix_contacts_customer_id_at", "contacts", ["customer_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_contacts_customer_id_at", table_name="contacts")
    op.drop_table("contacts")
