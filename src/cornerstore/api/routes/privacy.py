"""Privacy: consent per purpose, "anonymous, please", export, erasure, and the firewall's record."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from cornerstore.api.deps import ServicesDep, StaffCaller
from cornerstore.api.schemas.errors import error_answers
from cornerstore.api.schemas.privacy import (
    AnonymousIn,
    ConsentsIn,
    ConsentsOut,
    ErasureOut,
    PrivacyEventOut,
)
from cornerstore.privacy.detect import LABELS
from cornerstore.privacy.rights import export_html

router = APIRouter(prefix="/v1", tags=["privacy"], responses=error_answers(400, 401, 403, 404))


@router.get("/customers/{customer_id}/consents", response_model=ConsentsOut)
def get_consents(services: ServicesDep, caller: StaffCaller, customer_id: str) -> ConsentsOut:
    """The customer's answer for every purpose (or the default), with the full history."""
    return ConsentsOut.model_validate(services.consents.get(caller, customer_id))


@router.put("/customers/{customer_id}/consents", response_model=ConsentsOut)
def put_consents(
    services: ServicesDep, caller: StaffCaller, customer_id: str, body: ConsentsIn
) -> ConsentsOut:
    """Record purposes the customer granted or withdrew (marketing_email, marketing_sms,
    personalisation, profiling, sharing)."""
    view = services.consents.change(caller, customer_id, body.consents, touchpoint=body.touchpoint)
    return ConsentsOut.model_validate(view)


@router.put("/customers/{customer_id}/anonymous", response_model=ConsentsOut)
def put_anonymous(
    services: ServicesDep, caller: StaffCaller, customer_id: str, body: AnonymousIn
) -> ConsentsOut:
    """ "Anonymous, please": no learned traits or personal suggestions; still served and still
    recognised. ``false`` grants profiling and personalisation again."""
    view = services.consents.set_anonymous(
        caller, customer_id, body.anonymous, touchpoint=body.touchpoint
    )
    return ConsentsOut.model_validate(view)


@router.get(
    "/customers/{customer_id}/export",
    responses={
        200: {
            "description": "Everything held about the customer",
            "content": {"application/json": {}, "text/html": {}},
        },
    },
)
def get_export(
    request: Request,
    services: ServicesDep,
    caller: StaffCaller,
    customer_id: str,
    format: Annotated[
        Literal["json", "html"] | None,
        Query(description="json or html; by default the Accept header decides, then json"),
    ] = None,
) -> Any:
    """A copy of everything held about the customer: profile, identifiers, traits with
    provenance, events, accounts, merges and consents, as JSON or a readable HTML page."""
    if format is None:
        accept = request.headers.get("accept", "")
        format = "html" if "text/html" in accept else "json"
    data = services.rights.export(caller, customer_id)
    filename = f"{data['customer']['id']}-export"
    if format == "html":
        return HTMLResponse(
            export_html(data),
            headers={"Content-Disposition": f'inline; filename="{filename}.html"'},
        )
    return JSONResponse(
        data, headers={"Content-Disposition": f'attachment; filename="{filename}.json"'}
    )


@router.delete("/customers/{customer_id}", response_model=ErasureOut)
def delete_customer(services: ServicesDep, caller: StaffCaller, customer_id: str) -> ErasureOut:
    """Erase the customer from every table, merged-away profiles included; keep only keyed
    hashes of their identifiers so replayed events are dropped. Audited."""
    return ErasureOut.model_validate(services.rights.erase(caller, customer_id))


@router.get("/privacy/events", response_model=list[PrivacyEventOut])
def get_privacy_events(
    services: ServicesDep,
    caller: StaffCaller,
    kind: Annotated[
        str | None,
        Query(
            max_length=32,
            description="Only this kind",
            # The service refuses any other word (400); the schema says so too.
            json_schema_extra={"enum": sorted(LABELS)},
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[PrivacyEventOut]:
    """What the firewall removed, newest first: kind, field, entrance and time, never a value."""
    events = services.privacy_log.recent(caller, limit=limit, kind=kind)
    return [PrivacyEventOut.model_validate(e) for e in events]
