"""``cornerstore suggest``: products to suggest to a customer, training, and offline evaluation.

``cornerstore suggest ID`` is short for ``cornerstore suggest show ID``. ``evaluate`` works on
a transactions file only (nothing is read from or written to the database) and prints one JSON
object.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from typer.core import TyperGroup

from cornerstore.cli.common import (
    Invocation,
    count_option,
    out,
    print_json,
    reading_file,
    shared_options,
    when,
)
from cornerstore.errors import InvalidInput
from cornerstore.plural import counted


class ShowByDefault(TyperGroup):
    """A group whose first word, when it names no command, is the customer to show."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        # Typer may bring its own copy of click: its Context, not click's, comes in.
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["show", *args]
        return super().resolve_command(ctx, args)


app = typer.Typer(
    cls=ShowByDefault,
    help="Products to suggest to each customer, with the reasons",
    no_args_is_help=True,
)


@app.command("show")
@shared_options("json", "acting", "db")
def show(
    run: Invocation,
    ref: str = typer.Argument(..., help="Profile id, e-mail, phone or another identifier"),
    n: int = count_option(10, "-n", "--n", help="How many suggestions (1 to 100)"),
) -> None:
    """The products to suggest to the customer, each with its reason."""
    with run.services() as s:
        found = s.suggestions.for_customer(run.caller(s), ref, n)
    if run.json:
        print_json(found)
        return
    if found.note:
        out.print(f"{found.customer_id}: {found.note}", markup=False)
    if not found.suggestions:
        return
    table = Table("#", "product", "name", "why", title=found.customer_id)
    for rank, item in enumerate(found.suggestions, 1):
        table.add_row(str(rank), item.item_id, item.name or "-", item.reason)
    out.print(table)


@app.command("train")
@shared_options("json", "db")
def train(run: Invocation) -> None:
    """Learn suggestions from every consenting customer's purchases (also done by
    `cornerstore learn`)."""
    with run.services() as s:
        report = s.suggestions.train(run.caller(s))
    if run.json:
        print_json(report)
        return
    out.print(
        f"suggestions learned from {counted(report.purchases, 'purchase')} of "
        f"{counted(report.customers, 'customer')} ({counted(report.items, 'product')}) in "
        f"{report.seconds}s; {report.left_out} left out without consent; history until "
        f"{when(report.trained_until)}"
    )


def _split_date(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput("--split-date must be a date like 2011-10-09") from None


@app.command("evaluate")
def evaluate(
    transactions: Path = typer.Option(..., "--transactions", help="CSV or Parquet file"),
    customer_col: str = typer.Option(..., "--customer-col", help="Customer id column"),
    item_col: str = typer.Option(..., "--item-col", help="Product id column"),
    date_col: str = typer.Option(..., "--date-col", help="Date or timestamp column"),
    invoice_col: str | None = typer.Option(
        None, "--invoice-col", help="Invoice column (default: a customer's day is one invoice)"
    ),
    quantity_col: str | None = typer.Option(
        None,
        "--quantity-col",
        help="Quantity column: lines of 0 or less are returns and cancellations, not purchases",
    ),
    split_date: str = typer.Option(..., "--split-date", help="Train before it, test from it"),
    protocol: str = typer.Option("all", "--protocol", help="all, or new: never bought before"),
    k: int = count_option(10, "--k", help="Suggestions per customer (1 to 100)"),
) -> None:
    """Score suggestions against popularity, ALS and repurchase on one split of a file."""
    from cornerstore.suggest.evaluate import Columns, evaluate, read_purchases

    split = _split_date(split_date)
    if protocol not in ("all", "new"):
        raise InvalidInput("--protocol must be all or new")
    if not 1 <= k <= 100:
        raise InvalidInput("--k must be between 1 and 100")
    with reading_file(transactions, "--transactions"):
        purchases = read_purchases(
            transactions, Columns(customer_col, item_col, date_col, invoice_col, quantity_col)
        )
    result: dict[str, Any] = evaluate(purchases, split, protocol=protocol, k=k)  # type: ignore[arg-type]
    print_json(result)
