"""Logging in and out of the console, and choosing a password after a one-time one.

The same :class:`~cornerstore.access.users.Staff` calls as ``POST /v1/session`` (back-off,
session fixation, audit included) and the same cookies; only the form is the console's.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from starlette.concurrency import run_in_threadpool

from cornerstore.api.deps import (
    SESSION_COOKIE,
    ServicesDep,
    clear_session_cookies,
    remote_of,
    set_session_cookies,
)
from cornerstore.console.deps import (
    ConsoleRoute,
    ConsoleSession,
    redirect,
    render,
)
from cornerstore.errors import InvalidInput, Throttled, Unauthorized
from cornerstore.plural import counted

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

# A login form must come from this console's own page: the page sets a random token in this
# cookie and in the form, and a cross-site form cannot know it (login CSRF).
LOGIN_COOKIE = "cs_login"


def _safe_next(target: str | None) -> str:
    """Where to go after logging in: a path of this site only (never another host)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/customers"


def _login_page(
    request: Request, next_path: str, *, status: int = 200, message: str | None = None
) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        {"login_token": token, "next": next_path, "message": message},
        status=status,
    )
    secure_cookie = request.app.state.services.settings.access.cookie_secure
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        path="/login",
        secure=secure_cookie,
        httponly=True,
        samesite="strict",
    )
    return response


@router.get("/")
async def home(request: Request, services: ServicesDep) -> Response:
    """``/login`` when no one is logged in, otherwise the customer search."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        try:
            await run_in_threadpool(services.staff.session, session_id, remote_of(request))
        except Unauthorized:
            return redirect(request, "/login")
        return redirect(request, "/customers")
    return redirect(request, "/login")


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, _safe_next(next))


@router.post("/login")
async def login(
    request: Request,
    services: ServicesDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    login_token: Annotated[str, Form(max_length=64)] = "",
    next: Annotated[str, Form(max_length=500)] = "/customers",
) -> Response:
    next_path = _safe_next(next)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), login_token.encode()):
        return _login_page(
            request, next_path, status=400, message="The form had expired; please try again."
        )
    if not username.strip() or not password:
        return _login_page(
            request, next_path, status=400, message="Enter your username and password."
        )
    try:
        login = await run_in_threadpool(
            services.staff.login,
            username,
            password,
            remote_of(request),
            request.cookies.get(SESSION_COOKIE),
        )
    except Throttled as exc:
        response = _login_page(
            request,
            next_path,
            status=429,
            message=f"Too many failed logins. Try again in {counted(exc.retry_after, 'second')}.",
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except Unauthorized:
        return _login_page(request, next_path, status=401, message="Wrong username or password.")
    target = "/password" if login.user.must_change_password else next_path
    response = redirect(request, target)
    set_session_cookies(response, services.settings.access, login)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, services: ServicesDep, _session: ConsoleSession) -> Response:
    await run_in_threadpool(services.staff.logout, request.cookies.get(SESSION_COOKIE, ""))
    response = redirect(request, "/login")
    clear_session_cookies(response, services.settings.access)
    return response


@router.get("/password")
def password_form(request: Request, session: ConsoleSession) -> Response:
    return render(request, "password.html", {"first": session.user.must_change_password})


@router.post("/password")
async def change_password(
    request: Request,
    services: ServicesDep,
    session: ConsoleSession,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
    repeat_password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Replace the password (the one-time one after a first login); the rules are the
    service's, the same as ``PUT /v1/session/password``."""
    first = session.user.must_change_password
    try:
        if new_password != repeat_password:
            raise InvalidInput("the new password and its repetition differ")
        await run_in_threadpool(
            services.staff.change_password, session.caller, current_password, new_password
        )
    except (InvalidInput, Unauthorized) as exc:
        return render(
            request,
            "password.html",
            {"first": first, "message": exc.message[:1].upper() + exc.message[1:] + "."},
            status=400,
        )
    return redirect(request, "/customers")
