"""Profile reads: ``GET /v1/customers/{id}`` and ``GET /v1/customers/{id}/timeline`` of customers
with 200 events each, in a store of 100k profiles and 2M events, under 50 concurrent clients.

Three ways to the same answer, so the cost of each layer shows:

* raw SQL: the same lookups with ``sqlite3`` in-process (customer, members, identifiers, traits,
  event summary; or the newest 51 events), JSON decoded and encoded with orjson;
* library: ``Profiles.get`` / ``Profiles.timeline`` in-process (adds SQLAlchemy, the domain
  objects and the audit row every staff read writes);
* HTTP: uvicorn with 1 and with 2 workers, loaded from a separate process, closed-loop (50 clients
  each waiting for its answer: latency is then about clients / throughput) and open-loop (requests
  leave at ``--rate`` a second whatever the server does; latency counts from when each was due).

    python -m benchmarks.bench_profile_read
    python -m benchmarks.bench_profile_read --profiles 10000 --events 200000 --duration 5
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from dataclasses import asdict, dataclass
from typing import Any

import orjson

from benchmarks import profile_data
from benchmarks.common import (
    console,
    dbapi_connect,
    latency_ms,
    machine,
    print_table,
    scratch_dir,
    write_result,
)

TARGET_P99_MS = 25.0
# Without --rate the open loop offers this share of the closed-loop throughput just measured
# (at most 500/s): a load the server can carry, so latency shows service time plus queueing.
AUTO_RATE_SHARE = 0.5
ENDPOINTS = ("profile", "timeline")


@dataclass
class Options:
    profiles: int = 100_000
    events: int = 2_000_000
    targets: int = 50
    per_target: int = 200
    clients: int = 50
    duration: float = 10.0
    warmup: float = 2.0
    rate: float = 0.0
    workers: str = "1,2"
    lookups: int = 1000
    client: str = "raw"
    rebuild: bool = False


# -- raw SQL peer ------------------------------------------------------------------------------
def _members(conn: sqlite3.Connection, cid: str) -> tuple[str, list[str]]:
    root = conn.execute("SELECT root_id FROM customers WHERE id = ?", (cid,)).fetchone()[0]
    return root, [r[0] for r in conn.execute("SELECT id FROM customers WHERE root_id = ?", (root,))]


def raw_profile(conn: sqlite3.Connection, cid: str) -> bytes:
    """Customer, identifiers, current traits and event summary, as JSON."""
    conn.execute("BEGIN")
    root, members = _members(conn, cid)
    marks = ", ".join("?" * len(members))
    identifiers = conn.execute(
        "SELECT kind, value, source, touchpoint, first_seen_at FROM identifiers "
        f"WHERE customer_id IN ({marks}) ORDER BY first_seen_at, id",
        members,
    ).fetchall()
    traits: dict[str, Any] = {}
    for name, value, tp, src, at in conn.execute(
        "SELECT name, value, touchpoint, source, observed_at FROM traits "
        f"WHERE customer_id IN ({marks}) ORDER BY observed_at, id",
        members,
    ):
        traits[name] = {"value": orjson.loads(value), "touchpoint": tp, "source": src, "at": at}
    summary = conn.execute(
        "SELECT touchpoint, type, count(*), min(occurred_at), max(occurred_at) FROM events "
        f"WHERE customer_id IN ({marks}) GROUP BY touchpoint, type",
        members,
    ).fetchall()
    conn.execute("COMMIT")
    return orjson.dumps(
        {"id": root, "identifiers": identifiers, "traits": traits, "summary": summary}
    )


_EVENT_COLS = (
    "id, message_id, customer_id, account_id, type, name, touchpoint, source, user_id, "
    "anonymous_id, occurred_at, original_timestamp, sent_at, received_at, properties, context, "
    "integrations"
)


def raw_timeline(conn: sqlite3.Connection, cid: str, limit: int = 50) -> bytes:
    """The newest ``limit`` events (one more is read, to know whether a next page exists)."""
    conn.execute("BEGIN")
    root, members = _members(conn, cid)
    rows = conn.execute(
        f"SELECT {_EVENT_COLS} FROM events WHERE customer_id IN ({', '.join('?' * len(members))}) "
        "ORDER BY occurred_at DESC, id DESC LIMIT ?",
        [*members, limit + 1],
    ).fetchall()
    conn.execute("COMMIT")
    events = []
    for row in rows[:limit]:
        event = dict(zip(_EVENT_COLS.split(", "), row, strict=True))
        for key in ("properties", "context", "integrations"):
            event[key] = orjson.loads(event[key]) if event[key] else {}
        events.append(event)
    return orjson.dumps({"customer_id": root, "events": events})


def _timed(fn: Any, ids: list[str], count: int) -> dict[str, Any]:
    for cid in ids:  # warm the page and statement caches, as the HTTP runs' warm-up does
        fn(cid)
    took = []
    started = time.perf_counter()
    for i in range(count):
        t0 = time.perf_counter()
        fn(ids[i % len(ids)])
        took.append(time.perf_counter() - t0)
    seconds = time.perf_counter() - started
    return {"requests": count, "per_s": round(count / seconds, 1), **latency_ms(took)}


def in_process(url: str, ids: list[str], lookups: int) -> dict[str, dict[str, Any]]:
    """Sequential lookups in this process: raw SQL, then the library's service calls."""
    from cornerstore.access.caller import system_caller

    conn = dbapi_connect(url)
    out = {
        "raw_profile": _timed(lambda c: raw_profile(conn, c), ids, lookups),
        "raw_timeline": _timed(lambda c: raw_timeline(conn, c), ids, lookups),
    }
    conn.close()
    services = _services(url)
    caller = system_caller(actor="bench")
    profiles = services.profiles
    out["library_profile"] = _timed(lambda c: profiles.get(caller, c), ids, lookups)
    out["library_timeline"] = _timed(lambda c: profiles.timeline(caller, c), ids, lookups)
    services.store.dispose()
    return out


