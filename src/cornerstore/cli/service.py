"""``cornerstore service``: the contact centre."""

from __future__ import annotations

import typer

from cornerstore.cli import cases

app = typer.Typer(help="The contact centre: cases and e-mail in", no_args_is_help=True)
cases.register(app)
