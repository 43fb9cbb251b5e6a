"""``create_app(settings)``: the FastAPI application over the shared services."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from cornerstore import __version__
from cornerstore.api.docs import install_docs
from cornerstore.api.errors import install_error_handlers
from cornerstore.api.routes import (
    actions,
    audit,
    campaigns,
    cases,
    customers,
    identity,
    intake,
    learn,
    outcomes,
    privacy,
    segments,
    session,
    suggest,
)
from cornerstore.api.schemas.health import HealthOut
from cornerstore.api.schemas.intake import BODY_SCHEMAS
from cornerstore.api.throttle import Throttle
from cornerstore.console import install_console
from cornerstore.services import Services
from cornerstore.settings import Settings

log = logging.getLogger(__name__)

_DESCRIPTION = (
    "Know each customer the way the corner-store owner did. Segment-compatible intake "
    "under /v1 (write keys), customer reads with staff API tokens (Bearer) or a console session, "
    "each role seeing only the sections of a customer its job needs."
)


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """Build the API. The database must already be migrated (``cornerstore db upgrade``).

    ``settings`` defaults to those of ``services``; giving both with different values is an
    error, because the routes, the throttle and the services must apply the same limits.

    Examples
    --------
    >>> app = create_app(Settings(database_url="sqlite://"))
    >>> app.title
    'cornerstore'
    """
    if services is None:
        services = Services.build(settings or Settings())
    elif settings is not None and settings != services.settings:
        raise ValueError("create_app: settings differ from services.settings; pass one of them")
    settings = services.settings

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Blocking work (the database) runs in worker threads. A few threads keep both cores
        # busy; forty (AnyIO's default) only fight over the GIL and slow every request down.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
        # Audit entries a crashed process left in the journal are stored before serving.
        await anyio.to_thread.run_sync(services.audit.start)
        sweep = None
        if settings.outcomes.survey_email_minutes and not settings.campaigns.smtp_configured:
            log.warning("outcomes.survey_email_minutes is set but no SMTP server: surveys wait")
        if settings.survey_email_every > 0:
            from cornerstore.outcomes.sweep import SurveySweep

            sweep = SurveySweep(services.outcomes, settings.survey_email_every)
            sweep.start()
        try:
            yield
        finally:
            if sweep is not None:
                await anyio.to_thread.run_sync(sweep.stop)
            await anyio.to_thread.run_sync(services.audit.close)

    app = FastAPI(
        title="cornerstore",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        # Served from the package by install_docs; FastAPI's pages load their assets from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = services
    app.state.throttle = Throttle(settings.intake.rate_per_second, settings.intake.burst)
    install_error_handlers(app)
    install_docs(app)

    # First of the routes: a load balancer asks often, and the router tries routes in order
    # (last, it was matched against every other route first, over half of its CPU).
    @app.get("/health", response_model=HealthOut, tags=["health"])
    def health() -> HealthOut:
        """Liveness and database reachability (no credentials needed, nothing about customers)."""
        services.store.ping()
        return HealthOut(status="ok", database=services.store.backend, version=__version__)

    app.include_router(intake.router)
    app.include_router(customers.router)
    app.include_router(privacy.router)
    app.include_router(learn.router)
    app.include_router(segments.router)
    app.include_router(session.router)
    app.include_router(audit.router)
    app.include_router(identity.router)
    app.include_router(suggest.router)
    app.include_router(actions.router)
    app.include_router(cases.router)
    app.include_router(outcomes.router)
    app.include_router(outcomes.public)
    app.include_router(campaigns.router)
    app.include_router(campaigns.public)
    app.include_router(campaigns.public_page)
    install_console(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


# Container objects allocated (net) before a young collection; Python's default is 700.
SERVER_YOUNG_THRESHOLD = 10_000


def freeze_startup_heap() -> None:
    """Hide what exists now (modules, routes, schemas, the services) from the garbage collector,
    and collect the young generation less often.

    A server builds its app once and then serves for hours; each full collection would walk
    every object of that build again while requests wait for the GIL. Frozen objects are never
    collected, so this is for a process about to serve, not for one that builds apps by the
    dozen (tests). A batch of intake allocates tens of thousands of short-lived objects: with
    the default threshold of 700 the collector ran about three times a batch and moved what was
    still in use to the older generations, whose collections then walked it again. At 10,000,
    the collector's CPU after start-up during 30,000 events over HTTP fell from 0.20 s to about
    0.05 s (benchmarks/README.md, intake's eighth round); the older generations keep their
    thresholds.
    """
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(SERVER_YOUNG_THRESHOLD, older, oldest)


def _document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with the intake bodies (read by hand, so unknown to FastAPI) added
    to the components and FastAPI's default 422 answers removed: validation errors are 400."""
    doc = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for model in BODY_SCHEMAS:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    for operations in doc["paths"].values():
        for operation in operations.values():
            answer = operation.get("responses", {}).get("422", {})
            if "HTTPValidationError" in str(answer):
                del operation["responses"]["422"]
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused not in str(doc["paths"]):
            schemas.pop(unused, None)
    return doc
