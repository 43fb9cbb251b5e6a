"""A batch that keeps losing races to concurrent writers: retried inside, then 503 with
Retry-After, never a 4xx (the official clients drop a batch on any 4xx but 429)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from cornerstore.errors import WriteConflict
from cornerstore.intake import service as intake_service
from cornerstore.intake.service import Intake
from cornerstore.storage.retry import Patience
from tests.api.conftest import Keys
from tests.factories import identify


@pytest.fixture
def losing(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], list[int]]:
    """Make the next ``n`` attempts to store a batch lose to a concurrent writer; returns the
    list that counts the attempts. Requests wait no more than a millisecond between tries."""
    monkeypatch.setattr(intake_service, "REQUEST", Patience(4, 0.001, 0.001))
    store = Intake._store

    def arrange(n: int) -> list[int]:
        attempts: list[int] = []

        def store_or_lose(self: Intake, jobs: Sequence[Any]) -> list[str]:
            attempts.append(1)
            if len(attempts) <= n:
                raise WriteConflict("a concurrent write stored the same key first")
            return store(self, jobs)

        monkeypatch.setattr(Intake, "_store", store_or_lose)
        return attempts

    return arrange


def test_a_batch_that_lost_a_race_is_stored_on_a_later_try(
    client: Any, keys: Keys, losing: Callable[[int], list[int]]
) -> None:
    attempts = losing(3)

    r = client.post("/v1/identify", json=identify("u1"), auth=(keys.write_key, ""))

    assert (r.status_code, r.json()["accepted"], len(attempts)) == (200, 1, 4)


def test_a_batch_that_keeps_losing_races_answers_503_with_retry_after(
    client: Any, keys: Keys, losing: Callable[[int], list[int]]
) -> None:
    attempts = losing(100)

    r = client.post("/v1/identify", json=identify("u1"), auth=(keys.write_key, ""))

    assert (r.status_code, r.headers["retry-after"], len(attempts)) == (503, "1", 4)
    assert r.json() == {
        "code": "write_conflict",
        "message": "a concurrent write stored the same key first",
    }
