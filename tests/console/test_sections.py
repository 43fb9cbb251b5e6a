"""Each section of a busy page within its time budget: over it, the read is really stopped."""

from __future__ import annotations

import threading

import pytest

from cornerstore.console.sections import read_sections
from cornerstore.errors import OverBudget
from cornerstore.storage.database import Store

# A statement that would run for minutes on each backend.
SLOW_SQL = {
    "sqlite": "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n"
    " WHERE x < 10000000000) SELECT count(*) FROM n",
    "postgresql": "SELECT pg_sleep(600)",
}


class SlowRead:
    """A section whose query runs for minutes; records how it ended."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.ended = threading.Event()
        self.raised: list[type[BaseException]] = []

    def __call__(self) -> object:
        try:
            with self.store.unit_of_work() as uow:
                return uow.conn.exec_driver_sql(SLOW_SQL[self.store.backend]).all()
        except BaseException as exc:
            self.raised.append(type(exc))
            raise
        finally:
            self.ended.set()


def test_a_section_over_its_budget_is_unavailable_and_its_query_is_stopped(store: Store) -> None:
    slow = SlowRead(store)

    found = read_sections(
        {"slow": slow, "quick": lambda: 1 + 1}, budget_seconds=0.3, time_limit=store.time_limit
    )

    assert found["slow"].unavailable and found["slow"].value is None
    assert found["quick"].value == 2 and not found["quick"].unavailable
    # Stopped by the database, not left running for minutes in its thread.
    assert slow.ended.wait(60)
    assert slow.raised == [OverBudget]


def test_a_read_within_its_time_limit_runs_and_the_connection_keeps_no_limit(
    store: Store,
) -> None:
    with store.time_limit(30), store.unit_of_work() as uow:
        assert uow.customers.count() == 0

    # The pooled connection serves the next read without the earlier limit.
    with store.unit_of_work() as uow:
        assert uow.conn.exec_driver_sql("SELECT 1").scalar() == 1
        if store.backend == "postgresql":
            assert uow.conn.exec_driver_sql("SHOW statement_timeout").scalar() == "0"


def test_a_unit_of_work_opened_after_its_time_is_up_raises_at_once(store: Store) -> None:
    with store.time_limit(-1), pytest.raises(OverBudget), store.unit_of_work() as uow:
        uow.customers.count()
