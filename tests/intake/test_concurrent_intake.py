"""Many writers at once: nothing lost, nothing stored twice, one profile per person."""

from __future__ import annotations

import threading

from cornerstore.intake.service import IntakeResult, Source
from cornerstore.services import Services
from tests.factories import identify, track


def test_concurrent_batches_about_the_same_new_people_give_one_profile_each(
    services: Services,
) -> None:
    people = [f"p{i}" for i in range(40)]
    results: list[IntakeResult] = []
    lock = threading.Lock()

    def send(worker: int) -> None:
        batch = [identify(person, email=f"{person}@example.com") for person in people]
        batch += [track("Viewed", user_id=person, worker=worker) for person in people]
        result = services.intake.ingest(batch, source=Source(f"w{worker}", "web"))
        with lock:
            results.append(result)

    threads = [threading.Thread(target=send, args=(w,)) for w in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)

    with services.store.unit_of_work() as uow:
        profiles = uow.customers.count()
        events = uow.events.count()
    assert [r.accepted for r in results] == [80] * 6
    assert (profiles, events) == (40, 480)


def test_a_batch_sent_twice_at_the_same_time_is_stored_once(services: Services) -> None:
    batch = [track("Order Completed", user_id=f"u{i}", total=i) for i in range(30)]
    results: list[IntakeResult] = []

    def send() -> None:
        results.append(services.intake.ingest(batch, source=Source("web", "web")))

    threads = [threading.Thread(target=send) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)

    with services.store.unit_of_work() as uow:
        assert uow.events.count() == 30
    assert sorted((r.accepted, r.duplicates) for r in results) == [(0, 30), (0, 30), (30, 0)]
