"""``cornerstore actions``: the next best actions of one customer, or of a segment's members.

``cornerstore actions ID`` shows one customer's ranked actions with their reasons and what was
held back; ``cornerstore actions --segment S --limit N`` lists a segment's members, those with
something to do first.
"""

from __future__ import annotations

import typer
from rich.table import Table

from cornerstore.actions.model import CustomerActions
from cornerstore.cli.common import (
    Invocation,
    count_option,
    id_column,
    out,
    print_json,
    shared_options,
)
from cornerstore.errors import InvalidInput


@shared_options("json", "acting", "db")
def actions(
    run: Invocation,
    ref: str | None = typer.Argument(
        None, help="Profile id, e-mail, phone or another identifier (or give --segment)"
    ),
    segment: str | None = typer.Option(None, "--segment", help="List a segment's members instead"),
    limit: int = count_option(
        50, "--limit", help="With --segment: how many members (1 to actions.max_list, 200)"
    ),
) -> None:
    """The next best actions, best first, with the reasons in words and what was held back."""
    if ref is None and segment is None:
        raise InvalidInput("give a customer or --segment")
    if ref is not None and segment is not None:
        raise InvalidInput("give a customer or --segment, not both")
    with run.services() as s:
        caller = run.caller(s)
        if segment is not None:
            found = s.actions.for_segment(caller, segment, limit)
        else:
            found = [s.actions.for_customer(caller, ref or "")]
    if run.json:
        print_json(found if segment is not None else found[0])
        return
    if segment is not None:
        _print_list(found)
    else:
        _print_one(found[0])


def _print_one(found: CustomerActions) -> None:
    # One line per action, as staff read it out: "1. call (phone): high value, slipping away".
    out.print(found.customer_id)
    for rank, action in enumerate(found.actions, 1):
        channel = f" ({action.channel})" if action.channel else ""
        out.print(f"{rank}. {action.action}{channel}: {', '.join(action.reasons)}")
    for held in found.held_back:
        out.print(f"held back: {held.action} ({', '.join(held.reasons)}): {held.why}")
    for note in found.notes:
        out.print(f"note: {note}")


def _print_list(found: list[CustomerActions]) -> None:
    if not found:
        out.print("the segment has no members")
        return
    table = Table(id_column("customer", (f.customer_id for f in found)), "next action")
    for item in found:
        table.add_row(item.customer_id, item.actions[0].summary)
    out.print(table)
