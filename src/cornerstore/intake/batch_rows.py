"""The rows a stored batch adds, built message by message: events, traits, account members
and consent answers, written together in the batch's transaction."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson

from cornerstore.intake.messages import Message
from cornerstore.privacy.consent import consent_from_context, consent_rows_for_batch
from cornerstore.profiles.model import TraitObservation
from cornerstore.profiles.name_search import index_added_names
from cornerstore.spec import NAME_TRAITS
from cornerstore.storage.unit_of_work import UnitOfWork

_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


@lru_cache(maxsize=4096)
def trait_name(name: str) -> str:
    """Spec traits arrive in camelCase (firstName); cornerstore stores snake_case (first_name).

    Cached: a shop sends the same few trait names on every identify.

    >>> trait_name("firstName"), trait_name("postalCode"), trait_name("first_name")
    ('first_name', 'postal_code', 'first_name')
    """
    return _CAMEL.sub(r"_\1", name).lower()


def _snake_object(value: Any) -> Any:
    if isinstance(value, dict):
        return {trait_name(k): v for k, v in value.items()}
    return value


@dataclass(slots=True)
class BatchRows:
    """The rows one transaction adds, gathered message by message and written together."""

    events: list[tuple[Any, ...]] = field(default_factory=list)  # EVENT_COLUMNS' values
    traits: list[dict[str, Any]] = field(default_factory=list)
    unverified: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    consents: list[dict[str, Any]] = field(default_factory=list)

    def write(self, uow: UnitOfWork, new_profiles: Collection[str]) -> None:
        """Add every row gathered, and index the names of the profiles whose name changed."""
        named = [
            TraitObservation(
                row["name"],
                orjson.loads(row["value"]),
                row["touchpoint"],
                row["source"],
                row["observed_at"],
                row["message_id"],
                row["customer_id"],
            )
            for row in self.traits
            if row["name"] in NAME_TRAITS
        ]
        if named:
            # Before the traits are stored: the index compares with the names stored so far.
            index_added_names(uow, named, new=new_profiles)
        uow.events.add_values(EVENT_COLUMNS, self.events)
        uow.traits.add_many(self.traits)
        uow.unverified_traits.add_many(self.unverified)
        uow.accounts.add_members(self.members)
        uow.consents.add_many(consent_rows_for_batch(uow, self.consents))


# The columns of an event row, in the order of :func:`event_row`'s tuple.
EVENT_COLUMNS = (
    "message_id",
    "customer_id",
    "account_id",
    "type",
    "name",
    "touchpoint",
    "source",
    "user_id",
    "anonymous_id",
    "occurred_at",
    "original_timestamp",
    "sent_at",
    "received_at",
    "properties",
    "context",
    "integrations",
    "channel",
    "version",
)


def event_row(msg: Message, target: str, account_id: str | None, source: str) -> tuple[Any, ...]:
    """The event row of a stored message, on the profile it was stitched to: the values of
    :data:`EVENT_COLUMNS`, in order."""
    kind = msg.type
    if kind == "identify" or kind == "group":
        payload = msg.traits
    elif kind == "alias":
        payload = {"previousId": msg.previous_id}
    else:
        payload = msg.properties
    return (
        msg.message_id,
        target,
        account_id,
        kind,
        msg.event or msg.name,
        msg.touchpoint,
        source,
        msg.user_id,
        msg.anonymous_id,
        msg.timestamp,
        msg.original_timestamp,
        msg.sent_at,
        msg.received_at,
        orjson.dumps(payload).decode() if payload else None,
        orjson.dumps(msg.context).decode() if msg.context else None,
        orjson.dumps(msg.integrations).decode() if msg.integrations else None,
        msg.channel,
        msg.version,
    )


def consent_rows(
    msg: Message, target: str, source: str, categories: Mapping[str, list[str]]
) -> list[dict[str, Any]]:
    """The consent answers a message's context carries, as rows for the profile."""
    return [
        {
            "customer_id": target,
            "purpose": purpose,
            "granted": granted,
            "at": msg.timestamp,
            "touchpoint": msg.touchpoint,
            "source": source,
            "message_id": msg.message_id,
        }
        for purpose, granted in consent_from_context(msg.context, categories).items()
    ]


def trait_rows(
    customer_id: str, traits: dict[str, Any], msg: Message, source: str
) -> list[dict[str, Any]]:
    """The trait rows of a message's traits (snake_case names, JSON values) for a profile."""
    rows = []
    for name, value in traits.items():
        # userId and anonymousId are the message's own ids; the reserved trait ``id`` (the
        # shop's own id of the person) is kept as the trait ``id``.
        if value is None or name in ("userId", "anonymousId"):
            continue
        key = trait_name(name)
        if len(key) > 128:
            continue
        rows.append(
            {
                "customer_id": customer_id,
                "name": key,
                "value": orjson.dumps(_snake_object(value) if key == "address" else value).decode(),
                "touchpoint": msg.touchpoint,
                "source": source,
                "observed_at": msg.timestamp,
                "message_id": msg.message_id,
            }
        )
    return rows
