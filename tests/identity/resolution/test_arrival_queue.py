"""The placement worker: customers handed over are placed in order, once each, off the caller's
thread; draining waits for what was handed over before it, and a failure stops nothing else."""

from __future__ import annotations

import doctest
import sqlite3
import threading

import pytest
from sqlalchemy.exc import OperationalError

from cornerstore.errors import Unavailable, WriteConflict
from cornerstore.identity.resolution import arrivals
from cornerstore.identity.resolution.arrivals import ArrivalQueue


def test_customers_handed_over_are_placed_in_order_each_once() -> None:
    placed: list[list[str]] = []
    placing = threading.Event()
    release = threading.Event()

    def place(ids: list[str]) -> None:
        placing.set()
        release.wait(timeout=30)
        placed.append(ids)

    queue = ArrivalQueue(place)
    queue.put(["a"])
    assert placing.wait(timeout=30)  # the worker holds "a": what follows waits behind it
    queue.put(["b", "c"])
    queue.put(["c", "d"])
    release.set()

    assert queue.drain(timeout=30)
    assert [x for ids in placed for x in ids] == ["a", "b", "c", "d"]


def test_putting_returns_before_the_placing_is_done() -> None:
    release = threading.Event()
    queue = ArrivalQueue(lambda ids: release.wait(timeout=30))

    queue.put(["a"])

    assert not queue.drain(timeout=0.05)
    release.set()
    assert queue.drain(timeout=30)


def test_a_failing_placement_is_logged_and_the_next_customers_are_placed() -> None:
    placed: list[str] = []

    def place(ids: list[str]) -> None:
        if "bad" in ids:
            raise RuntimeError("scoring failed")
        placed.extend(ids)

    queue = ArrivalQueue(place)
    queue.put(["bad"])
    assert queue.drain(timeout=30)
    queue.put(["good"])

    assert queue.drain(timeout=30)
    assert placed == ["good"]


def test_draining_waits_for_customers_handed_over_before_it() -> None:
    release_second = threading.Event()

    def place(ids: list[str]) -> None:
        if ids == ["late"]:
            release_second.wait(timeout=30)

    queue = ArrivalQueue(place)
    queue.put(["early"])
    assert queue.drain(timeout=30)
    queue.put(["late"])
    done = threading.Event()

    def drain_then_mark() -> None:
        queue.drain(timeout=30)
        done.set()

    waiter = threading.Thread(target=drain_then_mark)
    waiter.start()

    assert not done.wait(timeout=0.05)  # "late" was handed over before this drain
    release_second.set()
    waiter.join(timeout=30)
    assert done.is_set()


def test_a_placement_the_store_could_not_serve_for_now_is_tried_again(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(arrivals, "FIRST_WAIT", 0.001)
    tries: list[list[str]] = []

    def place(ids: list[str]) -> None:
        tries.append(ids)
        if len(tries) <= 2:
            raise WriteConflict("a concurrent write held the same rows")

    queue = ArrivalQueue(place)
    queue.put(["a", "b"])

    assert queue.drain(timeout=30)
    assert (tries, caplog.text) == ([["a", "b"]] * 3, "")


def test_a_placement_still_failing_is_logged_with_the_database_error_code_and_no_values(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(arrivals, "FIRST_WAIT", 0.001)
    locked = sqlite3.OperationalError("database is locked")
    locked.sqlite_errorname = "SQLITE_BUSY"  # as SQLite sets it

    def place(ids: list[str]) -> None:
        try:
            raise OperationalError("SELECT ... WHERE email = ?", ["ann@example.com"], locked)
        except OperationalError as exc:
            raise Unavailable("the database is busy; retry shortly") from exc

    queue = ArrivalQueue(place)
    queue.put(["a"])

    assert queue.drain(timeout=30)
    assert [r.getMessage() for r in caplog.records] == [
        "identity: placing 1 arrivals failed (Unavailable, OperationalError SQLITE_BUSY)"
    ]


def test_a_placement_failing_otherwise_is_not_tried_again(caplog: pytest.LogCaptureFixture) -> None:
    tries: list[list[str]] = []

    def place(ids: list[str]) -> None:
        tries.append(ids)
        raise RuntimeError("scoring failed")

    queue = ArrivalQueue(place)
    queue.put(["a"])

    assert queue.drain(timeout=30)
    assert (len(tries), [r.getMessage() for r in caplog.records]) == (
        1,
        ["identity: placing 1 arrivals failed (RuntimeError)"],
    )


def test_hand_overs_in_quick_succession_are_placed_on_one_worker_that_ends_when_idle() -> None:
    workers: list[threading.Thread] = []
    queue = ArrivalQueue(lambda ids: workers.append(threading.current_thread()))

    for batch in range(5):
        queue.put([f"cus_{batch}"])
        assert queue.drain(timeout=30)
    worker = workers[0]
    worker.join(timeout=arrivals.LINGER + 30)

    # One thread for the whole stream, not one a batch; and none left once the stream stops,
    # so a command that stored customers exits.
    assert (len(set(workers)), len(workers), worker.is_alive()) == (1, 5, False)


def test_the_docstring_example_runs() -> None:
    assert doctest.testmod(arrivals).failed == 0
