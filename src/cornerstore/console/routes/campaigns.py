"""Campaigns: the list and a form to create one; a campaign's funnel before anything is sent,
a preview for any customer, the send button, recipients with their states, and results."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from cornerstore.access.caller import Caller
from cornerstore.access.policy import CHANGE
from cornerstore.api.deps import ServicesDep
from cornerstore.campaigns.model import STATES, Offer
from cornerstore.console.deps import (
    ConsoleCaller,
    ConsoleRoute,
    notice_for,
    redirect,
    redirect_with,
    render,
)
from cornerstore.console.flash import Notice
from cornerstore.errors import InvalidInput, NotFound
from cornerstore.services import Services
from cornerstore.settings import PURPOSES, SERVICE_PURPOSE

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
RECIPIENTS_PAGE = 100
Text = Annotated[str, Form(max_length=50_000)]


@router.get("/campaigns")
def campaigns_page(request: Request, services: ServicesDep, caller: ConsoleCaller) -> Response:
    """Every campaign, and the form to create one."""
    return render(request, "campaigns.html", _listing(services, caller))


@router.post("/campaigns")
def create_campaign(
    request: Request,
    services: ServicesDep,
    caller: ConsoleCaller,
    name: Annotated[str, Form(max_length=128)],
    subject: Annotated[str, Form(max_length=2000)],
    body: Text,
    audience_kind: Annotated[str, Form(max_length=16)] = "segment",
    segment: Annotated[str, Form(max_length=64)] = "",
    rule: Text = "",
    purpose: Annotated[str, Form(max_length=40)] = "marketing_email",
    channel: Annotated[str, Form(max_length=16)] = "email",
    html: Text = "",
    offer: Annotated[str, Form(max_length=300)] = "",
    offer_days: Annotated[int, Form(ge=1, le=365)] = 30,
    control_percent: Annotated[float, Form(gt=0, lt=100)] = 10.0,
    window_days: Annotated[int, Form(ge=1, le=365)] = 30,
) -> Response:
    """Create a draft for a segment or a rule (the condition trees the CLI and API take); its
    page shows the funnel before anything is sent. A mistake comes back in the form, with what
    was typed kept."""
    try:
        created = services.campaigns.create(
            caller,
            name=name,
            purpose=purpose,
            channel=channel,
            audience=_audience(audience_kind, segment, rule),
            subject=subject,
            body=body,
            html=html or None,
            offer=Offer(offer, offer_days) if offer.strip() else None,
            control_share=control_percent / 100,
            window_days=window_days,
        )
    except (InvalidInput, NotFound) as exc:
        typed = {
            "name": name,
            "audience_kind": audience_kind,
            "segment": segment,
            "rule": rule,
            "purpose": purpose,
            "channel": channel,
            "subject": subject,
            "body": body,
            "html": html,
            "offer": offer,
            "offer_days": offer_days,
            "control_percent": control_percent,
            "window_days": window_days,
        }
        context = {**_listing(services, caller), "error": exc.message, "typed": typed}
        return render(request, "campaigns.html", context, status=exc.status)
    return redirect(request, f"/campaigns/{created.id}")


def _listing(services: Services, caller: Caller) -> dict[str, Any]:
    return {
        "campaigns": services.campaigns.list(caller),
        "segments": services.segments.list(caller)
        if services.policy.may(caller, "segments")
        else [],
        "purposes": [*PURPOSES, SERVICE_PURPOSE],
        "may_change": services.policy.may(caller, "campaigns", CHANGE),
        "typed": {},
        "error": None,
    }


def _audience(kind: str, segment: str, rule: str) -> dict[str, Any]:
    """The form's audience as the service takes it: ``{"segment": ID}`` or ``{"rule": TREE}``."""
    if kind == "segment":
        if not segment.strip():
            raise InvalidInput("audience: choose a segment, or give a rule")
        return {"segment": segment}
    if kind != "rule":
        raise InvalidInput("audience: a segment or a rule")
    if not rule.strip():
        raise InvalidInput("audience rule: give a condition as JSON")
    try:
        return {"rule": json.loads(rule)}
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"audience rule: not valid JSON (line {exc.lineno}, column {exc.colno})"
        ) from None


@router.get("/campaigns/{campaign_id}")
def campaign_page(
    request: Request,
    services: ServicesDep,
    caller: ConsoleCaller,
    campaign_id: int,
    customer: Annotated[str, Query(max_length=512)] = "",
    state: Annotated[str, Query(max_length=16)] = "",
    after: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The campaign: funnel, preview for ``customer``, recipients (in ``state``), results."""
    campaign = services.campaigns.get(caller, _bounded(campaign_id))
    funnel = services.campaigns.audience(caller, campaign.id)
    preview, preview_error = None, None
    if customer.strip():
        # A customer typed wrong is the preview's answer, not the page's: the campaign stays.
        try:
            preview = services.campaigns.preview(caller, campaign.id, customer)
        except (InvalidInput, NotFound) as exc:
            preview_error = exc.message
    recipients = (
        services.campaigns.recipients(
            caller, campaign.id, state or None, RECIPIENTS_PAGE, after or None
        )
        if campaign.status != "draft"
        else None
    )
    results = services.campaigns.results(caller, campaign.id) if campaign.sent_at else None
    return render(
        request,
        "campaign.html",
        {
            "campaign": campaign,
            "steps": funnel.steps(),
            "customer": customer,
            "preview": preview,
            "preview_error": preview_error,
            "notice": notice_for(request),
            "recipients": recipients,
            "state": state,
            "states": STATES,
            "results": results,
            "may_change": services.policy.may(caller, "campaigns", CHANGE),
            "pseudonymised": services.policy.pseudonymised(caller),
        },
    )


@router.post("/campaigns/{campaign_id}/send")
async def send_campaign(
    request: Request, services: ServicesDep, caller: ConsoleCaller, campaign_id: int
) -> Response:
    """Send (again: only what failed); an export campaign downloads its CSV."""
    campaign = await run_in_threadpool(services.campaigns.get, caller, _bounded(campaign_id))
    if campaign.channel != "export":
        report = await run_in_threadpool(services.campaigns.send, caller, campaign.id)
        stopped = (
            f"Stopped: {report.stopped}; send again once it answers." if report.stopped else ""
        )
        said = Notice(message=f"Sent: {report.summary()}.", warning=stopped)
        return redirect_with(request, f"/campaigns/{campaign.id}", said)
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "campaign.csv"
        await run_in_threadpool(lambda: services.campaigns.send(caller, campaign.id, output=output))
        text = output.read_text(encoding="utf-8")
    disposition = f'attachment; filename="campaign-{campaign.id}.csv"'
    return Response(text, media_type="text/csv", headers={"Content-Disposition": disposition})


def _bounded(campaign_id: int) -> int:
    if not 1 <= campaign_id < 2**31:
        raise InvalidInput("campaign: not a campaign number")
    return campaign_id
