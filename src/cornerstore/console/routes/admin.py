"""The owner's pages: staff users and roles, write keys and API tokens, the audit trail,
privacy requests (export, erase), privacy events and the retention preview.

Every page asks :func:`owner_caller` first, so another role gets the 403 page before any
service runs; the services check again, as they do for the API and the CLI.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from cornerstore.access.audit import to_csv
from cornerstore.access.caller import Caller
from cornerstore.access.credentials import IssuedSecret
from cornerstore.access.users import NewPassword
from cornerstore.api.deps import ServicesDep, SmallRowId
from cornerstore.console.deps import (
    ConsoleCaller,
    ConsoleRoute,
    notice_for,
    redirect,
    redirect_with,
    render,
)
from cornerstore.console.flash import Notice
from cornerstore.errors import InvalidInput
from cornerstore.privacy.rights import export_html
from cornerstore.settings import TOUCHPOINTS

router = APIRouter(prefix="/admin", route_class=ConsoleRoute, include_in_schema=False)

AUDIT_PAGE = 200
Name = Annotated[str, Form(max_length=128)]


def owner_caller(services: ServicesDep, caller: ConsoleCaller) -> Caller:
    """The logged-in caller, when their role administers staff (the owner); else 403."""
    services.policy.require_staff_admin(caller)
    return caller


OwnerCaller = Annotated[Caller, Depends(owner_caller)]


@router.get("")
def admin_home(request: Request, _caller: OwnerCaller) -> Response:
    return redirect(request, "/admin/users")


# -- staff users ----------------------------------------------------------------------------------
USERS, KEYS = "/admin/users", "/admin/keys"


@router.get("/users")
def users(request: Request, services: ServicesDep, caller: OwnerCaller) -> Response:
    """Staff and their roles, with what the last change said (a one-time password once)."""
    return render(
        request,
        "admin_users.html",
        {
            "users": services.staff.list(caller),
            "roles": services.policy.role_names(),
            "notice": notice_for(request),
        },
    )


def _password_notice(issued: NewPassword, done: str) -> Notice:
    username = issued.user.username
    return Notice(
        message=f"{username} is {done}.",
        secret=issued.password,
        secret_label=f"One-time password for {username}",
        secret_note=f"{username} chooses their own password at the first login.",
    )


@router.post("/users")
def create_user(
    request: Request,
    services: ServicesDep,
    caller: OwnerCaller,
    username: Annotated[str, Form(max_length=64)],
    role: Annotated[str, Form(max_length=64)],
    display_name: Name = "",
    branch: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Create a user with a one-time password, shown once on the page redirected to."""
    created = services.staff.create(
        caller, username, role, display_name=display_name or None, branch=branch or None
    )
    return redirect_with(request, USERS, _password_notice(created, "created"))


