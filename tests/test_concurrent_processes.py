"""Writers in separate processes against one PostgreSQL database: real ``cornerstore serve``
processes (one of them with ``--workers 2``) and ``cornerstore import``, each run through the
installed executable as an operator would.

Two servers receive, at the same moment, the identifies that make W absorb X and X absorb Y
(:mod:`tests.identity.overlapping_merges`): every person must end as one customer, no profile may
point at a root that was merged away, and every request must succeed (no deadlock, no 5xx); so
too when identity resolution's batched merges join the same people beside a server. An
import of people that live intake is writing at the same time must store every row.
"""

from __future__ import annotations

import csv
import json
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from cornerstore.access.caller import Caller
from cornerstore.intake.service import Source
from cornerstore.services import Services
from cornerstore.settings import Settings
from cornerstore.storage.database import Store
from tests.factories import identify
from tests.identity.overlapping_merges import (
    Message,
    keys_of,
    outcome,
    three_profiles_each,
    w_absorbs_x,
    x_absorbs_y_by_email,
    x_absorbs_y_by_phone,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

CORNERSTORE = str(Path(sys.executable).parent / "cornerstore")
PEOPLE = 300
# People per request: a request's merges share one transaction, as a client's batch does.
BATCH = 3
MAP = ["--map", "email=email", "--map", "first_name=first_name"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(database_url: str, folder: Path, *, workers: int = 1) -> Iterator[str]:
    """A ``cornerstore serve`` process on a loopback port; yields its address, stops it after."""
    port = _free_port()
    log = (folder / f"serve-{port}.log").open("wb")
    process = subprocess.Popen(
        [CORNERSTORE, "serve", "--port", str(port), "--workers", str(workers)],
        env={**os.environ, "CORNERSTORE_DATABASE_URL": database_url},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "cornerstore serve stopped before answering"
            assert time.monotonic() < deadline, "cornerstore serve did not answer within 60 s"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def server_log(folder: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in sorted(folder.glob("serve-*.log")))


def write_key(settings: Settings, store: Store, owner: Caller) -> str:
    services = Services.build(settings, store)
    return services.credentials.create_write_key(owner, "shop", "web", "server").secret


def post_all(requests: list[tuple[str, list[Message]]], key: str) -> list[int]:
    """POST each (server, messages) as one batch, sixteen at a time; the statuses in order."""

    def post(request: tuple[str, list[Message]]) -> int:
        url, batch = request
        r = httpx.post(f"{url}/v1/batch", json={"batch": batch}, auth=(key, ""), timeout=120)
        return r.status_code

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(post, requests))


@pytest.mark.parametrize("x_absorbs_y", [x_absorbs_y_by_email, x_absorbs_y_by_phone])
def test_two_servers_merging_overlapping_profiles_at_once_lose_no_merge(
    settings: Settings,
    store: Store,
    owner: Caller,
    tmp_path: Path,
    x_absorbs_y: Callable[[int], Message],
) -> None:
    key = write_key(settings, store, owner)
    web = Source("shop", "web")
    intake = Services.build(settings, store).intake
    three_profiles_each(store, PEOPLE, lambda batch: intake.ingest(batch, source=web))

    with (
        serving(settings.database_url, tmp_path) as a,
        serving(settings.database_url, tmp_path, workers=2) as b,
    ):
        requests: list[tuple[str, list[Message]]] = []
        for low in range(0, PEOPLE, BATCH):
            people = range(low, low + BATCH)
            # The two halves of each person's story are sent side by side.
            requests.append((a, [w_absorbs_x(p) for p in people]))
            requests.append((b, [x_absorbs_y(p) for p in people]))
        statuses = post_all(requests, key)

    assert {status: statuses.count(status) for status in statuses} == {200: len(requests)}
    assert outcome(store, PEOPLE) == {"split": 0, "chained": 0}
    said = server_log(tmp_path).lower()
    assert "deadlock" not in said and "unexpected error" not in said


def test_batched_merges_beside_a_server_merging_the_same_people_lose_no_merge(
    settings: Settings, store: Store, owner: Caller, tmp_path: Path
) -> None:
    """``identity resolve`` merges in batches (:meth:`Merges.merge_batch`): while a server
    makes W absorb X for every person, two batch writers in this process make X absorb Y and
    Y join W, each in batches of another order, so every batch overlaps the server's merges
    and the other writer's batches."""
    key = write_key(settings, store, owner)
    web = Source("shop", "web")
    services = Services.build(settings, store)
    three_profiles_each(store, PEOPLE, lambda batch: services.intake.ingest(batch, source=web))
    with store.unit_of_work() as uow:
        found = uow.identifiers.lookup([k for p in range(PEOPLE) for k in keys_of(p)])
    w, x, y = ([found[keys_of(p)[i]].customer_id for p in range(PEOPLE)] for i in range(3))
    x_with_y = [(x[p], y[p]) for p in random.Random(1).sample(range(PEOPLE), PEOPLE)]
    y_with_w = [(y[p], w[p]) for p in random.Random(2).sample(range(PEOPLE), PEOPLE)]

    def merge_in_batches(pairs: list[tuple[str, str]]) -> list[str]:
        outcomes: list[str] = []
        for low in range(0, len(pairs), 25):
            outcomes += services.merges.merge_batch(owner, pairs[low : low + 25])
        return outcomes

    deadlocks_before = deadlocks(store)
    with serving(settings.database_url, tmp_path) as server, ThreadPoolExecutor(2) as pool:
        batches = [pool.submit(merge_in_batches, pairs) for pairs in (x_with_y, y_with_w)]
        statuses = post_all(
            [
                (server, [w_absorbs_x(p) for p in range(low, low + BATCH)])
                for low in range(0, PEOPLE, BATCH)
            ],
            key,
        )
        outcomes = [o for batch in batches for o in batch.result()]

    assert {status: statuses.count(status) for status in statuses} == {200: len(statuses)}
    assert "refused" not in outcomes and len(outcomes) == 2 * PEOPLE
    assert outcome(store, PEOPLE) == {"split": 0, "chained": 0}
    with store.unit_of_work() as uow:
        assert uow.customers.count(roots_only=True) == PEOPLE
    said = server_log(tmp_path).lower()
    assert "deadlock" not in said and "unexpected error" not in said
    # A deadlock would have been retried unseen: PostgreSQL's own count says there was none.
    assert deadlocks(store) == deadlocks_before


def deadlocks(store: Store) -> int:
    """Deadlocks PostgreSQL detected in this database so far (sessions report their counts
    within a second of going idle)."""
    time.sleep(1.5)
    with store.engine.connect() as conn:
        conn.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
        query = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        return int(conn.exec_driver_sql(query).scalar_one())


def test_an_import_stores_every_row_while_live_intake_writes_the_same_people(
    settings: Settings, store: Store, owner: Caller, tmp_path: Path
) -> None:
    people = 3000
    emails = [f"p{i}@example.com" for i in range(people)]
    file = tmp_path / "people.csv"
    with file.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["email", "first_name"])
        writer.writerows([email, f"Name{i}"] for i, email in enumerate(emails))
    key = write_key(settings, store, owner)
    live = random.Random(18).sample(range(people), people)

    with serving(settings.database_url, tmp_path) as server:
        started = subprocess.Popen(
            [CORNERSTORE, "import", str(file), "--touchpoint", "store", "--json", *MAP],
            env={**os.environ, "CORNERSTORE_DATABASE_URL": settings.database_url},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # The shop's site sends the same people, in another order, while the import runs.
        statuses = post_all(
            [
                (server, [identify(anonymous_id=f"web{i}", email=emails[i]) for i in chunk])
                for chunk in (live[low : low + 20] for low in range(0, people, 20))
            ],
            key,
        )
        out, err = started.communicate(timeout=600)

    assert (started.returncode, err) == (0, "")
    summary = json.loads(out)
    assert (summary["read"], summary["accepted"]) == (people, people)
    assert {status: statuses.count(status) for status in statuses} == {200: len(statuses)}
    with store.unit_of_work() as uow:
        found = uow.identifiers.lookup([("email", e) for e in emails])
        assert (len(found), uow.customers.count()) == (people, people)
