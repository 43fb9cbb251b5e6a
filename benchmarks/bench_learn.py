"""A full ``cornerstore learn`` over a large stored history: wall time and peak memory.

The store (SQLite) is filled directly, not through intake, with ``--customers`` people and about
``--transactions`` purchases: each customer's purchases arrive as a Poisson process whose rate
varies between customers (gamma), a share of customers stop buying at a random time, amounts are
log-normal, every purchase names one of 12 categories. Each customer also gets two delivery
attempts (home or not) and one web page view. Then ``Learner.run`` runs in a fresh subprocess, so
that its peak memory (``ru_maxrss``) is its own; the run's own step timings are reported, and
printed to standard error as each step ends, with the child's resident memory and CPU time every
``--sample`` seconds, so that a run stopped before its end still shows how far it went.
``--max-rss-mb`` stops the run when its resident memory passes that (the machine is shared).

Target (the learning issue): 1M customers / 10M transactions in <= 10 minutes and <= 8 GB.

    python -m benchmarks.bench_learn
    python -m benchmarks.bench_learn --customers 100000 --transactions 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import machine, print_table, scratch_dir, sqlite_path, write_result

TIME_TARGET_S = 600.0
MEMORY_TARGET_MB = 8192.0
NOW = datetime(2026, 6, 1, tzinfo=UTC)
DAYS = 730
CATEGORIES = [
    "tea", "coffee", "cups", "books", "toys", "garden", "kitchen", "baby", "pets", "cards",
    "bakery", "cleaning",
]  # fmt: skip
_CHUNK = 200_000


def _stamp(seconds_before_now: np.ndarray) -> list[str]:
    """SQLite's text form of UTC datetimes, as SQLAlchemy stores them."""
    base = np.datetime64(NOW.replace(tzinfo=None), "us")
    moments = base - (seconds_before_now * 1e6).astype("timedelta64[us]")
    return [str(m).replace("T", " ") for m in moments]


def fill(url: str, customers: int, transactions: int, seed: int) -> dict[str, int]:
    """Write the synthetic history into the (migrated, empty) store at ``url``."""
    rng = np.random.default_rng(seed)
    conn = sqlite3.connect(sqlite_path(url))
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA journal_mode=WAL")
    # 1 GB of page cache: the events' indexes take random inserts, and at tens of millions of
    # rows a small cache makes every insert a read from disk.
    conn.execute("PRAGMA cache_size=-1000000")
    created = _stamp(np.full(1, DAYS * 86400.0))[0]
    ids = [f"cus_{i:016x}" for i in range(customers)]
    conn.executemany(
        "INSERT INTO customers (id, kind, root_id, created_at) VALUES (?, 'person', ?, ?)",
        ((c, c, created) for c in ids),
    )
    # Purchases per customer: gamma-distributed rates over their active span.
    mean = transactions / customers
    rates = rng.gamma(0.8, mean / 0.8, customers)
    start = rng.uniform(0, DAYS, customers)  # days before NOW the customer arrived
    stop = np.where(rng.random(customers) < 0.3, rng.uniform(0, start), 0.0)
    expected = rates * (start - stop) / DAYS
    expected *= transactions / expected.sum()
    counts = np.maximum(1, rng.poisson(expected))
    owner = np.repeat(np.arange(customers), counts)
    ages = stop[owner] + rng.random(len(owner)) * (start - stop)[owner]
    amounts = np.round(rng.lognormal(3.2, 0.6, len(owner)), 2)
    cats = rng.integers(0, len(CATEGORIES), len(owner))
    events = 0
    for lo in range(0, len(owner), _CHUNK):
        hi = min(lo + _CHUNK, len(owner))
        stamps = _stamp(ages[lo:hi] * 86400.0)
        rows = [
            (
                f"o-{i}",
                ids[owner[i]],
                stamps[i - lo],
                stamps[i - lo],
                f'{{"total":{amounts[i]},"products":[{{"category":"{CATEGORIES[cats[i]]}"}}]}}',
            )
            for i in range(lo, hi)
        ]
        conn.executemany(
            "INSERT INTO events (message_id, customer_id, type, name, touchpoint, source, "
            "occurred_at, received_at, properties) "
            "VALUES (?, ?, 'track', 'Order Completed', 'web', 'bench', ?, ?, ?)",
            rows,
        )
        events += len(rows)
    # Two delivery attempts and one page view per customer.
    ages = rng.uniform(0, 700, (customers, 3)) * 86400.0
    home = rng.random((customers, 2)) < 0.6
    for lo in range(0, customers, _CHUNK):
        hi = min(lo + _CHUNK, customers)
        rows = []
        page = []
        for k in (0, 1):
            stamps = _stamp(ages[lo:hi, k])
            for i in range(lo, hi):
                outcome = "delivered" if home[i, k] else "not_at_home"
                rows.append((f"d{k}-{i}", ids[i], stamps[i - lo], stamps[i - lo],
                             f'{{"outcome":"{outcome}"}}'))  # fmt: skip
        stamps = _stamp(ages[lo:hi, 2])
        page = [(f"p-{i}", ids[i], stamps[i - lo], stamps[i - lo]) for i in range(lo, hi)]
        conn.executemany(
            "INSERT INTO events (message_id, customer_id, type, name, touchpoint, source, "
            "occurred_at, received_at, properties) "
            "VALUES (?, ?, 'track', 'Delivery Attempted', 'shipping', 'bench', ?, ?, ?)",
            rows,
        )
        conn.executemany(
            "INSERT INTO events (message_id, customer_id, type, name, touchpoint, source, "
            "occurred_at, received_at) VALUES (?, ?, 'page', 'Home', 'web', 'bench', ?, ?)",
            page,
        )
        events += len(rows) + len(page)
    conn.commit()
    conn.close()
    return {"customers": customers, "purchases": len(owner), "events": events}


