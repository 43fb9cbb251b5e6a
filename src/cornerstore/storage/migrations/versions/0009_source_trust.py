"""Write keys say whether their source is client-side or server-side; claims a client-side
source makes about an existing customer are kept apart as unverified traits.

Existing keys keep working: keys of the web and app touchpoints become client-side (their keys
are public in every page and app), the others server-side.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cornerstore.storage.tables

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("write_keys", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=8), server_default="server", nullable=False)
        )
    op.execute("UPDATE write_keys SET source = 'client' WHERE touchpoint IN ('web', 'app')")
    op.create_table(
        "unverified_traits",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("touchpoint", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column(
            "observed_at", cornerstore.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("message_id", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_unverified_traits_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unverified_traits")),
    )
    with op.batch_alter_table("unverified_traits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_unverified_traits_customer_id_name", ["customer_id", "name"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("unverified_traits", schema=None) as batch_op:
        batch_op.drop_index("ix_unverified_traits_customer_id_name")
    op.drop_table("unverified_traits")
    with op.batch_alter_table("write_keys", schema=None) as batch_op:
        batch_op.drop_column("source")
