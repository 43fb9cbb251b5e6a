"""The staff console: server-rendered pages over the same services as the API and CLI.

:func:`install_console` mounts it at ``/`` of the API's app: the pages (``routes/``), their
templates (``templates/``) and the files they load (``static/``, vendored libraries included).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI

    from cornerstore.services import Services

STATIC_PATH = "/static"
NOTICE_SECRET = "console_notice_key"


def console_routers() -> list[APIRouter]:
    """The console's pages, one router per noun."""
    # Imported here: the pages stand on the API's dependencies, whose package imports this one.
    from cornerstore.console.routes import (
        admin,
        campaigns,
        cases,
        customers,
        reviews,
        segments,
        service,
        session,
    )

    return [
        session.router,
        customers.router,
        cases.router,
        reviews.router,
        segments.router,
        service.router,
        campaigns.router,
        admin.router,
    ]


def install_console(app: FastAPI) -> None:
    """Serve the console's pages at ``/`` and its files at ``/static/`` of ``app``."""
    from fastapi.staticfiles import StaticFiles

    from cornerstore.console.deps import STATIC
    from cornerstore.console.flash import Flashes

    services = app.state.services
    _warm_up(services)
    app.state.console_flashes = Flashes(lambda: _notice_secret(services))
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC), name="console-static")
    for router in console_routers():
        app.include_router(router)


def _notice_secret(services: Services) -> str:
    """The installation secret the one-shot notices are sealed under: in the database, so
    every worker process of ``cornerstore serve --workers N`` reads the same one."""
    from datetime import UTC, datetime

    with services.store.unit_of_work(write=True) as uow:
        return uow.installation_secrets.get_or_make(NOTICE_SECRET, datetime.now(UTC))


def _warm_up(services: Services) -> None:
    """Build learning and segments (numpy, polars: a second or two) in the background, so the
    first customer page does not spend its sections' time budget importing them."""

    def build() -> None:
        _ = services.learner, services.segments

    threading.Thread(target=build, name="console-warm-up", daemon=True).start()
