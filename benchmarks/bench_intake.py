"""Intake throughput: ``Intake.ingest`` in-process and ``POST /v1/batch`` over HTTP, each beside
the raw speed of inserting the very same event rows with DB-API ``executemany``.

Every path starts from a fresh, migrated database that already knows ``--known`` customers (one
identify each, not timed), then takes a seeded mix of Spec messages in batches of ``--batch``.
The raw peer copies the profile rows the library created (so the foreign keys hold), then times
``executemany`` of the event rows the library stored, committing every ``--batch`` rows, and once
more with a single commit.

    python -m benchmarks.bench_intake                     # SQLite, default sizes
    python -m benchmarks.bench_intake --events 20000 --http-events 10000
    python -m benchmarks.bench_intake --profile 50000     # also a cProfile of library intake
    python -m benchmarks.bench_intake --source client     # measured as a public (web page) key
    python -m benchmarks.bench_intake --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import io
import pstats
import sqlite3
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from benchmarks import workload
from benchmarks.common import (
    RESULTS,
    backend_of,
    begin,
    console,
    dbapi_connect,
    executemany,
    fetchall,
    fresh_database,
    latency_ms,
    machine,
    placeholders,
    print_table,
    scratch_dir,
    write_result,
)

TARGET_LIBRARY = 20_000.0  # events/s
TARGET_HTTP = 8_000.0  # events/s
TARGET_RATIO = 0.5  # library / raw (commit every batch), issue 18


@dataclass
class Options:
    events: int = 200_000
    http_events: int = 100_000
    known: int = 10_000
    batch: int = 100
    senders: int = 4
    database_url: str | None = None
    http: bool = True
    profile: int = 0
    # Where the measured messages come from: a server-side source, or a client-side one (a web
    # page's public key, whose claims about known customers stay unverified). The seed is
    # always server-side.
    source: str = "server"


def _intake(url: str) -> Any:
    """The ``Intake`` the app would use, wired by ``Services.build``."""
    from cornerstore.services import Services
    from cornerstore.settings import Settings
    from cornerstore.storage import open_store

    # _env_file=None: a developer's .env must not change what is measured.
    settings = Settings(_env_file=None, database_url=url)
    return Services.build(settings, open_store(url, synchronous=settings.sqlite_synchronous)).intake


def _sqlite_synchronous() -> str:
    """The SQLite synchronous mode the library and the server run here (their default)."""
    from cornerstore.settings import Settings

    return str(Settings(_env_file=None).sqlite_synchronous)


def _source(client_side: bool = False) -> Any:
    from cornerstore.intake.service import Source

    return Source("bench", "web", client_side)


def seed(url: str, known: list[workload.Person], batch: int) -> float:
    """Store one identify per known customer (not part of any measurement)."""
    intake = _intake(url)
    started = time.perf_counter()
    for chunk in workload.batches(workload.seed_messages(known), batch):
        result = intake.ingest(chunk, source=_source())
        assert not result.rejected, result.rejected[:3]
    intake.store.dispose()
    return time.perf_counter() - started


def library_ingest(
    url: str, messages: list[dict[str, Any]], batch: int, source: str = "server"
) -> dict[str, Any]:
    intake = _intake(url)
    chunks = workload.batches(messages, batch)
    took: list[float] = []
    accepted = created = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    for chunk in chunks:
        t0 = time.perf_counter()
        result = intake.ingest(chunk, source=_source(source == "client"))
        took.append(time.perf_counter() - t0)
        accepted += result.accepted
        created += result.profiles_created
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    intake.store.dispose()
    return {
        "events": len(messages),
        "accepted": accepted,
        "profiles_created": created,
        "seconds": round(seconds, 3),
        "events_per_s": round(accepted / seconds, 1),
        # The process's own CPU time (waits for the disk and for other processes left out): on
        # a shared, loaded machine the steadier figure.
        "cpu_seconds": round(cpu_seconds, 3),
        "events_per_cpu_s": round(accepted / cpu_seconds, 1),
        "batch": {"size": batch, **latency_ms(took)},
    }


# -- the raw peer ------------------------------------------------------------------------------
def _columns(table: str) -> list[str]:
    """The columns an insert names: all but an autoincrement id, which the database assigns."""
    from cornerstore.storage import tables

    columns = tables.metadata.tables[table].columns
    return [c.name for c in columns if not (c.primary_key and c.autoincrement is True)]


def stored_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """The customers and events rows exactly as cornerstore stored them; the seed's events
    apart from the measured ones."""
    conn = dbapi_connect(url)
    customers = fetchall(conn, f"SELECT {', '.join(_columns('customers'))} FROM customers")
    events = fetchall(conn, f"SELECT {', '.join(_columns('events'))} FROM events ORDER BY id")
    conn.close()
    seeded = [e for e in events if e[0].startswith(workload.SEED_RUN)]
    return {
        "customers": customers,
        "seed_events": seeded,
        "events": [e for e in events if not e[0].startswith(workload.SEED_RUN)],
    }


def raw_insert(
    base_url: str | None, rows: dict[str, list[tuple[Any, ...]]], commit_every: int | None
) -> dict[str, Any]:
    """executemany the measured events into a fresh database that holds the same customers and
    seed events (not timed) as the library's did; commit every ``commit_every`` rows, or once."""
    events = rows["events"]
    with fresh_database(base_url, "raw") as url:
        # The durability intake pays: each commit of the library and the server is synced as
        # Settings.sqlite_synchronous says (FULL by default), so the raw commits are too.
        conn = dbapi_connect(url, synchronous=_sqlite_synchronous())
        cols = _columns("customers")
        begin(conn, url)
        executemany(
            conn,
            f"INSERT INTO customers ({', '.join(cols)}) VALUES ({placeholders(url, len(cols))})",
            rows["customers"],
        )
        cols = _columns("events")
        sql = f"INSERT INTO events ({', '.join(cols)}) VALUES ({placeholders(url, len(cols))})"
        executemany(conn, sql, rows["seed_events"])
        conn.commit()
        step = commit_every or len(events)
        started, cpu_started = time.perf_counter(), time.process_time()
        for i in range(0, len(events), step):
            begin(conn, url)
            executemany(conn, sql, events[i : i + step])
            conn.commit()
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        stored = fetchall(conn, "SELECT count(*) FROM events")[0][0]
        conn.close()
    assert stored == len(events) + len(rows["seed_events"]), stored
    return {
        "events": len(events),
        "commit_every": commit_every,
        "seconds": round(seconds, 3),
        "events_per_s": round(len(events) / seconds, 1),
        "cpu_seconds": round(cpu_seconds, 3),
        "events_per_cpu_s": round(len(events) / cpu_seconds, 1),
    }


