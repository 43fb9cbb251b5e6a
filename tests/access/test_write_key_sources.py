"""Write keys made before keys had a source keep working, and stand where their touchpoint
says: web and app keys are public (client-side), the others server-side."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import insert

from cornerstore.access.credentials import WriteSource, digest
from cornerstore.services import Services
from cornerstore.settings import Settings
from cornerstore.storage import open_store, tables
from cornerstore.storage.database import _alembic_config


def test_keys_made_before_sources_keep_working_client_side_for_web_and_app(
    database_url: str,
) -> None:
    store = open_store(database_url)
    with store.engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0007")
    old_keys = {"csk_web": "web", "csk_app": "app", "csk_till": "store", "csk_desk": "support"}
    with store.engine.begin() as conn:
        for n, (secret, touchpoint) in enumerate(old_keys.items(), start=1):
            conn.execute(
                insert(tables.write_keys).values(
                    id=n,
                    name=touchpoint,
                    touchpoint=touchpoint,
                    prefix=secret,
                    key_hash=digest(secret),
                    created_at=datetime.now(UTC),
                )
            )

    store.upgrade()

    credentials = Services.build(Settings(database_url=database_url), store).credentials
    assert [credentials.check_write_key(secret) for secret in old_keys] == [
        WriteSource(1, "web", "web", "client"),
        WriteSource(2, "app", "app", "client"),
        WriteSource(3, "store", "store", "server"),
        WriteSource(4, "support", "support", "server"),
    ]
    store.dispose()
