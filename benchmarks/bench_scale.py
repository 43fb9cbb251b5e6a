"""Scale on PostgreSQL: intake, profile reads and the console's customer page in a store of
``--profiles`` customers (100k, 1M, 10M...), generated in the database (:mod:`.scale_data`).

The store is a database of its own (``cs_scale_<profiles>``), created here and dropped at the
end unless ``--keep``; ``--reuse`` measures a kept one again without rebuilding it. Before a
build, the generator's rows are checked against what ``Intake.ingest`` stores for the same
messages. Then, on the app's own code paths, one at a time in this process:

* intake: ``--messages`` messages through ``Intake.ingest`` in batches of 50 (the firewall on):
  70% orders of stored customers, 10% identifies of stored customers, 20% identifies of new
  people; events/s by wall clock and by this process's CPU time;
* profile read: ``Profiles.get`` (audit included) of customers with ``--per-target`` orders and
  of customers picked at random across the store (cold: most are not in any cache), and
  ``Profiles.timeline`` of the former;
* the console's customer page ``GET /customers/{id}`` (server time, HTML, session and audit
  included) of the customers with orders, as :mod:`.bench_console` measures it;
* with ``--identity``: ``cornerstore identity learn`` then ``cornerstore identity resolve`` over
  the whole store, each a process of its own (wall time, CPU time and peak RSS from ``wait4``);
  one profile in ten is a second profile of the person before it, for resolve to merge.

Peer, in the same run: the same profile lookups in raw SQL (psycopg, no cornerstore), so the
store's own cost shows apart from cornerstore's.

    python -m benchmarks.bench_scale --profiles 1000000
    python -m benchmarks.bench_scale --profiles 10000000 --keep
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from benchmarks import scale_data
from benchmarks.bench_console import client_of, log_in, server_times
from benchmarks.common import (
    console,
    dbapi_connect,
    latency_ms,
    machine,
    print_table,
    write_result,
)

BATCH = 50
MIN_FREE_BYTES = 20 * 1024**3


@dataclass
class Options:
    database: str = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    profiles: int = 100_000
    targets: int = 50
    per_target: int = 200
    messages: int = 5_000
    reads: int = 300
    pages: int = 100
    keep: bool = False
    reuse: bool = False
    identity: bool = False
    finish: bool = False


def _cpu() -> float:
    return time.process_time()


def _admin(base: str) -> Any:
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(base)
    return psycopg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, dbname="postgres",
        autocommit=True,
    )  # fmt: skip


def _url(base: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(base).set(database=name).render_as_string(hide_password=False)


def _services(url: str) -> Any:
    from cornerstore.services import Services
    from cornerstore.settings import Settings
    from cornerstore.storage import open_store

    settings = Settings(_env_file=None, database_url=url, secret_key="bench")
    return Services.build(settings, open_store(url))


# -- the store ---------------------------------------------------------------------------------
def prepare(opts: Options, name: str) -> dict[str, Any]:
    """Create and fill database ``name`` (or check the kept one); what was built."""
    from cornerstore.storage import open_store

    admin = _admin(opts.database)
    exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    url = _url(opts.database, name)
    if opts.finish and exists:
        constraints, indexes = scale_data.missing_objects(opts.database, url)
        console.print(
            f"[bold]scale[/] finishing {name}: {len(constraints) + len(indexes)} to build"
        )
        started = time.perf_counter()
        built = scale_data.finish(url, constraints, indexes, validate=False, vacuum=False)
        built["finish_wall_s"] = round(time.perf_counter() - started, 1)
        admin.close()
        return built
    if opts.reuse and exists:
        conn = dbapi_connect(url)
        count = conn.execute("SELECT count(*) FROM customers").fetchone()[0]
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        conn.close()
        admin.close()
        if count < opts.profiles:
            raise SystemExit(f"{name} holds {count:,} customers, not {opts.profiles:,}")
        return {"reused": True, "bytes": size}
    free = shutil.disk_usage("/").free
    if free < MIN_FREE_BYTES:
        raise SystemExit(f"only {free / 1e9:.0f} GB free on /: not building {name}")
    scale_data.check_rows_match_intake(opts.database)
    if exists:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    open_store(url, upgrade=True).dispose()
    console.print(f"[bold]scale[/] generating {opts.profiles:,} people into {name}")
    started, cpu = time.perf_counter(), _cpu()
    built = scale_data.build(url, opts.profiles, opts.targets, opts.per_target)
    built["wall_s"] = round(time.perf_counter() - started, 1)
    built["client_cpu_s"] = round(_cpu() - cpu, 1)
    built["rows"] = scale_data.rows_of(opts.profiles, opts.targets, opts.per_target)
    return built


def drop(opts: Options, name: str) -> None:
    admin = _admin(opts.database)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


# -- intake ------------------------------------------------------------------------------------
def traffic(profiles: int, count: int, seed: int) -> list[dict[str, Any]]:
    """70% orders and 10% identifies of stored people, 20% identifies of new people."""
    rng = random.Random(seed)
    stamp = f"{seed:x}{int(time.time())}"
    out = []
    for n in range(count):
        roll = rng.random()
        if roll < 0.8:
            i = rng.randint(1, profiles)
            msg = scale_data.order(i, 1000 + n) if roll < 0.7 else scale_data.identify(i)
        else:
            msg = scale_data.identify(profiles + 1 + n + seed * count)
        msg["messageId"] = f"scale-{stamp}-{n:07d}"
        out.append(msg)
    return out


def intake(services: Any, profiles: int, count: int) -> dict[str, Any]:
    from cornerstore.intake.service import Source

    messages = traffic(profiles, count, seed=1)
    source = Source(scale_data.SOURCE, "web")
    took = []
    started, cpu = time.perf_counter(), _cpu()
    for lo in range(0, len(messages), BATCH):
        began = time.perf_counter()
        result = services.intake.ingest(messages[lo : lo + BATCH], source=source)
        took.append(time.perf_counter() - began)
        assert not result.rejected, result.rejected
    wall, cpu = time.perf_counter() - started, _cpu() - cpu
    return {
        "messages": count,
        "events_per_s": round(count / wall, 1),
        "cpu_events_per_s": round(count / cpu, 1),
        "batch": BATCH,
        "batch_ms": latency_ms(took),
    }


# -- reads -------------------------------------------------------------------------------------
def _timed(fn: Any, ids: list[str]) -> dict[str, Any]:
    took = []
    cpu = _cpu()
    for cid in ids:
        began = time.perf_counter()
        fn(cid)
        took.append(time.perf_counter() - began)
    return {"requests": len(ids), "cpu_ms_each": round((_cpu() - cpu) * 1000 / len(ids), 2),
            **latency_ms(took)}  # fmt: skip


def _raw_profile(conn: Any, cid: str) -> None:
    """The profile's lookups in raw SQL: root, members, identifiers, traits, event summary."""
    root = conn.execute("SELECT root_id FROM customers WHERE id = %s", (cid,)).fetchone()[0]
    members = [r[0] for r in conn.execute("SELECT id FROM customers WHERE root_id = %s", (root,))]
    conn.execute(
        "SELECT kind, value, source, touchpoint, first_seen_at FROM identifiers "
        "WHERE customer_id = ANY(%s) ORDER BY first_seen_at, id",
        (members,),
    ).fetchall()
    conn.execute(
        "SELECT name, value, touchpoint, source, observed_at FROM traits "
        "WHERE customer_id = ANY(%s) ORDER BY observed_at, id",
        (members,),
    ).fetchall()
    conn.execute(
        "SELECT touchpoint, type, count(*), min(occurred_at), max(occurred_at) FROM events "
        "WHERE customer_id = ANY(%s) GROUP BY touchpoint, type",
        (members,),
    ).fetchall()
    conn.commit()