def _sizes_file(path: Path) -> Path:
    return path.with_name(path.name + ".sizes.json")


def stored_sizes(path: Path) -> dict[str, int]:
    """The sizes of a store ``fill`` wrote before: as written beside it when filled (counting
    the purchases of a 10M store reads all of its 17 GB), else counted."""
    if _sizes_file(path).exists():
        sizes: dict[str, int] = json.loads(_sizes_file(path).read_text())
        return sizes
    conn = sqlite3.connect(path)
    try:
        customers = conn.execute("SELECT count(*) FROM customers").fetchone()[0]
        purchases = conn.execute(
            "SELECT count(*) FROM events WHERE name = 'Order Completed'"
        ).fetchone()[0]
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        conn.close()
    return {"customers": customers, "purchases": purchases, "events": events}


_CHILD = """
import json, logging, resource, sys, time
from datetime import datetime
from cornerstore.access.caller import system_caller
from cornerstore.settings import Settings
from cornerstore.storage.database import open_store
from cornerstore.services import Services
url, now = sys.argv[1], datetime.fromisoformat(sys.argv[2])
per_read = int(sys.argv[3])
step_usage = []  # per step: wall, CPU seconds and peak MB, as the run logs them


class Steps(logging.Handler):
    def emit(self, record):
        if record.msg.startswith("learn: %s took"):
            step_usage.append(list(record.args))
        if record.msg.startswith(("learn: read", "learn: %s took")):
            print(record.getMessage(), file=sys.stderr, flush=True)


log = logging.getLogger("cornerstore.learn.service")
log.setLevel(logging.INFO)
log.addHandler(Steps())
learner = Services.build(Settings(database_url=url), open_store(url)).learner
started = time.perf_counter()
report = learner.run(system_caller(), now, customers_per_read=per_read)
seconds = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_SELF)
peak_mb = usage.ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                  "peak_mb": peak_mb, "steps": report.steps, "usage": step_usage,
                  "profiled": report.profiled, "at_risk": report.at_risk,
                  "value_model": report.value_model, "moments": report.moments_added}))
"""


