"""Overlapping merges at the same moment from two writers in one process: no merge is lost
(the scenario is described in :mod:`tests.identity.overlapping_merges`)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from cornerstore.intake.service import Source
from cornerstore.services import Services
from cornerstore.settings import Settings
from cornerstore.storage.database import Store
from tests.identity.overlapping_merges import (
    Message,
    outcome,
    three_profiles_each,
    w_absorbs_x,
    x_absorbs_y_by_email,
    x_absorbs_y_by_phone,
)

WEB = Source("web-shop", "web")
PEOPLE = 120
BATCH = 10


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
