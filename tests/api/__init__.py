"""Tests of the HTTP API, in-process and over a real uvicorn server.

Helpers shared by these tests live here (fixtures live in ``conftest.py``).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from cornerstore.services import Services
from cornerstore.storage import tables


def basic(write_key: str) -> dict[str, str]:
    """HTTP Basic with the write key as user and an empty password, as the Segment clients send."""
    token = base64.b64encode(f"{write_key}:".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def expire_token(services: Services, token_id: int) -> None:
    """Make a staff token's lifetime end a second ago, as if its time had passed."""
    with services.store.unit_of_work(write=True) as uow:
        uow.conn.execute(
            update(tables.api_tokens)
            .where(tables.api_tokens.c.id == token_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )


def parse_iso(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class At:
    """Equal to an ISO-8601 string naming a time within ``tolerance`` of ``when``.

    Lets a test compare a whole JSON value whose times come from the server's clock.

    >>> At(datetime(2024, 5, 1, tzinfo=UTC)) == "2024-05-01T00:00:00Z"
    True
    """

    def __init__(self, when: datetime, tolerance: timedelta = timedelta(0)) -> None:
        self.when = when
        self.tolerance = tolerance

    @classmethod
    def recent(cls) -> At:
        """Any time in the last five minutes (or a second ahead, for clock granularity)."""
        now = datetime.now(UTC)
        return cls(now - timedelta(minutes=2.5), timedelta(minutes=2.5, seconds=1))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, str):
            return NotImplemented
        try:
            return abs(parse_iso(other) - self.when) <= self.tolerance
        except ValueError:
            return False

    def __hash__(self) -> int:
        return hash((self.when, self.tolerance))

    def __repr__(self) -> str:
        return f"At({self.when.isoformat()} ± {self.tolerance})"


def intake_answer(received: int, accepted: int, duplicates: int = 0, **rest: Any) -> dict[str, Any]:
    """The whole 200 answer of an intake route; ``rest`` sets rejected, changed, suppressed,
    refused or coupons."""
    return {
        "success": True,
        "received": received,
        "accepted": accepted,
        "duplicates": duplicates,
        "rejected": rest.get("rejected", []),
        "changed": rest.get("changed", []),
        "suppressed": rest.get("suppressed", 0),
        "refused": rest.get("refused", []),
        "coupons": rest.get("coupons", []),
    }


def stored_message_ids(client: httpx.Client, token: str, customer: str) -> list[str]:
    """The messageIds on ``customer``'s timeline, sorted."""
    response = client.get(f"/v1/customers/{customer}/timeline", headers=bearer(token))
    return sorted(e["message_id"] for e in response.json()["events"])


def without(value: dict[str, Any], *keys: str) -> dict[str, Any]:
    """``value`` without ``keys`` (for ids the server chose)."""
    return {k: v for k, v in value.items() if k not in keys}