def _services(url: str) -> Any:
    """The services the app would build over ``url`` (ignoring any .env file)."""
    from cornerstore.services import Services
    from cornerstore.settings import Settings
    from cornerstore.storage import open_store

    return Services.build(Settings(_env_file=None, database_url=url), open_store(url))


# -- HTTP --------------------------------------------------------------------------------------
def over_http(url: str, ids: list[str], token: str, opts: Options) -> list[dict[str, Any]]:
    from benchmarks.load import read_load
    from benchmarks.server import uvicorn_server

    paths = {
        "profile": [f"/v1/customers/{c}" for c in ids],
        "timeline": [f"/v1/customers/{c}/timeline" for c in ids],
    }
    headers = {"Authorization": f"Bearer {token}"}
    runs = []
    for workers in (int(w) for w in opts.workers.split(",")):
        with (
            scratch_dir("uvicorn") as logs,
            uvicorn_server(url, workers=workers, log_dir=logs) as base,
        ):
            for endpoint in ENDPOINTS:
                console.print(f"  HTTP {endpoint}, {workers} worker(s), {opts.clients} clients")
                closed = read_load(
                    base,
                    paths[endpoint],
                    headers,
                    clients=opts.clients,
                    duration=opts.duration,
                    warmup=opts.warmup,
                    client=opts.client,
                )
                runs.append(_http_row(endpoint, workers, None, opts.clients, closed))
                rate = opts.rate or max(1.0, min(500.0, runs[-1]["per_s"] * AUTO_RATE_SHARE))
                console.print(f"  HTTP {endpoint}, {workers} worker(s), open loop at {rate:.0f}/s")
                paced = read_load(
                    base,
                    paths[endpoint],
                    headers,
                    clients=opts.clients,
                    duration=opts.duration,
                    warmup=opts.warmup,
                    rate=rate,
                    client=opts.client,
                )
                runs.append(_http_row(endpoint, workers, round(rate, 1), opts.clients, paced))
    return runs


def _http_row(
    endpoint: str, workers: int, rate: float | None, clients: int, got: dict[str, Any]
) -> dict[str, Any]:
    ok = got["statuses"].get(200, 0)
    return {
        "endpoint": endpoint,
        "workers": workers,
        "mode": "closed" if rate is None else "open",
        "clients": clients,
        "offered_per_s": rate,
        "requests": len(got["latencies"]),
        "per_s": round(len(got["latencies"]) / got["seconds"], 1),
        "statuses": got["statuses"],
        "errors": len(got["latencies"]) - ok,
        "client_cpu_share": round(got["cpu_share"], 2),
        **latency_ms(got["latencies"]),
    }


# -- the whole benchmark -----------------------------------------------------------------------
def _prepare(url: str, ids: list[str], per_target: int) -> str:
    """Forget earlier runs' audit rows and tokens, check the data, return a new staff token."""
    from cornerstore.access.caller import system_caller

    _forget(url)
    services = _services(url)
    profile = services.profiles.get(system_caller(), ids[0])
    assert profile.summary.events == per_target, profile.summary
    token = services.credentials.create_token(system_caller(), "bench", "owner").secret
    services.store.dispose()
    return token


