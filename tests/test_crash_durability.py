"""SIGKILL a real ``cornerstore serve`` under streamed ``/v1/batch`` traffic, on SQLite and on
PostgreSQL (there with ``--workers 2``): nothing acknowledged is lost, nothing is stored twice,
and batches that were committed but not answered are answered as duplicates when sent again.

The probe itself is :mod:`tests.crash_probe`; ``benchmarks/bench_crash.py`` runs it with thirty
kills.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cornerstore.access.caller import Caller
from cornerstore.services import Services
from cornerstore.settings import Settings
from cornerstore.storage.database import Store
from tests.crash_probe import run_probe

pytestmark = pytest.mark.slow

KILLS = 4


def test_killed_servers_lose_no_acknowledged_message_and_store_none_twice(
    settings: Settings, store: Store, owner: Caller, tmp_path: Path
) -> None:
    key = Services.build(settings, store).credentials.create_write_key(
        owner, "shop", "web", "server"
    )
    workers = 2 if store.backend == "postgresql" else 1

    report = run_probe(
        settings.database_url,
        key.secret,
        tmp_path,
        kills=KILLS,
        workers=workers,
        people=200,
        batches=160,
        batch_size=50,
    )

    assert report.errors == [], report.log_tail
    assert report.kills == KILLS
    assert report.acknowledged == report.sent_messages == 160 * 50
    assert (report.lost, report.stored_twice, report.unsent_stored) == (0, 0, 0)
    assert (report.profiles, report.repeated_traits) == (report.people, 0)
    assert set(report.statuses) <= {200, 503}
    assert report.retried_batches >= 1
