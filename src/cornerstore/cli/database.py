"""``cornerstore db``: migrations."""

from __future__ import annotations

import typer

from cornerstore.access.users import NewPassword, Staff
from cornerstore.cli.common import Invocation, out, shared_options
from cornerstore.services import Services

app = typer.Typer(help="Database schema", no_args_is_help=True)


def first_owner(staff: Staff) -> NewPassword | None:
    """On the first run (no staff user yet) create ``owner`` and print its one-time password
    on the last line of stdout; later runs print nothing."""
    created = staff.ensure_owner()
    if created is not None:
        out.print(
            "first run: staff user 'owner' created; log in with this one-time password and "
            "choose your own (it is not shown again):"
        )
        print(created.password)
    return created


@app.command("upgrade")
@shared_options("db")
def upgrade(
    run: Invocation,
) -> None:
    """Bring the database schema up to the newest migration; on the first run also create the
    staff user ``owner`` and print its one-time password (last line)."""
    settings = run.settings()
    store = run.store(create=True)
    try:
        store.upgrade()
        out.print(f"database at revision {store.current_revision()}")
        first_owner(Services.build(settings, store).staff)
    finally:
        store.dispose()


@app.command("current")
@shared_options("db")
def current(
    run: Invocation,
) -> None:
    """Print the schema revision the database is at."""
    store = run.store()
    try:
        out.print(store.current_revision() or "empty (run `cornerstore db upgrade`)")
    finally:
        store.dispose()
