"""What a batch of library intake writes on SQLite: the pages of each table and index that its
commit appends to the write-ahead log.

A fresh database is seeded with ``--known`` customers (one identify each) and takes ``--warm``
events of the throughput traffic (``workload.py``) through ``Intake.ingest``; the log is then
checkpointed and emptied, and ``--events`` more events are taken in, in batches of ``--batch``.
Each frame of the log is one page written by one commit; ``dbstat`` says which table or index
owns each page. A commit writes every page it changed, whole, and SQLite writes each frame with
two system calls, so the pages a batch writes are most of what its commit costs the process,
besides the sync.

    python -m benchmarks.intake_pages                     # 5,000 events after 5,000
    python -m benchmarks.intake_pages --events 10000 --known 50000

Beside it, the raw peer of ``bench_intake``: a copy of the same file, taken before the measured
events, into which the very event rows intake stored are inserted with ``executemany``,
committing every ``--batch`` rows. SQLite only.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import struct
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks import workload
from benchmarks.common import (
    dbapi_connect,
    fresh_database,
    machine,
    print_table,
    sqlite_path,
    write_result,
)

# The b-trees the raw peer writes as well: the events table, its unique messageId and indexes.
_EVENTS = ("events", "sqlite_autoindex_events_1", "ix_events_")


def wal_frames(path: Path) -> tuple[list[tuple[int, bool]], int]:
    """The log's frames in order, each as (page number, whether it ends a commit), and the
    page size. The log is a 32-byte header, then frames of a 24-byte header and a page."""
    data = path.read_bytes()
    if len(data) < 32:
        return [], 0
    page_size = struct.unpack(">I", data[8:12])[0]
    frames = []
    for at in range(32, len(data) - 23 - page_size, 24 + page_size):
        page, size_after_commit = struct.unpack(">II", data[at : at + 8])
        frames.append((page, size_after_commit != 0))
    return frames, page_size


def _empty_the_log(path: str) -> None:
    """Checkpoint and truncate the write-ahead log, waiting for readers to finish."""
    db = sqlite3.connect(path, timeout=30)
    try:
        busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        db.close()
    if busy:
        raise RuntimeError("the write-ahead log could not be emptied: a reader stayed")


def _by_tree(path: str, batches: float) -> tuple[dict[str, float], int, int]:
    """The pages of the log a batch, by the table or index that owns them; the page size and
    the commits the log holds."""
    frames, page_size = wal_frames(Path(path + "-wal"))
    with sqlite3.connect(path) as db:
        owner = dict(db.execute("SELECT pageno, name FROM dbstat").fetchall())
    by_tree = Counter(owner.get(page, "(pages added since)") for page, _ in frames)
    commits = sum(1 for _, ends in frames if ends)
    return {name: n / batches for name, n in by_tree.most_common()}, page_size, commits


def _raw_peer(
    path: str, customers: list[tuple[Any, ...]], rows: list[tuple[Any, ...]], batch: int
) -> tuple[dict[str, float], int, int]:
    """Insert ``rows`` into the events of the database at ``path`` with ``executemany``,
    committing every ``batch`` rows, as ``bench_intake``'s raw peer does; the ``customers``
    they belong to are stored first, their pages left out of the log. Returns
    :func:`_by_tree` of its log, read before the connection closes (the last to close a
    database checkpoints and removes the log)."""
    from benchmarks.bench_intake import _columns

    conn = dbapi_connect(f"sqlite:///{path}", synchronous="FULL")
    conn.execute("PRAGMA wal_autocheckpoint=0")  # every frame stays to be counted
    columns = _columns("customers")
    conn.execute("BEGIN")
    conn.executemany(
        f"INSERT INTO customers ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        customers,
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    columns = _columns("events")
    sql = f"INSERT INTO events ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    for start in range(0, len(rows), batch):
        conn.execute("BEGIN")
        conn.executemany(sql, rows[start : start + batch])
        conn.execute("COMMIT")
    try:
        return _by_tree(path, len(rows) / batch)
    finally:
        conn.close()


def run(events: int, warm: int, known: int, batch: int) -> dict[str, Any]:
    from benchmarks.bench_intake import _columns, _intake, _source, seed

    people = workload.people(known)
    messages = workload.traffic(warm + events, people, run="lib")
    batches = events / batch
    with fresh_database(None, "pages") as url:
        seed(url, people, batch)
        intake = _intake(url)
        for chunk in workload.batches(messages[:warm], batch):
            intake.ingest(chunk, source=_source())
        path = sqlite_path(url)
        _empty_the_log(path)
        # The peer starts from the very same file.
        peer = path + ".peer"
        shutil.copyfile(path, peer)
        with sqlite3.connect(path) as db:
            (last_event,) = db.execute("SELECT max(id) FROM events").fetchone()
            (last_customer,) = db.execute("SELECT max(rowid) FROM customers").fetchone()
        cpu = time.process_time()
        for chunk in workload.batches(messages[warm:], batch):
            intake.ingest(chunk, source=_source())
        cpu = time.process_time() - cpu
        library, page_size, commits = _by_tree(path, batches)
        with sqlite3.connect(path) as db:
            rows = db.execute(
                f"SELECT {', '.join(_columns('events'))} FROM events WHERE id > ? ORDER BY id",
                (last_event,),
            ).fetchall()
            customers = db.execute(
                f"SELECT {', '.join(_columns('customers'))} FROM customers WHERE rowid > ?",
                (last_customer,),
            ).fetchall()
        intake.store.dispose()
        raw, _, raw_commits = _raw_peer(peer, customers, rows, batch)
    if commits != round(batches) or raw_commits != round(batches):
        raise RuntimeError("the log was checkpointed during the run: take fewer --events")
    return {
        "machine": machine(),
        "options": {"events": events, "warm": warm, "known": known, "batch": batch},
        "page_size": page_size,
        "pages_per_batch": round(sum(library.values()), 1),
        "events_pages_per_batch": round(
            sum(n for name, n in library.items() if name.startswith(_EVENTS)), 1
        ),
        "raw_pages_per_batch": round(sum(raw.values()), 1),
        "by_tree_per_batch": {name: round(n, 1) for name, n in library.items()},
        "raw_by_tree_per_batch": {name: round(n, 1) for name, n in raw.items()},
        "process_cpu_us_per_event": round(cpu * 1e6 / events, 1),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.intake_pages",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--events", type=int, default=5_000, help="measured events (%(default)s)")
    p.add_argument("--warm", type=int, default=5_000, help="events before (%(default)s)")
    p.add_argument("--known", type=int, default=10_000, help="known customers (%(default)s)")
    p.add_argument("--batch", type=int, default=100, help="messages a batch (%(default)s)")
    args = p.parse_args(argv)
    result = run(args.events, args.warm, args.known, args.batch)
    raw = result["raw_by_tree_per_batch"]
    print_table(
        f"Pages a batch of {args.batch} writes ({result['page_size']:,}-byte pages): library "
        f"intake {result['pages_per_batch']} ({result['events_pages_per_batch']} of them the "
        f"events'), the raw peer's executemany of the same events {result['raw_pages_per_batch']}",
        ["table or index", "library", "raw peer"],
        [(name, n, raw.get(name, 0)) for name, n in result["by_tree_per_batch"].items()],
    )
    print(f"wrote {write_result('intake_pages', result)}")
    return result


if __name__ == "__main__":
    main()
