"""Staff console sessions (log in, who am I, change password, log out) and personal tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from cornerstore.access.users import user_caller
from cornerstore.api.deps import (
    SESSION_COOKIE,
    ServicesDep,
    SessionDep,
    SmallRowId,
    StaffCaller,
    clear_session_cookies,
    remote_of,
    set_session_cookies,
)
from cornerstore.api.schemas.errors import error_answers
from cornerstore.api.schemas.session import (
    LoginIn,
    NewTokenOut,
    PasswordChangeIn,
    SessionOut,
    StaffUserPublic,
    TokenIn,
    TokenOut,
)
from cornerstore.errors import InvalidInput

router = APIRouter(
    prefix="/v1", tags=["staff session"], responses=error_answers(400, 401, 403, 429)
)


@router.post("/session", response_model=SessionOut)
async def login(
    request: Request, response: Response, services: ServicesDep, body: LoginIn
) -> SessionOut:
    """Log a staff user in: sets the HttpOnly session cookie and a CSRF cookie, and answers
    the CSRF token. Always a new session id (a session the browser held before ends).

    The body must be JSON (a cross-site form cannot send it). After a few failures from one
    address an account waits before the next attempt (429 with Retry-After)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise InvalidInput("body: send the login as application/json")
    login = await run_in_threadpool(
        services.staff.login,
        body.username,
        body.password,
        remote_of(request),
        request.cookies.get(SESSION_COOKIE),
    )
    set_session_cookies(response, services.settings.access, login)
    response.headers["Cache-Control"] = "no-store"
    caller = user_caller(login.user, "console", remote_of(request))
    return SessionOut(
        user=StaffUserPublic.model_validate(login.user),
        sections=sorted(services.policy.visible_sections(caller)),
        csrf_token=login.csrf_token,
        expires_at=login.expires_at,
    )


@router.get("/session", response_model=SessionOut)
def whoami(services: ServicesDep, session: SessionDep) -> SessionOut:
    """The logged-in user, their role and branch, and the sections their role may read."""
    return SessionOut(
        user=StaffUserPublic.model_validate(session.user),
        sections=sorted(services.policy.visible_sections(session.caller)),
    )


@router.delete("/session", status_code=204)
async def logout(request: Request, services: ServicesDep, session: SessionDep) -> Response:
    """Log out: the session ends on the server and the cookies are cleared (CSRF token
    required)."""
    await run_in_threadpool(services.staff.logout, request.cookies.get(SESSION_COOKIE, ""))
    response = Response(status_code=204)
    clear_session_cookies(response, services.settings.access)
    return response


@router.put("/session/password", response_model=StaffUserPublic)
async def change_password(
    services: ServicesDep, session: SessionDep, body: PasswordChangeIn
) -> StaffUserPublic:
    """Change the logged-in user's password (the current one is required); this is how a
    one-time password is replaced (CSRF token required)."""
    user = await run_in_threadpool(
        services.staff.change_password, session.caller, body.current_password, body.new_password
    )
    return StaffUserPublic.model_validate(user)


@router.post("/me/tokens", response_model=NewTokenOut, status_code=201)
def create_personal_token(services: ServicesDep, caller: StaffCaller, body: TokenIn) -> NewTokenOut:
    """Create a personal API token acting as the logged-in user (shown once, stored hashed)."""
    if caller.user_id is None:
        raise InvalidInput("personal tokens belong to staff users; this caller is not one")
    issued = services.credentials.create_token(
        caller, body.name, expires=body.expires, user_id=caller.user_id
    )
    return NewTokenOut.model_validate(issued)


@router.get("/me/tokens", response_model=list[TokenOut])
def list_personal_tokens(services: ServicesDep, caller: StaffCaller) -> list[TokenOut]:
    """The logged-in user's personal tokens (never the secrets)."""
    return [TokenOut.model_validate(t) for t in services.credentials.list_tokens(caller, mine=True)]


@router.delete("/me/tokens/{token_id}", status_code=204, responses=error_answers(404))
def revoke_personal_token(
    services: ServicesDep, caller: StaffCaller, token_id: SmallRowId
) -> Response:
    """Revoke one of the logged-in user's personal tokens at once; anyone else's token answers
    404, whatever the role (the owner revokes others' tokens under ``/v1/tokens/{id}``)."""
    services.credentials.revoke_token(caller, token_id, own_only=True)
    return Response(status_code=204)


@router.get("/tokens", response_model=list[TokenOut], tags=["staff admin"])
def list_tokens(services: ServicesDep, caller: StaffCaller) -> list[TokenOut]:
    """Every API token, personal or not (owner only; never the secrets)."""
    return [TokenOut.model_validate(t) for t in services.credentials.list_tokens(caller)]


@router.delete(
    "/tokens/{token_id}", status_code=204, responses=error_answers(404), tags=["staff admin"]
)
def revoke_any_token(services: ServicesDep, caller: StaffCaller, token_id: SmallRowId) -> Response:
    """Revoke any API token at once (owner only; a non-owner's own token is revoked under
    ``/v1/me/tokens/{id}``)."""
    services.credentials.revoke_token(caller, token_id)
    return Response(status_code=204)
