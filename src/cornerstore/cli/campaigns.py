"""``cornerstore campaigns``: create a campaign, see its audience, preview, send, measure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from cornerstore.campaigns.model import Offer
from cornerstore.cli.common import (
    Invocation,
    count_option,
    err,
    out,
    print_json,
    read_text_file,
    row_id_argument,
    shared_options,
)
from cornerstore.cli.terminal import visible, visible_lines
from cornerstore.errors import InvalidInput

app = typer.Typer(help="Personal campaigns measured against a control group", no_args_is_help=True)
IdArgument = row_id_argument("Campaign id (see `cornerstore campaigns list`)")


def _read(value: str, option: str) -> str:
    """The option's text, or the content of @FILE."""
    if not value.startswith("@"):
        return value
    return read_text_file(Path(value[1:]), option)


@app.command("create")
@shared_options("json", "db")
def create(
    run: Invocation,
    name: str = typer.Option(..., help="What staff call it"),
    purpose: str = typer.Option(
        "marketing_email", help="The consent purpose it needs, or `service` for a service message"
    ),
    channel: str = typer.Option("email", help="email (SMTP) or export (CSV for another tool)"),
    segment: str | None = typer.Option(None, help="Audience: this segment's members"),
    rule: str | None = typer.Option(None, help="Audience: a condition tree as JSON, or @FILE"),
    subject: str = typer.Option(..., help="Subject line template"),
    body: str = typer.Option(..., help="Text template, or @FILE"),
    html: str | None = typer.Option(None, help="HTML template (autoescaped), or @FILE"),
    offer: str | None = typer.Option(None, help="What a personal single-use coupon gives"),
    offer_days: int = count_option(30, help="Days a coupon stays valid"),
    control_share: float = typer.Option(0.1, help="Share of the eligible audience held out"),
    window_days: int = count_option(30, help="Days after sending that results count"),
) -> None:
    """Define a campaign (a draft: nothing is sent until `campaigns send`)."""
    if (segment is None) == (rule is None):
        raise InvalidInput("give --segment or --rule (one of them)")
    audience: dict[str, Any]
    if segment is not None:
        audience = {"segment": segment}
    else:
        try:
            audience = {"rule": json.loads(_read(rule or "", "--rule"))}
        except ValueError:
            raise InvalidInput("--rule: not valid JSON") from None
    with run.services() as s:
        campaign = s.campaigns.create(
            run.caller(s),
            name=name,
            purpose=purpose,
            channel=channel,
            audience=audience,
            subject=_read(subject, "--subject"),
            body=_read(body, "--body"),
            html=_read(html, "--html") if html is not None else None,
            offer=Offer(offer, offer_days) if offer else None,
            control_share=control_share,
            window_days=window_days,
        )
    if run.json:
        print_json(campaign)
        return
    out.print(f"campaign {campaign.id}: {visible(campaign.name)} (draft)")


@app.command("list")
@shared_options("json", "db")
def list_campaigns(run: Invocation) -> None:
    """Every campaign, newest first."""
    with run.services() as s:
        found = s.campaigns.list(run.caller(s))
    if run.json:
        print_json(found)
        return
    table = Table("id", "name", "purpose", "channel", "status", "control", "created")
    for c in found:
        table.add_row(
            str(c.id), visible(c.name), c.purpose, c.channel, c.status,
            f"{c.control_share:.0%}", f"{c.created_at:%Y-%m-%d}",
        )  # fmt: skip
    out.print(table)


@app.command("audience")
@shared_options("json", "db")
def audience(run: Invocation, campaign_id: int = IdArgument) -> None:
    """The funnel: segment, consent, caps, complaints, address, then treatment and control."""
    with run.services() as s:
        funnel = s.campaigns.audience(run.caller(s), campaign_id)
    if run.json:
        print_json(dict(funnel.steps()))
        return
    table = Table("step", "customers")
    for step, n in funnel.steps():
        table.add_row(step, str(n))
    out.print(table)


