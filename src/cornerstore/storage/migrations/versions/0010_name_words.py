"""Finding customers by name: the words of each profile row's current names, indexed.

Rows already stored are indexed here, from their name traits (the latest observation of each).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

from cornerstore.profiles.name_search import NAME_TRAITS, name_words

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_BATCH = 5000


def upgrade() -> None:
    op.create_table(
        "name_words",
        sa.Column(
            "word",
            sa.String(length=64).with_variant(sa.String(length=64, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column(
            "name_key",
            sa.Text().with_variant(sa.Text(collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_name_words_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("word", "customer_id", name=op.f("pk_name_words")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("name_words", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_name_words_customer_id"), ["customer_id"])
    _index_stored_names()


def _index_stored_names() -> None:
    conn = op.get_bind()
    traits = sa.table(
        "traits",
        sa.column("id", sa.Integer()),
        sa.column("customer_id", sa.String()),
        sa.column("name", sa.String()),
        sa.column("value", sa.Text()),
        sa.column("observed_at", sa.String()),
    )
    current: dict[str, dict[str, Any]] = {}
    for customer_id, name, value in conn.execute(
        sa.select(traits.c.customer_id, traits.c.name, traits.c.value)
        .where(traits.c.name.in_(NAME_TRAITS))
        .order_by(traits.c.observed_at, traits.c.id)
    ):
        current.setdefault(customer_id, {})[name] = orjson.loads(value)
    table = sa.table(
        "name_words", sa.column("word"), sa.column("customer_id"), sa.column("name_key")
    )
    rows = []
    for customer_id, names in current.items():
        words = name_words(names)
        key = " ".join(words)
        rows += [{"word": w, "customer_id": customer_id, "name_key": key} for w in words]
    for start in range(0, len(rows), _BATCH):
        conn.execute(table.insert(), rows[start : start + _BATCH])


def downgrade() -> None:
    with op.batch_alter_table("name_words", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_name_words_customer_id"))
    op.drop_table("name_words")
