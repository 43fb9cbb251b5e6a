"""``cornerstore customers export|erase|consents|consent|anonymous``: a customer's privacy rights.

Registered on the ``customers`` group by :mod:`cornerstore.cli.main`.
"""

from __future__ import annotations

import json as jsonlib
import sys
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from cornerstore.cli.common import (
    Invocation,
    out,
    print_document,
    print_json,
    shared_options,
    when,
    writable_file,
    written_whole,
)
from cornerstore.errors import InvalidInput
from cornerstore.plural import counted
from cornerstore.privacy.consent import CustomerConsents
from cornerstore.privacy.rights import export_html

RefArgument = typer.Argument(..., help="Profile id, e-mail, phone or another identifier")
TouchpointOption = typer.Option(None, help="Where the customer said it (default: web)")


def _print_consents(view: CustomerConsents) -> None:
    table = Table("purpose", "answer", "when", "where", title=view.customer_id)
    for s in view.consents:
        answer = "granted" if s.granted else "withdrawn"
        table.add_row(
            s.purpose,
            answer if s.asked else Text(f"{answer} (default)", style="dim"),
            when(s.at),
            f"{s.touchpoint}/{s.source}" if s.asked else "-",
        )
    out.print(table)
    if view.anonymous:
        out.print("not profiled: no learned traits or personal suggestions")


@shared_options("acting", "db")
def export(
    run: Invocation,
    ref: str = RefArgument,
    html: bool = typer.Option(False, "--html", help="A readable HTML page instead of JSON"),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file"),
) -> None:
    """Everything held about the customer (profile, identifiers, traits, events, consents)."""
    if output is not None:
        writable_file(output, "--output")
    with run.services() as s:
        data = s.rights.export(run.caller(s), ref)
    text = export_html(data) if html else jsonlib.dumps(data, ensure_ascii=False, indent=2)
    if output is None:
        print_document(text + "\n")
        return
    with written_whole(output, "--output") as partial:
        partial.write_text(text + "\n", encoding="utf-8")
    out.print(f"export of {data['customer']['id']} written to {output}")


@shared_options("json", "acting", "db")
def erase(
    run: Invocation,
    ref: str = RefArgument,
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation"),
) -> None:
    """Remove the customer from every table, merged profiles included; suppress replays."""
    if not yes:
        if not sys.stdin.isatty():
            raise InvalidInput("erasure cannot be undone: add --yes to confirm")
        typer.confirm(
            f"Erase {ref} and everything held about them? This cannot be undone", abort=True
        )
    with run.services() as s:
        report = s.rights.erase(run.caller(s), ref)
    if run.json:
        print_json(report)
        return
    out.print(
        f"erased {report.customer_id}: {counted(report.profiles, 'profile')}, "
        f"{counted(report.identifiers, 'identifier')}, {counted(report.traits, 'trait value')}, "
        f"{counted(report.events, 'event')}, {counted(report.consents, 'consent answer')}; "
        f"{counted(report.suppressed_identifiers, 'identifier')} suppressed"
    )


@shared_options("json", "acting", "db")
def consents(
    run: Invocation,
    ref: str = RefArgument,
) -> None:
    """The customer's answer for every purpose, and whether they asked not to be profiled."""
    with run.services() as s:
        view = s.consents.get(run.caller(s), ref)
    if run.json:
        print_json(view)
        return
    _print_consents(view)


@shared_options("json", "acting", "db")
def consent(
    run: Invocation,
    ref: str = RefArgument,
    purpose: str = typer.Argument(
        ..., help="marketing_email, marketing_sms, personalisation, profiling or sharing"
    ),
    grant: bool = typer.Option(..., "--grant/--withdraw", help="Grant or withdraw the purpose"),
    touchpoint: str | None = TouchpointOption,
) -> None:
    """Record that the customer granted or withdrew one purpose."""
    with run.services() as s:
        view = s.consents.change(run.caller(s), ref, {purpose: grant}, touchpoint=touchpoint)
    if run.json:
        print_json(view)
        return
    _print_consents(view)


@shared_options("json", "acting", "db")
def anonymous(
    run: Invocation,
    ref: str = RefArgument,
    off: bool = typer.Option(False, "--off", help="Allow profiling and personalisation again"),
    touchpoint: str | None = TouchpointOption,
) -> None:
    """ "Anonymous, please": stop profiling and personal suggestions (still served, still known)."""
    with run.services() as s:
        view = s.consents.set_anonymous(run.caller(s), ref, not off, touchpoint=touchpoint)
    if run.json:
        print_json(view)
        return
    _print_consents(view)


def register(app: typer.Typer) -> None:
    """Add the rights commands to the ``customers`` group."""
    app.command("export")(export)
    app.command("erase")(erase)
    app.command("consents")(consents)
    app.command("consent")(consent)
    app.command("anonymous")(anonymous)
