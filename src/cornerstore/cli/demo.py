"""``cornerstore demo``: a realistic small business, generated and sent through the real intake."""

from __future__ import annotations

import time

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from cornerstore.cli.common import Invocation, count_option, err, out, shared_options
from cornerstore.plural import counted


@shared_options("db")
def demo(
    run: Invocation,
    customers: int = typer.Option(2000, min=1, max=2_000_000, help="People in the business"),
    seed: int = count_option(
        0, least=0, help="Random seed (the same seed gives the same business)"
    ),
    if_missing: bool = typer.Option(
        False, "--if-missing", help="Do nothing when the database already holds customers"
    ),
) -> None:
    """Generate two years of a small business (store, web, support, billing, shipping, surveys)."""
    from cornerstore.demo.load import estimate_messages, load_demo
    from cornerstore.demo.queue import add_open_cases
    from cornerstore.demo.staff import add_demo_staff

    if if_missing:
        store = run.store(create=True)
        try:
            if not store.is_empty():
                with store.unit_of_work() as uow:
                    if uow.customers.count() > 0:
                        out.print("demo business already loaded; nothing to do")
                        return
        finally:
            store.dispose()
    with run.services(create=True) as s:
        # Staff first: the support desk's replies in the business name their agents.
        staff = add_demo_staff(s.staff)
        started = time.perf_counter()
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=out,
            transient=True,
            # Off when stdout is not a terminal: a log or a pipe gets only the summary lines.
            disable=not out.is_terminal,
        ) as progress:
            task = progress.add_task(
                "generating the demo business", total=estimate_messages(customers)
            )
            try:
                result = load_demo(
                    s.intake,
                    customers=customers,
                    seed=seed,
                    progress=lambda n: progress.update(task, completed=n),
                )
            except KeyboardInterrupt:
                # Batches already stored stay: say so, since --if-missing would now skip it.
                err.print(
                    "demo stopped: the database holds part of the demo business; start again "
                    "with a new --db"
                )
                raise
        took = time.perf_counter() - started
        with s.store.unit_of_work() as uow:
            profiles = uow.customers.count()
        # Cases still open on the demo's last days, so the contact centre shows a live queue.
        opened = add_open_cases(s.cases, s.remedies, count=max(3, min(40, customers // 50)))
    out.print(
        f"demo business: {counted(result.accepted, 'message')} from "
        f"{counted(customers, 'person', 'people')} in {took:.1f}s; {counted(profiles, 'profile')}, "
        f"{counted(result.merges, 'merge')}, {counted(result.refused_merges, 'refused merge')}; "
        f"{counted(opened, 'open case')}"
    )
    if staff:
        out.print(
            f"demo staff: {', '.join(staff)}; password demo-<role>-password (local use only, "
            "see docs/access.md)"
        )
