"""Cases: the contact centre's cases, their messages and changes, and remedies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from cornerstore.api.schemas import Answer

Channel = Literal["phone", "email", "chat", "store", "web"]
Status = Literal["open", "waiting", "resolved", "closed"]
Priority = Literal["low", "normal", "high", "urgent"]
LinkKind = Literal["order", "shipment", "invoice"]
RemedyKind = Literal["credit", "refund", "replacement", "coupon"]


class CaseLinkIO(Answer):
    kind: LinkKind
    ref: str = Field(min_length=1, max_length=128, description="The order, shipment or invoice id")


class AddressIn(BaseModel):
    street: str | None = Field(None, max_length=256)
    city: str | None = Field(None, max_length=128)
    postal_code: str | None = Field(None, max_length=32)
    country: str | None = Field(None, max_length=64)


class SenderIn(BaseModel):
    """Who wrote in: a known customer, or contact details placed through identity."""

    customer: str | None = Field(
        None, max_length=512, description="A customer id, e-mail or phone staff already know"
    )
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=64)
    first_name: str | None = Field(None, max_length=128)
    last_name: str | None = Field(None, max_length=128)
    address: AddressIn | None = None


class AttachmentOut(Answer):
    filename: str
    content_type: str
    size: int = Field(description="Bytes; the content itself is not kept")


class CaseIn(BaseModel):
    sender: SenderIn
    channel: Channel
    subject: str = Field(min_length=1, max_length=300)
    body: str = Field("", max_length=100_000, description="The first message (from the customer)")
    category: str = Field("other", min_length=1, max_length=64)
    priority: Priority = "normal"
    branch: str | None = Field(None, max_length=64)
    links: list[CaseLinkIO] = Field(default_factory=list, max_length=50)
    owner: str | None = Field(None, max_length=64, description="A staff username")
    reference: str | None = Field(
        None,
        max_length=400,
        description="Your system's id of the case: sending the same again returns that case",
    )


class CaseOut(Answer):
    id: int
    customer_id: str
    channel: str
    status: str
    owner: str | None = Field(description="The owner's username")
    category: str
    priority: str
    branch: str | None
    subject: str
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    reopened: int = Field(description="Times the case was reopened after being resolved")
    message_count: int
    links: list[CaseLinkIO]


class CaseMessageOut(Answer):
    id: int
    direction: str = Field(description="in: from the customer; out: to them")
    author_kind: str
    author: str | None = Field(description="The staff member who wrote or noted it")
    internal: bool = Field(description="A note for staff only")
    channel: str
    body: str
    sent_at: datetime
    message_id: str | None
    in_reply_to: str | None
    attachments: list[AttachmentOut]


class CaseChangeOut(Answer):
    at: datetime
    actor: str
    field: str
    old: str | None
    new: str | None


class RemedyOut(Answer):
    id: int
    case_id: int
    customer_id: str
    kind: str
    amount: float
    order_ref: str | None
    status: str = Field(description="granted, pending (waiting for approval) or refused")
    note: str | None
    requested_by: str
    requested_role: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None


class CaseDetailOut(Answer):
    case: CaseOut
    messages: list[CaseMessageOut]
    changes: list[CaseChangeOut]
    remedies: list[RemedyOut]


class CaseMessageIn(BaseModel):
    body: str = Field(min_length=1, max_length=100_000)
    direction: Literal["in", "out"] = Field(
        "out", description="in: the customer's words (a chat, a call noted); out: to them"
    )
    internal: bool = Field(False, description="A note for staff only (direction out)")


class CaseChangeIn(BaseModel):
    status: Status | None = None
    owner: str | None = Field(None, max_length=64, description='A staff username; "" unassigns')
    category: str | None = Field(None, min_length=1, max_length=64)
    priority: Priority | None = None
    branch: str | None = Field(None, max_length=64)


class ReattachIn(BaseModel):
    customer: str = Field(min_length=1, max_length=512, description="Customer id, e-mail or phone")


class RemedyIn(BaseModel):
    kind: RemedyKind
    amount: float = Field(gt=0, le=1_000_000)
    order: str | None = Field(None, min_length=1, max_length=128)
    note: str | None = Field(None, max_length=500)


class DecisionIn(BaseModel):
    approve: bool


class RemedySuggestionOut(Answer):
    kind: str
    amount: float
    reason: str
    capped: bool = Field(description="Cut to the caller's limit")
