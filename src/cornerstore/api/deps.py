"""Named dependencies: the shared services and the authenticated staff caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cornerstore.access.caller import Caller, require_staff
from cornerstore.errors import Unauthorized
from cornerstore.services import Services

_bearer = HTTPBearer(auto_error=False, description="A staff API token: `cornerstore tokens create`")


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_staff(
    request: Request,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    if credentials is None:
        raise Unauthorized("an API token is required: Authorization: Bearer <token>")
    remote = request.client.host if request.client else None
    caller = services.credentials.authenticate(credentials.credentials, via="api", remote=remote)
    require_staff(caller)
    return caller


StaffCaller = Annotated[Caller, Depends(get_staff)]
