"""Server CPU a request, measured in-process: the two requests of ``bench_load``
(``GET /v1/customers/{id}`` with a staff token, ``POST /v1/batch`` of 50 track messages with a
write key) sent straight into the ASGI app, several at once as under load, with the audit trail
journalled as ``cornerstore serve`` runs it.

Wall-clock throughput on a shared two-core machine says little; CPU time does not depend on
what else runs. For each request kind it reports the CPU milliseconds of this process (the app,
its worker threads and the audit writer) and of the PostgreSQL backends serving its connections,
and compares them with the peer in the same run: ``GET /health`` (one ``SELECT 1``), the floor
of a request through the same stack.

    .venv/bin/python -m benchmarks.bench_request_cpu                  # SQLite and PostgreSQL
    .venv/bin/python -m benchmarks.bench_request_cpu --only postgresql --profile read

``--profile KIND`` prints the cProfile of that kind's measured requests (top by own time).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import io
import pstats
import random
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from benchmarks.common import fresh_database, machine, print_table, scratch_dir, write_result
from benchmarks.server import database_cpu_seconds

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

Send = Callable[[], Awaitable[int]]


def _asgi_request(
    app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b""
) -> Send:
    """A coroutine factory sending one request to ``app``; its status."""

    async def send_once() -> int:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"127.0.0.1"), *headers]
            + ([(b"content-length", str(len(body)).encode())] if body else []),
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        status = [0]
        sent = [False]

        async def receive() -> dict[str, Any]:
            if sent[0]:
                await asyncio.sleep(3600)  # never disconnects
            sent[0] = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]

        await app(scope, receive, send)
        return status[0]

    return send_once


def _run_threads_inline() -> Callable[[], None]:
    """Run what the app hands to worker threads in the event loop's thread instead, so that
    cProfile (which sees one thread) sees it; undone by the function returned."""
    import anyio.to_thread

    original = anyio.to_thread.run_sync

    async def inline(func: Callable[..., Any], *args: Any, **_: Any) -> Any:
        return func(*args)

    anyio.to_thread.run_sync = inline  # type: ignore[assignment]

    def restore() -> None:
        anyio.to_thread.run_sync = original

    return restore


async def _measure(
    kinds: dict[str, Callable[[], Send]],
    n: int,
    concurrency: int,
    database_cpu: Callable[[], dict[int, float]],
    profile: str | None,
) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for kind, make in kinds.items():
        # Warm up: imports, caches, the connection pool, prepared statements.
        await asyncio.gather(*(make()() for _ in range(max(50, n // 5))))
        statuses: dict[int, int] = {}
        profiler = cProfile.Profile(time.thread_time) if kind == profile else None
        restore = _run_threads_inline() if profiler is not None else None
        queue = list(range(n))

        async def client(
            queue: list[int] = queue,
            statuses: dict[int, int] = statuses,
            make: Callable[[], Send] = make,
        ) -> None:
            while queue:
                queue.pop()
                status = await make()()
                statuses[status] = statuses.get(status, 0) + 1

        db0, cpu0, wall0 = database_cpu(), time.process_time(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        if profiler is not None:
            profiler.disable()
        if restore is not None:
            restore()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        db1 = database_cpu()
        # Backends opened during the run started from nothing.
        db = sum(cpu - db0.get(pid, 0.0) for pid, cpu in db1.items())
        results[kind] = {
            "requests": n,
            "statuses": statuses,
            "server_cpu_ms": round(1000 * cpu / n, 3),
            "database_cpu_ms": round(1000 * db / n, 3) if db1 else None,
            "wall_ms": round(1000 * wall / n, 3),
        }
        if profiler is not None:
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(45)
            print(text.getvalue())
            cum = io.StringIO()
            pstats.Stats(profiler, stream=cum).sort_stats("cumulative").print_stats(60)
            print(cum.getvalue())
    return results


def run(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    from benchmarks.bench_load import seed

    application = f"cs_reqcpu_{secrets.token_hex(4)}"
    with (
        fresh_database(None if backend == "sqlite" else args.database_url, "reqcpu") as url,
        scratch_dir("reqcpu") as folder,
    ):
        key, token, ids = seed(url, args.customers)
        if backend == "postgresql":
            url = f"{url}&application_name={application}"
        from cornerstore.api.app import create_app, freeze_startup_heap
        from cornerstore.settings import Settings

        settings = Settings.model_validate(
            {
                "database_url": url,
                "secret_key": "bench",
                "access": {"audit_journal": str(folder / "journal")},
            }
        )
        app = create_app(settings)
        freeze_startup_heap()  # as cornerstore serve does
        rng = random.Random(1)
        read_headers = [(b"authorization", b"Bearer " + token.encode())]
        batch_headers = [
            (b"content-type", b"application/json"),
            (b"authorization", b"Basic " + base64.b64encode(key.encode() + b":")),
        ]
        sent = [0]

        def batch() -> Send:
            sent[0] += 1
            body = orjson.dumps(
                {
                    "batch": [
                        {
                            "type": "track",
                            "messageId": f"cpu-{sent[0]}-{j}",
                            "anonymousId": f"a{rng.randrange(len(ids))}",
                            "event": "Product Viewed",
                            "properties": {"sku": f"S{rng.randrange(500)}"},
                        }
                        for j in range(50)
                    ]
                }
            )
            return _asgi_request(app, "POST", "/v1/batch", batch_headers, body)

        kinds: dict[str, Callable[[], Send]] = {
            "health": lambda: _asgi_request(app, "GET", "/health", []),
            "read": lambda: _asgi_request(
                app, "GET", f"/v1/customers/{rng.choice(ids)}", read_headers
            ),
            "batch": batch,
        }
        kinds = {k: v for k, v in kinds.items() if k in args.kinds.split(",")}

        def database_cpu() -> dict[int, float]:
            if backend != "postgresql":
                return {}
            return database_cpu_seconds(url, application)

        async def main() -> dict[str, dict[str, Any]]:
            async with app.router.lifespan_context(app):
                return await _measure(
                    kinds, args.requests, args.concurrency, database_cpu, args.profile
                )

        results = asyncio.run(main())
    return {"backend": backend, "kinds": results}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=2000, help="measured a kind (%(default)s)")
    p.add_argument("--concurrency", type=int, default=16, help="at once (%(default)s)")
    p.add_argument("--customers", type=int, default=5000, help="stored (%(default)s)")
    p.add_argument("--only", default="sqlite,postgresql", help="backends (%(default)s)")
    p.add_argument("--kinds", default="health,read,batch", help="requests (%(default)s)")
    p.add_argument("--profile", default=None, help="print the cProfile of this kind")
    p.add_argument("--database-url", default=PG_URL, help="PostgreSQL to make schemas in")
    args = p.parse_args()
    runs = [run(backend, args) for backend in args.only.split(",")]
    rows = []
    for r in runs:
        floor = r["kinds"].get("health", {}).get("server_cpu_ms")
        for kind, k in r["kinds"].items():
            rows.append(
                [
                    r["backend"],
                    kind,
                    k["requests"],
                    ",".join(f"{s}:{c}" for s, c in sorted(k["statuses"].items())),
                    k["server_cpu_ms"],
                    k["database_cpu_ms"] if k["database_cpu_ms"] is not None else "-",
                    round(k["server_cpu_ms"] / floor, 1) if floor else "-",
                    k["wall_ms"],
                ]
            )
    print_table(
        f"Server CPU a request, in-process, {args.concurrency} at once",
        ["backend", "request", "n", "statuses", "app CPU ms", "PG CPU ms", "x health", "wall ms"],
        rows,
    )
    print(f"written {write_result('request_cpu', {'machine': machine(), 'runs': runs})}")


if __name__ == "__main__":
    main()
