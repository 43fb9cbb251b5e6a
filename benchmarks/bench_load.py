"""Mixed load on a running server, as a busy Saturday: a bounded pool of asyncio clients
(httpx) on loopback, each sending its next request when the last one answered; 70% are intake
batches of 50 messages (``POST /v1/batch``), 30% staff profile reads (``GET
/v1/customers/{id}``, each one audited). SQLite with one worker, PostgreSQL with one and two;
with the audit trail journalled (as ``cornerstore serve`` runs) and, for comparison, written to
the database before each read is answered.

    .venv/bin/python -m benchmarks.bench_load                        # 60 s a configuration
    .venv/bin/python -m benchmarks.bench_load --duration 10 --only sqlite-1

Prints throughput, p50 and p99 (reads apart), errors and 5xx; writes ``results/load.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import (
    fresh_database,
    latency_ms,
    machine,
    print_table,
    scratch_dir,
    write_result,
)
from benchmarks.server import uvicorn_server

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CONFIGS = {
    "sqlite-1": ("sqlite", 1),
    "postgresql-1": ("postgresql", 1),
    "postgresql-2": ("postgresql", 2),
}


def seed(url: str, customers: int) -> tuple[str, str, list[str]]:
    """Store ``customers`` customers; a write key, an owner token and their ids."""
    from sqlalchemy import text

    from cornerstore.access.caller import system_caller
    from cornerstore.intake.service import Source
    from cornerstore.services import Services
    from cornerstore.settings import Settings
    from cornerstore.storage import open_store

    store = open_store(url)
    services = Services.build(Settings(database_url=url, secret_key="bench"), store)
    owner = system_caller(via="library", actor="bench")
    for low in range(0, customers, 1000):
        batch = [
            {
                "type": "identify",
                "messageId": f"seed-{i}",
                "anonymousId": f"a{i}",
                "traits": {"email": f"c{i}@example.com", "firstName": f"Name{i}"},
            }
            for i in range(low, min(customers, low + 1000))
        ]
        services.intake.ingest(batch, source=Source("seed", "store"))
    with store.engine.connect() as conn:
        ids = list(conn.execute(text("SELECT id FROM customers")).scalars())
    key = services.credentials.create_write_key(owner, "shop", "web", "server").secret
    token = services.credentials.create_token(owner, "bench", "owner").secret
    store.dispose()
    return key, token, ids


class Tally:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = {"intake": [], "read": []}
        self.statuses: Counter[int] = Counter()
        self.errors = 0


async def client(
    base: str,
    key: str,
    token: str,
    ids: list[str],
    until: float,
    rng: random.Random,
    tally: Tally,
    counter: list[int],
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        while time.monotonic() < until:
            started = time.perf_counter()
            try:
                if rng.random() < 0.7:
                    kind = "intake"
                    counter[0] += 1
                    batch = [
                        {
                            "type": "track",
                            "messageId": f"load-{counter[0]}-{j}",
                            "anonymousId": f"a{rng.randrange(len(ids))}",
                            "event": "Product Viewed",
                            "properties": {"sku": f"S{rng.randrange(500)}"},
                        }
                        for j in range(50)
                    ]
                    answer = await http.post("/v1/batch", json={"batch": batch}, auth=(key, ""))
                else:
                    kind = "read"
                    answer = await http.get(
                        f"/v1/customers/{rng.choice(ids)}",
                        headers={"Authorization": f"Bearer {token}"},
                    )
            except httpx.HTTPError:
                tally.errors += 1
                continue
            tally.latency[kind].append(time.perf_counter() - started)
            tally.statuses[answer.status_code] += 1


async def drive(base: str, key: str, token: str, ids: list[str], args: Any) -> dict[str, Any]:
    tally = Tally()
    counter = [0]
    started = time.monotonic()
    until = started + args.duration
    await asyncio.gather(
        *(
            client(base, key, token, ids, until, random.Random(i), tally, counter)
            for i in range(args.clients)
        )
    )
    seconds = time.monotonic() - started
    everything = tally.latency["intake"] + tally.latency["read"]
    return {
        "seconds": round(seconds, 1),
        "requests_per_s": round(len(everything) / seconds, 1),
        "all": latency_ms(everything),
        "read": latency_ms(tally.latency["read"]),
        "intake": latency_ms(tally.latency["intake"]),
        "reads": len(tally.latency["read"]),
        "batches": len(tally.latency["intake"]),
        "statuses": dict(tally.statuses),
        "errors": tally.errors + sum(n for s, n in tally.statuses.items() if s != 200),
        "5xx": sum(n for s, n in tally.statuses.items() if s >= 500),
    }


def run(name: str, audit: str, args: argparse.Namespace) -> dict[str, Any]:
    backend, workers = CONFIGS[name]
    with (
        fresh_database(None if backend == "sqlite" else args.database_url, "load") as url,
        scratch_dir("load") as folder,
    ):
        key, token, ids = seed(url, args.customers)
        env = {"CORNERSTORE_SECRET_KEY": "bench"}
        if audit == "journal":
            env["CORNERSTORE_ACCESS__AUDIT_JOURNAL"] = str(Path(folder) / "journal")
        with uvicorn_server(url, workers=workers, log_dir=folder, env=env) as base:
            result = asyncio.run(drive(base, key, token, ids, args))
    return {
        "config": name,
        "audit": audit,
        **result,
        "load_average_1m": machine()["load_average_1m"],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=60.0, help="seconds a run (%(default)s)")
    p.add_argument("--clients", type=int, default=32, help="concurrent clients (%(default)s)")
    p.add_argument("--customers", type=int, default=5000, help="stored customers (%(default)s)")
    p.add_argument("--only", default=",".join(CONFIGS), help="configurations (%(default)s)")
    p.add_argument("--audit", default="journal", help="journal, database or both (%(default)s)")
    p.add_argument("--database-url", default=PG_URL, help="PostgreSQL to make schemas in")
    args = p.parse_args()
    audits = ["journal", "database"] if args.audit == "both" else [args.audit]
    runs = [run(name, audit, args) for name in args.only.split(",") for audit in audits]
    print_table(
        f"Mixed load: {args.clients} clients, 70% batches of 50, 30% profile reads, "
        f"{args.duration:.0f} s",
        [
            "config",
            "audit",
            "req/s",
            "p50 ms",
            "p99 ms",
            "read p50",
            "read p99",
            "errors",
            "5xx",
            "load",
        ],
        [
            [
                r["config"],
                r["audit"],
                r["requests_per_s"],
                r["all"]["p50_ms"],
                r["all"]["p99_ms"],
                r["read"]["p50_ms"],
                r["read"]["p99_ms"],
                r["errors"],
                r["5xx"],
                r["load_average_1m"],
            ]
            for r in runs
        ],
    )
    print(f"written {write_result('load', {'machine': machine(), 'runs': runs})}")


if __name__ == "__main__":
    main()
