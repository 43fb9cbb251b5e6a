"""Load generators that run in their own processes, apart from the server they load.

Intake senders post pre-serialised ``/v1/batch`` bodies over one keep-alive ``http.client``
connection each (the cheapest client in CPU, which matters when client and server share two
cores). Readers are asyncio tasks over one ``httpx.AsyncClient``, either closed-loop (each client
sends its next request when the last one answers) or open-loop (requests leave at a fixed rate
whatever the server does, and latency counts from the moment a request was due, so a slow server
is not hidden by clients that politely wait).
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import queue
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import orjson

_SPAWN = mp.get_context("spawn")


# -- intake senders ----------------------------------------------------------------------------
def _post_bodies(
    base: str,
    path: str,
    bodies: list[bytes],
    headers: dict[str, str],
    barrier: Any,
    out: Any,
) -> None:
    import http.client

    where = urlsplit(base)

    def connect() -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection(where.hostname, where.port, timeout=120)
        conn.request("GET", "/health")
        conn.getresponse().read()  # open the keep-alive connection before the clock starts
        return conn

    conn = connect()
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    accepted = throttled = failures = 0
    barrier.wait()
    cpu0 = time.process_time()
    for body in bodies:
        while True:
            started = time.perf_counter()
            try:
                conn.request("POST", path, body, headers)
                resp = conn.getresponse()
                data = resp.read()
            except (OSError, http.client.HTTPException):
                # Resending is safe: the batch's messageIds make a second delivery a duplicate.
                failures += 1
                conn.close()
                if failures > 20:
                    raise
                conn = connect()
                continue
            latencies.append(time.perf_counter() - started)
            if resp.status == 429:
                throttled += 1
                time.sleep(float(resp.getheader("Retry-After") or 1))
                continue
            statuses[resp.status] += 1
            if resp.status == 200:
                accepted += orjson.loads(data)["accepted"]
            break
    out.put(
        {
            "end": time.monotonic(),
            "latencies": latencies,
            "statuses": dict(statuses),
            "accepted": accepted,
            "throttled": throttled,
            "failures": failures,
            "cpu_seconds": time.process_time() - cpu0,
        }
    )
    conn.close()


def send_batches(
    base: str, bodies: list[bytes], headers: dict[str, str], senders: int, path: str = "/v1/batch"
) -> dict[str, Any]:
    """Post ``bodies`` from ``senders`` processes at once; wall time runs from the common start
    to the last answer."""
    barrier = _SPAWN.Barrier(senders + 1)
    out = _SPAWN.Queue()
    procs = [
        _SPAWN.Process(
            target=_post_bodies,
            args=(base, path, bodies[i::senders], headers, barrier, out),
            daemon=True,
        )
        for i in range(senders)
    ]
    for p in procs:
        p.start()
    barrier.wait(timeout=120)
    start = time.monotonic()
    reports = [_receive(out, procs) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    statuses: Counter[int] = Counter()
    for r in reports:
        statuses.update({int(k): v for k, v in r["statuses"].items()})
    return {
        "seconds": max(r["end"] for r in reports) - start,
        "latencies": [x for r in reports for x in r["latencies"]],
        "statuses": dict(statuses),
        "accepted": sum(r["accepted"] for r in reports),
        "throttled": sum(r["throttled"] for r in reports),
        "connection_failures": sum(r["failures"] for r in reports),
        "client_cpu_seconds": sum(r["cpu_seconds"] for r in reports),
    }


def _receive(out: Any, procs: list[Any]) -> dict[str, Any]:
    """The next report from ``out``; fails instead of waiting forever when a worker died."""
    while True:
        try:
            report: dict[str, Any] = out.get(timeout=1)
            return report
        except queue.Empty:
            dead = [p for p in procs if p.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(
                    f"a load process failed (exit code {dead[0].exitcode})"
                ) from None


def _in_a_process(target: Any, *args: Any) -> dict[str, Any]:
    """Run ``target(*args, out)`` in a spawned process; the report it puts on ``out``."""
    out = _SPAWN.Queue()
    proc = _SPAWN.Process(target=target, args=(*args, out), daemon=True)
    proc.start()
    report = _receive(out, [proc])
    proc.join(timeout=30)
    return report


# -- readers -----------------------------------------------------------------------------------
class Connection:
    """One keep-alive HTTP/1.1 connection sending GETs and reading Content-Length bodies.

    Measured on this 2-core machine against the same server, it costs ~0.15 ms of client CPU a
    request where an ``httpx.AsyncClient`` pool of 50 connections costs ~5 ms, and that CPU
    would be taken from the server being measured.
    """

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        where = urlsplit(base)
        self.host, self.port = where.hostname or "127.0.0.1", where.port or 80
        lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.head = f"HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{lines}".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        """The status of GET ``path``, or 0 when the connection failed (it reconnects next)."""
        return await self.send(b"GET", path)

    async def send(self, method: bytes, path: str, headers: bytes = b"", body: bytes = b"") -> int:
        """The status of ``method path`` with extra ``headers`` (``Name: value\\r\\n`` lines)
        and ``body``, or 0 when the connection failed (it reconnects next)."""
        try:
            if self.reader is None or self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            length = b"Content-Length: %d\r\n" % len(body) if body else b""
            self.writer.write(
                b"%s %s %s%s%s\r\n%s" % (method, path.encode(), self.head, headers, length, body)
            )
            head = await self.reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            lower = head.lower()
            length = int(lower.split(b"\r\ncontent-length:", 1)[1].split(b"\r\n", 1)[0])
            await self.reader.readexactly(length)
            if b"\r\nconnection: close" in lower:
                self.close()
            return status
        except (
            OSError,
            ValueError,
            IndexError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
        ):
            self.close()
            return 0

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class HttpxConnection:
    """The same interface over one shared ``httpx.AsyncClient`` (``--client httpx``)."""

    def __init__(self, base: str, headers: dict[str, str], size: int) -> None:
        import httpx

        limits = httpx.Limits(max_connections=size, max_keepalive_connections=None)
        self.client = httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60)

    async def get(self, path: str) -> int:
        try:
            return int((await self.client.get(path)).status_code)
        except Exception:  # a reset or timeout is a failed request, not the end of the run
            return 0

    def close(self) -> None:
        pass


async def _closed_loop(
    conns: list[Any], paths: list[str], warmup: float, duration: float
) -> tuple[list[float], Counter[int], float]:
    loop = asyncio.get_running_loop()
    measure_from = loop.time() + warmup
    stop = measure_from + duration
    latencies: list[float] = []
    statuses: Counter[int] = Counter()

    async def one_client(i: int) -> None:
        k = i
        while (now := loop.time()) < stop:
            started = time.perf_counter()
            status = await conns[i].get(paths[k % len(paths)])
            took = time.perf_counter() - started
            k += len(conns)
            if now >= measure_from:
                latencies.append(took)
                statuses[status] += 1

    await asyncio.gather(*(one_client(i) for i in range(len(conns))))
    return latencies, statuses, loop.time() - measure_from


async def _open_loop(
    conns: list[Any], paths: list[str], warmup: float, duration: float, rate: float
) -> tuple[list[float], Counter[int], float]:
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    measure_from = start + warmup
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    free: asyncio.Queue[Any] = asyncio.Queue()
    for conn in conns:  # never more requests outstanding than there are clients
        free.put_nowait(conn)
    last_done = start

    async def one(k: int, due: float) -> None:
        nonlocal last_done
        conn = await free.get()
        status = await conn.get(paths[k % len(paths)])
        free.put_nowait(conn)
        done = loop.time()
        last_done = max(last_done, done)
        if due >= measure_from:
            latencies.append(done - due)
            statuses[status] += 1

    tasks = []
    for k in range(int(rate * (warmup + duration))):
        due = start + k / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(k, due)))
    await asyncio.gather(*tasks)
    return latencies, statuses, last_done - measure_from


def _read_load(
    base: str, paths: list[str], headers: dict[str, str], spec: dict[str, Any], out: Any
) -> None:
    async def main() -> tuple[list[float], Counter[int], float]:
        nonlocal cpu0, wall0
        size = spec["clients"]
        conns: list[Any]
        if spec["client"] == "httpx":
            conns = [HttpxConnection(base, headers, size)] * size
        else:
            conns = [Connection(base, headers) for _ in range(size)]
        await asyncio.gather(*(c.get("/health") for c in conns))  # connect before measuring
        cpu0, wall0 = time.process_time(), time.monotonic()
        try:
            if spec["rate"]:
                return await _open_loop(
                    conns, paths, spec["warmup"], spec["duration"], spec["rate"]
                )
            return await _closed_loop(conns, paths, spec["warmup"], spec["duration"])
        finally:
            for conn in conns:
                conn.close()

    cpu0 = wall0 = 0.0
    latencies, statuses, seconds = asyncio.run(main())
    out.put(
        {
            "latencies": latencies,
            "statuses": dict(statuses),
            "seconds": seconds,
            # The load generator's share of one core while it ran (warm-up included).
            "cpu_share": (time.process_time() - cpu0) / (time.monotonic() - wall0),
        }
    )


def read_load(
    base: str,
    paths: list[str],
    headers: dict[str, str],
    *,
    clients: int,
    duration: float,
    warmup: float = 2.0,
    rate: float | None = None,
    client: str = "raw",
) -> dict[str, Any]:
    """GET ``paths`` round-robin from ``clients`` concurrent keep-alive clients in a separate
    process: closed-loop, or open-loop at ``rate`` requests a second in total."""
    spec = {
        "clients": clients,
        "duration": duration,
        "warmup": warmup,
        "rate": rate,
        "client": client,
    }
    report = _in_a_process(_read_load, base, paths, headers, spec)
    report["statuses"] = {int(k): v for k, v in report["statuses"].items()}
    return report


# -- mixed traffic -----------------------------------------------------------------------------
def _mixed_load(base: str, spec: dict[str, Any], out: Any) -> None:
    import base64
    import random

    batch_head = (
        b"Content-Type: application/json\r\nAuthorization: Basic "
        + base64.b64encode(spec["write_key"].encode() + b":")
        + b"\r\n"
    )
    read_head = b"Authorization: Bearer " + spec["token"].encode() + b"\r\n"
    ids: list[str] = spec["ids"]
    sent = [0]

    def batch_body(rng: random.Random) -> bytes:
        sent[0] += 1
        return orjson.dumps(
            {
                "batch": [
                    {
                        "type": "track",
                        "messageId": f"load-{spec['tag']}-{sent[0]}-{j}",
                        "anonymousId": f"a{rng.randrange(len(ids))}",
                        "event": "Product Viewed",
                        "properties": {"sku": f"S{rng.randrange(500)}"},
                    }
                    for j in range(spec["batch_size"])
                ]
            }
        )

    async def main() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        conns = [Connection(base, {}) for _ in range(spec["clients"])]
        await asyncio.gather(*(c.get("/health") for c in conns))  # connect before measuring
        cpu0, wall0 = time.process_time(), time.monotonic()
        measure_from = loop.time() + spec["warmup"]
        stop = measure_from + spec["duration"]
        latencies: dict[str, list[float]] = {"intake": [], "read": []}
        statuses: dict[str, Counter[int]] = {"intake": Counter(), "read": Counter()}
        measured_cpu = [0.0]
        answered = [0]  # warm-up included

        async def one_client(i: int) -> None:
            rng = random.Random(i)
            conn = conns[i]
            while (now := loop.time()) < stop:
                if rng.random() < spec["batch_share"]:
                    kind, body = "intake", batch_body(rng)
                    started = time.perf_counter()
                    status = await conn.send(b"POST", "/v1/batch", batch_head, body)
                else:
                    kind, path = "read", f"/v1/customers/{rng.choice(ids)}"
                    started = time.perf_counter()
                    status = await conn.send(b"GET", path, read_head)
                took = time.perf_counter() - started
                answered[0] += 1
                if now >= measure_from:
                    latencies[kind].append(took)
                    statuses[kind][status] += 1

        async def mark() -> None:
            await asyncio.sleep(max(0.0, measure_from - loop.time()))
            measured_cpu[0] = time.process_time()

        await asyncio.gather(mark(), *(one_client(i) for i in range(len(conns))))
        for conn in conns:
            conn.close()
        seconds = loop.time() - measure_from
        return {
            "latencies": latencies,
            "statuses": {k: dict(v) for k, v in statuses.items()},
            "seconds": seconds,
            # The load generator's CPU while measuring, as a share of one core.
            "cpu_share": (time.process_time() - measured_cpu[0]) / seconds,
            "cpu_seconds_total": time.process_time() - cpu0,
            "answered_total": answered[0],
            "wall_seconds_total": time.monotonic() - wall0,
        }

    out.put(asyncio.run(main()))


def mixed_load(
    base: str,
    *,
    write_key: str,
    token: str,
    ids: list[str],
    clients: int,
    duration: float,
    warmup: float = 5.0,
    batch_share: float = 0.7,
    batch_size: int = 50,
    tag: str = "",
) -> dict[str, Any]:
    """Closed-loop mixed traffic from ``clients`` keep-alive connections in a separate process:
    each client sends ``POST /v1/batch`` (``batch_size`` track messages, write key as Basic
    user) with probability ``batch_share``, otherwise ``GET /v1/customers/{id}`` (Bearer
    ``token``), its next request when the last one answered. Requests of the first ``warmup``
    seconds (imports, caches and pools filling) are sent but not counted."""
    spec = {
        "write_key": write_key,
        "token": token,
        "ids": ids,
        "clients": clients,
        "duration": duration,
        "warmup": warmup,
        "batch_share": batch_share,
        "batch_size": batch_size,
        "tag": tag,
    }
    report = _in_a_process(_mixed_load, base, spec)
    report["statuses"] = {
        kind: {int(k): v for k, v in counts.items()} for kind, counts in report["statuses"].items()
    }
    return report