def reads(services: Any, url: str, opts: Options) -> dict[str, Any]:
    from cornerstore.access.caller import system_caller

    caller = system_caller(actor="bench")
    rng = random.Random(5)
    busy = [scale_data.customer_id(i) for i in range(1, opts.targets + 1)]
    anyone = [scale_data.customer_id(rng.randint(1, opts.profiles)) for _ in range(opts.reads)]
    profile = services.profiles.get(caller, busy[0])
    assert profile.summary.events == opts.per_target + 1, profile.summary
    get = lambda cid: services.profiles.get(caller, cid)  # noqa: E731
    for cid in busy:  # warm statement caches, as a running server's are
        get(cid)
    conn = dbapi_connect(url)
    raw = _timed(lambda cid: _raw_profile(conn, cid), anyone)
    conn.close()
    return {
        "library_busy": _timed(get, busy * max(1, opts.reads // len(busy))),
        "library_random": _timed(get, anyone[::-1]),
        "raw_random": raw,
        "library_timeline": _timed(
            lambda cid: services.profiles.timeline(caller, cid),
            busy * max(1, opts.reads // len(busy)),
        ),
    }


def customer_page(services: Any, opts: Options) -> dict[str, Any]:
    from cornerstore.demo.staff import add_demo_staff

    with suppress(Exception):  # kept stores already have them
        add_demo_staff(services.staff)
    busy = [scale_data.customer_id(i) for i in range(1, opts.targets + 1)]
    pages = [f"/customers/{busy[k % len(busy)]}" for k in range(opts.pages)]
    with client_of(services) as (client, timer):
        log_in(client, "owner")
        for page in pages[:10]:
            client.get(page)
        cpu = _cpu()
        took = server_times(client, timer, [(lambda p=p: client.get(p)) for p in pages])
        cpu = _cpu() - cpu
    return {"requests": len(pages), "cpu_ms_each": round(cpu * 1000 / len(pages), 2),
            **latency_ms(took)}  # fmt: skip


# -- identity resolution -----------------------------------------------------------------------
def cli(url: str, *args: str) -> dict[str, Any]:
    """Run ``cornerstore <args> --db url --json`` in a process of its own: its answer, wall
    time, CPU time and peak resident memory (the child's own, from ``wait4``)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(
            [str(Path(sys.executable).with_name("cornerstore")), *args, "--db", url, "--json"],
            stdout=out,
            stderr=err,
        )
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        text, problem = out.read().decode(), err.read().decode()
    if child.returncode:
        raise RuntimeError(f"cornerstore {' '.join(args)} failed: {problem.strip()[-500:]}")
    answer = orjson.loads(text[text.index("{") :]) if "{" in text else {}
    return {"wall_s": round(wall, 1), **_usage(usage), "answer": answer}


def _usage(usage: Any) -> dict[str, Any]:
    if usage is None:
        return {}
    return {
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
    }


def identity(url: str, name: str, so_far: dict[str, Any]) -> dict[str, Any]:
    """``identity learn`` then ``identity resolve``; the result file is written in between."""
    learned = cli(url, "identity", "learn")
    learned["answer"] = {k: v for k, v in learned["answer"].items() if k != "calibration"}
    write_result(name, so_far | {"identity": {"learn": learned}})
    resolved = cli(url, "identity", "resolve")
    return {"learn": learned, "resolve": resolved | merge_rate(url)}


def merge_rate(url: str) -> dict[str, Any]:
    """How fast ``identity resolve`` stored its merges: their count over the time from the
    first to the last (read from the merges it recorded)."""
    conn = dbapi_connect(url)
    merges, first, last = conn.execute(
        "SELECT count(*), min(created_at), max(created_at) FROM merges WHERE reason = 'resolve'"
    ).fetchone()
    conn.close()
    if not merges or first is None:
        return {"merges": 0}
    minutes = (last - first).total_seconds() / 60
    rate = round(merges / minutes) if minutes > 0 else None
    return {"merges": merges, "merging_s": round(minutes * 60, 1), "merges_per_minute": rate}


# -- the whole benchmark -----------------------------------------------------------------------
def run(opts: Options) -> dict[str, Any]:
    name = f"cs_scale_{opts.profiles}"
    result: dict[str, Any] = {"machine": machine(), "options": asdict(opts), "database": name}
    try:
        result["store"] = prepare(opts, name)
        url = _url(opts.database, name)
        services = _services(url)
        console.print("  intake")
        result["load_average_at_intake"] = round(os.getloadavg()[0], 1)
        result["intake"] = intake(services, opts.profiles, opts.messages)
        console.print("  profile reads")
        result["load_average_at_reads"] = round(os.getloadavg()[0], 1)
        result["reads"] = reads(services, url, opts)
        console.print("  console customer page")
        result["load_average_at_pages"] = round(os.getloadavg()[0], 1)
        result["customer_page"] = customer_page(services, opts)
        services.store.dispose()
        write_result(f"scale_{opts.profiles}", result)  # what is measured so far
        if opts.identity:
            console.print("  identity learn, identity resolve")
            result["load_average_at_identity"] = round(os.getloadavg()[0], 1)
            result["identity"] = identity(url, f"scale_{opts.profiles}", result)
    finally:
        if not (opts.keep or opts.reuse or opts.finish):
            drop(opts, name)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return result


def report(result: dict[str, Any]) -> None:
    opts, store = result["options"], result["store"]
    reads_ = result["reads"]
    rows: list[list[Any]] = [
        ["intake, library, batches of 50", f"{result['intake']['events_per_s']:,.0f} events/s",
         f"{result['intake']['cpu_events_per_s']:,.0f} events/CPU-s",
         result["intake"]["batch_ms"]["p50_ms"], result["intake"]["batch_ms"]["p99_ms"]],
    ]  # fmt: skip
    for key, label in (
        ("raw_random", "profile read, raw SQL (peer), random customers"),
        ("library_random", "profile read, library, random customers"),
        ("library_busy", f"profile read, library, {opts['per_target']} orders each"),
        ("library_timeline", "timeline page, library"),
    ):
        got = reads_[key]
        rows.append([label, got["requests"], f"{got['cpu_ms_each']} CPU-ms each",
                     got["p50_ms"], got["p99_ms"]])  # fmt: skip
    page = result["customer_page"]
    rows.append(["console customer page (server time)", page["requests"],
                 f"{page['cpu_ms_each']} CPU-ms each", page["p50_ms"], page["p99_ms"]])  # fmt: skip
    for step in ("learn", "resolve"):
        if got := result.get("identity", {}).get(step):
            rows.append([f"identity {step} (a process)", f"{got['wall_s']:,.1f} s",
                         f"{got.get('cpu_s')} CPU-s, peak {got.get('peak_rss_mb')} MB",
                         None, None])  # fmt: skip
            if got.get("merges_per_minute"):
                rows.append(["  its merges", f"{got['merges']:,} in {got['merging_s']:,.0f} s",
                             f"{got['merges_per_minute']:,} a minute", None, None])  # fmt: skip
    size = f"{store['bytes'] / 1e9:.2f} GB"
    built = f", built in {store['wall_s']:,.0f} s" if "wall_s" in store else ""
    print_table(
        f"Scale: {opts['profiles']:,} profiles on PostgreSQL ({size}{built}; load average "
        f"{result['load_average_at_intake']}/{result['load_average_at_reads']}/"
        f"{result['load_average_at_pages']})",
        ["what", "count / rate", "CPU", "p50 ms", "p99 ms"],
        rows,
    )


def parse_args(argv: list[str] | None = None) -> Options:
    d = Options()
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--database", default=d.database, help="any database on the server")
    p.add_argument("--profiles", type=int, default=d.profiles, help="people (%(default)s)")
    p.add_argument("--targets", type=int, default=d.targets, help="people with orders")
    p.add_argument("--per-target", type=int, default=d.per_target, help="their orders each")
    p.add_argument("--messages", type=int, default=d.messages, help="intake messages")
    p.add_argument("--reads", type=int, default=d.reads, help="profile reads of each kind")
    p.add_argument("--pages", type=int, default=d.pages, help="customer pages")
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    p.add_argument("--reuse", action="store_true", help="measure a kept database again")
    p.add_argument(
        "--finish",
        action="store_true",
        help="build the indexes and constraints a kept database lacks (its build was stopped "
        "after the load), foreign keys NOT VALID and ANALYZE alone, then measure",
    )
    p.add_argument(
        "--identity", action="store_true", help="also time identity learn and identity resolve"
    )
    return Options(**vars(p.parse_args(argv)))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    result = run(parse_args(argv))
    report(result)
    path = write_result(f"scale_{result['options']['profiles']}", result)
    console.print(f"wrote {path}")
    return result


if __name__ == "__main__":
    main()
