"""The official Segment and RudderStack Python clients, pointed at a real cornerstore server,
deliver identify / track / page / group / alias unchanged.

Each client runs as in production (a background consumer, batches, RudderStack gzips), with
``on_error`` collecting what it would otherwise only log, so a refused batch fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import ANY

import httpx
import pytest

from cornerstore.services import Services
from tests.api import At, bearer
from tests.api.conftest import LiveServer

SENT = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
# Skew correction moves a message's time by the client-to-server latency only.
LATENCY = timedelta(minutes=1)
PROVENANCE = {"touchpoint": "web", "source": "web-shop", "observations": 1}


@dataclass
class Analytics:
    """One official client talking to the server, and every error it reported."""

    name: str
    client: Any
    library: dict[str, str]
    integrations: dict[str, Any]
    # The Spec's top-level channel, which RudderStack's client sets.
    channel: str | None
    # RudderStack's identify() sends the traits in context.traits instead of traits.
    traits_in_context: bool
    errors: list[str] = field(default_factory=list)

    def flush(self) -> list[str]:
        self.client.flush()
        return self.errors


def _official_client(name: str, host: str, write_key: str) -> Analytics:
    errors: list[str] = []

    def on_error(error: Exception, batch: list[dict[str, Any]]) -> None:
        errors.append(f"{type(error).__name__}: {error} ({len(batch)} messages)")

    options: dict[str, Any] = {
        "write_key": write_key,
        "host": host,
        "on_error": on_error,
        "max_retries": 0,
        "upload_interval": 0.05,
    }
    if name == "segment":
        from segment.analytics import Client as SegmentClient
        from segment.analytics.version import VERSION as SEGMENT_VERSION

        return Analytics(
            name,
            SegmentClient(**options),
            {"name": "analytics-python", "version": SEGMENT_VERSION},
            {},
            None,
            traits_in_context=False,
            errors=errors,
        )
    from rudderstack.analytics import Client as RudderClient
    from rudderstack.analytics.version import VERSION as RUDDER_VERSION

    return Analytics(
        name,
        RudderClient(**options),  # gzip is on by default
        {"name": "analytics-python", "version": RUDDER_VERSION},
        {"All": True},
        "server",
        traits_in_context=True,
        errors=errors,
    )


@pytest.fixture(params=["segment", "rudderstack"])
def analytics(request: pytest.FixtureRequest, server: LiveServer) -> Iterator[Analytics]:
    sender = _official_client(request.param, server.base_url, server.write_key)
    yield sender
    sender.client.join()


@pytest.fixture
def staff(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers=bearer(server.token), timeout=30) as reader:
        yield reader


def _event(analytics: Analytics, **fields: Any) -> dict[str, Any]:
    """A timeline event as a message of ``analytics`` stamped SENT should come back."""
    return {
        "id": ANY,
        "account_id": None,
        "name": None,
        "touchpoint": "web",
        "source": "web-shop",
        "user_id": None,
        "anonymous_id": None,
        "occurred_at": At(SENT, LATENCY),
        "original_timestamp": At(SENT),
        "sent_at": At.recent(),
        "received_at": At.recent(),
        "properties": {},
        "context": {"library": analytics.library},
        "integrations": analytics.integrations,
        "channel": analytics.channel,
        "version": None,
    } | fields


def test_identify_from_an_official_client_stores_each_trait_with_its_source(
    analytics: Analytics, staff: httpx.Client
) -> None:
    traits = {
        "email": "Ann.Lee@Example.com",
        "firstName": "Ann",
        "lastName": "Lee",
        "plan": "gold",
        "address": {"city": "York", "postalCode": "YO1 7HH"},
    }

    analytics.client.identify("u-100", dict(traits), timestamp=SENT, message_id="m-identify")
    errors = analytics.flush()
    profile = staff.get("/v1/customers/u-100").json()
    timeline = staff.get("/v1/customers/u-100/timeline").json()

    assert errors == []
    observed = {**PROVENANCE, "observed_at": At(SENT, LATENCY)}
    assert profile["traits"] == {
        "email": {"value": "Ann.Lee@Example.com", **observed},
        "first_name": {"value": "Ann", **observed},
        "last_name": {"value": "Lee", **observed},
        "plan": {"value": "gold", **observed},
        "address": {"value": {"city": "York", "postal_code": "YO1 7HH"}, **observed},
    }
    assert sorted((i["kind"], i["value"], i["source"]) for i in profile["identifiers"]) == [
        ("email", "ann.lee@example.com", "web-shop"),
        ("user_id", "u-100", "web-shop"),
    ]
    context: dict[str, Any] = {"library": analytics.library}
    if analytics.traits_in_context:
        context["traits"] = traits
    assert timeline["events"] == [
        _event(
            analytics,
            message_id="m-identify",
            profile=profile["id"],
            type="identify",
            user_id="u-100",
            properties=traits,
            context=context,
        )
    ]


def test_track_from_an_official_client_keeps_the_event_name_and_properties(
    analytics: Analytics, staff: httpx.Client
) -> None:
    properties = {
        "order_id": "A-1001",
        "total": 42.5,
        "currency": "GBP",
        "coupon": None,
        "gift": False,
        "products": [{"sku": "TEA-1", "quantity": 2, "price": 12.25}],
    }

    analytics.client.track(
        "u-200", "Order Completed", dict(properties), timestamp=SENT, message_id="m-track"
    )
    errors = analytics.flush()
    timeline = staff.get("/v1/customers/u-200/timeline").json()

    assert errors == []
    assert timeline["events"] == [
        _event(
            analytics,
            message_id="m-track",
            profile=timeline["customer_id"],
            type="track",
            name="Order Completed",
            user_id="u-200",
            properties=properties,
        )
    ]


def test_page_from_an_official_client_keeps_the_page_name_and_properties(
    analytics: Analytics, staff: httpx.Client
) -> None:
    properties = {"url": "https://shop.example/pricing", "path": "/pricing", "title": "Prices"}

    analytics.client.page(
        anonymous_id="anon-300",
        name="Pricing",
        properties=dict(properties),
        timestamp=SENT,
        message_id="m-page",
    )
    errors = analytics.flush()
    timeline = staff.get("/v1/customers/anon-300/timeline").json()

    assert errors == []
    assert timeline["events"] == [
        _event(
            analytics,
            message_id="m-page",
            profile=timeline["customer_id"],
            type="page",
            name="Pricing",
            anonymous_id="anon-300",
            properties=properties,
        )
    ]


def test_group_from_an_official_client_makes_the_person_a_member_of_the_account(
    analytics: Analytics, staff: httpx.Client
) -> None:
    traits = {"name": "Acme Ltd", "employees": 40, "industry": "Catering"}

    analytics.client.group("u-400", "acme-ltd", dict(traits), timestamp=SENT, message_id="m-group")
    errors = analytics.flush()
    person = staff.get("/v1/customers/u-400").json()
    account = staff.get("/v1/customers/acme-ltd").json()
    timeline = staff.get("/v1/customers/u-400/timeline").json()

    assert errors == []
    assert person["accounts"] == [account["id"]]
    assert (account["kind"], account["members"], account["accounts"]) == (
        "account",
        [person["id"]],
        [],
    )
    observed = {**PROVENANCE, "observed_at": At(SENT, LATENCY)}
    assert account["traits"] == {
        "name": {"value": "Acme Ltd", **observed},
        "employees": {"value": 40, **observed},
        "industry": {"value": "Catering", **observed},
    }
    assert timeline["events"] == [
        _event(
            analytics,
            message_id="m-group",
            profile=person["id"],
            account_id=account["id"],
            type="group",
            user_id="u-400",
            properties=traits,
        )
    ]


def test_alias_from_an_official_client_merges_the_anonymous_profile_into_the_user(
    analytics: Analytics, staff: httpx.Client
) -> None:
    analytics.client.identify("u-500", {"firstName": "Bo"}, timestamp=SENT, message_id="m-1")
    analytics.client.track(
        anonymous_id="anon-500",
        event="Product Viewed",
        properties={"sku": "TEA-1"},
        timestamp=SENT,
        message_id="m-2",
    )
    errors_before = analytics.flush()
    anonymous_before = staff.get("/v1/customers/anon-500").json()
    user_before = staff.get("/v1/customers/u-500").json()

    analytics.client.alias("anon-500", "u-500", timestamp=SENT, message_id="m-3")
    errors_after = analytics.flush()
    anonymous_after = staff.get("/v1/customers/anon-500").json()
    user_after = staff.get("/v1/customers/u-500").json()
    timeline = staff.get("/v1/customers/u-500/timeline").json()

    assert (errors_before, errors_after) == ([], [])
    assert anonymous_before["id"] != user_before["id"]
    assert anonymous_after == user_after
    assert sorted([user_after["id"], *user_after["merged_profiles"]]) == sorted(
        [anonymous_before["id"], user_before["id"]]
    )
    assert sorted((i["kind"], i["value"]) for i in user_after["identifiers"]) == [
        ("anonymous_id", "anon-500"),
        ("user_id", "u-500"),
    ]
    # All three carry the same timestamp, so their order depends on each batch's latency.
    assert sorted((e["message_id"], e["type"]) for e in timeline["events"]) == [
        ("m-1", "identify"),
        ("m-2", "track"),
        ("m-3", "alias"),
    ]
    alias_event = next(e for e in timeline["events"] if e["type"] == "alias")
    assert alias_event == _event(
        analytics,
        message_id="m-3",
        profile=ANY,
        type="alias",
        user_id="u-500",
        properties={"previousId": "anon-500"},
    )


def test_a_message_no_database_can_store_does_not_fail_an_official_client_s_batch(
    analytics: Analytics, staff: httpx.Client
) -> None:
    analytics.client.track("u-700", "Opened", {"note": "a\x00b"}, timestamp=SENT, message_id="m-7")
    analytics.client.track("u-700", "Signed Up", {}, timestamp=SENT, message_id="m-8")
    errors = analytics.flush()
    timeline = staff.get("/v1/customers/u-700/timeline").json()

    # Usually one batch (answered 200, the poison rejected by index); when the client sent the
    # poison alone, a 400, which the clients never retry.
    label = {"segment": "Segment", "rudderstack": "rudderstack"}[analytics.name]
    alone = (
        f"APIError: [{label}] invalid_input: batch[0].properties.note: contains a NUL character "
        "(\\u0000) (400) (1 messages)"
    )
    assert errors in ([], [alone])
    assert [e["message_id"] for e in timeline["events"]] == ["m-8"]


def test_an_official_client_reports_a_refused_batch_through_on_error(
    server: LiveServer,
) -> None:
    senders = [
        _official_client(name, server.base_url, "csk_not-a-key")
        for name in ("segment", "rudderstack")
    ]

    for sender in senders:
        sender.client.track("u-600", "Signed Up", {}, message_id=f"m-{sender.name}")
    errors = {sender.name: sender.flush() for sender in senders}
    for sender in senders:
        sender.client.join()

    assert {name: len(found) for name, found in errors.items()} == {
        "segment": 1,
        "rudderstack": 1,
    }
    assert all("the write key is unknown or revoked" in found[0] for found in errors.values())


def test_a_customer_sent_by_an_official_client_is_placed_with_the_same_person(
    services: Services, server: LiveServer, staff: httpx.Client
) -> None:
    from cornerstore.access.caller import system_caller
    from tests.identity.resolution.stored import ingest_shop, root_of

    ingest_shop(services, people=150)
    robert = root_of(services, "robert")
    owner = system_caller(actor="test-owner")
    services.identity.train(owner)
    # The till's key is server-side (the store touchpoint's default): a public web key's word
    # would not start matching.
    till_key = services.credentials.create_write_key(owner, "till", "store").secret
    sender = _official_client("segment", server.base_url, till_key)
    # Bob Smith at a till that sends through the official Segment client: a new phone, no
    # e-mail, his nickname.
    sender.client.identify(
        anonymous_id="till-bob-2",
        traits={
            "firstName": "Bob",
            "lastName": "Smith",
            "phone": "07700 900456",
            "address": {"street": "12 High St", "city": "London", "postalCode": "SW1A 1AA"},
        },
    )
    errors = sender.flush()
    sender.client.join()
    assert services.identity.drain(timeout=120)

    assert errors == []
    profile = staff.get("/v1/customers/till-bob-2").json()
    assert profile["id"] == robert
    assert [m["reason"] for m in profile["merges"]][-1] == "resolve"
