"""Staff and access: staff users, console sessions, login back-off, personal API tokens, and
the audit trail's sections, reason, address and branch.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cornerstore.storage.tables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("remote", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column(
            "last_failed_at", cornerstore.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "locked_until", cornerstore.storage.tables.UTCDateTime(timezone=True), nullable=True
        ),
        sa.PrimaryKeyConstraint("username", "remote", name=op.f("pk_login_failures")),
    )
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("branch", sa.String(length=64), nullable=True),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", cornerstore.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "password_changed_at",
            cornerstore.storage.tables.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "disabled_at", cornerstore.storage.tables.UTCDateTime(timezone=True), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_users_username")),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at", cornerstore.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "expires_at", cornerstore.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("remote", sa.String(length=64), nullable=True),
        sa.Column("ended_at", cornerstore.storage.tables.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_users.id"], name=op.f("fk_staff_sessions_user_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_staff_sessions")),
    )
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_sessions_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_api_tokens_user_id_staff_users"), "staff_users", ["user_id"], ["id"]
        )

    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sections", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("remote", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("branch", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_audit_log_at", ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_at")
        batch_op.drop_column("branch")
        batch_op.drop_column("remote")
        batch_op.drop_column("reason")
        batch_op.drop_column("sections")

    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_api_tokens_user_id_staff_users"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))
        batch_op.drop_column("user_id")

    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_sessions_user_id"))

    op.drop_table("staff_sessions")
    op.drop_table("staff_users")
    op.drop_table("login_failures")
