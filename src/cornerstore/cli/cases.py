"""``cornerstore service import-mail`` and ``cornerstore service cases``: e-mail into cases,
and the cases listed. :func:`register` adds them to the ``service`` group."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from cornerstore.cases.mail_import import import_mail
from cornerstore.cases.model import STATUSES
from cornerstore.cli.common import Invocation, err, id_column, out, print_json, shared_options, when


@shared_options("acting", "db")
def import_mail_command(
    run: Invocation,
    path: Path = typer.Argument(..., help="An mbox file, a Maildir or a folder of .eml files"),
) -> None:
    """Turn e-mail into cases and messages, threaded by Message-ID, In-Reply-To and
    References; attachments listed, not stored; senders matched to customers. Safe to run
    twice. A file that is not an e-mail is named and the rest imported (exit code 1)."""
    with run.services() as s:
        result = import_mail(s.cases, run.caller(s), path)
    out.print(
        f"read {result.read}, imported {result.imported} "
        f"({result.cases_opened} new cases, {result.replies} into existing ones), "
        f"already there {result.duplicates}, failed {len(result.failed)}"
    )
    for failure in result.failed:
        err.print(f"{failure.origin}: {failure.reason}")
    if result.failed:
        raise typer.Exit(1)


@shared_options("json", "acting", "db")
def list_cases(
    run: Invocation,
    customer: str | None = typer.Option(
        None, "--customer", help="Only this customer's cases: an id, e-mail or phone"
    ),
    status: list[str] = typer.Option(
        [], "--status", help=f"Only cases in this status ({', '.join(STATUSES)}); repeatable"
    ),
    limit: int = typer.Option(100, "--limit", min=1, max=1000, help="At most this many"),
) -> None:
    """Cases, newest first: id, customer, channel, status, subject and message count."""
    with run.services() as s:
        caller = run.caller(s)
        found = s.cases.find(caller, s.cases.filter(caller, status=status, limit=limit), customer)
    if run.json:
        print_json(found)
        return
    table = Table(
        "case",
        id_column("customer", (c.customer_id for c in found)),
        "channel",
        "status",
        "category",
        "opened",
        "messages",
        "subject",
    )
    for case in found:
        table.add_row(
            str(case.id), case.customer_id, case.channel, case.status, case.category,
            when(case.opened_at), str(case.message_count), case.subject,
        )  # fmt: skip
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add the case commands to the ``service`` group."""
    app.command("import-mail")(import_mail_command)
    app.command("cases")(list_cases)
