"""``cornerstore serve``: the API (and later the staff console) with uvicorn."""

from __future__ import annotations

import errno
import hashlib
import socket
from pathlib import Path

import typer

from cornerstore.cli.common import (
    Invocation,
    bring_up_to_date,
    count_option,
    out,
    shared_options,
)
from cornerstore.cli.database import first_owner
from cornerstore.errors import Conflict, Forbidden, InvalidInput
from cornerstore.settings import Settings


@shared_options("db")
def serve(
    run: Invocation,
    host: str = typer.Option("127.0.0.1", help="Interface to listen on"),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on"),
    workers: int = count_option(1, help="Worker processes"),
) -> None:
    """Serve the API. A SQLite database is created or upgraded first; PostgreSQL must be
    upgraded with `cornerstore db upgrade`. With no staff user yet, `owner` is created and its
    one-time password printed."""
    import uvicorn

    from cornerstore.api.app import create_app, freeze_startup_heap
    from cornerstore.services import Services

    check_can_listen(host, port)
    settings = with_audit_journal(run.settings())
    store = run.store(create=True)
    bring_up_to_date(store, settings, upgrade=store.backend == "sqlite", named_by=run.named_by)
    services = Services.build(settings, store)
    first_owner(services.staff)
    url = f"http://{host}:{port}"
    out.print(f"cornerstore serving on {url}  (API docs: {url}/docs)")
    if workers > 1:
        import os

        # Worker processes build their own settings from the environment.
        os.environ["CORNERSTORE_DATABASE_URL"] = settings.database_url
        os.environ["CORNERSTORE_ACCESS__AUDIT_JOURNAL"] = str(settings.access.audit_journal)
        store.dispose()
        uvicorn.run(
            "cornerstore.api.asgi:app",
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            access_log=False,
            env_file=None,
        )
        return
    app = create_app(settings, services)
    freeze_startup_heap()
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def check_can_listen(host: str, port: int) -> None:
    """Refuse, before the database is opened or anything printed, an address the server could
    not listen on: a port in use or reserved, a host that is not this machine's."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError):
        raise InvalidInput(
            "--host: not a host name or address this machine can listen on"
        ) from None
    with socket.socket(family, kind, proto) as probe:
        # As uvicorn binds: a port whose last connections are closing is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise Conflict(f"--port: {port} is already in use on {host}") from None
            if exc.errno == errno.EACCES:
                raise Forbidden(
                    f"--port: {port} needs privileges to listen on (use 1024 or above)"
                ) from None
            raise InvalidInput(f"--host: cannot listen on {host}") from None


def with_audit_journal(settings: Settings) -> Settings:
    """``settings`` with an audit journal folder: the one configured, else one next to a SQLite
    file, else one per database under ``~/.local/state/cornerstore`` (docs/access.md)."""
    if settings.access.audit_journal:
        return settings
    if settings.database_url.startswith("sqlite"):
        database = settings.database_url.partition(":///")[2]
        if database in ("", ":memory:"):
            return settings  # an in-memory database dies with the process: nothing to keep
        folder = Path(database).absolute()
        folder = folder.with_name(folder.name + ".audit-journal")
    else:
        name = hashlib.sha256(settings.database_url.encode()).hexdigest()[:16]
        folder = Path.home() / ".local/state/cornerstore/audit-journal" / name
    access = settings.access.model_copy(update={"audit_journal": str(folder)})
    return settings.model_copy(update={"access": access})
