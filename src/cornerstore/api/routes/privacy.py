"""Privacy: consent per purpose, "anonymous, please", export, erasure, and the firewall's record."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from cornerstore.api.deps import ServicesDep, StaffCaller
from cornerstore.api.schemas import ErrorOut
from cornerstore.privacy.consent import CustomerConsents
from cornerstore.privacy.rights import export_html

router = APIRouter(prefix="/v1", tags=["privacy"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Invalid parameter"},
    401: {"model": ErrorOut, "description": "No valid API token"},
    403: {"model": ErrorOut, "description": "The credential may not act on customers"},
    404: {"model": ErrorOut, "description": "No such customer"},
}


class ConsentStateOut(BaseModel):
    purpose: str
    granted: bool
    asked: bool = Field(description="False when this is the default: the customer was never asked")
    at: datetime | None
    touchpoint: str | None
    source: str | None


class ConsentChangeOut(BaseModel):
    profile: str
    purpose: str
    granted: bool
    at: datetime
    touchpoint: str
    source: str
    message_id: str | None


class ConsentsOut(BaseModel):
    customer_id: str
    anonymous: bool = Field(description="Profiling and personalisation are both withdrawn")
    consents: list[ConsentStateOut]
    history: list[ConsentChangeOut]

    @classmethod
    def of(cls, view: CustomerConsents) -> ConsentsOut:
        return cls(
            customer_id=view.customer_id,
            anonymous=view.anonymous,
            consents=[
                ConsentStateOut(
                    purpose=s.purpose,
                    granted=s.granted,
                    asked=s.asked,
                    at=s.at,
                    touchpoint=s.touchpoint,
                    source=s.source,
                )
                for s in view.consents
            ],
            history=[
                ConsentChangeOut(
                    profile=r.customer_id,
                    purpose=r.purpose,
                    granted=r.granted,
                    at=r.at,
                    touchpoint=r.touchpoint,
                    source=r.source,
                    message_id=r.message_id,
                )
                for r in view.history
            ],
        )


class ConsentsIn(BaseModel):
    consents: dict[str, bool] = Field(
        description='Purpose -> granted, e.g. {"marketing_email": false}',
        min_length=1,
        max_length=20,
    )
    touchpoint: str | None = Field(None, description="Where the customer said it (default: web)")


class AnonymousIn(BaseModel):
    anonymous: bool = Field(description="True: stop profiling and personalisation")
    touchpoint: str | None = None


class ErasureOut(BaseModel):
    customer_id: str
    profiles: int
    identifiers: int
    traits: int
    events: int
    consents: int
    merges: int
    suppressed_identifiers: int = Field(
        description="Identifiers kept only as keyed hashes, so replayed events are dropped"
    )


class PrivacyEventOut(BaseModel):
    at: datetime
    entrance: str
    source: str
    kind: str
    field: str
    action: str
    message_id: str | None


@router.get("/customers/{customer_id}/consents", response_model=ConsentsOut, responses=_ERRORS)
def get_consents(services: ServicesDep, caller: StaffCaller, customer_id: str) -> ConsentsOut:
    """The customer's answer for every purpose (or the default), with the full history."""
    return ConsentsOut.of(services.consents.get(caller, customer_id))


@router.put("/customers/{customer_id}/consents", response_model=ConsentsOut, responses=_ERRORS)
def put_consents(
    services: ServicesDep, caller: StaffCaller, customer_id: str, body: ConsentsIn
) -> ConsentsOut:
    """Record purposes the customer granted or withdrew (marketing_email, marketing_sms,
    personalisation, profiling, sharing)."""
    view = services.consents.change(caller, customer_id, body.consents, touchpoint=body.touchpoint)
    return ConsentsOut.of(view)


@router.put("/customers/{customer_id}/anonymous", response_model=ConsentsOut, responses=_ERRORS)
def put_anonymous(
    services: ServicesDep, caller: StaffCaller, customer_id: str, body: AnonymousIn
) -> ConsentsOut:
    """ "Anonymous, please": no learned traits or personal suggestions; still served and still
    recognised. ``false`` grants profiling and personalisation again."""
    view = services.consents.set_anonymous(
        caller, customer_id, body.anonymous, touchpoint=body.touchpoint
    )
    return ConsentsOut.of(view)


@router.get(
    "/customers/{customer_id}/export",
    responses={
        **_ERRORS,
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


@router.delete("/customers/{customer_id}", response_model=ErasureOut, responses=_ERRORS)
def delete_customer(services: ServicesDep, caller: StaffCaller, customer_id: str) -> ErasureOut:
    """Erase the customer from every table, merged-away profiles included; keep only keyed
    hashes of their identifiers so replayed events are dropped. Audited."""
    report = services.rights.erase(caller, customer_id)
    return ErasureOut(
        customer_id=report.customer_id,
        profiles=report.profiles,
        identifiers=report.identifiers,
        traits=report.traits,
        events=report.events,
        consents=report.consents,
        merges=report.merges,
        suppressed_identifiers=report.suppressed_identifiers,
    )


@router.get("/privacy/events", response_model=list[PrivacyEventOut], responses=_ERRORS)
def get_privacy_events(
    services: ServicesDep,
    caller: StaffCaller,
    kind: Annotated[str | None, Query(max_length=32, description="Only this kind")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[PrivacyEventOut]:
    """What the firewall removed, newest first: kind, field, entrance and time, never a value."""
    return [
        PrivacyEventOut(
            at=e.at,
            entrance=e.entrance,
            source=e.source,
            kind=e.kind,
            field=e.field,
            action=e.action,
            message_id=e.message_id,
        )
        for e in services.privacy_log.recent(caller, limit=limit, kind=kind)
    ]
