"""The ``cornerstore`` command: every command calls one service function."""

from __future__ import annotations

import logging

import typer

from cornerstore.cli import (
    audit,
    clv,
    credentials,
    customers,
    database,
    demo,
    identity,
    importer,
    learn,
    privacy,
    rights,
    segments,
    serve,
    suggest,
    users,
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
rights.register(customers.app)
customers.app.command("scores")(learn.scores)
customers.app.command("at-risk")(learn.at_risk)
app.add_typer(customers.app, name="customers")
app.add_typer(privacy.app, name="privacy")
app.add_typer(clv.app, name="clv")
app.add_typer(segments.app, name="segments")
app.add_typer(learn.surveys_app, name="surveys")
app.command("learn")(learn.learn)
app.add_typer(suggest.app, name="suggest")
app.add_typer(users.app, name="users")
app.add_typer(audit.app, name="audit")
app.command("roles")(users.roles)
app.add_typer(identity.app, name="identity")
app.command("serve")(serve.serve)
app.command("demo")(demo.demo)
app.command("import")(importer.import_file)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()
