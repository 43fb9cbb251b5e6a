"""The stored-customer path: accuracy of ``identity learn`` + ``identity resolve`` on customers
taken in through intake, next to the file path (``identity dedupe``'s ``resolve``) on the very
same records, in the same run.

1. ``--records`` messy records (``cornerstore.demo.messy``, default 100,000; no date of birth)
   are taken in as identify messages, each record's id its anonymous id. Intake stitches the
   records that share an e-mail address or a phone number into one customer as they arrive.
2. A model is learned from the stored customers and every stored customer is resolved with it:
   merges, the review queue, households.
3. Each record's customer afterwards is read back through its anonymous id; pairwise and
   cluster precision / recall / F1 against the truth are computed over the records, as
   ``bench_identity.py`` computes them for the file path.

Wall time, CPU time (this process and its threads) and peak RSS are reported for each step;
the load average is recorded with the machine.

    python -m benchmarks.bench_identity_stored
    python -m benchmarks.bench_identity_stored --records 20000 --database postgresql://...
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import time
from collections.abc import Callable
from typing import Any

from benchmarks.bench_identity import CORNERSTORE_FIELDS, in_child, messy_rows, scores
from benchmarks.bench_placement import _message
from benchmarks.common import backend_of, fresh_database, machine, print_table, write_result

PRECISION_TARGET = 0.97
RECALL_TARGET = 0.95


def _step(timings: dict[str, Any], name: str, fn: Callable[[], Any]) -> Any:
    """Run ``fn``, keeping its wall and CPU seconds and the peak RSS so far under ``name``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    timings[name] = {
        "wall_s": round(time.perf_counter() - wall, 1),
        "cpu_s": round(time.process_time() - cpu, 1),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    return result


def run_stored(
    records: int, seed: int, database: str | None, sample: int | None = None
) -> dict[str, Any]:
    """Intake, learn (on a random ``sample`` of the customers when given), resolve; the
    records' customers scored against the truth."""
    from benchmarks.common import services_taking_in
    from cornerstore.access.caller import system_caller
    from cornerstore.intake.service import Source

    logging.getLogger("splink").setLevel(logging.ERROR)
    rows = messy_rows(records, seed)
    source = Source("till", "store")
    owner = system_caller(actor="bench")
    timings: dict[str, Any] = {}
    with fresh_database(database, "identity-stored") as url:
        services, _took = _step(
            timings,
            "intake",
            lambda: services_taking_in(url, [_message(r) for r in rows], source),
        )
        with services.store.unit_of_work() as uow:
            stitched = uow.customers.count()
        train: dict[str, Any] = {} if sample is None else {"sample": sample}
        _step(timings, "learn", lambda: services.identity.train(owner, **train))
        resolved = _step(timings, "resolve", lambda: services.identity.resolve(owner))
        with services.store.unit_of_work() as uow:
            owners = uow.identifiers.lookup([("anonymous_id", r["id"]) for r in rows])
            customers = uow.customers.count()
        services.store.dispose()
    labels = [owners[("anonymous_id", r["id"])].root_id for r in rows]
    out = scores(labels, [r["truth"] for r in rows])
    out.update(
        customers_after_intake=stitched,
        customers_after_resolve=customers,
        merged=resolved.merged,
        queued=resolved.queued,
        households=resolved.households,
        steps=timings,
        seconds=round(sum(s["wall_s"] for s in timings.values()), 1),
        cpu_seconds=round(sum(s["cpu_s"] for s in timings.values()), 1),
    )
    return out


def run_file(records: int, seed: int) -> dict[str, Any]:
    """The file path on the same records: prepare, train, score, cluster (``resolve``)."""
    from benchmarks.bench_identity import run_cornerstore

    rows = messy_rows(records, seed)
    cpu = time.process_time()
    out = run_cornerstore([rows], "GB")
    out["cpu_seconds"] = round(time.process_time() - cpu, 1)
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_identity_stored", description=__doc__
    )
    p.add_argument("--records", type=int, default=100_000, help="messy records (100,000)")
    p.add_argument("--database", default=None, help="PostgreSQL URL (default: SQLite)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--sample",
        type=int,
        default=None,
        help="learn from a random sample of this many stored customers (default: identity "
        "learn's own, 250,000)",
    )
    p.add_argument(
        "--skip-file", action="store_true", help="do not run the file path on the same records"
    )
    args = p.parse_args(argv)

    stored = in_child(run_stored, args.records, args.seed, args.database, args.sample)
    file = None if args.skip_file else in_child(run_file, args.records, args.seed)
    paths = [("learn + resolve (stored)", stored)] + ([("resolve (file)", file)] if file else [])
    print_table(
        f"Identity on {args.records:,} messy records: stored customers "
        f"({backend_of(args.database)}) and the file path",
        ["path", "pair P", "pair R", "pair F1", "cluster F1", "largest", "s", "CPU s", "peak MB"],
        [
            [
                name,
                r["pair_precision"],
                r["pair_recall"],
                r["pair_f1"],
                r["cluster_f1"],
                r["largest_cluster"],
                r["seconds"],
                r["cpu_seconds"],
                r["peak_mb"],
            ]
            for name, r in paths
        ],
    )
    print_table(
        "Stored path, step by step",
        ["step", "wall s", "CPU s", "peak MB"],
        [[k, v["wall_s"], v["cpu_s"], v["peak_mb"]] for k, v in stored["steps"].items()],
    )
    print(
        f"customers: {stored['customers_after_intake']:,} after intake, "
        f"{stored['customers_after_resolve']:,} after resolve ({stored['merged']:,} merged, "
        f"{stored['queued']:,} queued, {stored['households']:,} households; learned from "
        f"{'all' if args.sample is None else f'a sample of {args.sample:,}'}); "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    targets = [
        {
            "name": f"identity stored path, {args.records:,} records: pair {what}",
            "target": target,
            "measured": stored[key],
            "ratio": round(stored[key] / target, 3),
            "pass": stored[key] >= target,
        }
        for what, key, target in (
            ("precision", "pair_precision", PRECISION_TARGET),
            ("recall", "pair_recall", RECALL_TARGET),
        )
    ]
    result = {
        "machine": machine(),
        "args": vars(args),
        "fields": list(CORNERSTORE_FIELDS),
        "stored": stored,
        "file": file,
        "targets": targets,
    }
    write_result("identity_stored", result)
    return result


if __name__ == "__main__":
    main()
