"""The staff console: server-rendered pages over the same services as the API and CLI.

:func:`install_console` mounts it at ``/`` of the API's app: the pages (``routes/``), their
templates (``templates/``) and the files they load (``static/``, vendored libraries included).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

STATIC_PATH = "/static"


def install_console(app: FastAPI) -> None:
    """Serve the console's pages at ``/`` and its files at ``/static/`` of ``app``."""
    # Imported here: the pages stand on the API's dependencies, whose package imports this one.
    from fastapi.staticfiles import StaticFiles

    from cornerstore.console.deps import STATIC
    from cornerstore.console.routes import admin, customers, reviews, segments, session

    app.mount(STATIC_PATH, StaticFiles(directory=STATIC), name="console-static")
    app.include_router(session.router)
    app.include_router(customers.router)
    app.include_router(reviews.router)
    app.include_router(segments.router)
    app.include_router(admin.router)
