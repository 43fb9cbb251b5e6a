"""Units of work tried again after losing a race, as patiently as asked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from cornerstore.errors import InvalidInput, Unavailable, WriteConflict
from cornerstore.storage.retry import Patience, retry_conflicts

QUICK = Patience(attempts=3, first_wait=0.001, longest_wait=0.002)


def losing_then(result: str, losses: int, error: Exception) -> tuple[list[int], Callable[[], str]]:
    """A write that fails with ``error`` ``losses`` times, then returns ``result``; and the
    list counting its calls."""
    calls: list[int] = []

    def write() -> str:
        calls.append(1)
        if len(calls) <= losses:
            raise error
        return result

    return calls, write


def test_a_write_that_lost_a_race_runs_again_until_it_succeeds() -> None:
    calls, write = losing_then("stored", 2, WriteConflict("a concurrent write held the same rows"))

    assert (retry_conflicts(write, QUICK, "test"), len(calls)) == ("stored", 3)


def test_the_last_failure_is_raised_once_patience_runs_out() -> None:
    calls, write = losing_then("stored", 3, WriteConflict("a concurrent write held the same rows"))

    with pytest.raises(WriteConflict, match="held the same rows"):
        retry_conflicts(write, QUICK, "test")
    assert len(calls) == 3


def test_a_busy_database_is_tried_again_only_by_a_patient_writer() -> None:
    busy = Unavailable("the database is busy; retry shortly")
    request_calls, request_write = losing_then("stored", 1, busy)
    import_calls, import_write = losing_then("stored", 1, busy)

    with pytest.raises(Unavailable, match="busy"):
        retry_conflicts(request_write, QUICK, "test")
    stored = retry_conflicts(import_write, replace(QUICK, busy=True), "test")

    assert (len(request_calls), stored, len(import_calls)) == (1, "stored", 2)


def test_a_failure_a_retry_cannot_solve_is_raised_at_once() -> None:
    calls, write = losing_then("stored", 1, InvalidInput("batch[0]: needs a userId"))

    with pytest.raises(InvalidInput):
        retry_conflicts(write, QUICK, "test")
    assert len(calls) == 1


def test_waits_double_up_to_the_longest_and_are_jittered_below_it() -> None:
    patience = Patience(attempts=10, first_wait=0.1, longest_wait=0.5)

    waits = [patience.wait(n) for n in (1, 2, 3, 4, 5)]

    assert [0.05 <= waits[0] <= 0.1, 0.1 <= waits[1] <= 0.2, 0.2 <= waits[2] <= 0.4] == [True] * 3
    assert all(0.25 <= w <= 0.5 for w in waits[3:])
