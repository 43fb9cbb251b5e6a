"""Crash durability, the full probe: thirty SIGKILLs of ``cornerstore serve`` during streamed
``/v1/batch`` traffic, on SQLite (one worker) and PostgreSQL (two workers); prints what the
clients were told next to what the store holds, and writes ``results/crash.json``.

    .venv/bin/python -m benchmarks.bench_crash                       # 30 kills, both databases
    .venv/bin/python -m benchmarks.bench_crash --kills 5 --batches 400 --sqlite-only

The suite runs the same probe with a few kills (tests/test_crash_durability.py).
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from tests.crash_probe import run_probe

from benchmarks.common import fresh_database, machine, print_table, scratch_dir, write_result

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _write_key(url: str) -> str:
    from cornerstore.access.caller import system_caller
    from cornerstore.services import Services
    from cornerstore.settings import Settings
    from cornerstore.storage import open_store

    store = open_store(url)
    try:
        services = Services.build(Settings(database_url=url, secret_key="bench"), store)
        owner = system_caller(via="library", actor="bench")
        return services.credentials.create_write_key(owner, "shop", "web", "server").secret
    finally:
        store.dispose()


def probe(base_url: str | None, workers: int, args: argparse.Namespace) -> dict[str, Any]:
    with fresh_database(base_url, "crash") as url, scratch_dir("crash-logs") as folder:
        report = run_probe(
            url,
            _write_key(url),
            folder,
            kills=args.kills,
            workers=workers,
            people=args.people,
            batches=args.batches,
            batch_size=args.batch_size,
        )
    result = asdict(report)
    result.pop("log_tail")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--batches", type=int, default=2000, help="batches per database")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--database-url", default=PG_URL, help="PostgreSQL to make schemas in")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()

    runs = {"sqlite, 1 worker": probe(None, 1, args)}
    if not args.sqlite_only:
        runs["postgresql, 2 workers"] = probe(args.database_url, 2, args)
    rows = [
        [
            name,
            r["kills"],
            r["acknowledged"],
            r["lost"],
            r["stored_twice"],
            r["repeated_traits"],
            f"{r['profiles']}/{r['people']}",
            f"{r['retries_with_duplicates']}/{r['retried_batches']}",
            len(r["errors"]),
            r["seconds"],
        ]
        for name, r in runs.items()
    ]
    print_table(
        "Crash durability: SIGKILLs during /v1/batch traffic",
        [
            "database",
            "kills",
            "acknowledged",
            "lost",
            "stored twice",
            "traits twice",
            "profiles/people",
            "retries answered as dup./retried",
            "errors",
            "seconds",
        ],
        rows,
    )
    passed = all(
        r["lost"] == r["stored_twice"] == r["repeated_traits"] == 0
        and not r["errors"]
        and r["profiles"] == r["people"]
        for r in runs.values()
    )
    path = write_result("crash", {"machine": machine(), "runs": runs, "passed": passed})
    print(f"{'PASS' if passed else 'FAIL'}; written {path}")


if __name__ == "__main__":
    main()
