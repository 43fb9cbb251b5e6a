"""Named dependencies: the shared services and the authenticated staff caller.

Staff authenticate with a bearer API token (API clients) or the console's session cookie. A
cookie is sent by the browser on its own, so every state-changing request authenticated by
one must also carry the session's CSRF token in ``X-CSRF-Token`` (synchroniser token).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from cornerstore.access.caller import Caller, require_staff
from cornerstore.access.users import Login, SessionState
from cornerstore.errors import Forbidden, Unauthorized
from cornerstore.services import Services
from cornerstore.settings import AccessRules

SESSION_COOKIE = "cs_session"
CSRF_COOKIE = "cs_csrf"
CSRF_HEADER = "X-CSRF-Token"
REASON_HEADER = "X-Reason"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, description="A staff API token: `cornerstore tokens create`")


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def set_session_cookies(response: Response, rules: AccessRules, login: Login) -> None:
    """Give the browser a new session: the id in an HttpOnly cookie, the CSRF token in one the
    console's pages may read (they echo it in ``X-CSRF-Token`` or a form field)."""
    max_age = int(rules.session_hours * 3600)
    for name, value, httponly in (
        (SESSION_COOKIE, login.session_id, True),
        (CSRF_COOKIE, login.csrf_token, False),
    ):
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            secure=rules.cookie_secure,
            httponly=httponly,
            samesite="strict",
        )


def clear_session_cookies(response: Response, rules: AccessRules) -> None:
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", secure=rules.cookie_secure, samesite="strict")


def remote_of(request: Request) -> str | None:
    return request.client.host if request.client else None


async def get_session(request: Request, services: ServicesDep) -> SessionState:
    """The console session of the request's cookie, CSRF-checked for state-changing methods
    (a one-time password still to be changed does not stop this; see :func:`get_staff`)."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        raise Unauthorized("log in first: POST /v1/session")
    state = await run_in_threadpool(services.staff.session, session_id, remote_of(request))
    if request.method not in SAFE_METHODS and not state.csrf_matches(
        request.headers.get(CSRF_HEADER)
    ):
        raise Forbidden("the CSRF token is missing or wrong: send the session's X-CSRF-Token")
    return state


SessionDep = Annotated[SessionState, Depends(get_session)]


async def get_staff(
    request: Request,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    remote = remote_of(request)
    if credentials is not None:
        secret = credentials.credentials
        # A recently checked token needs no database and no trip to a worker thread.
        caller = services.credentials.authenticate_cached(secret, via="api", remote=remote)
        if caller is None:
            caller = await run_in_threadpool(
                services.credentials.authenticate, secret, via="api", remote=remote
            )
    elif SESSION_COOKIE in request.cookies:
        state = await get_session(request, services)
        if state.user.must_change_password:
            raise Forbidden("change the one-time password first: PUT /v1/session/password")
        caller = state.caller
    else:
        raise Unauthorized("an API token is required: Authorization: Bearer <token>")
    require_staff(caller)
    reason = request.headers.get(REASON_HEADER)
    return caller.because(reason) if reason else caller


StaffCaller = Annotated[Caller, Depends(get_staff)]

# Row ids are 64-bit signed integers in both databases: a larger number is refused with a 400
# naming the parameter instead of overflowing in the driver.
MAX_ROW_ID = 2**63 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="The id the list answers give")]
# Tables with few rows (tokens, keys, staff) number them with 32-bit integers.
MAX_SMALL_ROW_ID = 2**31 - 1
SmallRowId = Annotated[
    int, Path(ge=1, le=MAX_SMALL_ROW_ID, description="The id the list answers give")
]
AfterId = Annotated[
    int | None, Query(ge=0, le=MAX_ROW_ID, description="next_after of the previous page")
]
