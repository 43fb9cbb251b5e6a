"""``cornerstore db``: migrations."""

from __future__ import annotations

import typer

from cornerstore.cli.common import DbOption, handle_errors, load_settings, out
from cornerstore.storage.database import open_store

app = typer.Typer(help="Database schema", no_args_is_help=True)


@app.command("upgrade")
@handle_errors
def upgrade(db: str | None = DbOption) -> None:
    """Bring the database schema up to the newest migration."""
    settings = load_settings(db)
    store = open_store(settings.database_url, settings.sqlite_busy_timeout_ms)
    try:
        store.upgrade()
        out.print(f"database at revision {store.current_revision()}")
    finally:
        store.dispose()


@app.command("current")
@handle_errors
def current(db: str | None = DbOption) -> None:
    """Print the schema revision the database is at."""
    settings = load_settings(db)
    store = open_store(settings.database_url, settings.sqlite_busy_timeout_ms)
    try:
        out.print(store.current_revision() or "empty (run `cornerstore db upgrade`)")
    finally:
        store.dispose()