@router.post("/users/{username}/grant")
def grant_user(
    request: Request,
    services: ServicesDep,
    caller: OwnerCaller,
    username: str,
    role: Annotated[str, Form(max_length=64)],
    branch: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    user = services.staff.grant(
        caller, username, role, branch=branch or None, every_branch=not branch
    )
    return redirect_with(request, USERS, Notice(f"{user.username} is now {user.role}."))


@router.post("/users/{username}/reset")
def reset_user(
    request: Request, services: ServicesDep, caller: OwnerCaller, username: str
) -> Response:
    """A new one-time password, shown once on the page redirected to; the user's sessions
    end."""
    issued = services.staff.reset_password(caller, username)
    return redirect_with(request, USERS, _password_notice(issued, "given a new password"))


# After grant and reset: a route matching any last part must come after the fixed ones.
@router.post("/users/{username}/{change}")
def disable_or_enable_user(
    request: Request,
    services: ServicesDep,
    caller: OwnerCaller,
    username: str,
    change: Literal["disable", "enable"],
) -> Response:
    """Disable a user (their sessions end, their tokens stop) or let them log in again."""
    if change == "disable":
        user = services.staff.disable(caller, username)
        message = f"{user.username} is disabled."
    else:
        user = services.staff.enable(caller, username)
        message = f"{user.username} may log in again."
    return redirect_with(request, USERS, Notice(message))


# -- write keys and API tokens --------------------------------------------------------------------
@router.get("/keys")
def keys(request: Request, services: ServicesDep, caller: OwnerCaller) -> Response:
    """Write keys and API tokens, with what the last change said (a new secret once)."""
    return render(
        request,
        "admin_keys.html",
        {
            "keys": services.credentials.list_write_keys(caller),
            "tokens": services.credentials.list_tokens(caller),
            "roles": services.policy.role_names(),
            "touchpoints": TOUCHPOINTS,
            "notice": notice_for(request),
        },
    )


def _secret_notice(issued: IssuedSecret, kind: str) -> Notice:
    return Notice(
        message=f"{kind.capitalize()} {issued.name} is created.",
        secret=issued.secret,
        secret_label=f"New {kind} {issued.name}",
    )


@router.post("/keys")
def create_key(
    request: Request,
    services: ServicesDep,
    caller: OwnerCaller,
    name: Name,
    touchpoint: Annotated[str, Form(max_length=32)] = "web",
) -> Response:
    """A write key for intake; its secret is shown once on the page redirected to."""
    issued = services.credentials.create_write_key(caller, name, touchpoint)
    return redirect_with(request, KEYS, _secret_notice(issued, "write key"))


@router.post("/keys/{key_id}/revoke")
def revoke_key(
    request: Request, services: ServicesDep, caller: OwnerCaller, key_id: SmallRowId
) -> Response:
    services.credentials.revoke_write_key(caller, key_id)
    return redirect_with(request, KEYS, Notice(f"Write key {key_id} is revoked."))


@router.post("/tokens")
def create_token(
    request: Request,
    services: ServicesDep,
    caller: OwnerCaller,
    name: Name,
    role: Annotated[str, Form(max_length=64)],
    expires: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """A service API token acting with ``role``; its secret is shown once on the page
    redirected to."""
    issued = services.credentials.create_token(caller, name, role=role, expires=expires or None)
    return redirect_with(request, KEYS, _secret_notice(issued, "API token"))


@router.post("/tokens/{token_id}/revoke")
def revoke_token(
    request: Request, services: ServicesDep, caller: OwnerCaller, token_id: SmallRowId
) -> Response:
    services.credentials.revoke_token(caller, token_id)
    return redirect_with(request, KEYS, Notice(f"API token {token_id} is revoked."))


# -- the audit trail ------------------------------------------------------------------------------
@router.get("/audit")
def audit(
    request: Request,
    services: ServicesDep,
    caller: OwnerCaller,
    customer: Annotated[str, Query(max_length=64)] = "",
    actor: Annotated[str, Query(max_length=160)] = "",
    action: Annotated[str, Query(max_length=64)] = "",
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
    format: Annotated[Literal["html", "csv"], Query()] = "html",
) -> Response:
    """Entries matching every filter, the latest page on screen; ``format=csv`` downloads
    every matching entry (as ``GET /v1/audit?format=csv``)."""
    filters = {"customer": customer, "actor": actor, "action": action}
    entries = services.audit.find(
        caller,
        customer_id=customer or None,
        actor=actor or None,
        action=action or None,
        since=since,
        until=until,
        limit=10_000 if format == "csv" else AUDIT_PAGE,
    )
    if format == "csv":
        return Response(
            to_csv(entries),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
        )
    query = request.url.query
    return render(
        request,
        "admin_audit.html",
        {
            "entries": entries,
            "filters": filters,
            "since": since,
            "until": until,
            "csv_link": "/admin/audit?" + (query + "&" if query else "") + "format=csv",
            "page": AUDIT_PAGE,
        },
    )


# -- privacy --------------------------------------------------------------------------------------
@router.get("/privacy")
def privacy(
    request: Request,
    services: ServicesDep,
    caller: OwnerCaller,
    kind: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    """Privacy requests, what the firewall removed and what retention would remove."""
    return render(
        request,
        "admin_privacy.html",
        {
            "events": services.privacy_log.recent(caller, limit=100, kind=kind or None),
            "counts": sorted(services.privacy_log.counts(caller).items()),
            "kind": kind,
            "retention": services.retention.plan(),
        },
    )


@router.get("/privacy/export")
def export(
    services: ServicesDep,
    caller: OwnerCaller,
    customer: Annotated[str, Query(min_length=1, max_length=200)],
    format: Annotated[Literal["json", "html"], Query()] = "json",
) -> Response:
    """Everything held about the customer as a download (the right of access)."""
    data = services.rights.export(caller, customer.strip())
    filename = f"{data['customer']['id']}-export.{format}"
    disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if format == "html":
        return HTMLResponse(export_html(data), headers=disposition)
    return JSONResponse(data, headers=disposition)


@router.get("/privacy/erase")
def erase_form(
    request: Request,
    caller: OwnerCaller,
    customer: Annotated[str, Query(min_length=1, max_length=200)],
) -> Response:
    """Ask for the customer id once more before erasing."""
    return render(request, "admin_erase.html", {"customer": customer.strip()})


@router.post("/privacy/erase")
def erase(
    request: Request,
    services: ServicesDep,
    caller: OwnerCaller,
    customer: Annotated[str, Form(min_length=1, max_length=200)],
    confirm: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Erase the customer for good, once the owner typed the customer id again."""
    if confirm.strip() != customer.strip():
        raise InvalidInput("confirm: type the customer id exactly as above to erase")
    report = services.rights.erase(caller, customer.strip())
    return render(request, "admin_erased.html", {"report": report})
