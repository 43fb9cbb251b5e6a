"""``cornerstore service``: the contact centre — cases and e-mail in (``cli/cases.py``), outcome
metrics and follow-up surveys."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from cornerstore.cli import cases
from cornerstore.cli.common import (
    Invocation,
    id_column,
    out,
    parse_moment,
    print_json,
    shared_options,
    when,
    writable_file,
    written_whole,
)
from cornerstore.errors import InvalidInput
from cornerstore.outcomes.model import GROUPINGS, Durations, OutcomeMetrics, Rate, SurveyLink
from cornerstore.plural import counted
from cornerstore.spreadsheet_csv import spreadsheet_writer

app = typer.Typer(
    help="The contact centre: cases, e-mail in, outcome metrics and surveys", no_args_is_help=True
)
cases.register(app)
surveys_app = typer.Typer(help="Follow-up surveys of resolved cases", no_args_is_help=True)
app.add_typer(surveys_app, name="surveys")


@app.command("metrics")
@shared_options("json", "acting", "db")
def metrics(
    run: Invocation,
    start: str | None = typer.Option(
        None, "--from", help="Cases opened from, ISO date or time (default: 90 days ago)"
    ),
    end: str | None = typer.Option(None, "--to", help="until (default: now)"),
    by: str | None = typer.Option(None, "--by", help=f"Break down by: {', '.join(GROUPINGS)}"),
) -> None:
    """Outcome metrics of the cases opened in a period, each rate with n and its 95 % Wilson
    interval; response time reported last, never the headline."""
    since, until = parse_moment(start, "--from"), parse_moment(end, "--to")
    with run.services() as s:
        report = s.outcomes.metrics(run.caller(s), since, until, by)
    if run.json:
        body: dict[str, Any] = asdict(report)
        body = {"from": body.pop("start"), "to": body.pop("end"), **body}
        print_json(body)
        return
    title = f"cases opened {when(report.start)} to {when(report.end)}, judged {when(report.as_of)}"
    table = Table("outcome", "value", "95% interval", "of", title=title)
    for name, figure in _figures(report.overall):
        table.add_row(name, *figure)
    out.print(table)
    if report.groups:
        groups = Table(
            id_column(report.group_by or "", (g.key for g in report.groups)),
            "opened",
            "resolved",
            "1st contact",
            "reopen",
            "repeat",
            "confirmed",
            "median h",
        )
        for g in report.groups:
            m = g.metrics
            groups.add_row(
                g.key,
                str(m.opened),
                *(
                    _share(r)
                    for r in (
                        m.resolution,
                        m.first_contact_resolution,
                        m.reopen,
                        m.repeat_contact,
                        m.confirmed,
                    )
                ),
                _hours(m.time_to_resolution.median_hours),
            )
        out.print(groups)
    after = report.afterwards
    followed = Table(
        id_column(f"{counted(after.window_days, 'day')} after", ["a resolved case"]),
        "customers",
        "bought again",
        "95% interval",
        "purchases",
        "spend",
        "P(alive)",
    )
    for label, group in (("a resolved case", after.after_case), ("comparable", after.comparable)):
        followed.add_row(
            label,
            str(group.customers),
            _share(group.bought_again),
            _interval(group.bought_again),
            _number(group.mean_purchases),
            _number(group.mean_spend),
            _number(group.mean_p_alive),
        )
    out.print(followed)


def _figures(m: OutcomeMetrics) -> list[tuple[str, tuple[str, str, str]]]:
    def rate(r: Rate) -> tuple[str, str, str]:
        return _share(r), _interval(r), str(r.n)

    def hours(d: Durations) -> tuple[str, str, str]:
        both = f"{_hours(d.median_hours)} median, {_hours(d.p90_hours)} p90"
        return (both if d.n else "-"), "", str(d.n)

    return [
        ("resolution rate", rate(m.resolution)),
        ("first-contact resolution", rate(m.first_contact_resolution)),
        ("reopen rate", rate(m.reopen)),
        ("repeat contact within 7 days", rate(m.repeat_contact)),
        ("time to resolution (hours)", hours(m.time_to_resolution)),
        ("confirmed by the customer", rate(m.confirmed)),
        ("confirmed, link from staff", rate(m.confirmed_solicited)),
        ("response time (hours)", hours(m.response_time)),
    ]


def _share(r: Rate) -> str:
    return "-" if r.value is None else f"{r.value:.0%}"


def _interval(r: Rate) -> str:
    return "-" if r.low is None or r.high is None else f"{r.low:.0%}-{r.high:.0%}"


def _hours(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


@surveys_app.command("send")
@shared_options("json", "acting", "db")
def send(
    run: Invocation,
    deliver: str = typer.Option(
        "export",
        "--deliver",
        help="export: the links wait for `surveys export`; smtp: e-mail each pending survey "
        "now through the campaigns' SMTP settings (a service message: no marketing consent "
        "needed, logged as a contact)",
    ),
) -> None:
    """Make the follow-up survey of every resolved case that has none yet; the links wait as
    pending until `cornerstore service surveys export` hands them to the mailer, or are
    e-mailed at once with `--deliver smtp`."""
    if deliver not in ("export", "smtp"):
        raise InvalidInput("--deliver: export or smtp")
    with run.services() as s:
        if deliver == "smtp":
            report = s.outcomes.deliver_surveys(run.caller(s))
        else:
            links = s.outcomes.send_surveys(run.caller(s))
    if deliver == "smtp":
        if run.json:
            print_json(report)
            return
        out.print(
            f"{counted(report.made, 'survey')} made; {report.sent} e-mailed, {report.failed} "
            f"refused by the server, {report.no_address} without an e-mail address (left pending)"
        )
        for reason, count in sorted(report.failures.items()):
            out.print(f"  {count} failed: {escape(reason)}")
        return
    if run.json:
        print_json(links)
        return
    out.print(f"{counted(len(links), 'survey')} made, waiting for export")


@surveys_app.command("export")
@shared_options("json", "acting", "db")
def export(
    run: Invocation,
    to: Path | None = typer.Option(
        None, "--out", help="Write a CSV (survey, case, customer, url) here; default: stdout"
    ),
) -> None:
    """Hand the pending survey links to the shop's mailer as CSV, marking them exported: each
    link is exported once."""
    if to is not None:
        writable_file(to, "--out")
    with run.services() as s:
        links = s.outcomes.export_pending(run.caller(s))
    if run.json:
        print_json(links)
        return
    if to is None:
        _write_csv(links, sys.stdout)
        return
    with (
        written_whole(to, "--out") as partial,
        partial.open("w", newline="", encoding="utf-8") as file,
    ):
        _write_csv(links, file)
    out.print(f"{counted(len(links), 'survey link')} written to {to}")


def _write_csv(links: list[SurveyLink], file: Any) -> None:
    writer = spreadsheet_writer(file)
    writer.writerow(["survey_id", "case_id", "customer_id", "url"])
    for link in links:
        writer.writerow([link.survey_id, link.case_id, link.customer_id, link.url])
