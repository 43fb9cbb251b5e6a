"""A SQLite file's writing units of work run on one writer connection: writers of a process
queue for it (each one's rows stored, none refused as busy), a writer kept waiting past the
busy timeout answers Unavailable as a locked database does, and NULLs are stored as NULL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from cornerstore.errors import Unavailable
from cornerstore.storage import open_store

AT = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)


def _customer(cid: str) -> dict[str, object]:
    return {"id": cid, "kind": "person", "root_id": cid, "created_at": AT, "message_id": None}


def test_writers_of_one_process_queue_for_the_writer_connection_and_all_store(
    tmp_path: Path,
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'shop.db'}", upgrade=True)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(20):
                with store.unit_of_work(write=True) as uow:
                    uow.customers.add_many([_customer(f"cus_{n}_{i}")])
        except BaseException as exc:  # gathered for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with store.unit_of_work() as uow:
        stored = uow.conn.execute(text("SELECT count(*) FROM customers")).scalar_one()
    writer_pool_size = store.writer.pool.size() if store.writer is not None else None
    store.dispose()

    assert (errors, stored, writer_pool_size) == ([], 80, 1)


def test_a_writer_kept_waiting_past_the_busy_timeout_answers_unavailable(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'shop.db'}", busy_timeout_ms=200, upgrade=True)
    holding, release = threading.Event(), threading.Event()

    def hold_the_writer() -> None:
        with store.unit_of_work(write=True) as uow:
            uow.customers.add_many([_customer("cus_holder")])
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold_the_writer)
    holder.start()
    holding.wait(10)
    try:
        with (
            pytest.raises(Unavailable, match="busy") as busy,
            store.unit_of_work(write=True) as uow,
        ):
            uow.customers.add_many([_customer("cus_waiter")])
    finally:
        release.set()
        holder.join()
    with store.unit_of_work() as uow:
        stored = uow.conn.execute(text("SELECT id FROM customers ORDER BY id")).scalars().all()
    store.dispose()

    assert (busy.value.retry_after, stored) == (1, ["cus_holder"])


def test_a_reader_sees_what_the_writer_connection_committed_and_nulls_stay_null(
    tmp_path: Path,
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'shop.db'}", upgrade=True)

    with store.unit_of_work(write=True) as uow:
        uow.customers.add_many([_customer("cus_ann")])
    with store.unit_of_work() as uow:
        row = uow.conn.execute(
            text("SELECT id, message_id, message_id IS NULL FROM customers")
        ).one()
    store.dispose()

    assert tuple(row) == ("cus_ann", None, 1)


def test_a_memory_database_keeps_its_single_connection_for_writes() -> None:
    store = open_store("sqlite://", upgrade=True)

    with store.unit_of_work(write=True) as uow:
        uow.customers.add_many([_customer("cus_ann")])
    with store.unit_of_work() as uow:
        count = uow.conn.execute(text("SELECT count(*) FROM customers")).scalar_one()
    writer = store.writer
    store.dispose()

    assert (writer, count) == (None, 1)