def _rss_and_cpu(pid: int) -> tuple[float, float] | None:
    """A running process's resident memory (MB) and CPU seconds so far (Linux's /proc only)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(stat[11]) + int(stat[12])) / ticks  # utime, stime
    return int(stat[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20, cpu  # rss (pages)


def run_learn(
    url: str, customers_per_read: int, max_rss_mb: float | None = None, sample_s: float = 60.0
) -> dict[str, Any]:
    """``Learner.run`` in a fresh process: its wall and CPU seconds (all threads) and peak RSS,
    and each step's. Its progress and errors go to this process's standard error, with its
    memory and CPU time every ``sample_s`` seconds; past ``max_rss_mb`` it is stopped."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, url, NOW.isoformat(), str(customers_per_read)],
        stdout=subprocess.PIPE,
        text=True,
    )
    last_sample, stopped = started, None
    while child.poll() is None:
        time.sleep(1.0)
        now = time.perf_counter()
        usage = _rss_and_cpu(child.pid)
        if usage is None:
            continue
        if max_rss_mb is not None and usage[0] > max_rss_mb:
            child.kill()
            stopped = usage
            break
        if now - last_sample >= sample_s:
            last_sample = now
            print(
                f"learn: {now - started:.0f} s: {usage[0]:.0f} MB resident, {usage[1]:.0f} CPU-s "
                f"(load {os.getloadavg()[0]:.1f})",
                file=sys.stderr,
                flush=True,
            )
    out = child.communicate()[0]
    if stopped is not None:
        raise RuntimeError(
            f"learn stopped at {stopped[0]:.0f} MB resident (over {max_rss_mb:g} MB) after "
            f"{time.perf_counter() - started:.0f} s, {stopped[1]:.0f} CPU-s"
        )
    if child.returncode != 0:
        raise RuntimeError(f"learn failed (exit {child.returncode}; its error is above)")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_learn", description=__doc__)
    p.add_argument("--customers", type=int, default=1_000_000)
    p.add_argument("--transactions", type=int, default=10_000_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--customers-per-read",
        type=int,
        default=200_000,
        help="customers whose history learn reads at a time (its default: 200,000)",
    )
    p.add_argument(
        "--max-rss-mb",
        type=float,
        help="stop learn when its resident memory passes this (MB); none by default",
    )
    p.add_argument(
        "--sample",
        type=float,
        default=60.0,
        help="seconds between reports of learn's memory and CPU time on standard error",
    )
    p.add_argument(
        "--store",
        type=Path,
        help="an SQLite file to fill and keep, its sizes beside it in FILE.sizes.json (a later "
        "run with the same file measures it again without filling it; delete both when done)",
    )
    args = p.parse_args(argv)
    info = machine()
    with scratch_dir("learn") as where:
        path = args.store or where / "learn.db"
        url = f"sqlite:///{path}"
        from cornerstore.storage import open_store

        started = time.perf_counter()
        if args.store is not None and args.store.exists():
            sizes = stored_sizes(path)
        else:
            open_store(url, upgrade=True).dispose()
            sizes = fill(url, args.customers, args.transactions, args.seed)
            if args.store is not None:
                _sizes_file(path).write_text(json.dumps(sizes))
        fill_s = time.perf_counter() - started
        load_before = os.getloadavg()[0]
        learned = run_learn(url, args.customers_per_read, args.max_rss_mb, args.sample)
        learned["load_average"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
    steps = [
        [name, round(seconds, 1), round(cpu, 1), round(peak)]
        for name, seconds, cpu, peak in learned["usage"]
    ]
    print_table(
        f"cornerstore learn: {sizes['customers']:,} customers, {sizes['purchases']:,} purchases, "
        f"{sizes['events']:,} events (SQLite; filled in {fill_s:.0f}s)",
        ["step", "seconds", "CPU seconds", "peak MB so far"],
        [
            *steps,
            [
                "whole run",
                round(learned["seconds"], 1),
                round(learned["cpu_seconds"], 1),
                round(learned["peak_mb"]),
            ],
            ["load average at start / end", " / ".join(map(str, learned["load_average"])), "", ""],
        ],
    )
    full = args.customers >= 1_000_000 and args.transactions >= 10_000_000
    suffix = "" if full else " (smaller than the target's size)"
    targets = [
        {
            "name": f"learn 1M customers / 10M purchases: seconds{suffix}",
            "goal": f"<= {TIME_TARGET_S:g}",
            "measured": round(learned["seconds"], 1),
            "ratio": round(TIME_TARGET_S / learned["seconds"], 2),
            "pass": full and learned["seconds"] <= TIME_TARGET_S,
        },
        {
            "name": f"learn 1M customers / 10M purchases: peak MB{suffix}",
            "goal": f"<= {MEMORY_TARGET_MB:g}",
            "measured": round(learned["peak_mb"]),
            "ratio": round(MEMORY_TARGET_MB / learned["peak_mb"], 2),
            "pass": full and learned["peak_mb"] <= MEMORY_TARGET_MB,
        },
    ]
    result = {
        "machine": info,
        "sizes": sizes,
        "customers_per_read": args.customers_per_read,
        "fill_seconds": round(fill_s, 1),
        "learn": learned,
        "targets": targets,
    }
    write_result("learn", result)
    return result


if __name__ == "__main__":
    main()
