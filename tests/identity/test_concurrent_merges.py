"""Overlapping merges at the same moment from two writers in one process: no merge is lost
(the scenario is described in :mod:`tests.identity.overlapping_merges`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from cornerstore.errors import WriteConflict
from cornerstore.identity.stitching import Stitcher
from cornerstore.intake.service import Source
from cornerstore.services import Services
from cornerstore.settings import Settings
from cornerstore.storage.database import Store
from tests.identity.overlapping_merges import (
    Message,
    keys_of,
    outcome,
    phone,
    three_profiles_each,
    w_absorbs_x,
    x_absorbs_y_by_email,
    x_absorbs_y_by_phone,
)

WEB = Source("web-shop", "web")
PEOPLE = 120
BATCH = 10
NOW = datetime(2026, 1, 5, tzinfo=UTC)


@pytest.mark.parametrize("x_absorbs_y", [x_absorbs_y_by_email, x_absorbs_y_by_phone])
def test_overlapping_merges_from_two_writers_leave_one_customer_per_person(
    settings: Settings, store: Store, x_absorbs_y: Callable[[int], Message]
) -> None:
    # Two services, so two group committers: their transactions really run at once.
    first, second = Services.build(settings, store), Services.build(settings, store)
    three_profiles_each(store, PEOPLE, lambda batch: first.intake.ingest(batch, source=WEB))
    errors: list[str] = []
    start = threading.Barrier(2)

    def send(services: Services, make: Callable[[int], Message]) -> None:
        start.wait()
        try:
            for low in range(0, PEOPLE, BATCH):
                services.intake.ingest([make(p) for p in range(low, low + BATCH)], source=WEB)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")

    writers = [
        threading.Thread(target=send, args=(first, w_absorbs_x)),
        threading.Thread(target=send, args=(second, x_absorbs_y)),
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=300)

    assert errors == []
    assert outcome(store, PEOPLE) == {"split": 0, "chained": 0}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_merge_follows_a_root_another_writer_merged_away_meanwhile(
    settings: Settings, store: Store
) -> None:
    services = Services.build(settings, store)
    three_profiles_each(store, 1, lambda batch: services.intake.ingest(batch, source=WEB))
    with store.unit_of_work() as uow:
        found = uow.identifiers.lookup(keys_of(0))
    w, x, y = (found[key][1] for key in keys_of(0))
    with store.unit_of_work(write=True) as uow:
        stitcher = Stitcher(uow, settings.identity, "test")
        stitcher.prefetch([("phone", phone(0)), ("anonymous_id", "y0")])
        # Another writer makes W absorb X after this one read X as a root.
        services.intake.ingest([w_absorbs_x(0)], source=WEB)

        survivor = stitcher.try_merge(x, y, reason="stitch", evidence=[], at=NOW, mid=None)
        stitcher.flush()

    with store.unit_of_work() as uow:
        merges = [(m.winner_id, m.loser_id, m.members) for m in uow.merges.involving([y])]
    assert survivor == w
    assert merges == [(w, y, [y])]
    assert outcome(store, 1) == {"split": 0, "chained": 0}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_row_lock_not_granted_at_once_fails_the_unit_of_work_as_a_write_conflict(
    store: Store,
) -> None:
    with store.unit_of_work(write=True) as uow:
        uow.customers.add_many(
            [
                {"id": cid, "kind": "person", "root_id": cid, "created_at": NOW, "message_id": None}
                for cid in ("cus_a", "cus_b")
            ]
        )

    with store.unit_of_work(write=True) as holder:
        holder.customers.lock(["cus_a"])
        with (
            pytest.raises(WriteConflict, match="held the same rows"),
            store.unit_of_work(write=True) as other,
        ):
            other.customers.lock(["cus_b"])
            other.customers.lock(["cus_a"], wait=False)
