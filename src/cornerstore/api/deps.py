"""Named dependencies: the shared services and the authenticated staff caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from cornerstore.access.caller import Caller, require_staff
from cornerstore.errors import Unauthorized
from cornerstore.services import Services

_bearer = HTTPBearer(auto_error=False, description="A staff API token: `cornerstore tokens create`")


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_staff(
    request: Request,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    if credentials is None:
        raise Unauthorized("an API token is required: Authorization: Bearer <token>")
    remote = request.client.host if request.client else None
    secret = credentials.credentials
    # A recently checked token needs no database and no trip to a worker thread.
    caller = services.credentials.authenticate_cached(secret, via="api", remote=remote)
    if caller is None:
        caller = await run_in_threadpool(
            services.credentials.authenticate, secret, via="api", remote=remote
        )
    require_staff(caller)
    return caller


StaffCaller = Annotated[Caller, Depends(get_staff)]
