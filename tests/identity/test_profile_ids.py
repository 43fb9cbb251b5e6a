"""Profile ids: unguessable, and in the order they were made, so that a batch's new customers
are written to the end of the customers' indexes rather than to a page each."""

from __future__ import annotations

import shutil
import sqlite3
import struct
import time
from collections import Counter
from pathlib import Path

import pytest

from cornerstore.identity.stitching import new_profile_id
from cornerstore.intake.service import Intake, Source
from cornerstore.settings import Settings
from cornerstore.storage.database import open_store
from tests.factories import track

WEB = Source("web", "web")


def test_a_profile_made_in_a_later_second_gets_an_id_that_sorts_after_earlier_ones() -> None:
    made = [new_profile_id("person", now=second) for second in (1_765_000_000.0, 1_765_000_001.9)]

    assert made[0] < made[1]
    assert [i[:12] for i in made] == ["cus_6933c340", "cus_6933c341"]


def test_ids_made_in_the_same_second_keep_64_random_bits_and_differ() -> None:
    ids = [new_profile_id("account", now=1_765_000_000.0) for _ in range(1000)]

    assert len(set(ids)) == 1000
    assert {(i[:12], len(i)) for i in ids} == {("acc_6933c340", 28)}


def _pages_written(path: Path) -> Counter[str]:
    """The pages in the write-ahead log, counted by the table or index that owns them."""
    data = path.with_name(path.name + "-wal").read_bytes()
    page_size = struct.unpack(">I", data[8:12])[0]
    pages = {
        struct.unpack(">I", data[at : at + 4])[0]
        for at in range(32, len(data) - page_size - 23, 24 + page_size)
    }
    with sqlite3.connect(path) as db:
        owner = dict(db.execute("SELECT pageno, name FROM dbstat").fetchall())
    return Counter(owner.get(page, "") for page in pages)


def _empty_the_log(path: Path) -> None:
    # TRUNCATE waits (up to the timeout) for readers such as the placement thread to finish.
    db = sqlite3.connect(path, timeout=30)
    try:
        busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        db.close()
    assert busy == 0


def test_a_batch_of_new_customers_writes_a_few_pages_of_the_customers_indexes(
    tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cornerstore.db"
    shutil.copyfile(sqlite_template, path)
    settings = Settings(database_url=f"sqlite:///{path}", secret_key="test-secret")
    store = open_store(settings.database_url, upgrade=True)
    intake = Intake(store, settings)
    try:
        # 3,000 visitors who came an hour ago, then 100 new ones now.
        an_hour_ago = time.time() - 3600
        with monkeypatch.context() as clock:
            clock.setattr(time, "time", lambda: an_hour_ago)
            for start in range(0, 3000, 500):
                earlier = [track("Viewed", anonymous_id=f"a{n}") for n in range(start, start + 500)]
                assert intake.ingest(earlier, source=WEB).profiles_created == 500
        _empty_the_log(path)

        now = [track("Viewed", anonymous_id=f"b{n}") for n in range(100)]
        result = intake.ingest(now, source=WEB)
        written = _pages_written(path)
    finally:
        store.dispose()

    assert result.profiles_created == 100
    # 100 entries fill one or two leaf pages, and a split writes its parent. Random ids put the
    # 100 on every one of each index's 25 leaf pages (and the events' customer index on 51).
    indexes = (
        "sqlite_autoindex_customers_1",
        "ix_customers_root_id",
        "ix_identifiers_customer_id",
        "ix_events_customer_id_occurred_at",
    )
    assert {name: written[name] <= 8 for name in indexes} == dict.fromkeys(indexes, True)
