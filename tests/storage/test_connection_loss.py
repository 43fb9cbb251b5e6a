"""A PostgreSQL connection lost during a unit of work (a restarted server) or refused for now
(too many connections) costs that unit of work a retryable failure (503 with Retry-After over
HTTP), never a 500; the store carries on with new connections."""

from __future__ import annotations

import secrets
import time

import pytest
from sqlalchemy import create_engine, make_url, text

from cornerstore.errors import Unavailable
from cornerstore.storage import database, open_store
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


def test_a_pooled_connection_the_server_dropped_while_idle_is_replaced_unseen(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The ping-after-idle threshold made short so the test need not wait a second.
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.05)
    store = open_store(pg_url)
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with store.unit_of_work() as uow:
            backend = uow.conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        time.sleep(0.1)

        with store.unit_of_work() as uow:
            after = uow.conn.execute(text("SELECT pg_backend_pid()")).scalar_one()

        assert after != backend
    finally:
        store.dispose()
        admin.dispose()


def test_a_connection_the_server_refuses_for_now_is_unavailable(pg_url: str) -> None:
    # A role allowed no connections is refused as a full server is: SQLSTATE 53300.
    role = "cs_full_" + secrets.token_hex(4)
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 0')
    store = open_store(make_url(pg_url).set(username=role).render_as_string(hide_password=False))
    try:
        with pytest.raises(Unavailable, match="no more connections"), store.unit_of_work():
            pass
    finally:
        store.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP ROLE "{role}"')
        admin.dispose()
