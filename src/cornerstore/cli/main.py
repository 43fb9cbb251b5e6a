"""The ``cornerstore`` command: every command calls one service function."""

from __future__ import annotations

import logging

import typer

from cornerstore.cli import (
    credentials,
    customers,
    database,
    demo,
    identity,
    importer,
    privacy,
    serve,
)

app = typer.Typer(
    name="cornerstore",
    help="Know each customer the way the corner-store owner did.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(database.app, name="db")
app.add_typer(credentials.keys_app, name="keys")
app.add_typer(credentials.tokens_app, name="tokens")
app.add_typer(customers.app, name="customers")
app.add_typer(privacy.app, name="privacy")
app.add_typer(identity.app, name="identity")
app.command("serve")(serve.serve)
app.command("demo")(demo.demo)
app.command("import")(importer.import_file)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()