def raw_peer(base_url: str | None, url: str, batch: int) -> dict[str, Any]:
    rows = stored_rows(url)
    return {
        "per_batch": raw_insert(base_url, rows, batch),
        "one_commit": raw_insert(base_url, rows, None),
    }


# -- HTTP --------------------------------------------------------------------------------------
def http_ingest(
    url: str, messages: list[dict[str, Any]], batch: int, senders: int, source: str = "server"
) -> dict[str, Any]:
    from benchmarks.load import send_batches
    from benchmarks.server import server_cpu_seconds, uvicorn_server
    from cornerstore.access.caller import system_caller
    from cornerstore.services import Services
    from cornerstore.settings import Settings
    from cornerstore.storage import open_store

    store = open_store(url)
    credentials = Services.build(Settings(_env_file=None, database_url=url), store).credentials
    key = credentials.create_write_key(system_caller(), "bench", "web", source).secret
    store.dispose()
    sent_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    bodies = [
        orjson.dumps({"batch": chunk, "sentAt": sent_at})
        for chunk in workload.batches(messages, batch)
    ]
    headers = {
        "Content-Type": "application/json",
        "Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode(),
    }
    # The per-key throttle (20,000 messages/s by default) would cap what is measured.
    env = {"CORNERSTORE_INTAKE__RATE_PER_SECOND": "0"}
    with scratch_dir("uvicorn") as logs, uvicorn_server(url, log_dir=logs, env=env) as base:
        server_cpu_started = server_cpu_seconds(base)
        sent = send_batches(base, bodies, headers, senders)
        # The server's own CPU time: on a shared machine the steadier figure, as for the library.
        server_cpu = server_cpu_seconds(base) - server_cpu_started
    conn = dbapi_connect(url)
    # A bound pattern: psycopg reads a literal % in the text as a placeholder.
    sql = "SELECT count(*) FROM events WHERE message_id NOT LIKE " + (
        "?" if isinstance(conn, sqlite3.Connection) else "%s"
    )
    stored = fetchall(conn, sql, ("seed-%",))[0][0]
    conn.close()
    return {
        "events": len(messages),
        "accepted": sent["accepted"],
        "stored": stored,
        "errors": sum(n for status, n in sent["statuses"].items() if status != 200),
        "seconds": round(sent["seconds"], 3),
        "events_per_s": round(sent["accepted"] / sent["seconds"], 1),
        "senders": senders,
        "workers": 1,
        "statuses": sent["statuses"],
        "throttled": sent["throttled"],
        "client_cpu_seconds": round(sent["client_cpu_seconds"], 2),
        "server_cpu_seconds": round(server_cpu, 2),
        "events_per_server_cpu_s": round(sent["accepted"] / server_cpu, 1) if server_cpu else None,
        "request": {"messages": batch, **latency_ms(sent["latencies"])},
    }