@app.command("preview")
@shared_options("json", "acting", "db")
def preview(
    run: Invocation,
    campaign_id: int = IdArgument,
    customer: str = typer.Argument(..., help="Profile id, e-mail, phone or other identifier"),
) -> None:
    """The message one customer would get, and their group and state."""
    with run.services() as s:
        shown = s.campaigns.preview(run.caller(s), campaign_id, customer)
    if run.json:
        print_json(shown)
        return
    now = "" if shown.assigned else " (if it were sent now)"
    out.print(
        f"customer {shown.customer_id}: {shown.arm or '-'} / {shown.state or '-'}{now}",
        highlight=False,
    )
    if shown.reason:
        out.print(f"reason: {visible(shown.reason)}", highlight=False)
    if shown.message is not None:
        out.print(f"subject: {visible(shown.message.subject)}", highlight=False)
        out.print(visible_lines(shown.message.text), markup=False, highlight=False)


@app.command("send")
@shared_options("json", "db")
def send(
    run: Invocation,
    campaign_id: int = IdArgument,
    output: Path | None = typer.Option(None, help="Export campaigns: the new CSV file to write"),
) -> None:
    """Assign the audience (first time), then send; run again to retry only what failed.
    Exits 1 when the SMTP server could not be reached (the send stopped)."""
    with run.services() as s:
        report = s.campaigns.send(run.caller(s), campaign_id, output=output)
    if run.json:
        print_json(report)
    else:
        out.print(f"campaign {campaign_id}: {report.summary()}")
        for reason, n in sorted(report.failures.items(), key=lambda kv: -kv[1]):
            out.print(f"  {n} failed: {visible(reason)}", highlight=False)
    if report.stopped:
        err.print(
            f"error: send stopped: {visible(report.stopped)}; run it again once the server "
            "answers (only what was not sent is sent)",
            highlight=False,
        )
        raise typer.Exit(1)


@app.command("recipients")
@shared_options("json", "db")
def recipients(
    run: Invocation,
    campaign_id: int = IdArgument,
    state: str | None = typer.Option(None, help="Only recipients in this state"),
    limit: int = typer.Option(100, min=1, max=1000),
    after: str | None = typer.Option(None, help="Continue after this customer id"),
) -> None:
    """Recipients with their group, state and reason."""
    with run.services() as s:
        page = s.campaigns.recipients(run.caller(s), campaign_id, state, limit, after)
    if run.json:
        print_json({"recipients": page.recipients, "next_after": page.next_after})
        return
    table = Table("customer", "group", "state", "reason", "tries")
    for r in page.recipients:
        table.add_row(r.customer_id, r.arm, r.state, visible(r.reason or ""), str(r.attempts))
    out.print(table)
    if page.next_after:
        out.print(f"more: --after {page.next_after}")


@app.command("results")
@shared_options("json", "db")
def results(run: Invocation, campaign_id: int = IdArgument) -> None:
    """Conversion and revenue per assigned customer, treatment against control, with 95% CIs."""
    with run.services() as s:
        found = s.campaigns.results(run.caller(s), campaign_id)
    if run.json:
        print_json(found.as_dict())
        return
    status = "complete" if found.complete else "window still open"
    out.print(
        f"campaign {campaign_id}: {found.window_start:%Y-%m-%d} to {found.window_end:%Y-%m-%d} "
        f"({status}); {found.treatment} treatment, {found.control} control"
    )
    if found.withheld:
        out.print(f"results withheld: {found.withheld}")
        return
    assert found.conversion is not None and found.revenue is not None
    conv = found.conversion
    out.print(
        f"conversion: {conv.treatment.estimate:.1%} vs {conv.control.estimate:.1%}, "
        f"difference {conv.difference.estimate:+.1%} "
        f"[{conv.difference.low:+.1%}, {conv.difference.high:+.1%}]"
    )
    for label, diff in (
        ("revenue per customer", found.revenue.unadjusted),
        ("revenue, CUPED", found.revenue.adjusted),
    ):
        d = diff.difference
        out.print(
            f"{label}: {diff.treatment_mean:.2f} vs {diff.control_mean:.2f}, "
            f"difference {d.estimate:+.2f} [{d.low:+.2f}, {d.high:+.2f}]"
        )
    out.print(f"coupons redeemed: {found.coupons_redeemed}")
