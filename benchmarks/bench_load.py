"""Mixed load on a running server, as a busy Saturday: a bounded pool of keep-alive clients on
loopback (asyncio over raw sockets, in a process of their own), each sending its next request
when the last one answered; 70% are intake batches of 50 messages (``POST /v1/batch``), 30%
staff profile reads (``GET /v1/customers/{id}``, each one audited). The first seconds warm the
server up (imports, caches, pools) and are not counted. SQLite with one worker, PostgreSQL
with one and two; with the audit trail journalled (as ``cornerstore serve`` runs) and, for
comparison, written to the database before each read is answered.

    .venv/bin/python -m benchmarks.bench_load                        # 60 s a configuration
    .venv/bin/python -m benchmarks.bench_load --duration 10 --only sqlite-1

Prints throughput, p50 and p99 (reads apart), errors and 5xx, and the CPU the server's processes
and the load generator used (in cores: both share this machine's two); the CPU milliseconds
of the server and of its PostgreSQL backends a request, and the requests answered per CPU
second of both together, which a busy machine does not change; writes ``results/load.json``.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.common import (
    fresh_database,
    latency_ms,
    machine,
    print_table,
    scratch_dir,
    write_result,
)
from benchmarks.load import mixed_load
from benchmarks.server import database_cpu_seconds, server_cpu_seconds, uvicorn_server

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


def summarise(report: dict[str, Any]) -> dict[str, Any]:
    """Throughput, latencies and errors of a :func:`benchmarks.load.mixed_load` report."""
    latency = report["latencies"]
    statuses: Counter[int] = Counter()
    for counts in report["statuses"].values():
        statuses.update(counts)
    everything = latency["intake"] + latency["read"]
    seconds = report["seconds"]
    return {
        "seconds": round(seconds, 1),
        "requests_per_s": round(len(everything) / seconds, 1),
        "events_per_s": round(50 * report["statuses"]["intake"].get(200, 0) / seconds),
        "all": latency_ms(everything),
        "read": latency_ms(latency["read"]),
        "intake": latency_ms(latency["intake"]),
        "reads": len(latency["read"]),
        "batches": len(latency["intake"]),
        "statuses": dict(statuses),
        # 0 is a request whose connection failed before an answer.
        "errors": sum(n for status, n in statuses.items() if status != 200),
        "5xx": sum(n for status, n in statuses.items() if status >= 500),
        "client_cpu_share": round(report["cpu_share"], 3),
    }


def run(name: str, audit: str, args: argparse.Namespace) -> dict[str, Any]:
    backend, workers = CONFIGS[name]
    with (
        fresh_database(None if backend == "sqlite" else args.database_url, "load") as url,
        scratch_dir("load") as folder,
    ):
        key, token, ids = seed(url, args.customers)
        application = f"cs_load_{name}"
        if backend == "postgresql":
            # Named, so that the CPU of the server's PostgreSQL backends can be told apart.
            url = f"{url}&application_name={application}"
        env = {"CORNERSTORE_SECRET_KEY": "bench"}
        if audit == "journal":
            env["CORNERSTORE_ACCESS__AUDIT_JOURNAL"] = str(Path(folder) / "journal")
        with uvicorn_server(url, workers=workers, log_dir=folder, env=env) as base:
            cpu0, wall0 = server_cpu_seconds(base), time.monotonic()
            db0 = database_cpu_seconds(url, application) if backend == "postgresql" else {}
            report = mixed_load(
                base,
                write_key=key,
                token=token,
                ids=ids,
                clients=args.clients,
                duration=args.duration,
                warmup=args.warmup,
                tag=f"{name}-{audit}",
            )
            server_cpu = server_cpu_seconds(base) - cpu0
            server_share = server_cpu / (time.monotonic() - wall0)
            db1 = database_cpu_seconds(url, application) if backend == "postgresql" else {}
            # Backends opened during the run started from nothing.
            database_cpu = sum(cpu - db0.get(pid, 0.0) for pid, cpu in db1.items())
    result = summarise(report)
    answered = report["answered_total"]
    return {
        "config": name,
        "audit": audit,
        **result,
        # Warm-up included: CPU seconds of the server's processes per wall second.
        "server_cpu_share": round(server_share, 3),
        # The server's CPU a request, warm-up included: steadier than throughput on a busy box.
        "server_cpu_ms_per_request": round(1000 * server_cpu / max(1, answered), 2),
        # The same for the PostgreSQL backends serving it (none for SQLite: in the server).
        "database_cpu_ms_per_request": round(1000 * database_cpu / max(1, answered), 2),
        # Requests answered per CPU second of server and database together: what the
        # machine would give if nothing else ran on it, whatever else runs now.
        "requests_per_cpu_second": round(answered / max(1e-9, server_cpu + database_cpu), 1),
        "load_average_1m": machine()["load_average_1m"],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=60.0, help="seconds a run (%(default)s)")
    p.add_argument(
        "--warmup", type=float, default=5.0, help="seconds sent before counting (%(default)s)"
    )
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
            "app ms/req",
            "PG ms/req",
            "req/CPU-s",
            "client CPU",
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
                r["server_cpu_ms_per_request"],
                r["database_cpu_ms_per_request"],
                r["requests_per_cpu_second"],
                r["client_cpu_share"],
                r["load_average_1m"],
            ]
            for r in runs
        ],
    )
    print(f"written {write_result('load', {'machine': machine(), 'runs': runs})}")


if __name__ == "__main__":
    main()
