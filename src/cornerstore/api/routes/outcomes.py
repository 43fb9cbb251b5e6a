"""Outcome metrics of the contact centre, and the follow-up surveys customers answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from cornerstore.api.deps import RowId, ServicesDep, StaffCaller
from cornerstore.api.schemas.errors import error_answers
from cornerstore.api.schemas.outcomes import (
    ServiceMetricsOut,
    SurveyAnswerIn,
    SurveyDeliveryOut,
    SurveyLinkOut,
    SurveyOut,
)
from cornerstore.outcomes.model import SurveyRecord

router = APIRouter(prefix="/v1", tags=["service"], responses=error_answers(400, 401, 403, 404))
public = APIRouter(prefix="/v1", tags=["service"], responses=error_answers(400, 404, 409))

Delivery = Literal["export", "smtp"]
Grouping = Literal["channel", "category", "agent", "branch", "segment", "week", "month"]
Token = Annotated[str, Path(min_length=3, max_length=64, description="The survey link's token")]


@router.get("/service/metrics", response_model=ServiceMetricsOut, response_model_by_alias=True)
def get_service_metrics(
    services: ServicesDep,
    caller: StaffCaller,
    start: Annotated[
        datetime | None, Query(alias="from", description="Cases opened from (default: 90 days ago)")
    ] = None,
    end: Annotated[datetime | None, Query(alias="to", description="until (default: now)")] = None,
    group_by: Annotated[Grouping | None, Query(description="The breakdown")] = None,
) -> ServiceMetricsOut:
    """Outcome metrics of the cases opened in the period: resolution, first-contact resolution,
    reopens, repeat contact within 7 days, time to resolution, resolution confirmed by the
    customer, and purchases afterwards against comparable customers; each rate with n and a 95 %
    Wilson interval. Response time is reported too, never the headline."""
    return ServiceMetricsOut.model_validate(services.outcomes.metrics(caller, start, end, group_by))


@router.post(
    "/service/surveys/send",
    response_model=list[SurveyLinkOut] | SurveyDeliveryOut,
    responses=error_answers(409, 503),
)
def send_surveys(
    services: ServicesDep,
    caller: StaffCaller,
    deliver: Annotated[
        Delivery,
        Query(
            description="export: the new links wait as pending until exported (answers the "
            "links); smtp: e-mail each pending survey now through the campaigns' SMTP settings "
            "(answers what was sent; 409 without an SMTP server, 503 when it cannot be reached)"
        ),
    ] = "export",
) -> list[SurveyLinkOut] | SurveyDeliveryOut:
    """Make the follow-up survey of every resolved case without one; the new links wait as
    pending until exported, or are e-mailed at once with ``deliver=smtp``."""
    if deliver == "smtp":
        return SurveyDeliveryOut.model_validate(services.outcomes.deliver_surveys(caller))
    return [SurveyLinkOut.model_validate(s) for s in services.outcomes.send_surveys(caller)]


@router.post("/service/surveys/export", response_model=list[SurveyLinkOut])
def export_surveys(services: ServicesDep, caller: StaffCaller) -> list[SurveyLinkOut]:
    """The pending survey links for the shop's mailer, marked exported (each is given once)."""
    return [SurveyLinkOut.model_validate(s) for s in services.outcomes.export_pending(caller)]


@router.post("/cases/{case_id}/survey-link", response_model=SurveyLinkOut, status_code=201)
def hand_out_survey(services: ServicesDep, caller: StaffCaller, case_id: RowId) -> SurveyLinkOut:
    """A survey link to hand the customer of a case; its answer is flagged solicited."""
    return SurveyLinkOut.model_validate(services.outcomes.hand_out(caller, case_id))


@public.get("/feedback/{token}", response_model=SurveyOut)
def get_survey(services: ServicesDep, token: Token) -> SurveyOut:
    """The survey a link leads to (no login: the link is the credential)."""
    return _survey(services.outcomes.open_survey(token))


@public.post("/feedback/{token}", response_model=SurveyOut)
def answer_survey(services: ServicesDep, token: Token, body: SurveyAnswerIn) -> SurveyOut:
    """Answer the survey: was the problem resolved, and a score from 1 to 5. Once."""
    return _survey(services.outcomes.answer(token, body.resolved, body.score))


def _survey(record: SurveyRecord) -> SurveyOut:
    return SurveyOut(
        category=record.category,
        opened_at=record.opened_at,
        answered=record.answered_at is not None,
    )
