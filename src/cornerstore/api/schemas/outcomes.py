"""The contact centre's outcome metrics and follow-up surveys."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from cornerstore.api.schemas import Answer


class RateOut(Answer):
    count: int
    n: int = Field(description="The cases the rate is over")
    value: float | None = Field(description="count / n; null when n is 0")
    low: float | None = Field(description="95 % Wilson score interval, lower bound")
    high: float | None = Field(description="95 % Wilson score interval, upper bound")


class DurationsOut(Answer):
    n: int
    median_hours: float | None
    p90_hours: float | None


class OutcomeMetricsOut(Answer):
    opened: int = Field(description="Cases opened in the period")
    resolution: RateOut = Field(description="Resolved or closed now / opened")
    first_contact_resolution: RateOut = Field(
        description="One agent reply at most, no handover, never reopened, no new contact about "
        "the same category or order within 7 days of resolution / resolved (7 days passed)"
    )
    reopen: RateOut = Field(description="Reopened / resolved at least once")
    repeat_contact: RateOut = Field(
        description="Another contact about the same category or order within 7 days of opening, "
        "on any channel / opened (7 days passed)"
    )
    time_to_resolution: DurationsOut = Field(description="Opening to the latest resolution")
    confirmed: RateOut = Field(description="Answered 'resolved' to the survey the system sent")
    confirmed_solicited: RateOut = Field(
        description="The same through links staff handed out (reported apart)"
    )
    response_time: DurationsOut = Field(description="Opening to the first agent reply")


class MetricsGroupOut(Answer):
    key: str = Field(description="The channel, category, agent, branch, segment, week or month")
    metrics: OutcomeMetricsOut


class GroupOutcomeOut(Answer):
    customers: int
    bought_again: RateOut
    mean_purchases: float | None
    mean_spend: float | None
    mean_p_alive: float | None = Field(description="P(alive) as last learned")


class AfterwardsOut(Answer):
    window_days: int
    after_case: GroupOutcomeOut = Field(description="Customers after a resolved case")
    comparable: GroupOutcomeOut = Field(
        description="Customers of the same segments without a case, over the same windows"
    )


class ServiceMetricsOut(Answer):
    start: datetime | None = Field(serialization_alias="from")
    end: datetime | None = Field(serialization_alias="to")
    as_of: datetime
    overall: OutcomeMetricsOut
    group_by: str | None
    groups: list[MetricsGroupOut]
    afterwards: AfterwardsOut


class SurveyLinkOut(Answer):
    survey_id: int
    case_id: int
    customer_id: str
    solicited: bool = Field(description="Handed out by staff: its answer is counted apart")
    url: str = Field(description="The link the customer answers through")


class SurveyDeliveryOut(Answer):
    made: int = Field(description="Surveys made for resolved cases that had none")
    sent: int = Field(description="Surveys e-mailed (each once; marked exported)")
    failed: int = Field(description="Refused by the SMTP server; they stay pending")
    no_address: int = Field(description="Customers without an e-mail address; left for export")
    failures: dict[str, int] = Field(description="The server's answers, for example smtp 550")


class SurveyOut(Answer):
    category: str = Field(description="What the case was about")
    opened_at: datetime
    answered: bool


class SurveyAnswerIn(BaseModel):
    resolved: bool = Field(description="Was the problem resolved?")
    score: int = Field(ge=1, le=5, description="How satisfied, 1 (not at all) to 5 (very)")
