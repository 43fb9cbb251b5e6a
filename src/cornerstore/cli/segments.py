"""``cornerstore segments``: rule segments and clusters, their value and their members."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from cornerstore.cli.common import Invocation, out, print_json, read_text_file, shared_options, when
from cornerstore.cli.terminal import styled
from cornerstore.errors import InvalidInput
from cornerstore.plural import counted

app = typer.Typer(help="Segments: defined by rules or found by learning", no_args_is_help=True)
IdArgument = typer.Argument(..., help="Segment id (see `cornerstore segments list`)")


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


@app.command("list")
@shared_options("json", "db")
def list_segments(
    run: Invocation,
) -> None:
    """Every segment with its size and value (sum and mean CLV)."""
    with run.services() as s:
        found = s.segments.list(run.caller(s))
    if run.json:
        print_json(found)
        return
    table = Table("id", "kind", "size", "CLV sum", "CLV mean", "description")
    for seg in found:
        table.add_row(
            seg.id, seg.kind, str(seg.size), _money(seg.clv_sum), _money(seg.clv_mean),
            seg.description,
        )  # fmt: skip
    out.print(table)


@app.command("show")
@shared_options("json", "db")
def show(
    run: Invocation,
    segment_id: str = IdArgument,
) -> None:
    """One segment: its definition, size, value and when it was computed."""
    with run.services() as s:
        seg = s.segments.get(run.caller(s), segment_id)
    if run.json:
        print_json(seg)
        return
    out.print(styled(seg.name, "bold"), f" ({seg.kind}, {seg.id})", sep="")
    out.print(seg.description)
    out.print(
        f"{counted(seg.size, 'member')}, CLV {_money(seg.clv_sum)} in all, "
        f"{_money(seg.clv_mean)} each; "
        f"computed {when(seg.computed_at)}"
    )
    print_json(seg.definition, indent=2)


@app.command("create")
@shared_options("json", "db")
def create(
    run: Invocation,
    name: str = typer.Option(..., help="What staff call it; its id is made from it"),
    definition: str = typer.Option(
        ..., help="The condition tree as JSON, or @FILE to read it from a file"
    ),
    description: str | None = typer.Option(None, help="What it is for"),
) -> None:
    """Define a rule segment (see docs/learn.md for conditions); members are computed at once."""
    text = definition
    if definition.startswith("@"):
        text = read_text_file(Path(definition[1:]), "--definition")
    try:
        tree = json.loads(text)
    except ValueError:
        raise InvalidInput("--definition: not valid JSON") from None
    with run.services() as s:
        seg = s.segments.create(run.caller(s), name, tree, description)
    if run.json:
        print_json(seg)
        return
    out.print(f"segment {seg.id}: {counted(seg.size, 'member')}, CLV {_money(seg.clv_sum)} in all")


@app.command("members")
@shared_options("json", "acting", "db")
def members(
    run: Invocation,
    segment_id: str = IdArgument,
    limit: int = typer.Option(100, min=1, max=1000),
    after: str | None = typer.Option(None, help="Continue after this profile id"),
) -> None:
    """Member profile ids, a page at a time."""
    with run.services() as s:
        page = s.segments.members(run.caller(s), segment_id, limit, after)
    if run.json:
        print_json({"customers": page.customers, "next_after": page.next_after})
        return
    for customer in page.customers:
        out.print(customer)
    if page.next_after:
        out.print(f"more: --after {page.next_after}")


@app.command("delete")
@shared_options("db")
def delete(
    run: Invocation,
    segment_id: str = IdArgument,
) -> None:
    """Remove a rule segment."""
    with run.services() as s:
        s.segments.delete(run.caller(s), segment_id)
    out.print(f"segment {segment_id} removed")
