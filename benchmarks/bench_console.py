"""The staff console's server time: the customer page and search as you type, 100k customers.

1. The customer page ``GET /customers/{id}`` of a customer with 1,000 events and 50 merges, in
   a SQLite store of ``--profiles`` customers (the read benchmark's store, written straight to
   SQLite and cached: :mod:`benchmarks.profile_data`), after a learning run (scores, segments,
   moments). Side by side, in the same run, the JSON API reads that carry the same sections:
   ``GET /v1/customers/{id}``, its ``/timeline`` (the page's 25 events), the moments (``/timeline``
   of the ``other`` touchpoint, 8 events), ``/scores``, ``/consents``, ``/next-actions``,
   ``/suggestions?n=5`` and ``/v1/cases?customer=`` (the page's 10 cases), one after another as a
   client would fetch them (the segments section has no API read of its own). The figure is the
   ratio page / API.
2. Search as you type ``GET /customers?q=`` (the htmx fragment) against ``--customers`` messy
   customer records taken in through intake, as :mod:`benchmarks.bench_search` does: what staff
   type (names either way round, typos, nicknames, e-mails, the first letters), on SQLite and,
   with ``--database``, PostgreSQL. Peer: ``Profiles.search`` in process, the same queries.

Server time is measured around the app (an ASGI wrapper), in process: the request's whole work,
session check, audit rows and HTML included, without a network or a browser.

    python -m benchmarks.bench_console
    python -m benchmarks.bench_console --profiles 10000 --customers 10000 --requests 50
    python -m benchmarks.bench_console --database postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import os
import re
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from benchmarks import profile_data
from benchmarks.bench_search import _message as search_message
from benchmarks.bench_search import queries as search_queries
from benchmarks.common import (
    backend_of,
    console,
    fresh_database,
    latency_ms,
    machine,
    percentile,
    print_table,
    scratch_services,
    services_taking_in,
    write_result,
)

TARGET_PAGE_P99_MS = 300.0
TARGET_RATIO = 1.5
TARGET_SEARCH_P95_MS = 50.0
MERGES = 50
PAGE_EVENTS = 1000


class ServerTimer:
    """ASGI wrapper recording how long the app took over each request (server time)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.took: list[float] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = time.perf_counter()
        await self.app(scope, receive, send)
        if scope["type"] == "http":
            self.took.append(time.perf_counter() - started)

    @property
    def state(self) -> Any:
        return self.app.state


@contextmanager
def client_of(services: Any) -> Iterator[tuple[Any, ServerTimer]]:
    """A TestClient over the app of ``services`` (HTTPS: the session cookies are Secure)."""
    from cornerstore.api import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    timer = ServerTimer(create_app(services.settings, services))
    with TestClient(timer, base_url="https://testserver") as client:  # type: ignore[arg-type]
        yield client, timer


