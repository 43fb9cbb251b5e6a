"""Campaigns: define, see the audience funnel, preview, send, page recipients, measure; and the
public one-click unsubscribe link (RFC 8058)."""

from __future__ import annotations

import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse
from markupsafe import escape

from cornerstore.api.deps import ServicesDep, StaffCaller
from cornerstore.api.schemas.campaigns import (
    CampaignIn,
    CampaignOut,
    FunnelOut,
    PreviewOut,
    RecipientsOut,
    SendOut,
    UnsubscribedOut,
)
from cornerstore.api.schemas.errors import error_answers
from cornerstore.campaigns.model import STATES, Offer
from cornerstore.errors import InvalidInput

router = APIRouter(prefix="/v1", tags=["campaigns"], responses=error_answers(400, 401, 403, 404))
public = APIRouter(prefix="/v1", tags=["campaigns"], responses=error_answers(400))
# The page behind the link answers HTML whatever the token: no JSON error answers.
public_page = APIRouter(prefix="/v1", tags=["campaigns"])
CampaignId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Campaign id")]
Token = Annotated[str, Path(min_length=10, max_length=400, description="The link's token")]


@router.get("/campaigns", response_model=list[CampaignOut])
def list_campaigns(services: ServicesDep, caller: StaffCaller) -> list[CampaignOut]:
    """Every campaign, newest first."""
    return [CampaignOut.model_validate(c) for c in services.campaigns.list(caller)]


@router.post("/campaigns", response_model=CampaignOut, status_code=201)
def post_campaign(services: ServicesDep, caller: StaffCaller, body: CampaignIn) -> CampaignOut:
    """Define a campaign (a draft: nothing is assigned or sent until it is sent)."""
    offer = Offer(body.offer.description, body.offer.expires_days) if body.offer else None
    created = services.campaigns.create(
        caller,
        name=body.name,
        purpose=body.purpose,
        channel=body.channel,
        audience=body.audience,
        subject=body.subject,
        body=body.body,
        html=body.html,
        offer=offer,
        control_share=body.control_share,
        window_days=body.window_days,
    )
    return CampaignOut.model_validate(created)


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut)
def get_campaign(
    services: ServicesDep, caller: StaffCaller, campaign_id: CampaignId
) -> CampaignOut:
    """One campaign."""
    return CampaignOut.model_validate(services.campaigns.get(caller, campaign_id))


@router.get("/campaigns/{campaign_id}/audience", response_model=FunnelOut)
def get_audience(services: ServicesDep, caller: StaffCaller, campaign_id: CampaignId) -> FunnelOut:
    """The funnel: how many customers are left after segment, consent, frequency caps, open
    complaints and an address; then treatment and control. As it stands now for a draft, as
    assigned once sent."""
    funnel = services.campaigns.audience(caller, campaign_id)
    return FunnelOut.model_validate(dict(funnel.steps()))


@router.get("/campaigns/{campaign_id}/preview", response_model=PreviewOut)
def get_preview(
    services: ServicesDep,
    caller: StaffCaller,
    campaign_id: CampaignId,
    customer: Annotated[str, Query(min_length=1, max_length=512, description="Id or identifier")],
) -> PreviewOut:
    """The message one customer would get, with their group and state (an audited read)."""
    return PreviewOut.model_validate(services.campaigns.preview(caller, campaign_id, customer))


@router.post(
    "/campaigns/{campaign_id}/send",
    response_model=SendOut,
    responses={
        200: {"content": {"text/csv": {}}, "description": "Export campaigns: the CSV"},
        **error_answers(409),
    },
)
def post_send(services: ServicesDep, caller: StaffCaller, campaign_id: CampaignId) -> Any:
    """Assign the audience (the first time), render and deliver; again, retry only what is
    unsent or failed. An export campaign answers the CSV of the messages instead."""
    campaign = services.campaigns.get(caller, campaign_id)
    if campaign.channel != "export":
        return SendOut.model_validate(services.campaigns.send(caller, campaign_id))
    with tempfile.TemporaryDirectory() as folder:
        output = FilePath(folder) / "campaign.csv"
        services.campaigns.send(caller, campaign_id, output=output)
        text = output.read_text(encoding="utf-8")
    disposition = f'attachment; filename="campaign-{campaign_id}.csv"'
    return Response(text, media_type="text/csv", headers={"Content-Disposition": disposition})


@router.get("/campaigns/{campaign_id}/recipients", response_model=RecipientsOut)
def get_recipients(
    services: ServicesDep,
    caller: StaffCaller,
    campaign_id: CampaignId,
    state: Annotated[str | None, Query(description=f"One of {', '.join(STATES)}")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: Annotated[str | None, Query(max_length=64)] = None,
) -> RecipientsOut:
    """A page of recipients with their group, state and reason, in customer id order."""
    page = services.campaigns.recipients(caller, campaign_id, state, limit, after)
    return RecipientsOut.model_validate(page)


@router.get("/campaigns/{campaign_id}/results")
def get_results(
    services: ServicesDep, caller: StaffCaller, campaign_id: CampaignId
) -> dict[str, Any]:
    """Conversion and revenue per assigned customer in the window, treatment against control:
    differences with 95% intervals (Newcombe; Welch with a bootstrap check; CUPED on
    pre-period spend), withheld while the sample-ratio check fails."""
    return services.campaigns.results(caller, campaign_id).as_dict()


@public.post(
    "/unsubscribe/{token}",
    response_model=UnsubscribedOut,
    responses={200: {"content": {"text/html": {}}, "description": "A browser: the page"}},
)
def post_unsubscribe(services: ServicesDep, token: Token, request: Request) -> Any:
    """One-click unsubscribe (RFC 8058): withdraws the consent the campaign was sent under.
    Needs no login; the signed token says who and what. Again is harmless. A browser (the
    button of the link's page; it accepts ``text/html``) gets a page saying it is done, or that
    the link is not valid; a mail client's one-click POST gets JSON."""
    if "text/html" not in request.headers.get("accept", ""):
        return UnsubscribedOut.model_validate(services.campaigns.unsubscribe(token))
    try:
        services.campaigns.unsubscribe(token)
    except InvalidInput:
        return _page("This unsubscribe link is not valid.", status=400)
    return _page("Done: you will get no more of these messages.")


@public_page.get("/unsubscribe/{token}", response_class=HTMLResponse)
def get_unsubscribe(token: Token) -> HTMLResponse:
    """A page with the unsubscribe button: opening a link (as mail scanners do) changes
    nothing, as RFC 8058 asks; the button posts to the same address."""
    return _page(
        "Stop these messages?",
        f"<button type='submit' formaction='/v1/unsubscribe/{escape(token)}'>Unsubscribe</button>",
    )


def _page(said: str, button: str = "", status: int = 200) -> HTMLResponse:
    """The customer's page behind the link: one sentence, and the button when there is one."""
    body = (
        f"<form method='post'><p>{escape(said)}</p>{button}</form>"
        if button
        else f"<p>{escape(said)}</p>"
    )
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Unsubscribe</title>"
        f"</head><body>{body}</body></html>"
    )
    return HTMLResponse(page, status_code=status)
