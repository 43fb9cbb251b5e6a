"""The Spec's top-level ``channel`` and ``version`` of each event.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("channel", sa.String(length=64), nullable=True))
    op.add_column("events", sa.Column("version", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("version")
        batch.drop_column("channel")