def log_in(client: Any, role: str) -> None:
    """Log in to the console as ``demo-<role>`` through its form."""
    from cornerstore.demo.staff import demo_password

    form = client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text)
    assert token is not None
    done = client.post(
        "/login",
        data={
            "username": f"demo-{role}",
            "password": demo_password(role),
            "login_token": token.group(1),
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.status_code


def server_times(
    client: Any,
    timer: ServerTimer,
    requests: list[Callable[[], Any]],
    cpu: list[float] | None = None,
) -> list[float]:
    """Each item's server time: the sum over the requests one item makes. With ``cpu``, each
    item's CPU time of this whole process (server and in-process client) is appended to it:
    on a loaded machine the wall time waits for a core, the CPU time does not."""
    took = []
    for make in requests:
        before, started = len(timer.took), time.process_time()
        response = make()
        assert response.status_code == 200, response.status_code
        took.append(sum(timer.took[before:]))
        if cpu is not None:
            cpu.append(time.process_time() - started)
    return took


def _load() -> float:
    return round(os.getloadavg()[0], 2)


# -- the customer page -----------------------------------------------------------------------
def _merged_customer(services: Any, target: str) -> None:
    """Give ``target`` ``MERGES`` merges: small profiles (no matching traits, so nothing is
    placed) merged into it by hand."""
    from cornerstore.access.caller import system_caller
    from cornerstore.intake.service import Source

    owner = system_caller(actor="bench")
    messages = [
        {
            "type": "identify",
            "messageId": f"bench-merge-{i}",
            "anonymousId": f"bench-merge-{i}",
            "traits": {"plan": f"visit {i}"},
        }
        for i in range(MERGES)
    ]
    services.intake.ingest(messages, source=Source("till", "store"))
    with services.store.unit_of_work() as uow:
        others = [
            found[0][1]
            for i in range(MERGES)
            if (found := uow.identifiers.find_by_value(f"bench-merge-{i}", ["anonymous_id"]))
        ]
    for other in others:
        services.merges.merge(owner, target, other)


def customer_page(profiles: int, events: int, count: int, learn: bool) -> dict[str, Any]:
    from cornerstore.access.caller import system_caller

    cached, meta = profile_data.ensure(profiles, events, 10, PAGE_EVENTS)
    out: dict[str, Any] = {"profiles": profiles, "events": events}
    with scratch_services(cached, "console-page") as services:
        owner = system_caller(actor="bench")
        target = meta["targets"][0]
        _merged_customer(services, target)
        if learn:
            started = time.perf_counter()
            report = services.learner.run(owner)
            out["learn_s"] = round(time.perf_counter() - started, 1)
            out["at_risk"] = report.at_risk
        token = services.credentials.create_token(owner, "bench", role="owner").secret
        profile = services.profiles.get(owner, target)
        out["customer"] = {
            "events": profile.summary.events if profile.summary else None,
            "merges": len(profile.merges or []),
        }
        bearer = {"Authorization": f"Bearer {token}"}
        with client_of(services) as (client, timer):
            log_in(client, "owner")
            page = f"/customers/{target}"
            api = [
                f"/v1/customers/{target}",
                f"/v1/customers/{target}/timeline?limit=25",
                f"/v1/customers/{target}/timeline?touchpoint=other&limit=8",
                f"/v1/customers/{target}/scores",
                f"/v1/customers/{target}/consents",
                f"/v1/customers/{target}/next-actions",
                f"/v1/customers/{target}/suggestions?n=5",
                f"/v1/cases?customer={target}&limit=10",
            ]
            html = client.get(page)
            out["page_bytes"] = len(html.content)
            out["unavailable_sections"] = html.text.count("unavailable")

            def read_api() -> Any:
                last = None
                for path_ in api:
                    last = client.get(path_, headers=bearer)
                    assert last.status_code == 200, (path_, last.status_code)
                return last

            # Warm both (statement caches, learning's imports), then alternate so a busy
            # moment of the machine falls on both alike.
            for _ in range(10):
                client.get(page)
                read_api()
            page_took: list[float] = []
            api_took: list[float] = []
            page_cpu: list[float] = []
            api_cpu: list[float] = []
            out["load_before"] = _load()
            for _ in range(count):
                page_took += server_times(client, timer, [lambda: client.get(page)], page_cpu)
                api_took += server_times(client, timer, [read_api], api_cpu)
            out["load_after"] = _load()
    out["page_ms"] = latency_ms(page_took)
    out["api_ms"] = latency_ms(api_took)
    out["page_cpu_ms"] = _mean_ms(page_cpu)
    out["api_cpu_ms"] = _mean_ms(api_cpu)
    out["ratio_p50"] = round(out["page_ms"]["p50_ms"] / max(out["api_ms"]["p50_ms"], 1e-9), 2)
    out["ratio_p99"] = round(out["page_ms"]["p99_ms"] / max(out["api_ms"]["p99_ms"], 1e-9), 2)
    return out


# -- search as you type ----------------------------------------------------------------------
def search_as_you_type(customers: int, count: int, database: str | None) -> dict[str, Any]:
    from cornerstore.access.caller import system_caller
    from cornerstore.demo.messy import MessyCustomers
    from cornerstore.demo.staff import add_demo_staff
    from cornerstore.intake.service import Source

    messy = MessyCustomers(people=max(1, round(customers / 1.9)), seed=0)
    rows = list(messy.records())[:customers]
    asked = search_queries(rows, messy.nicknames, count, seed=0)
    out: dict[str, Any] = {"backend": backend_of(database), "records": len(rows)}
    with fresh_database(database, "console") as url:
        services, took = services_taking_in(
            url, [search_message(r) for r in rows], Source("till", "store")
        )
        out["intake_s"] = round(took, 1)
        with services.store.unit_of_work() as uow:
            out["customers"] = uow.customers.count()
        if backend_of(url) == "postgresql":
            # Statistics and the visibility map (index-only scans), as autovacuum makes them
            # soon after a load this size.
            from sqlalchemy import text

            with services.store.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            ) as conn:
                for table in ("name_words", "customers", "identifiers", "traits"):
                    conn.execute(text(f"VACUUM ANALYZE {table}"))
        add_demo_staff(services.staff)
        caller = system_caller(actor="bench")
        fragment = {"HX-Request": "true"}
        with client_of(services) as (client, timer):
            log_in(client, "support")
            for _, q, _ in asked[:50]:  # warm the caches, as a running server's would be
                client.get("/customers", params={"q": q}, headers=fragment)
            page_cpu: list[float] = []
            out["load_before"] = _load()
            page_took = server_times(
                client,
                timer,
                [
                    (lambda q=q: client.get("/customers", params={"q": q}, headers=fragment))
                    for _, q, _ in asked
                ],
                page_cpu,
            )
        library_took, library_cpu = [], []
        for _, q, _ in asked:
            t0, c0 = time.perf_counter(), time.process_time()
            services.profiles.search(caller, q, 20)
            library_took.append(time.perf_counter() - t0)
            library_cpu.append(time.process_time() - c0)
        out["load_after"] = _load()
        services.store.dispose()
    out["queries"] = len(asked)
    out["page_ms"] = latency_ms(page_took) | {"p95_ms": _p95(page_took)}
    out["library_ms"] = latency_ms(library_took) | {"p95_ms": _p95(library_took)}
    out["page_cpu_ms"] = _mean_ms(page_cpu)
    out["library_cpu_ms"] = _mean_ms(library_cpu)
    return out


def _target(name: str, goal: str, target: float, measured: float) -> dict[str, Any]:
    """A summary row: ``measured`` meets ``target`` when at most it."""
    return {
        "name": name,
        "goal": goal,
        "target": target,
        "measured": measured,
        "ratio": round(target / max(measured, 1e-9), 3),
        "pass": measured <= target,
    }


def _mean_ms(seconds: list[float]) -> float:
    return round(sum(seconds) / max(len(seconds), 1) * 1000, 2)


def _p95(seconds: list[float]) -> float:
    return round(percentile(seconds, 95) * 1000, 2)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_console", description=__doc__)
    p.add_argument("--profiles", type=int, default=100_000, help="customers, page store (100k)")
    p.add_argument("--events", type=int, default=400_000, help="events, page store (400k)")
    p.add_argument("--requests", type=int, default=300, help="page views timed (300)")
    # About 1.5 records a stored customer once stitched: 150,000 records make ~100k customers.
    p.add_argument("--customers", type=int, default=150_000, help="records, search (150k)")
    p.add_argument("--queries", type=int, default=100, help="people looked up, x10 queries")
    p.add_argument("--database", default=None, help="also search on this PostgreSQL URL")
    p.add_argument("--no-learn", action="store_true", help="skip learning before the page")
    p.add_argument("--skip-page", action="store_true", help="search only")
    args = p.parse_args(argv)

    result: dict[str, Any] = {"machine": machine()}
    targets = []
    if not args.skip_page:
        console.print("[bold]console[/] the customer page")
        page = customer_page(args.profiles, args.events, args.requests, not args.no_learn)
        result["customer_page"] = page
        print_table(
            f"GET /customers/{{id}} ({page['customer']['events']:,} events, "
            f"{page['customer']['merges']} merges) against {page['profiles']:,} customers, "
            "server time",
            ["reads", "p50 ms", "p90 ms", "p99 ms", "max ms", "CPU ms (mean)"],
            [
                [
                    "console page (HTML)",
                    *(page["page_ms"][k] for k in _COLUMNS),
                    page["page_cpu_ms"],
                ],
                [
                    "JSON API, same sections (8 reads)",
                    *(page["api_ms"][k] for k in _COLUMNS),
                    page["api_cpu_ms"],
                ],
            ],
        )
        console.print(
            f"page / API: {page['ratio_p50']}x at p50, {page['ratio_p99']}x at p99; "
            f"page {page['page_bytes']:,} bytes, {page['unavailable_sections']} unavailable; "
            f"load average {page['load_before']} -> {page['load_after']}"
        )
        p99 = page["page_ms"]["p99_ms"]
        targets += [
            _target(
                f"console customer page vs {page['profiles']:,} customers, p99 ms",
                f"p99 <= {TARGET_PAGE_P99_MS:g}",
                TARGET_PAGE_P99_MS,
                p99,
            ),
            _target(
                "console customer page / JSON API reads, p99",
                f"<= {TARGET_RATIO:g}x",
                TARGET_RATIO,
                page["ratio_p99"],
            ),
        ]
    searches = []
    for database in [None, *([args.database] if args.database else [])]:
        console.print(f"[bold]console[/] search as you type on {backend_of(database)}")
        searches.append(search_as_you_type(args.customers, args.queries, database))
    result["search"] = searches
    print_table(
        "GET /customers?q= (htmx fragment), server time, against stored customers",
        ["backend", "customers", "what", "p50 ms", "p95 ms", "p99 ms", "CPU ms (mean)", "load"],
        [
            [
                s["backend"],
                s["customers"],
                what,
                s[key]["p50_ms"],
                s[key]["p95_ms"],
                s[key]["p99_ms"],
                s[cpu],
                f"{s['load_before']} -> {s['load_after']}",
            ]
            for s in searches
            for what, key, cpu in (
                ("console fragment", "page_ms", "page_cpu_ms"),
                ("Profiles.search", "library_ms", "library_cpu_ms"),
            )
        ],
    )
    for s in searches:
        p95 = s["page_ms"]["p95_ms"]
        targets.append(
            _target(
                f"console search as you type vs {s['customers']:,} customers "
                f"({s['backend']}), p95 ms",
                f"p95 <= {TARGET_SEARCH_P95_MS:g}",
                TARGET_SEARCH_P95_MS,
                p95,
            )
        )
    result["targets"] = targets
    write_result("console", result)
    return result


_COLUMNS = ("p50_ms", "p90_ms", "p99_ms", "max_ms")

if __name__ == "__main__":
    main()
