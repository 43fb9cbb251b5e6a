"""Alembic environment: runs on the connection cornerstore hands it (see Store.upgrade)."""

from __future__ import annotations

from alembic import context

from cornerstore.storage.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when alembic is run by hand without cornerstore
    raise RuntimeError("run migrations with `cornerstore db upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
