"""``create_app(settings)``: the FastAPI application over the shared services."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from sqlalchemy import text

from cornerstore import __version__
from cornerstore.api.errors import install_error_handlers
from cornerstore.api.routes import customers, intake
from cornerstore.api.schemas import HealthOut
from cornerstore.api.throttle import Throttle
from cornerstore.services import Services
from cornerstore.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """Build the API. The database must already be migrated (``cornerstore db upgrade``)."""
    settings = settings or (services.settings if services else Settings())
    services = services or Services.build(settings)
    app = FastAPI(
        title="cornerstore",
        version=__version__,
        description=(
            "Know each customer the way the corner-store owner did. Segment-compatible intake "
            "under /v1 (write keys), customer reads with staff API tokens (Bearer)."
        ),
    )
    app.state.services = services
    app.state.throttle = Throttle(settings.intake.rate_per_second, settings.intake.burst)
    install_error_handlers(app)
    app.include_router(intake.router)
    app.include_router(customers.router)

    @app.get("/health", response_model=HealthOut, tags=["health"])
    def health() -> HealthOut:
        """Liveness and database reachability (no credentials needed, nothing about customers)."""
        with services.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return HealthOut(status="ok", database=services.store.backend, version=__version__)

    return app
