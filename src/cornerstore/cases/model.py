"""The records of the contact centre: cases, their messages, changes, links and remedies.

Plain data: nothing here knows of storage, HTTP or the terminal. ``customer_id`` of a record is
the customer the case belongs to now (the root of the profile row it is filed with), so a merge
or an unmerge carries cases along.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

CHANNELS: tuple[str, ...] = ("phone", "email", "chat", "store", "web")
STATUSES: tuple[str, ...] = ("open", "waiting", "resolved", "closed")
# A case in one of these statuses still needs the shop: it is open in the queue's sense.
OPEN_STATUSES: tuple[str, ...] = ("open", "waiting")
PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
LINK_KINDS: tuple[str, ...] = ("order", "shipment", "invoice")
DIRECTIONS: tuple[str, ...] = ("in", "out")
AUTHOR_KINDS: tuple[str, ...] = ("customer", "agent")
CHANGE_FIELDS: tuple[str, ...] = ("status", "owner", "category", "customer")
REMEDY_KINDS: tuple[str, ...] = ("credit", "refund", "replacement", "coupon")
REMEDY_STATUSES: tuple[str, ...] = ("granted", "pending", "refused")


@dataclass(frozen=True, slots=True)
class CaseLink:
    """An order, shipment or invoice a case concerns."""

    kind: str
    ref: str


@dataclass(frozen=True, slots=True)
class Case:
    """One case, as the queue lists it."""

    id: int
    customer_id: str  # the customer it belongs to now
    profile_id: str  # the profile row it is filed with
    channel: str
    status: str
    owner_id: int | None
    owner: str | None  # the owner's username
    category: str
    priority: str
    branch: str | None
    subject: str
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    reopened: int
    external_ref: str | None
    message_count: int = 0
    links: tuple[CaseLink, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True, slots=True)
class Attachment:
    """What was attached to a message: listed, its content never stored."""

    filename: str
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class CaseMessage:
    """A message on a case (``internal``: a note staff wrote for staff)."""

    id: int
    case_id: int
    direction: str
    author_kind: str
    author_id: int | None
    author: str | None  # the staff member's username
    internal: bool
    channel: str
    body: str
    sent_at: datetime
    message_id: str | None
    in_reply_to: str | None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class CaseChange:
    """One change of a case: its status, owner, category or customer, who made it and when."""

    id: int
    case_id: int
    at: datetime
    actor: str
    actor_id: int | None
    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True, slots=True)
class Remedy:
    """A credit, refund, replacement or coupon given (or waiting for approval) on a case."""

    id: int
    case_id: int
    customer_id: str
    kind: str
    amount: float
    order_ref: str | None
    status: str
    note: str | None
    requested_by: str
    requested_by_id: int | None
    requested_role: str
    requested_at: datetime
    decided_by: str | None
    decided_by_id: int | None
    decided_at: datetime | None


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """A case as the queue lists it, with its customer as the caller's role may see them:
    ``case.customer_id`` a pseudonym for a pseudonymised role, ``name`` None for a role
    that may not read names (or a customer without one)."""

    case: Case
    name: str | None = None


@dataclass(frozen=True, slots=True)
class CaseDetail:
    """A case with its messages, changes and remedies, oldest first."""

    case: Case
    messages: tuple[CaseMessage, ...] = ()
    changes: tuple[CaseChange, ...] = ()
    remedies: tuple[Remedy, ...] = ()


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """What the queue shows: each given field narrows it."""

    customer_ids: tuple[str, ...] | None = None  # profile rows (a customer's members)
    status: tuple[str, ...] = ()
    channel: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    branch: tuple[str, ...] = ()
    owner_id: int | None = None
    unassigned: bool = False
    opened_before: datetime | None = None  # older than an age
    # A staff member of a branch sees that branch's cases and those of no branch.
    visible_to_branch: str | None = None
    limit: int = 100
    offset: int = 0
