"""A PostgreSQL connection lost during a unit of work (a restarted server) costs that unit of
work a retryable failure (503 with Retry-After over HTTP), never a 500; the store carries on
with new connections."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from cornerstore.errors import Unavailable
from cornerstore.storage import open_store
from tests.conftest import PG_ADMIN_URL


def test_a_connection_the_server_drops_midway_fails_its_unit_of_work_with_unavailable(
    pg_url: str,
) -> None:
    store = open_store(pg_url)
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with (
            pytest.raises(Unavailable, match="connection was lost") as lost,
            store.unit_of_work() as uow,
        ):
            backend = uow.conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with admin.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
            uow.conn.execute(text("SELECT 1"))
        with store.unit_of_work() as uow:
            after = uow.conn.execute(text("SELECT pg_backend_pid()")).scalar_one()

        assert (lost.value.retry_after, after != backend) == (1, True)
    finally:
        store.dispose()
        admin.dispose()
