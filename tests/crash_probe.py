"""The crash probe: ``/v1/batch`` traffic streamed at a ``cornerstore serve`` process that is
killed with SIGKILL again and again, as power cuts and OOM kills do to a real server.

Senders post batches of Segment messages from several threads. When the server dies under a
batch, the sender keeps that batch and, once the server is back, sends it again unchanged, as
every Segment client does (same ``messageId``s). After the last kill the store must hold every
message the server acknowledged, each once: an event per message, one profile per person and
no trait observed twice by the same message. A batch committed but not answered before the kill
must be answered, on its retry, with its messages counted as duplicates.

``tests/test_crash_durability.py`` runs a few kills on SQLite and PostgreSQL;
``benchmarks/bench_crash.py`` the full thirty.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

CORNERSTORE = str(Path(sys.executable).parent / "cornerstore")
Message = dict[str, Any]


@dataclass
class ProbeReport:
    """What the probe saw from the clients and then found in the store."""

    kills: int
    batches: int
    sent_messages: int
    acknowledged: int
    retried_batches: int
    retries_with_duplicates: int
    statuses: dict[int, int]
    seconds: float
    lost: int = 0  # acknowledged but not stored
    stored_twice: int = 0  # messages with more than one event
    unsent_stored: int = 0  # events of messages never sent
    profiles: int = 0
    people: int = 0
    repeated_traits: int = 0  # (message, trait) pairs stored more than once
    log_tail: str = ""
    errors: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def batches_for(people: int, batches: int, size: int, seed: int) -> list[list[Message]]:
    """Seeded traffic: each person identifies (e-mail, first name) once and then tracks orders;
    every message has its own ``messageId``."""
    rng = random.Random(seed)
    out: list[list[Message]] = []
    introduced: set[int] = set()
    n = 0
    for _ in range(batches):
        batch: list[Message] = []
        for _ in range(size):
            person = rng.randrange(people)
            n += 1
            message: Message = {"messageId": f"probe-{seed}-{n}", "anonymousId": f"anon-{person}"}
            if person not in introduced:
                introduced.add(person)
                message |= {
                    "type": "identify",
                    "traits": {"email": f"p{person}@example.com", "firstName": f"Name{person}"},
                }
            else:
                message |= {
                    "type": "track",
                    "event": "Order Completed",
                    "properties": {"order_id": f"o-{n}", "total": n % 97 + 0.5},
                }
            batch.append(message)
        out.append(batch)
    return out


class Server:
    """One ``cornerstore serve`` process (with its workers) on a fixed port, killed for real."""

    def __init__(
        self, database_url: str, folder: Path, workers: int, env: dict[str, str] | None = None
    ) -> None:
        self.database_url = database_url
        self.env = env or {}
        self.folder = folder
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.up = threading.Event()
        self.starts = 0

    def start(self, timeout: float = 90.0) -> None:
        self.starts += 1
        log = (self.folder / f"serve-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [CORNERSTORE, "serve", "--port", str(self.port), "--workers", str(self.workers)],
            env={**os.environ, "CORNERSTORE_DATABASE_URL": self.database_url, **self.env},
            cwd=self.folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its workers share its process group, so a kill takes all
        )
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError("cornerstore serve stopped before answering:\n" + self.log())
            if time.monotonic() > deadline:
                raise RuntimeError("cornerstore serve did not answer in time:\n" + self.log())
            time.sleep(0.1)
        self.up.set()

    def kill(self) -> None:
        """SIGKILL the server and every worker: no shutdown, no flush, no goodbye."""
        assert self.process is not None
        self.up.clear()
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log(self) -> str:
        logs = sorted(self.folder.glob("serve-*.log"), key=lambda p: p.stat().st_mtime)
        return "".join(p.read_text(errors="replace") for p in logs)[-3000:]


class _Senders:
    """Threads posting batches; a batch the server did not answer is sent again, unchanged."""

    def __init__(self, server: Server, key: str, batches: list[list[Message]]) -> None:
        self.server = server
        self.key = key
        self.todo = list(reversed(batches))
        self.lock = threading.Lock()
        self.acknowledged: set[str] = set()
        self.answered = 0
        self.retried = 0
        self.retries_with_duplicates = 0
        self.statuses: Counter[int] = Counter()
        self.errors: list[str] = []

    def next_batch(self) -> list[Message] | None:
        with self.lock:
            return self.todo.pop() if self.todo else None

    def run(self) -> None:
        with httpx.Client(auth=(self.key, ""), timeout=60) as client:
            while (batch := self.next_batch()) is not None:
                self._deliver(client, batch)

    def _deliver(self, client: httpx.Client, batch: list[Message]) -> None:
        attempts = 0
        while True:
            self.server.up.wait()
            attempts += 1
            try:
                answer = client.post(self.server.url + "/v1/batch", json={"batch": batch})
            except httpx.TransportError:
                time.sleep(0.05)  # the server died under this batch: send it again once it is back
                continue
            with self.lock:
                self.statuses[answer.status_code] += 1
            if answer.status_code in (429, 503):
                time.sleep(float(answer.headers.get("Retry-After", "1")))
                continue
            self._record(batch, answer, retried=attempts > 1)
            return

    def _record(self, batch: list[Message], answer: httpx.Response, retried: bool) -> None:
        with self.lock:
            self.answered += 1
            if answer.status_code != 200:
                self.errors.append(f"HTTP {answer.status_code}: {answer.text[:200]}")
                return
            body = answer.json()
            if body["accepted"] + body["duplicates"] != len(batch) or body.get("rejected"):
                self.errors.append(f"batch answered {body}")
                return
            self.acknowledged.update(m["messageId"] for m in batch)
            if retried:
                self.retried += 1
                self.retries_with_duplicates += body["duplicates"] > 0


def run_probe(
    database_url: str,
    key: str,
    folder: Path,
    *,
    kills: int,
    workers: int = 1,
    people: int = 400,
    batches: int = 400,
    batch_size: int = 50,
    senders: int = 4,
    seed: int = 18,
) -> ProbeReport:
    """Stream ``batches`` at a server over ``database_url``, SIGKILL it ``kills`` times while
    batches are in flight (restarting it each time), then compare what clients were told with
    what the database holds."""
    traffic = batches_for(people, batches, batch_size, seed)
    server = Server(database_url, folder, workers)
    senders_ = _Senders(server, key, traffic)
    rng = random.Random(seed)
    started = time.monotonic()
    server.start()
    threads = [threading.Thread(target=senders_.run, daemon=True) for _ in range(senders)]
    for t in threads:
        t.start()
    done_kills = 0
    try:
        for _ in range(kills):
            # Kill at a random moment, after a random number of answers, while senders are busy.
            target = senders_.answered + rng.randint(3, max(4, batches // (kills + 1) // 2))
            while senders_.answered < target and any(t.is_alive() for t in threads):
                time.sleep(0.005)
            if not any(t.is_alive() for t in threads):
                break
            time.sleep(rng.random() * 0.05)
            server.kill()
            done_kills += 1
            server.start()
        for t in threads:
            t.join(timeout=600)
    finally:
        log = server.log()
        server.stop()
    sent = {m["messageId"] for batch in traffic for m in batch}
    report = ProbeReport(
        kills=done_kills,
        batches=len(traffic),
        sent_messages=len(sent),
        acknowledged=len(senders_.acknowledged),
        retried_batches=senders_.retried,
        retries_with_duplicates=senders_.retries_with_duplicates,
        statuses=dict(senders_.statuses),
        seconds=time.monotonic() - started,
        people=len({m["anonymousId"] for batch in traffic for m in batch}),
        log_tail=log,
        errors=senders_.errors,
    )
    _inspect(database_url, sent, senders_.acknowledged, report)
    return report


def _inspect(
    database_url: str, sent: set[str], acknowledged: set[str], report: ProbeReport
) -> None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            per_message: Counter[str] = Counter(
                dict(
                    conn.execute(
                        text("SELECT message_id, count(*) FROM events GROUP BY message_id")
                    ).all()
                )
            )
            report.profiles = conn.execute(
                text("SELECT count(*) FROM customers WHERE root_id = id")
            ).scalar_one()
            report.repeated_traits = conn.execute(
                text(
                    "SELECT count(*) FROM (SELECT message_id, name FROM traits"
                    " GROUP BY message_id, name HAVING count(*) > 1) AS repeated"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    report.lost = len(acknowledged - per_message.keys())
    report.stored_twice = sum(1 for n in per_message.values() if n > 1)
    report.unsent_stored = len(per_message.keys() - sent)