# -- profile -----------------------------------------------------------------------------------
def profile_library(opts: Options, known: list[workload.Person]) -> str:
    """cProfile of library intake of ``opts.profile`` events: top 15 by cumulative and own time."""
    messages = workload.traffic(opts.profile, known, run="prof", seed=5)
    with fresh_database(opts.database_url, "profile") as url:
        seed(url, known, opts.batch)
        intake = _intake(url)
        chunks = workload.batches(messages, opts.batch)
        profiler = cProfile.Profile()
        profiler.enable()
        for chunk in chunks:
            intake.ingest(chunk, source=_source())
        profiler.disable()
        intake.store.dispose()
    text = io.StringIO()
    text.write(f"cProfile of Intake.ingest, {opts.profile} events in batches of {opts.batch}\n")
    for order in ("cumulative", "tottime"):
        pstats.Stats(profiler, stream=text).strip_dirs().sort_stats(order).print_stats(15)
    # The cumulative list starts with wrappers (ingest, commit); cornerstore's own functions
    # by cumulative time say where to look.
    text.write("cornerstore's own functions only:\n")
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats("/cornerstore/", 15)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "intake_profile.txt").write_text(text.getvalue())
    return text.getvalue()


# -- the whole benchmark -----------------------------------------------------------------------
def run(opts: Options) -> dict[str, Any]:
    known = workload.people(opts.known)
    backend = backend_of(opts.database_url)
    result: dict[str, Any] = {"machine": machine(), "options": asdict(opts), "backend": backend}
    if opts.database_url:
        result["options"]["database_url"] = opts.database_url.split("@")[-1]

    console.print(f"[bold]intake[/] library: {opts.events:,} events on {backend}")
    messages = workload.traffic(opts.events, known, run="lib")
    with fresh_database(opts.database_url, "library") as url:
        result["seed_seconds"] = round(seed(url, known, opts.batch), 2)
        result["library"] = library_ingest(url, messages, opts.batch, opts.source)
        result["library_raw"] = raw_peer(opts.database_url, url, opts.batch)
    del messages

    if opts.http:
        console.print(f"[bold]intake[/] HTTP: {opts.http_events:,} events, {opts.senders} senders")
        messages = workload.traffic(opts.http_events, known, run="http", seed=4)
        with fresh_database(opts.database_url, "http") as url:
            seed(url, known, opts.batch)
            result["http"] = http_ingest(url, messages, opts.batch, opts.senders, opts.source)
            result["http_raw"] = raw_peer(opts.database_url, url, opts.batch)

    result["targets"] = targets(result)
    if opts.profile:
        console.print(f"[bold]intake[/] cProfile of {opts.profile:,} library events")
        result["profile_file"] = str(RESULTS / "intake_profile.txt")
        console.print(profile_library(opts, known))
    return result


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with its measured value; a run that lost events never passes."""
    lib = result["library"]
    complete = lib["accepted"] == lib["events"]
    ratio = lib["events_per_s"] / result["library_raw"]["per_batch"]["events_per_s"]
    rows = [
        _target("intake library events/s", TARGET_LIBRARY, lib["events_per_s"], complete),
        _target("intake library / raw executemany", TARGET_RATIO, ratio, complete),
    ]
    if "http" in result:
        http = result["http"]
        complete = http["errors"] == 0 and http["stored"] == http["events"]
        rows.append(
            _target("intake HTTP events/s (1 worker)", TARGET_HTTP, http["events_per_s"], complete)
        )
    return rows


def _target(name: str, target: float, measured: float, complete: bool) -> dict[str, Any]:
    return {
        "name": name,
        "target": target,
        "measured": round(measured, 3),
        "ratio": round(measured / target, 3),
        "pass": measured >= target and complete,
    }


def report(result: dict[str, Any]) -> None:
    rows = []
    for path in ("library", "http"):
        if path not in result:
            continue
        got, raw = result[path], result[f"{path}_raw"]
        per_batch, once = raw["per_batch"]["events_per_s"], raw["one_commit"]["events_per_s"]
        rows.append(
            [
                path if path == "library" else f"HTTP ({got['senders']} senders, 1 worker)",
                got["accepted"],
                got["seconds"],
                got["events_per_s"],
                per_batch,
                round(got["events_per_s"] / per_batch, 3),
                once,
                round(got["events_per_s"] / once, 3),
            ]
        )
    print_table(
        f"Intake on {result['backend']} ({result['options']['batch']} messages a batch)",
        [
            "path",
            "events",
            "seconds",
            "events/s",
            f"raw/{result['options']['batch']} ev/s",
            "ratio",
            "raw 1-commit ev/s",
            "ratio",
        ],
        rows,
    )
    lib, raw = result["library"], result["library_raw"]["per_batch"]
    by_cpu = [
        [
            "library",
            lib["cpu_seconds"],
            lib["events_per_cpu_s"],
            raw["events_per_cpu_s"],
            round(lib["events_per_cpu_s"] / raw["events_per_cpu_s"], 3),
        ]
    ]
    if "http" in result and result["http"]["events_per_server_cpu_s"]:
        http, raw = result["http"], result["http_raw"]["per_batch"]
        by_cpu.append(
            [
                "HTTP (the server's CPU)",
                http["server_cpu_seconds"],
                http["events_per_server_cpu_s"],
                raw["events_per_cpu_s"],
                round(http["events_per_server_cpu_s"] / raw["events_per_cpu_s"], 3),
            ]
        )
    print_table(
        "Intake by CPU time (the process's own; load average "
        f"{result['machine']['load_average_1m']} at the start)",
        [
            "path",
            "CPU s",
            "events/CPU-s",
            f"raw/{result['options']['batch']} events/CPU-s",
            "ratio",
        ],
        by_cpu,
    )


def parse_args(argv: list[str] | None = None) -> Options:
    d = Options()
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_intake",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--events", type=int, default=d.events, help="library events (%(default)s)")
    p.add_argument(
        "--http-events", type=int, default=d.http_events, help="HTTP events (%(default)s)"
    )
    p.add_argument("--known", type=int, default=d.known, help="known customers (%(default)s)")
    p.add_argument("--batch", type=int, default=d.batch, help="messages a batch (%(default)s)")
    p.add_argument(
        "--senders", type=int, default=d.senders, help="HTTP sender processes (%(default)s)"
    )
    p.add_argument("--no-http", dest="http", action="store_false", help="library and raw only")
    p.add_argument(
        "--profile", type=int, default=0, metavar="N", help="also cProfile N library events"
    )
    p.add_argument(
        "--source",
        choices=["server", "client"],
        default=d.source,
        help="the measured messages' write key: server-side or client-side (%(default)s)",
    )
    p.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL database to benchmark in throw-away schemas (default: SQLite files)",
    )
    return Options(**vars(p.parse_args(argv)))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    result = run(parse_args(argv))
    report(result)
    name = "intake" if result["backend"] == "sqlite" else f"intake_{result['backend']}"
    path = write_result(name, result)
    console.print(f"wrote {path}")
    return result


if __name__ == "__main__":
    main()
