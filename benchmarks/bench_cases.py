"""The contact centre's case view: server time of ``GET /cases/{id}`` for a customer with 1,000
events and 50 cases, on SQLite and PostgreSQL. Target: 100 ms.

A shop of ``--customers`` demo customers (the demo generator through the real intake, learned
once, with its cases from the support desk) gets one more customer with ``--events`` events
across departments and ``--cases`` cases (messages, notes, a remedy each). The case page reads
the case, then side by side the customer's profile, scores, timeline page, their cases and the
suggested remedy (each section within its time budget), and renders the HTML; the supervisor
sees every section. Peers in the same run: the JSON read of the case ``GET /v1/cases/{id}`` and
the console's customer page ``GET /customers/{id}`` of the same customer (the page staff used
before there was a case view).

Server time is measured around the app (an ASGI wrapper), in process: session check, audit
rows and HTML included, without a network or a browser.

    python -m benchmarks.bench_cases
    python -m benchmarks.bench_cases --database postgresql+psycopg://postgres@127.0.0.1:5432/test
    python -m benchmarks.bench_cases --customers 200 --requests 30     # a quick look
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.bench_console import client_of, log_in, server_times
from benchmarks.common import (
    backend_of,
    console,
    fresh_database,
    latency_ms,
    machine,
    print_table,
    write_result,
)

TARGET_MS = 100.0
SECTIONS = ("Conversation", "Customer", "Value, loyalty and churn risk", "Make it right")


def _busy_customer(services: Any, events: int, cases: int) -> tuple[str, int]:
    """A customer with ``events`` events over two years in five departments and ``cases``
    cases (the last one open); the customer's id and the open case's id."""
    from cornerstore.access.caller import Caller, system_caller
    from cornerstore.cases.model import CaseLink
    from cornerstore.cases.service import CaseOpening, CaseUpdate, NewMessage, Sender
    from cornerstore.intake.service import Source

    rng = random.Random(7)
    uid = "bench-busy"
    start = datetime(2024, 11, 1, tzinfo=UTC)
    services.intake.ingest(
        [
            {
                "type": "identify",
                "userId": uid,
                "messageId": "bench-busy-id",
                "traits": {
                    "firstName": "Bea",
                    "lastName": "Busy",
                    "email": "bea.busy@example.com",
                    "phone": "07700 900777",
                },
            }
        ],
        source=Source("web-shop", "web"),
    )
    kinds = [
        ("web", "Order Completed"),
        ("web", "Product Viewed"),
        ("store", "Order Completed"),
        ("shipping", "Shipment Dispatched"),
        ("billing", "Invoice Paid"),
    ]
    by_source: dict[str, list[dict[str, Any]]] = {}
    for i in range(events - 1):
        touchpoint, name = kinds[i % len(kinds)]
        at = start + timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60))
        by_source.setdefault(touchpoint, []).append(
            {
                "type": "track",
                "userId": uid,
                "event": name,
                "messageId": f"bench-busy-{i}",
                "timestamp": at.isoformat(),
                "properties": {"order_id": f"B-{i // 5}", "total": round(rng.uniform(5, 120), 2)},
            }
        )
    for touchpoint, messages in by_source.items():
        services.intake.ingest(messages, source=Source(f"bench-{touchpoint}", touchpoint))
    owner = system_caller(actor="bench")
    agent = Caller("user:demo-support", "support", "library")
    with services.store.unit_of_work() as uow:
        customer = services.lookup.find_root(uow, "bea.busy@example.com", owner)
    categories = ("delivery", "damaged item", "refund", "billing", "product question")
    case_id = 0
    for n in range(cases):
        at = start + timedelta(days=n * 14)
        opened = services.cases.open(
            owner,
            CaseOpening(
                Sender(customer=customer),
                ("email", "chat", "phone", "store", "web")[n % 5],
                f"About order B-{n}",
                "The order is not what I expected, please help.",
                category=categories[n % len(categories)],
                links=(CaseLink("order", f"B-{n}"),),
                at=at,
            ),
        )
        case_id = opened.case.id
        reply = NewMessage("Sorry - we are on it.", "out", at=at + timedelta(hours=2))
        services.cases.add_message(agent, case_id, reply)
        note = NewMessage("Checked with the warehouse.", "out", internal=True)
        services.cases.add_message(agent, case_id, note)
        services.remedies.grant(owner, case_id, "credit", 10 + n % 10)
        if n < cases - 1:
            services.cases.update(owner, case_id, CaseUpdate(status="resolved"))
    return customer, case_id


def case_view(database: str | None, customers: int, events: int, cases: int, count: int) -> Any:
    from cornerstore.access.caller import system_caller
    from cornerstore.demo.load import load_demo
    from cornerstore.demo.staff import add_demo_staff
    from cornerstore.services import Services
    from cornerstore.settings import Settings
    from cornerstore.storage import open_store

    out: dict[str, Any] = {"backend": backend_of(database), "customers": customers}
    with fresh_database(database, "cases") as url:
        settings = Settings(_env_file=None, database_url=url, secret_key="bench")
        services = Services.build(settings, open_store(url))
        owner = system_caller(actor="bench")
        load_demo(services.intake, customers=customers, seed=1)
        add_demo_staff(services.staff)
        customer, case_id = _busy_customer(services, events, cases)
        services.learner.run(owner)
        profile = services.profiles.get(owner, customer)
        out["customer"] = {
            "events": profile.summary.events if profile.summary else None,
            "cases": len(services.cases.of_customer(owner, customer, 1000)),
        }
        with services.store.unit_of_work() as uow:
            from cornerstore.cases.model import CaseFilter

            out["cases_stored"] = len(uow.cases.find(CaseFilter(limit=100_000)))
        token = services.credentials.create_token(owner, "bench", role="supervisor").secret
        bearer = {"Authorization": f"Bearer {token}"}
        reads = {
            "case page": f"/cases/{case_id}",
            "case JSON": f"/v1/cases/{case_id}",
            "customer page": f"/customers/{customer}",
        }
        with client_of(services) as (client, timer):
            log_in(client, "supervisor")
            html = client.get(reads["case page"]).text
            out["sections_shown"] = [s for s in SECTIONS if f">{s}</h2>" in html]
            out["unavailable_sections"] = html.count("Unavailable right now")

            def get(path: str) -> Any:
                return client.get(path, headers=bearer if path.startswith("/v1/") else None)

            for _ in range(10):  # warm statement caches and learning's imports
                for path in reads.values():
                    get(path)
            took: dict[str, list[float]] = {name: [] for name in reads}
            cpu: dict[str, float] = dict.fromkeys(reads, 0.0)
            out["audit_entries"] = {}
            for name, path in reads.items():
                since = datetime.now(UTC)
                get(path)
                out["audit_entries"][name] = _audit_rows(services, since)
            # Alternate, so a busy moment of the machine falls on each alike.
            for _ in range(count):
                for name, path in reads.items():
                    # The process's CPU time (every thread): what the load of the machine
                    # does not change, beside the wall time it does.
                    before = time.process_time()
                    took[name] += server_times(client, timer, [lambda p=path: get(p)])
                    cpu[name] += time.process_time() - before
        services.store.dispose()
    out["ms"] = {name: latency_ms(values) for name, values in took.items()}
    out["cpu_ms"] = {name: round(1000 * total / count, 2) for name, total in cpu.items()}
    out["load_average"] = [round(v, 2) for v in os.getloadavg()]
    return out


def _audit_rows(services: Any, since: datetime) -> int:
    """The audit entries of the reads since ``since``."""
    from cornerstore.access.caller import system_caller

    entries = services.audit.find(system_caller(actor="bench"), since=since, limit=10_000)
    return sum(1 for e in entries if e.action != "read_audit")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_cases", description=__doc__)
    p.add_argument("--customers", type=int, default=1000, help="demo customers around (1000)")
    p.add_argument("--events", type=int, default=1000, help="events of the customer (1000)")
    p.add_argument("--cases", type=int, default=50, help="cases of the customer (50)")
    p.add_argument("--requests", type=int, default=200, help="views timed per read (200)")
    p.add_argument("--database", default=None, help="also on this PostgreSQL URL")
    args = p.parse_args(argv)

    result: dict[str, Any] = {"machine": machine(), "runs": []}
    rows, targets = [], []
    for database in [None, *([args.database] if args.database else [])]:
        console.print(f"[bold]cases[/] the case view on {backend_of(database)}")
        run = case_view(database, args.customers, args.events, args.cases, args.requests)
        result["runs"].append(run)
        for name, ms in run["ms"].items():
            rows.append(
                [
                    run["backend"],
                    name,
                    ms["p50_ms"],
                    ms["p90_ms"],
                    ms["p99_ms"],
                    ms["max_ms"],
                    run["cpu_ms"][name],
                ]
            )
        page = run["ms"]["case page"]
        targets.append(
            {
                "name": f"case view ({run['backend']}), p99 ms",
                "goal": f"<= {TARGET_MS:g}",
                "measured": page["p99_ms"],
                "pass": page["p99_ms"] <= TARGET_MS,
            }
        )
        console.print(
            f"{run['backend']}: customer with {run['customer']['events']:,} events and "
            f"{run['customer']['cases']} cases among {run['cases_stored']:,} cases; sections "
            f"{', '.join(run['sections_shown'])}; {run['unavailable_sections']} unavailable; "
            f"audit entries per read {run['audit_entries']}; "
            f"load average {run['load_average']}"
        )
    print_table(
        f"GET /cases/{{id}} for a customer with {args.events:,} events and {args.cases} cases, "
        "server time (supervisor)",
        ["backend", "read", "p50 ms", "p90 ms", "p99 ms", "max ms", "CPU ms"],
        rows,
    )
    result["targets"] = targets
    for t in targets:
        console.print(
            f"{t['name']}: {t['measured']} ({t['goal']}: {'pass' if t['pass'] else 'FAIL'})"
        )
    write_result("cases", result)
    return result


if __name__ == "__main__":
    main()
