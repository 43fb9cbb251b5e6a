"""Intake's bulk inserts go straight to the driver on both backends: the rows read back are
the rows given, times as the same instants, and a time without a zone is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from cornerstore.storage.database import Store

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
