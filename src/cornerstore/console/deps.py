"""What every console page stands on: the logged-in caller, the CSRF check, rendering, errors.

Pages log in through the same :class:`~cornerstore.access.users.Staff` sessions as
``POST /v1/session`` (the same cookies), so the console and the API's session routes cannot
disagree about who is logged in. A page that needs a login gets :data:`ConsoleCaller`; without a
valid session the browser is sent to ``/login`` (htmx requests get ``HX-Redirect``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from cornerstore.access.caller import Caller, require_staff
from cornerstore.access.users import SessionState
from cornerstore.api.deps import (
    CSRF_COOKIE,
    CSRF_HEADER,
    SAFE_METHODS,
    SESSION_COOKIE,
    ServicesDep,
    remote_of,
)
from cornerstore.console.customer_view import address_line, age_in_words
from cornerstore.console.flash import NOTICE_COOKIE, Flashes, Notice
from cornerstore.console.nav import nav_for
from cornerstore.errors import CornerstoreError, Forbidden, Throttled, Unauthorized
from cornerstore.plural import counted

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
STATIC = HERE / "static"
CSRF_FIELD = "csrf_token"
REASON_FIELD = "reason"
# Only the console's own files: no inline script or style, no other origin, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
    "object-src 'none'"
)

templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    # Customer values are data, never markup.
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters["address_line"] = address_line
templates.filters["age"] = age_in_words
templates.filters["counted"] = counted


class LoginRequired(Exception):
    """No valid session: the page answers with the login page's address."""


class PasswordChangeRequired(Exception):
    """The user logged in with a one-time password and must choose their own first."""


def is_fragment(request: Request) -> bool:
    """True for an htmx request, which wants the part of the page it swaps in; not when htmx
    asks for a page again to restore it (Back to a page it had swapped in, its history cache
    missed): that one wants the whole page."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true" and headers.get("HX-History-Restore-Request") != "true"
    )


def secure(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    # Pages show customers: no copy in a shared browser's cache.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def redirect(request: Request, to: str) -> Response:
    """Send the browser to ``to`` (htmx follows ``HX-Redirect`` instead of swapping a page)."""
    if is_fragment(request):
        return Response(status_code=204, headers={"HX-Redirect": to})
    return RedirectResponse(to, status_code=303)


def redirect_with(request: Request, to: str, notice: Notice) -> Response:
    """Redirect after a change, ``notice`` sealed for the next page of this session only, in a
    cookie scoped to ``to`` (post/redirect/get: a reload never sends the form again, a secret
    is shown once; :mod:`cornerstore.console.flash`)."""
    flashes: Flashes = request.app.state.console_flashes
    response = redirect(request, to)
    response.set_cookie(
        NOTICE_COOKIE,
        flashes.seal(request.cookies.get(SESSION_COOKIE, ""), notice),
        max_age=flashes.ttl,
        path=to,
        secure=request.app.state.services.settings.access.cookie_secure,
        httponly=True,
        samesite="strict",
    )
    return response


def notice_for(request: Request) -> Notice | None:
    """The notice a change left for this session's next page, taken: the page's answer
    clears its cookie, so it is shown once."""
    sealed = request.cookies.get(NOTICE_COOKIE)
    if sealed is None:
        return None
    request.state.console_notice_taken = True
    flashes: Flashes = request.app.state.console_flashes
    return flashes.open(request.cookies.get(SESSION_COOKIE, ""), sealed)


def _clear_taken_notice(request: Request, response: Response) -> None:
    if getattr(request.state, "console_notice_taken", False):
        response.delete_cookie(
            NOTICE_COOKIE,
            path=request.url.path,
            secure=request.app.state.services.settings.access.cookie_secure,
            httponly=True,
            samesite="strict",
        )


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a page (or, for htmx, the same template's fragment: templates look at
    ``fragment``) with the logged-in user, the navigation and the CSRF token."""
    session: SessionState | None = getattr(request.state, "console_session", None)
    caller = session.caller if session else None
    services = request.app.state.services
    values = {
        "request": request,
        "user": session.user if session else None,
        "nav": nav_for(services.policy, caller) if caller else [],
        "csrf_token": request.cookies.get(CSRF_COOKIE, "") if session else "",
        "fragment": is_fragment(request),
        "business_name": services.settings.business_name,
        **(context or {}),
    }
    html = templates.get_template(template).render(values)
    return HTMLResponse(html, status_code=status, headers=dict(headers or {}))


def render_error(request: Request, status: int, message: str) -> HTMLResponse:
    titles = {400: "That did not work", 403: "Not for your role", 404: "Not found"}
    return render(
        request,
        "error.html",
        {"status": status, "title": titles.get(status, "Something went wrong"), "message": message},
        status=status,
    )


class ConsoleRoute(APIRoute):
    """A console route: errors become the error page (not the API's JSON), a missing login
    the login page, and every answer carries the console's Content-Security-Policy."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_page(request: Request) -> Response:
            try:
                response = await handle(request)
            except LoginRequired:
                wanted = request.url.path if request.method in SAFE_METHODS else "/customers"
                response = redirect(request, f"/login?next={quote(wanted, safe='/')}")
            except PasswordChangeRequired:
                response = redirect(request, "/password")
            except Throttled as exc:
                response = render_error(request, exc.status, exc.message)
                response.headers["Retry-After"] = str(exc.retry_after)
            except CornerstoreError as exc:
                response = render_error(request, exc.status, exc.message)
            except RequestValidationError as exc:
                where = [".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()[:3]]
                response = render_error(request, 400, "check " + ", ".join(where))
            except Exception as exc:
                # The type only: an exception's text may quote what a customer sent.
                log.error("console: unexpected error: %s", type(exc).__name__)
                response = render_error(request, 500, "the page failed; it can be reloaded")
            _clear_taken_notice(request, response)
            return secure(response)

        return handle_page


async def _submitted_csrf(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def console_session(request: Request, services: ServicesDep) -> SessionState:
    """The session of the request's cookie; a change (POST) must also carry the session's CSRF
    token, in the form field ``csrf_token`` or the ``X-CSRF-Token`` header (htmx)."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        raise LoginRequired
    try:
        state = await run_in_threadpool(services.staff.session, session_id, remote_of(request))
    except Unauthorized:
        raise LoginRequired from None
    if request.method not in SAFE_METHODS and not state.csrf_matches(
        await _submitted_csrf(request)
    ):
        raise Forbidden("the form is out of date (CSRF token missing or wrong); reload the page")
    request.state.console_session = state
    return state


ConsoleSession = Annotated[SessionState, Depends(console_session)]


async def console_caller(request: Request, session: ConsoleSession) -> Caller:
    """The logged-in staff member, giving the page's ``reason`` (query or form) when there is
    one, so the audit trail records why they looked."""
    if session.user.must_change_password:
        raise PasswordChangeRequired
    require_staff(session.caller)
    reason = request.query_params.get(REASON_FIELD)
    if reason is None and request.method not in SAFE_METHODS:
        submitted = (await request.form()).get(REASON_FIELD)
        reason = submitted if isinstance(submitted, str) else None
    return session.caller.because(reason) if reason else session.caller


ConsoleCaller = Annotated[Caller, Depends(console_caller)]
