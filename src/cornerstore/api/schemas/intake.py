"""Intake: the Segment Spec messages and batches the API reads, and what it answers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cornerstore.api.schemas import Answer
from cornerstore.spec import MessageType


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

    type: MessageType | None = Field(
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


class RejectionOut(Answer):
    index: int
    reason: str


class ChangeOut(Answer):
    index: int
    field: str = Field(description="Where the sensitive value was, e.g. traits.note")
    kind: str = Field(description="payment_card, iban, bank_account, national_id, secret, ...")
    action: str = Field(description="dropped (the whole field) or redacted (inside its text)")


class CouponOut(Answer):
    index: int = Field(description="The message (a track event with a coupon property)")
    code: str
    redeemed: bool
    reason: str | None = Field(
        None,
        description="Why it was refused: used (redeemed already), not_theirs (another "
        "customer's code), expired or unknown; null when redeemed",
    )


class IntakeOut(Answer):
    # Every answer holds every field, ``success`` included (always true: a failure is an error
    # answer), so the document marks them all required.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    success: bool = True
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
    coupons: list[CouponOut] = Field(
        default_factory=list,
        description="The coupon of each stored track event that carried one (properties."
        "coupon): redeemed, or refused with the reason; the event itself is stored either way",
    )


# Bodies the intake routes read themselves; ``create_app`` adds them to the OpenAPI document.
BODY_SCHEMAS: tuple[type[BaseModel], ...] = (BatchIn, MessageIn)
