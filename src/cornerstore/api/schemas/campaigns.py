"""Campaigns: their definition, audience funnel, previews, sends, recipients and results."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from cornerstore.api.schemas import Answer


class OfferIn(BaseModel):
    description: str = Field(min_length=1, max_length=300, description="What the coupon gives")
    expires_days: int = Field(30, ge=1, le=365, description="Days a coupon stays valid")


class OfferOut(Answer):
    description: str
    expires_days: int


class CampaignIn(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    purpose: str = Field(
        "marketing_email",
        max_length=40,
        description="The consent purpose it needs, or `service` for a service message",
    )
    channel: Literal["email", "export"] = "email"
    audience: dict[str, Any] = Field(
        description='{"segment": ID} or {"rule": CONDITION} (see docs/learn.md for conditions)'
    )
    subject: str = Field(min_length=1, max_length=2000, description="Subject line template")
    body: str = Field(min_length=1, max_length=50_000, description="Text template")
    html: str | None = Field(None, max_length=50_000, description="HTML template (autoescaped)")
    offer: OfferIn | None = Field(None, description="A personal single-use coupon for treatment")
    control_share: float = Field(0.1, gt=0, lt=1, description="Share of the eligible held out")
    window_days: int = Field(30, ge=1, le=365, description="Days after sending results count")


class CampaignOut(Answer):
    id: int
    name: str
    purpose: str
    channel: str
    audience: dict[str, Any]
    subject: str
    body: str
    html: str | None
    offer: OfferOut | None
    control_share: float
    window_days: int
    role: str = Field(description="The role whose view of a customer templates see")
    status: str = Field(description="draft, assigned or sent")
    created_at: datetime
    created_by: str
    assigned_at: datetime | None
    sent_at: datetime | None = Field(description="The first send: the results window opens")


class FunnelOut(BaseModel):
    segment: int
    consent: int
    caps: int
    complaints: int
    address: int
    treatment: int
    control: int


class MessageOut(Answer):
    subject: str
    text: str
    html: str | None


class PreviewOut(Answer):
    customer_id: str
    arm: str | None = Field(description="treatment, control or none")
    state: str | None
    reason: str | None
    message: MessageOut | None = Field(description="Null when the template fails for them")
    assigned: bool = Field(
        description="False for a draft: arm, state and reason are what the funnel decides for "
        "the customer as it stands now"
    )


class SendOut(Answer):
    campaign_id: int
    treatment: int
    control: int
    rendered: int
    sent: int
    failed: int
    skipped: int = Field(description="Sent by an earlier run")
    failures: dict[str, int] = Field(description="Reason -> how many failed for it")
    stopped: str | None = Field(
        None,
        description="Why the send stopped before trying everyone (the SMTP server could not "
        "be reached); send again to deliver the rest",
    )


class RecipientOut(Answer):
    customer_id: str
    arm: str
    state: str
    reason: str | None
    attempts: int
    updated_at: datetime


class RecipientsOut(Answer):
    campaign_id: int
    recipients: list[RecipientOut]
    next_after: str | None = Field(description="Pass back as `after` for the next page")


class UnsubscribedOut(Answer):
    purpose: str
    changed: bool = Field(description="False when it was withdrawn already")
