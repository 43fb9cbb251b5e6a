"""Intake's bulk inserts go straight to the driver on both backends: the rows read back are
the rows given, times as the same instants, and a time without a zone is refused. The driver's
failures reach the unit of work as any statement's do: a conflict, a value the database cannot
hold, a lost connection."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from cornerstore.errors import Unavailable, Unstorable, WriteConflict
from cornerstore.storage import open_store
from cornerstore.storage.database import Store
from tests.conftest import PG_ADMIN_URL

AT = datetime(2025, 3, 1, 8, 30, 15, 250_000, tzinfo=UTC)


def _event(message_id: str, occurred_at: datetime, sent_at: datetime | None) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "customer_id": "cus_ann",
        "account_id": None,
        "type": "track",
        "name": "Order Completed",
        "touchpoint": "web",
        "source": "shop",
        "user_id": "u-1",
        "anonymous_id": None,
        "occurred_at": occurred_at,
        "original_timestamp": None,
        "sent_at": sent_at,
        "received_at": AT,
        "properties": '{"total": 12.5}',
        "context": None,
        "integrations": None,
        "channel": "server",
        "version": "2",
    }


def _ann(store: Store) -> None:
    with store.unit_of_work(write=True) as uow:
        uow.customers.add_many(
            [{"id": "cus_ann", "kind": "person", "root_id": "cus_ann", "created_at": AT}]
        )


def test_bulk_inserted_events_read_back_whole_with_their_instants(store: Store) -> None:
    _ann(store)
    two_hours_east = timezone(timedelta(hours=2))

    with store.unit_of_work(write=True) as uow:
        uow.events.add_many(
            [
                _event("m-1", AT, None),
                _event("m-2", (AT + timedelta(hours=1)).astimezone(two_hours_east), AT),
            ]
        )
    with store.unit_of_work() as uow:
        stored = uow.events.page(["cus_ann"])

    assert [(e.message_id, e.occurred_at, e.sent_at, e.received_at) for e in stored] == [
        ("m-2", AT + timedelta(hours=1), AT, AT),
        ("m-1", AT, None, AT),
    ]
    assert [(e.properties, e.channel, e.version) for e in stored] == [
        ({"total": 12.5}, "server", "2")
    ] * 2


def test_a_time_without_a_zone_is_refused_and_nothing_of_the_batch_stored(store: Store) -> None:
    _ann(store)

    with (
        pytest.raises(ValueError, match="naive datetimes are not stored"),
        store.unit_of_work(write=True) as uow,
    ):
        uow.events.add_many([_event("m-1", AT, None), _event("m-2", AT.replace(tzinfo=None), None)])

    with store.unit_of_work() as uow:
        assert uow.events.count() == 0


def test_a_message_id_stored_before_fails_the_unit_of_work_as_a_conflict_and_stores_nothing(
    store: Store,
) -> None:
    _ann(store)
    with store.unit_of_work(write=True) as uow:
        uow.events.add_many([_event("m-1", AT, None)])

    with pytest.raises(WriteConflict), store.unit_of_work(write=True) as uow:
        uow.events.add_many([_event("m-2", AT, None), _event("m-1", AT, None)])

    with store.unit_of_work() as uow:
        assert [e.message_id for e in uow.events.page(["cus_ann"])] == ["m-1"]


def test_a_write_lock_another_process_holds_answers_busy_and_stores_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shop.db"
    store = open_store(f"sqlite:///{path}", busy_timeout_ms=100, upgrade=True)
    _ann(store)
    other = sqlite3.connect(path, isolation_level=None)  # as another process would hold it
    other.execute("BEGIN IMMEDIATE")
    try:
        # BEGIN IMMEDIATE and the inserts run on the driver itself: its error is still mapped.
        with pytest.raises(Unavailable, match="busy"), store.unit_of_work(write=True) as uow:
            uow.events.add_many([_event("m-1", AT, None)])
    finally:
        other.rollback()
        other.close()
    with store.unit_of_work() as uow:
        stored = uow.events.count()
    store.dispose()

    assert stored == 0


def test_a_value_postgresql_cannot_hold_is_unstorable_and_its_text_is_not_repeated(
    pg_url: str,
) -> None:
    store = open_store(pg_url, upgrade=True)
    try:
        _ann(store)
        with pytest.raises(Unstorable) as refused, store.unit_of_work(write=True) as uow:
            uow.events.add_many([_event("m-1", AT, None) | {"name": "Secret\u0000Plan"}])
        with store.unit_of_work() as uow:
            stored = uow.events.count()
    finally:
        store.dispose()

    assert (stored, "Secret" in str(refused.value)) == (0, False)


def test_a_connection_lost_during_a_bulk_insert_is_unavailable_and_the_store_carries_on(
    pg_url: str,
) -> None:
    store = open_store(pg_url, upgrade=True)
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        _ann(store)
        with (
            pytest.raises(Unavailable, match="connection was lost"),
            store.unit_of_work(write=True) as uow,
        ):
            backend = uow.conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with admin.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
            uow.events.add_many([_event("m-1", AT, None)])
        with store.unit_of_work(write=True) as uow:
            uow.events.add_many([_event("m-2", AT, None)])
        with store.unit_of_work() as uow:
            stored = [e.message_id for e in uow.events.page(["cus_ann"])]
    finally:
        store.dispose()
        admin.dispose()

    assert stored == ["m-2"]
