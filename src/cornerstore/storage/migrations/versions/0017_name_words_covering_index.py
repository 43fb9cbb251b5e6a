"""Search as you type on PostgreSQL: an index of name words that holds the whole entry.

A candidate word's rows (profile row and name key) are then read from the index alone (an
index-only scan per candidate), where before PostgreSQL read the whole table. SQLite keeps
``name_words`` in its primary key's b-tree, which already holds every column.

Revision ID: 0017
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0013"
branch_labels = None
depends_on = None

INDEX = "ix_name_words_word_entry"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index(INDEX, "name_words", ["word"], postgresql_include=["customer_id", "name_key"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(INDEX, table_name="name_words")
