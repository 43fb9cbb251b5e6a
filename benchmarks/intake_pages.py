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

The events table and its indexes are what the raw peer of ``bench_intake`` writes too; the rest
(customers, identifiers, traits and their indexes) is intake's alone. SQLite only.
"""

from __future__ import annotations

import argparse
import sqlite3
import struct
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks import workload
from benchmarks.common import fresh_database, machine, print_table, sqlite_path, write_result

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


def run(events: int, warm: int, known: int, batch: int) -> dict[str, Any]:
    from benchmarks.bench_intake import _intake, _source, seed

    people = workload.people(known)
    messages = workload.traffic(warm + events, people, run="lib")
    with fresh_database(None, "pages") as url:
        seed(url, people, batch)
        intake = _intake(url)
        for chunk in workload.batches(messages[:warm], batch):
            intake.ingest(chunk, source=_source())
        path = sqlite_path(url)
        _empty_the_log(path)
        cpu = time.process_time()
        for chunk in workload.batches(messages[warm:], batch):
            intake.ingest(chunk, source=_source())
        cpu = time.process_time() - cpu
        frames, page_size = wal_frames(Path(path + "-wal"))
        with sqlite3.connect(path) as db:
            owner = dict(db.execute("SELECT pageno, name FROM dbstat").fetchall())
            rows = {
                table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("customers", "identifiers", "traits", "events")
            }
        intake.store.dispose()
    commits = sum(1 for _, ends in frames if ends)
    by_tree = Counter(owner.get(page, "(pages added since)") for page, _ in frames)
    batches = events / batch
    return {
        "machine": machine(),
        "options": {"events": events, "warm": warm, "known": known, "batch": batch},
        "page_size": page_size,
        "commits": commits,
        "pages_per_batch": round(len(frames) / batches, 1),
        "events_pages_per_batch": round(
            sum(n for name, n in by_tree.items() if name.startswith(_EVENTS)) / batches, 1
        ),
        "by_tree_per_batch": {name: round(n / batches, 1) for name, n in by_tree.most_common()},
        "rows_after": rows,
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
    print_table(
        f"Pages a batch of {args.batch} writes ({result['page_size']:,}-byte pages, "
        f"{result['commits']} commits; {result['pages_per_batch']} in all, "
        f"{result['events_pages_per_batch']} of them the events')",
        ["table or index", "pages a batch"],
        list(result["by_tree_per_batch"].items()),
    )
    print(f"wrote {write_result('intake_pages', result)}")
    return result


if __name__ == "__main__":
    main()
