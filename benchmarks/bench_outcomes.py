"""Outcome metrics of the contact centre: how long one dashboard's figures take.

A synthetic shop: ``--customers`` customers, ``--cases`` cases over a year on five channels and
six categories (a third about an order), each with its status history (a tenth reopened), one to
three agent replies and a handover now and then; a fifth of the customers come back within a
week. Timed:

- ``compute``: :func:`cornerstore.outcomes.metrics.service_metrics` over the records in memory,
  overall and by channel (the definitions alone);
- ``request``: ``ServiceOutcomes.metrics`` over a SQLite store holding the same cases (policy,
  the bounded reads of cases, changes, messages and orders, survey answers, purchases,
  segments, and the audit entry), as ``GET /v1/service/metrics`` runs it.

No open-source helpdesk computes these definitions (first-contact resolution across channels
after identity resolution, Wilson intervals), so there is no peer to run beside it; the
compute-only figure shows what the reads cost.

    python -m benchmarks.bench_outcomes [--customers 20000] [--cases 50000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.common import machine, print_table, scratch_dir, write_result
from cornerstore.access.caller import system_caller
from cornerstore.outcomes.metrics import service_metrics
from cornerstore.outcomes.model import CaseMessage, CaseRecord, StatusChange
from cornerstore.services import Services
from cornerstore.settings import Settings
from cornerstore.storage import open_store
from cornerstore.storage import tables as t

START = datetime(2025, 1, 1, tzinfo=UTC)
CHANNELS = ("email", "phone", "chat", "store", "web")
CATEGORIES = ("delivery", "billing", "refund", "damaged item", "wrong item", "product question")
AGENTS = ("sam", "lee", "kim", "ola")


def synthetic_cases(customers: int, cases: int, seed: int) -> list[CaseRecord]:
    rng = random.Random(seed)
    out = []
    for i in range(1, cases + 1):
        customer = f"c{rng.randrange(customers):07d}"
        opened = START + timedelta(seconds=rng.randrange(365 * 86400))
        replies = rng.randint(1, 3)
        agent = rng.choice(AGENTS)
        owners = (agent, rng.choice(AGENTS)) if rng.random() < 0.1 else (agent,)
        resolved = opened + timedelta(hours=rng.lognormvariate(2.5, 1.0))
        history = [StatusChange(opened, "open"), StatusChange(resolved, "resolved")]
        if rng.random() < 0.1:
            history += [
                StatusChange(resolved + timedelta(days=1), "open"),
                StatusChange(resolved + timedelta(days=2), "resolved"),
            ]
        messages = [CaseMessage(opened, "customer")] + [
            CaseMessage(opened + timedelta(hours=k + 1), "agent", owners[-1])
            for k in range(replies)
        ]
        order = frozenset({f"o{rng.randrange(cases)}"}) if rng.random() < 0.33 else frozenset()
        out.append(
            CaseRecord(
                id=i,
                customer_id=customer,
                channel=rng.choice(CHANNELS),
                category=rng.choice(CATEGORIES),
                opened_at=opened,
                history=tuple(history),
                messages=tuple(messages),
                owners=owners,
                agent=owners[-1],
                order_ids=order,
            )
        )
    return out


def store_cases(services: Services, records: list[CaseRecord]) -> None:
    """Write the records straight into the tables (the intake path is measured elsewhere)."""
    customers = sorted({r.customer_id for r in records if r.customer_id})
    with services.store.unit_of_work(write=True) as uow:
        conn = uow.conn
        conn.execute(
            t.customers.insert(),
            [{"id": c, "kind": "person", "root_id": c, "created_at": START} for c in customers],
        )
        conn.execute(
            t.cases.insert(),
            [
                {
                    "id": r.id, "customer_id": r.customer_id, "channel": r.channel,
                    "status": r.history[-1].status, "category": r.category,
                    "priority": "normal", "subject": "synthetic", "opened_at": r.opened_at,
                    "updated_at": r.history[-1].at, "resolved_at": r.history[-1].at,
                    "reopened": len(r.history) > 2, "created_by": "bench",
                }
                for r in records
            ],
        )  # fmt: skip
        conn.execute(
            t.case_changes.insert(),
            [
                {"case_id": r.id, "customer_id": r.customer_id, "at": h.at, "actor": "bench",
                 "field": "status", "old": None, "new": h.status}
                for r in records
                for h in r.history[1:]
            ],
        )  # fmt: skip
        conn.execute(
            t.case_messages.insert(),
            [
                {"case_id": r.id, "customer_id": r.customer_id,
                 "direction": "in" if m.author == "customer" else "out",
                 "author_kind": m.author, "internal": False, "channel": r.channel,
                 "body": "synthetic", "sent_at": m.at}
                for r in records
                for m in r.messages
            ],
        )  # fmt: skip


def best_of(repeats: int, run: Any) -> float:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return min(times)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_outcomes", description=__doc__)
    p.add_argument("--customers", type=int, default=20_000)
    p.add_argument("--cases", type=int, default=50_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)

    records = synthetic_cases(args.customers, args.cases, args.seed)
    as_of = START + timedelta(days=400)
    start, end = START, START + timedelta(days=365)
    compute = best_of(
        args.repeats,
        lambda: service_metrics(records, as_of=as_of, group_by="channel", start=start, end=end),
    )
    overall = service_metrics(records, as_of=as_of, start=start, end=end).overall
    with scratch_dir("outcomes") as folder:
        url = f"sqlite:///{folder / 'outcomes.db'}"
        services = Services.build(Settings(database_url=url), open_store(url, upgrade=True))
        store_cases(services, records)
        request = best_of(
            args.repeats,
            lambda: services.outcomes.metrics(system_caller(), start, end, "channel", now=as_of),
        )
        services.store.dispose()
    rows = [
        ("compute (in memory)", args.cases, round(compute, 3), round(args.cases / compute)),
        ("request (SQLite store)", args.cases, round(request, 3), round(args.cases / request)),
    ]
    print_table(
        f"outcome metrics by channel, {args.cases:,} cases, best of {args.repeats}",
        ["path", "cases", "seconds", "cases/s"],
        rows,
    )
    print_table(
        "the synthetic shop's headline",
        ["resolution", "first-contact", "reopen", "repeat 7d", "median h"],
        [
            (
                overall.resolution.value,
                overall.first_contact_resolution.value,
                overall.reopen.value,
                overall.repeat_contact.value,
                overall.time_to_resolution.median_hours,
            )
        ],
    )
    result = {
        "machine": machine(),
        "args": vars(args),
        "rows": [
            dict(zip(("path", "cases", "seconds", "cases_per_second"), r, strict=True))
            for r in rows
        ],
        "targets": [],
    }
    write_result("outcomes", result)
    return result


if __name__ == "__main__":
    main()
