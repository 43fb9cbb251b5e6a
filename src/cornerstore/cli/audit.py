"""``cornerstore audit``: who read or changed which customer; export as JSON or CSV; retention."""

from __future__ import annotations

from datetime import datetime, timedelta

import typer
from rich.table import Table

from cornerstore.access.audit import to_csv
from cornerstore.access.credentials import parse_duration
from cornerstore.cli.common import Invocation, out, print_document, print_json, shared_options, when
from cornerstore.errors import InvalidInput

app = typer.Typer(
    help="The audit trail: list (filters, --json, --csv) and prune by retention",
    invoke_without_command=True,
)


def _time(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{option}: give an ISO 8601 date or time") from None


@app.callback()
@shared_options("json", "db")
def audit(
    run: Invocation,
    ctx: typer.Context,
    customer: str | None = typer.Option(None, "--customer", help="Only this profile id"),
    actor: str | None = typer.Option(None, help="Only this actor (e.g. user:ann)"),
    action: str | None = typer.Option(None, help="Only this action (e.g. read_profile)"),
    branch: str | None = typer.Option(None, help="Only actions of staff of this branch"),
    since: str | None = typer.Option(None, help="From this ISO date or time (inclusive)"),
    until: str | None = typer.Option(None, help="Before this ISO date or time"),
    limit: int = typer.Option(1000, min=1, max=10_000),
    csv: bool = typer.Option(False, "--csv", help="Print CSV (a header row, one entry a line)"),
) -> None:
    """List audit entries, oldest first: who, which sections, when, from where, why."""
    if ctx.invoked_subcommand is not None:
        return
    with run.services() as s:
        if customer is not None:
            with s.store.unit_of_work() as uow:
                row = uow.customers.get(customer.strip())
            # A merged-away id is audited under the profile it belongs to now.
            customer = row.root_id if row else customer.strip()
        entries = s.audit.find(
            run.caller(s),
            customer_id=customer,
            actor=actor,
            action=action,
            branch=branch,
            since=_time(since, "since"),
            until=_time(until, "until"),
            limit=limit,
        )
    if csv:
        print_document(to_csv(entries))
        return
    if run.json:
        print_json(entries)
        return
    table = Table("when", "actor", "action", "customer", "sections", "via", "from", "reason")
    for e in entries:
        table.add_row(
            when(e.at),
            e.actor,
            e.action,
            e.customer_id or "-",
            ", ".join(e.sections) or "-",
            e.via,
            e.remote or "-",
            e.reason or "-",
        )
    out.print(table)


@app.command("prune")
@shared_options("db")
def prune(
    run: Invocation,
    older_than: str | None = typer.Option(
        None,
        "--older-than",
        help="Delete entries older than this, e.g. 104w (default: access.audit_retention_days)",
    ),
) -> None:
    """Retention: delete entries older than a duration (the pruning itself is recorded)."""
    try:
        given = parse_duration(older_than) if older_than else None
    except InvalidInput:
        raise InvalidInput("--older-than: give a duration such as 12h, 30d or 2w") from None
    with run.services() as s:
        keep = given or timedelta(days=s.settings.access.audit_retention_days)
        removed = s.audit.prune(run.caller(s), keep)
    out.print(f"{removed} audit entries removed")
