"""The identity review queue's page with a long queue: the console's ``GET /reviews`` server
time and the queue read in process, with the variants reads counted.

The store (built once, cached under ``benchmarks/.cache``; SQLite):

1. ``--records`` messy records (:mod:`cornerstore.demo.messy`, default 6,000) taken in through
   intake as a till's identify messages. Intake stitches records that share an e-mail or a
   phone into one customer, which keeps the values each record brought as its variants (the
   evidence against reads them).
2. ``identity learn`` on the stored customers.
3. ``--pairs`` pairs queued for review (default 2,000), as resolve queues a pair: customers
   sharing a surname (then a first name), paired in the order they were read, each pair's
   fields and match weight those of their current records under the learned model
   (``review_row``). Resolve
   itself queues about 1 % of the customers (112 pairs at 20,000 records), too few to
   measure a long queue on.

Measured, on a copy of that store, ``--requests`` times after one warm-up:

- ``GET /reviews`` as the owner in the console (server time: the request's whole work, session,
  audit rows and HTML; :class:`benchmarks.bench_console.ServerTimer`), and the process's CPU
  time per request;
- ``IdentityResolution.pending(owner, 20)`` in process (the 20 strongest pairs with both
  profiles and the evidence against), wall and CPU;
- how many times each read called ``read_profile_variants``.

The script uses only what the code before paging also had (``pending``, ``GET /reviews``), so
the same command measures both: run it with ``PYTHONPATH`` on the older ``src``.

    python -m benchmarks.bench_reviews
    python -m benchmarks.bench_reviews --records 6000 --pairs 2000 --requests 10
"""

from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.bench_console import client_of, log_in, server_times
from benchmarks.bench_identity import messy_rows
from benchmarks.bench_placement import _message
from benchmarks.common import (
    CACHE,
    latency_ms,
    machine,
    print_table,
    scratch_services,
    services_taking_in,
    write_result,
)


def build(records: int, pairs: int, seed: int) -> Path:
    """The cached store with a learned model and ``pairs`` pending pairs (built when
    missing)."""
    path = CACHE / f"reviews-{records}-{pairs}-{seed}.db"
    if path.exists():
        return path
    from cornerstore.access.caller import system_caller
    from cornerstore.identity.resolution.model import IdentityModel, probability_of
    from cornerstore.identity.resolution.scorer import Scorer
    from cornerstore.identity.resolution.stored_profiles import read_profile_variants, review_row
    from cornerstore.intake.service import Source
    from cornerstore.storage import open_store

    CACHE.mkdir(parents=True, exist_ok=True)
    building = path.with_suffix(".building")
    building.unlink(missing_ok=True)
    url = f"sqlite:///{building}"
    open_store(url, upgrade=True).dispose()
    rows = messy_rows(records, seed)
    services, _ = services_taking_in(url, [_message(r) for r in rows], Source("till", "store"))
    owner = system_caller(actor="bench")
    services.identity.train(owner)
    with services.store.unit_of_work() as uow:
        stored = uow.identity.active_model()
        assert stored is not None
        model = IdentityModel.from_json(stored.model)
        profiles = read_profile_variants(uow, services.settings.default_phone_region)
    customers = profiles.customers
    scorer = Scorer(model, customers, indexed=False)
    ids = customers.columns["unique_id"]
    now = datetime.now(UTC)
    queued, seen = [], set()
    # Customers sharing a surname, then (for more pairs) a first name, paired as read.
    for column in ("last_name", "first_name"):
        groups: dict[Any, list[int]] = defaultdict(list)
        for i, value in enumerate(customers.columns[column]):
            groups[value].append(i)
        for group in groups.values():
            for a, b in zip(group[::2], group[1::2], strict=False):
                if (a, b) in seen or len(queued) >= pairs:
                    continue
                seen.add((a, b))
                left, right = customers.row(a), customers.row(b)
                weight = scorer.pair_weight(left, right, len(customers))
                pair = ((ids[a], left), (ids[b], right))
                queued.append(review_row(scorer, *pair, probability_of(weight), weight, now))
    queued = queued[:pairs]
    assert len(queued) == pairs, f"only {len(queued)} pairs of one surname or first name"
    with services.store.unit_of_work(write=True) as uow:
        uow.identity.add_reviews(queued)
    services.store.dispose()
    building.rename(path)
    return path


def measure(cached: Path, requests: int) -> dict[str, Any]:
    """Copy the store, then time the console page and the in-process queue read."""
    from cornerstore.access.caller import system_caller
    from cornerstore.identity.resolution import review

    calls = [0]
    reader = review.read_profile_variants

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return reader(*args, **kwargs)

    review.read_profile_variants = counted  # type: ignore[assignment]
    out: dict[str, Any] = {}
    with scratch_services(cached, "reviews") as services:
        owner = system_caller(actor="bench")
        with services.store.unit_of_work() as uow:
            out["pending"] = len(uow.identity.pending(10_000))
        with client_of(services) as (client, timer):
            log_in(client, "owner")
            page = client.get("/reviews")
            out["pairs_on_page"] = page.text.count('<article class="section review"')
            cpu: list[float] = []
            calls[0] = 0
            took = server_times(client, timer, [lambda: client.get("/reviews")] * requests, cpu)
            out["page"] = latency_ms(took)
            out["page_cpu_ms"] = round(1000 * sum(cpu) / len(cpu), 1)
            out["page_variant_reads"] = calls[0] / requests
        services.identity.pending(owner, 20)
        walls, cpus = [], []
        calls[0] = 0
        for _ in range(requests):
            wall, cpu_started = time.perf_counter(), time.process_time()
            shown = services.identity.pending(owner, 20)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu_started)
        out["pending_20"] = latency_ms(walls)
        out["pending_20_cpu_ms"] = round(1000 * sum(cpus) / len(cpus), 1)
        out["pending_20_variant_reads"] = calls[0] / requests
        out["pending_20_with_evidence_against"] = sum(bool(r.against) for r in shown)
    out["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_reviews", description=__doc__)
    p.add_argument("--records", type=int, default=6_000, help="messy records taken in (6,000)")
    p.add_argument("--pairs", type=int, default=2_000, help="pairs queued for review (2,000)")
    p.add_argument("--requests", type=int, default=10, help="timed reads of each kind (10)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    cached = build(args.records, args.pairs, args.seed)
    result = {"machine": machine(), "args": vars(args), **measure(cached, args.requests)}
    print_table(
        f"Review queue, {result['pending']:,} pairs pending ({args.records:,} messy records)",
        ["read", "pairs", "p50 ms", "p90 ms", "CPU ms", "variants reads"],
        [
            [
                "GET /reviews (server)",
                result["pairs_on_page"],
                result["page"]["p50_ms"],
                result["page"]["p90_ms"],
                result["page_cpu_ms"],
                result["page_variant_reads"],
            ],
            [
                "pending(owner, 20)",
                20,
                result["pending_20"]["p50_ms"],
                result["pending_20"]["p90_ms"],
                result["pending_20_cpu_ms"],
                result["pending_20_variant_reads"],
            ],
        ],
    )
    write_result("reviews", result)
    return result


if __name__ == "__main__":
    main()
