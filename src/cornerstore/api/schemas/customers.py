"""Customers: the 360 profile, search hits, the timeline, trait history, prefill and merges.

A part the caller's role may not read is absent from the answer: the routes leave unset fields
out, and a profile, search hit or timeline page is read through its ``visible()`` view.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from cornerstore.api.schemas import Answer


class IdentifierOut(Answer):
    kind: str
    value: str
    source: str
    touchpoint: str
    first_seen_at: datetime
    profile: str = Field(validation_alias="customer_id")


class TraitOut(Answer):
    value: Any
    touchpoint: str
    source: str
    observed_at: datetime
    observations: int


class TraitObservationOut(Answer):
    value: Any
    touchpoint: str
    source: str
    observed_at: datetime
    message_id: str | None
    profile: str = Field(validation_alias="customer_id")


class UnverifiedTraitOut(TraitObservationOut):
    """A value a client-side source claimed and no trusted source confirmed: never used."""

    name: str


class SummaryOut(Answer):
    events: int
    by_touchpoint: dict[str, int]
    by_type: dict[str, int]
    first_seen_at: datetime | None
    last_seen_at: datetime | None


class MergeOut(Answer):
    id: int
    winner_id: str
    loser_id: str
    members: list[str]
    reason: str
    evidence: list[dict[str, str]]
    message_id: str | None
    created_at: datetime
    created_by: str
    undone_at: datetime | None
    undone_by: str | None


class CustomerPublic(Answer):
    """A profile as the caller's role may see it: parts it may not read are absent (answers
    leave unset fields out), and ``sections`` names what the answer holds."""

    id: str
    kind: str
    created_at: datetime
    merged_profiles: list[str] | None = None
    identifiers: list[IdentifierOut] | None = None
    traits: dict[str, TraitOut] | None = None
    unverified: list[UnverifiedTraitOut] | None = Field(
        default=None,
        description="Claims of client-side sources about this customer, not yet confirmed "
        "by a trusted source; never used for prefill",
    )
    summary: SummaryOut | None = None
    accounts: list[str] | None = None
    members: list[str] | None = None
    household: list[str] | None = None
    merges: list[MergeOut] | None = None
    sections: list[str]


class SearchHitOut(Answer):
    """A search result; name, e-mail and phone are absent when the role may not read them."""

    id: str
    kind: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    matched: str


class SearchOut(Answer):
    results: list[SearchHitOut]


class EventOut(Answer):
    """One timeline event; user and anonymous ids, context and integrations are absent for
    roles that may not read identifiers."""

    id: int
    message_id: str
    profile: str = Field(validation_alias="customer_id")
    account_id: str | None
    type: str
    name: str | None
    touchpoint: str
    source: str
    user_id: str | None = None
    anonymous_id: str | None = None
    occurred_at: datetime
    original_timestamp: str | None
    sent_at: datetime | None
    received_at: datetime
    properties: dict[str, Any]
    context: dict[str, Any] | None = None
    integrations: dict[str, Any] | None = None
    channel: str | None = None
    version: str | None = None


class TimelineOut(Answer):
    customer_id: str
    events: list[EventOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next (older) page")


class PrefillFieldOut(Answer):
    field: str
    value: Any
    known: bool
    touchpoint: str | None
    source: str | None
    observed_at: datetime | None
    age_days: float | None


class PrefillOut(Answer):
    customer_id: str
    form: str
    fields: list[PrefillFieldOut]
    unknown: list[str]


class MergeIn(BaseModel):
    other: str = Field(description="The profile id to merge with this one")
