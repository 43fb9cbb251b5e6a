"""Builders for tests: Spec messages (small, explicit, deterministic) and services under
changed settings, built the one way the app builds them."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cornerstore.services import Services
    from cornerstore.settings import RoleGrant

_ids = itertools.count(1)


def message_id() -> str:
    return f"test-{next(_ids):08d}"


def identify(
    user_id: str | None = None, anonymous_id: str | None = None, **traits: Any
) -> dict[str, Any]:
    msg: dict[str, Any] = {"type": "identify", "messageId": message_id(), "traits": traits}
    if user_id is not None:
        msg["userId"] = user_id
    if anonymous_id is not None:
        msg["anonymousId"] = anonymous_id
    return msg


def track(
    event: str,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    timestamp: str | None = None,
    context: dict[str, Any] | None = None,
    **properties: Any,
) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "type": "track",
        "event": event,
        "messageId": message_id(),
        "properties": properties,
    }
    if user_id is not None:
        msg["userId"] = user_id
    if anonymous_id is not None:
        msg["anonymousId"] = anonymous_id
    if timestamp is not None:
        msg["timestamp"] = timestamp
    if context is not None:
        msg["context"] = context
    return msg


def alias(previous_id: str, user_id: str) -> dict[str, Any]:
    return {
        "type": "alias",
        "previousId": previous_id,
        "userId": user_id,
        "messageId": message_id(),
    }


def group(user_id: str, group_id: str, **traits: Any) -> dict[str, Any]:
    return {
        "type": "group",
        "userId": user_id,
        "groupId": group_id,
        "traits": traits,
        "messageId": message_id(),
    }


def services_with_roles(services: Services, **roles: RoleGrant) -> Services:
    """The services over the same store, under settings that add (or replace) these roles."""
    from cornerstore.services import Services

    access = services.settings.access.model_copy(
        update={"roles": {**services.settings.access.roles, **roles}}
    )
    return Services.build(services.settings.model_copy(update={"access": access}), services.store)
