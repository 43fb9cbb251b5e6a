"""Next best actions: what to do now for one customer, with the reasons in words."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from cornerstore.api.schemas import Answer


class NextActionOut(Answer):
    action: str = Field(
        description="call, offer, thank (as the rules in settings name them), or nothing"
    )
    channel: str | None = Field(description="email, sms, phone, post or export; null for nothing")
    purpose: str | None = Field(
        description="service, or the consent purpose of a marketing action; null for nothing"
    )
    priority: int = Field(description="Lower ranks first")
    reasons: list[str] = Field(description="Why, in words; for nothing, why not")
    summary: str = Field(
        description='The action and its reasons on one line: "call: high value, slipping away"'
    )


class HeldBackOut(Answer):
    action: str
    channel: str
    purpose: str
    reasons: list[str]
    why: str = Field(description="Why it may not happen now: consent, an open complaint or a cap")


class NextActionsOut(Answer):
    customer_id: str
    actions: list[NextActionOut] = Field(
        description="Best first; one `nothing` when none may happen"
    )
    held_back: list[HeldBackOut] = Field(
        description="Actions a rule proposed that may not happen now"
    )
    notes: list[str] = Field(description="What the answer could not use, and why")
    as_of: datetime
