"""Request and response schemas of the API (pydantic v2), mapped from domain objects."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cornerstore.profiles.model import (
    WITHHELD_EVENT_FIELDS,
    Event,
    MergeRecord,
    Prefill,
    Profile,
    SearchHit,
    TraitObservation,
)


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """An ``openapi_extra`` documenting a body that the route reads itself (gzip, limits).

    The schema itself is added to the document's components by ``create_app`` (it lists
    :data:`BODY_SCHEMAS`), so the reference resolves and Swagger UI can show it.
    """
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    }


class MessageIn(BaseModel):
    """A Segment Spec message (https://segment.com/docs/connections/spec/common/)."""

    model_config = ConfigDict(extra="allow")

    type: Literal["identify", "track", "page", "screen", "group", "alias"] | None = Field(
        None, description="Implied by the single-message endpoints; required in a batch"
    )
    messageId: str | None = Field(None, description="Deduplication key; a retry is stored once")
    userId: str | int | None = None
    anonymousId: str | int | None = None
    previousId: str | int | None = Field(None, description="alias: the earlier id of this person")
    groupId: str | int | None = Field(None, description="group: the account's id")
    event: str | None = Field(None, description="track: the event name")
    name: str | None = Field(None, description="page / screen: its name")
    traits: dict[str, Any] | None = None
    properties: dict[str, Any] | None = None
    context: dict[str, Any] | None = Field(
        None,
        description="Spec context; context.traits and context.externalIds identify the person, "
        "context.touchpoint (store, web, app, support, billing, shipping, survey, other) says "
        "which department sent it",
    )
    integrations: dict[str, Any] | None = None
    timestamp: str | None = Field(
        None,
        description="ISO-8601 event time; alone it is the device time, corrected for clock "
        "skew by sentAt; with originalTimestamp it is kept as given",
    )
    originalTimestamp: str | None = Field(
        None, description="ISO-8601 device time, corrected for clock skew by sentAt"
    )
    sentAt: str | None = None
    channel: str | None = Field(None, description="server, browser, mobile, ...; kept as given")
    version: str | int | float | None = Field(None, description="Spec version; kept as given")


class BatchIn(BaseModel):
    batch: list[MessageIn]
    sentAt: str | None = None
    writeKey: str | None = Field(
        None, description="Alternative to HTTP Basic / Bearer; accepted whatever Bearer rides along"
    )
    context: dict[str, Any] | None = Field(
        None, description="Merged into each message's context (the message's own keys win)"
    )
    integrations: dict[str, Any] | None = Field(
        None, description="Merged into each message's integrations (the message's own keys win)"
    )


class RejectionOut(BaseModel):
    index: int
    reason: str


class ChangeOut(BaseModel):
    index: int
    field: str = Field(description="Where the sensitive value was, e.g. traits.note")
    kind: str = Field(description="payment_card, iban, bank_account, national_id, secret, ...")
    action: str = Field(description="dropped (the whole field) or redacted (inside its text)")


class IntakeOut(BaseModel):
    success: bool
    received: int
    accepted: int
    duplicates: int
    rejected: list[RejectionOut]
    changed: list[ChangeOut] = Field(
        default_factory=list,
        description="Sensitive values removed before storing (never stored, never echoed)",
    )
    suppressed: int = Field(
        0, description="Messages dropped because they identify a customer who was erased"
    )
    refused: list[RejectionOut] = Field(
        default_factory=list,
        description="Stored messages whose merge or new identifier a safeguard refused "
        "(an alias joining two userIds, say), with the reason",
    )


class ErrorOut(BaseModel):
    code: str
    message: str


class IdentifierOut(BaseModel):
    kind: str
    value: str
    source: str
    touchpoint: str
    first_seen_at: datetime
    profile: str


class TraitOut(BaseModel):
    value: Any
    touchpoint: str
    source: str
    observed_at: datetime
    observations: int


class TraitObservationOut(BaseModel):
    value: Any
    touchpoint: str
    source: str
    observed_at: datetime
    message_id: str | None
    profile: str

    @classmethod
    def of(cls, o: TraitObservation) -> TraitObservationOut:
        return cls(
            value=o.value,
            touchpoint=o.touchpoint,
            source=o.source,
            observed_at=o.observed_at,
            message_id=o.message_id,
            profile=o.customer_id,
        )


class UnverifiedTraitOut(TraitObservationOut):
    """A value a client-side source claimed and no trusted source confirmed: never used."""

    name: str

    @classmethod
    def of(cls, o: TraitObservation) -> UnverifiedTraitOut:
        return cls(name=o.name, **TraitObservationOut.of(o).model_dump())


class SummaryOut(BaseModel):
    events: int
    by_touchpoint: dict[str, int]
    by_type: dict[str, int]
    first_seen_at: datetime | None
    last_seen_at: datetime | None


class MergeOut(BaseModel):
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

    @classmethod
    def of(cls, m: MergeRecord) -> MergeOut:
        return cls(
            id=m.id,
            winner_id=m.winner_id,
            loser_id=m.loser_id,
            members=m.members,
            reason=m.reason,
            evidence=m.evidence,
            message_id=m.message_id,
            created_at=m.created_at,
            created_by=m.created_by,
            undone_at=m.undone_at,
            undone_by=m.undone_by,
        )


class CustomerPublic(BaseModel):
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

    @classmethod
    def of(cls, p: Profile) -> CustomerPublic:
        shown: dict[str, Any] = {}
        if p.merged_profiles is not None:
            shown["merged_profiles"] = p.merged_profiles
        if p.identifiers is not None:
            shown["identifiers"] = [
                IdentifierOut(
                    kind=i.kind,
                    value=i.value,
                    source=i.source,
                    touchpoint=i.touchpoint,
                    first_seen_at=i.first_seen_at,
                    profile=i.customer_id,
                )
                for i in p.identifiers
            ]
        if p.traits is not None:
            shown["traits"] = {
                name: TraitOut(
                    value=t.value,
                    touchpoint=t.touchpoint,
                    source=t.source,
                    observed_at=t.observed_at,
                    observations=t.observations,
                )
                for name, t in p.traits.items()
            }
        if p.unverified is not None:
            shown["unverified"] = [UnverifiedTraitOut.of(o) for o in p.unverified]
        if p.summary is not None:
            shown["summary"] = SummaryOut(
                events=p.summary.events,
                by_touchpoint=p.summary.by_touchpoint,
                by_type=p.summary.by_type,
                first_seen_at=p.summary.first_seen_at,
                last_seen_at=p.summary.last_seen_at,
            )
        if p.accounts is not None:
            shown["accounts"] = p.accounts
        if p.members is not None:
            shown["members"] = p.members
        if p.household is not None:
            shown["household"] = p.household
        if p.merges is not None:
            shown["merges"] = [MergeOut.of(m) for m in p.merges]
        return cls(id=p.id, kind=p.kind, created_at=p.created_at, sections=p.sections, **shown)


class SearchHitOut(BaseModel):
    """A search result; name, e-mail and phone are absent when the role may not read them."""

    id: str
    kind: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    matched: str

    @classmethod
    def of(cls, h: SearchHit) -> SearchHitOut:
        return cls(**h.visible())


class SearchOut(BaseModel):
    results: list[SearchHitOut]


class EventOut(BaseModel):
    id: int
    message_id: str
    profile: str
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

    @classmethod
    def of(cls, e: Event, withheld: bool = False) -> EventOut:
        """The event; ``withheld``: without user and anonymous ids, context and integrations
        (absent from the answer), for roles that may not read identifiers."""
        fields_out = WITHHELD_EVENT_FIELDS if withheld else ()
        fields = {k: getattr(e, k) for k in e.__dataclass_fields__ if k not in fields_out}
        fields["profile"] = fields.pop("customer_id")
        return cls(**fields)


class TimelineOut(BaseModel):
    customer_id: str
    events: list[EventOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next (older) page")


class PrefillFieldOut(BaseModel):
    field: str
    value: Any
    known: bool
    touchpoint: str | None
    source: str | None
    observed_at: datetime | None
    age_days: float | None


class PrefillOut(BaseModel):
    customer_id: str
    form: str
    fields: list[PrefillFieldOut]
    unknown: list[str]

    @classmethod
    def of(cls, p: Prefill) -> PrefillOut:
        return cls(
            customer_id=p.customer_id,
            form=p.form,
            fields=[
                PrefillFieldOut(
                    field=f.field,
                    value=f.value,
                    known=f.known,
                    touchpoint=f.touchpoint,
                    source=f.source,
                    observed_at=f.observed_at,
                    age_days=f.age_days,
                )
                for f in p.fields
            ],
            unknown=p.unknown,
        )


class MergeIn(BaseModel):
    other: str = Field(description="The profile id to merge with this one")


class HealthOut(BaseModel):
    status: str
    database: str
    version: str


# Bodies the intake routes read themselves; ``create_app`` adds them to the OpenAPI document.
BODY_SCHEMAS: tuple[type[BaseModel], ...] = (BatchIn, MessageIn)