def _forget(url: str) -> None:
    conn = dbapi_connect(url)
    conn.execute("DELETE FROM audit_log")
    conn.execute("DELETE FROM api_tokens")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def run(opts: Options) -> dict[str, Any]:
    path, meta = profile_data.ensure(
        opts.profiles, opts.events, opts.targets, opts.per_target, opts.rebuild
    )
    url = f"sqlite:///{path}"
    ids = meta["targets"]
    console.print(
        f"[bold]profile read[/] {meta['profiles']:,} profiles, {meta['events']:,} events; "
        f"{len(ids)} customers of {meta['per_target']} events each are read"
    )
    token = _prepare(url, ids, opts.per_target)
    try:
        console.print(f"  in-process: {opts.lookups} lookups each, raw SQL and library")
        local = in_process(url, ids, opts.lookups)
        http = over_http(url, ids, token, opts)
    finally:
        _forget(url)
    result = {
        "machine": machine(),
        "options": asdict(opts),
        "dataset": {k: v for k, v in meta.items() if k != "targets"} | {"file": path.name},
        "in_process": local,
        "http": http,
    }
    result["targets"] = targets(result)
    return result


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for run in result["http"]:
        load = (
            f"{run['clients']} closed-loop clients"
            if run["mode"] == "closed"
            else f"open loop {run['offered_per_s']:g}/s"
        )
        p99 = run["p99_ms"]
        rows.append(
            {
                "name": f"GET {run['endpoint']} p99 ms, {load}, {run['workers']} worker(s)",
                "target": TARGET_P99_MS,
                "measured": p99,
                "ratio": round(TARGET_P99_MS / p99, 3) if p99 else None,
                "pass": p99 <= TARGET_P99_MS and run["errors"] == 0,
            }
        )
    return rows


_COLUMNS = ("endpoint", "via", "load", "requests", "req/s", "p50 ms", "p99 ms", "errors")


def report(result: dict[str, Any]) -> None:
    rows = []
    for endpoint in ENDPOINTS:
        for via, name in (("raw", "raw SQL (sqlite3)"), ("library", "library (Profiles)")):
            got = result["in_process"][f"{via}_{endpoint}"]
            rows.append(_row(endpoint, name, "1 at a time", got))
        for run in (r for r in result["http"] if r["endpoint"] == endpoint):
            load = (
                f"closed, {run['clients']} clients"
                if run["mode"] == "closed"
                else f"open, {run['offered_per_s']:g}/s"
            )
            rows.append(_row(endpoint, f"HTTP, {run['workers']} worker(s)", load, run))
    dataset = result["dataset"]
    print_table(
        f"Profile reads ({dataset['profiles']:,} profiles, {dataset['events']:,} events; "
        f"target p99 <= {TARGET_P99_MS:g} ms)",
        [*_COLUMNS, "client CPU"],
        rows,
    )


def _row(endpoint: str, via: str, load: str, got: dict[str, Any]) -> list[Any]:
    return [
        endpoint,
        via,
        load,
        got["requests"],
        got["per_s"],
        got["p50_ms"],
        got["p99_ms"],
        got.get("errors"),
        got.get("client_cpu_share"),
    ]


def parse_args(argv: list[str] | None = None) -> Options:
    d = Options()
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_profile_read",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--profiles", type=int, default=d.profiles, help="profiles (%(default)s)")
    p.add_argument("--events", type=int, default=d.events, help="events (%(default)s)")
    p.add_argument(
        "--targets", type=int, default=d.targets, help="customers that are read (%(default)s)"
    )
    p.add_argument(
        "--per-target", type=int, default=d.per_target, help="their events each (%(default)s)"
    )
    p.add_argument("--clients", type=int, default=d.clients, help="HTTP clients (%(default)s)")
    p.add_argument("--duration", type=float, default=d.duration, help="seconds a run (%(default)s)")
    p.add_argument("--warmup", type=float, default=d.warmup, help="seconds unmeasured first")
    p.add_argument(
        "--rate",
        type=float,
        default=d.rate,
        help="open-loop requests/s in total (default: half the closed-loop rate, at most 500)",
    )
    p.add_argument("--workers", default=d.workers, help="uvicorn worker counts (%(default)s)")
    p.add_argument(
        "--lookups", type=int, default=d.lookups, help="in-process lookups (%(default)s)"
    )
    p.add_argument(
        "--client",
        choices=["raw", "httpx"],
        default=d.client,
        help="load generator: a minimal asyncio HTTP/1.1 client (default) or httpx.AsyncClient",
    )
    p.add_argument("--rebuild", action="store_true", help="rebuild the cached dataset")
    return Options(**vars(p.parse_args(argv)))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    result = run(parse_args(argv))
    report(result)
    path = write_result("profile_read", result)
    console.print(f"wrote {path}")
    return result


if __name__ == "__main__":
    main()
