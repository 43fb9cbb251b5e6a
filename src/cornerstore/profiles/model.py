"""Plain domain objects returned by the store and the services; no database or web types here."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, NamedTuple


class ProfileRow(NamedTuple):
    """One stored profile row, merged or not: ``root_id`` is the profile it belongs to now."""

    id: str
    kind: str
    root_id: str
    created_at: datetime


class IdentifierOwner(NamedTuple):
    """The profile row an identifier was filed with, and the root that row belongs to now."""

    customer_id: str
    root_id: str


class FoundIdentifier(NamedTuple):
    """An identifier found by its value: its kind and the root profile holding it now."""

    kind: str
    root_id: str


class EventGroup(NamedTuple):
    """The events of one touchpoint and type: how many, the first and the last."""

    touchpoint: str
    type: str
    events: int
    first_at: datetime
    last_at: datetime


@dataclass(frozen=True, slots=True)
class Identifier:
    """A normalised identifier (``kind``, ``value``) of a profile and where it was first seen."""

    kind: str
    value: str
    source: str
    touchpoint: str
    first_seen_at: datetime
    customer_id: str = ""


@dataclass(frozen=True, slots=True)
class TraitObservation:
    """One observed value of a trait, with its provenance."""

    name: str
    value: Any
    touchpoint: str
    source: str
    observed_at: datetime
    message_id: str | None
    customer_id: str = ""


@dataclass(frozen=True, slots=True)
class Trait:
    """The current view of a trait (its latest observation) and how many times it was observed."""

    name: str
    value: Any
    touchpoint: str
    source: str
    observed_at: datetime
    observations: int


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of the append-only timeline."""

    id: int
    message_id: str
    customer_id: str
    account_id: str | None
    type: str
    name: str | None
    touchpoint: str
    source: str
    user_id: str | None
    anonymous_id: str | None
    occurred_at: datetime
    original_timestamp: str | None
    sent_at: datetime | None
    received_at: datetime
    properties: dict[str, Any]
    context: dict[str, Any]
    integrations: dict[str, Any]
    channel: str | None = None
    version: str | None = None


@dataclass(frozen=True, slots=True)
class MergeRecord:
    """A recorded merge: ``loser`` (and the profiles it held) joined ``winner``."""

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


@dataclass(frozen=True, slots=True)
class RefusalRecord:
    """A merge or identifier the safeguards refused, counted per profiles and reason."""

    first_at: datetime
    last_at: datetime
    times: int
    message_id: str | None
    reason: str
    profiles: list[str]


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts that tell at a glance how well the customer is known."""

    events: int
    by_touchpoint: dict[str, int]
    by_type: dict[str, int]
    first_seen_at: datetime | None
    last_seen_at: datetime | None


@dataclass(frozen=True, slots=True)
class ProfileFacts:
    """What the store holds about one customer, read at once: the root's profile row, the ids
    of its profile rows (root first), and of those rows their identifiers, trait observations
    and unverified claims (each oldest first), event counts by touchpoint and type, the
    customers of the accounts they belong to and of the members of an account, the customers
    of household relations, and merges (by id). The consent answers read with them come
    apart (privacy records are not the profile package's)."""

    row: ProfileRow
    members: list[str]
    identifiers: list[Identifier]
    observed: list[TraitObservation]
    claims: list[TraitObservation]
    events: list[EventGroup]
    accounts: list[str]
    account_members: list[str]
    household: list[str]
    merges: list[MergeRecord]


@dataclass(frozen=True, slots=True)
class Profile:
    """Everything known about one customer or account, merged across departments.

    A part the caller's role may not read is None (absent), never an empty stand-in; an
    empty list means there is nothing. ``sections`` names what the answer holds. For a
    pseudonymised role ``id`` is a stable pseudonym (``psn_...``)."""

    id: str
    kind: str
    created_at: datetime
    merged_profiles: list[str] | None = None
    identifiers: list[Identifier] | None = None
    traits: dict[str, Trait] | None = None
    # What a client-side source claimed about this customer and no trusted source confirmed:
    # shown as such, never used (prefill, matching, learning); oldest first.
    unverified: list[TraitObservation] | None = None
    summary: Summary | None = None
    accounts: list[str] | None = None
    members: list[str] | None = None
    # Other customers living with this one (different people: never merged).
    household: list[str] | None = None
    merges: list[MergeRecord] | None = None
    sections: list[str] = field(default_factory=list)

    def visible(self) -> dict[str, Any]:
        """The profile as plain values without the absent parts (for JSON answers)."""
        return {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if getattr(self, name) is not None
        }


@dataclass(frozen=True, slots=True)
class TimelinePage:
    """A page of the timeline, newest first, with the cursor of the next page (None at the end)."""

    customer_id: str
    events: list[Event]
    next_cursor: str | None
    # True when the caller may not read identifiers (and so for pseudonymised roles): user
    # and anonymous ids, context and integrations are withheld from every event, and answers
    # leave them out.
    withheld: bool = False

    def visible(self) -> dict[str, Any]:
        """The page as plain values, without the withheld fields of its events."""
        withheld = WITHHELD_EVENT_FIELDS if self.withheld else ()
        return {
            "customer_id": self.customer_id,
            "events": [
                {k: v for k, v in asdict(e).items() if k not in withheld} for e in self.events
            ],
            "next_cursor": self.next_cursor,
        }


WITHHELD_EVENT_FIELDS = ("user_id", "anonymous_id", "context", "integrations")


@dataclass(frozen=True, slots=True)
class PrefillField:
    """One form field: its known value with source and age, or unknown (value None)."""

    field: str
    value: Any
    known: bool
    touchpoint: str | None = None
    source: str | None = None
    observed_at: datetime | None = None
    age_days: float | None = None


@dataclass(frozen=True, slots=True)
class Prefill:
    """A named form filled from the profile; ``unknown`` lists what still has to be asked."""

    customer_id: str
    form: str
    fields: list[PrefillField]
    unknown: list[str]


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A search result: the profile and what matched."""

    id: str
    kind: str
    name: str | None
    email: str | None
    phone: str | None
    matched: str
    # What the hit may show: "name" and/or "contact"; other fields are left out of answers.
    sections: list[str] = field(default_factory=lambda: ["contact", "name"])

    def visible(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"id": self.id, "kind": self.kind}
        if "name" in self.sections:
            shown["name"] = self.name
        if "contact" in self.sections:
            shown["email"], shown["phone"] = self.email, self.phone
        return shown | {"matched": self.matched}


@dataclass(frozen=True, slots=True)
class NameMatch:
    """A stored profile row whose words match every query word (see
    :meth:`~cornerstore.storage.repositories.SearchRepository.rows_matching`)."""

    root_id: str
    customer_id: str
    name_key: str  # every word of the row's name, sorted, joined by spaces
    distance: int  # the distances of its closest word to each query word, summed
    worst: int  # the largest of those distances
