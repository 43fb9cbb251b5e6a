"""The 360 profile, the timeline and prefill, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from cornerstore.access.caller import Caller
from cornerstore.errors import Forbidden, InvalidInput, NotFound
from cornerstore.intake.service import Source
from cornerstore.profiles.model import ProfileFacts
from cornerstore.profiles.service import household_of
from cornerstore.services import Services
from tests.factories import group, identify, track

WEB = Source("web-shop", "web")
SHIPPING = Source("carrier", "shipping")


def test_the_current_trait_is_the_latest_observation_and_all_observations_stay(
    services: Services, owner: Caller
) -> None:
    services.intake.ingest(
        [
            identify("u1", city="Leeds", timestamp=None),
        ],
        source=WEB,
    )
    old = identify("u1", firstName="Rob")
    old["timestamp"] = "2025-01-01T10:00:00Z"
    new = identify("u1", firstName="Robert")
    new["timestamp"] = "2025-06-01T10:00:00Z"

    services.intake.ingest([new, old], source=WEB)

    profile = services.profiles.get(owner, "u1")
    history = services.profiles.trait_history(owner, "u1", "first_name")
    assert profile.traits["first_name"].value == "Robert"
    assert profile.traits["first_name"].observations == 2
    assert [(o.value, o.observed_at.year, o.observed_at.month) for o in history] == [
        ("Rob", 2025, 1),
        ("Robert", 2025, 6),
    ]


def test_timeline_pages_return_every_event_once_newest_first(
    services: Services, owner: Caller
) -> None:
    messages = [
        track("Viewed", user_id="u1", timestamp=f"2025-03-{day:02d}T12:00:00Z", n=day)
        for day in range(1, 29)
    ]
    services.intake.ingest(messages, source=WEB)

    seen: list[int] = []
    cursor = None
    while True:
        page = services.profiles.timeline(owner, "u1", limit=5, cursor=cursor)
        seen += [e.properties["n"] for e in page.events]
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == list(range(28, 0, -1))


def test_timeline_filters_by_touchpoint_and_type(services: Services, owner: Caller) -> None:
    services.intake.ingest([identify("u1"), track("Order Completed", user_id="u1")], source=WEB)
    services.intake.ingest(
        [track("Delivery Attempted", user_id="u1", outcome="not_at_home")], source=SHIPPING
    )

    shipping = services.profiles.timeline(owner, "u1", touchpoints=["shipping"])
    tracks = services.profiles.timeline(owner, "u1", types=["track"])

    assert [(e.name, e.properties) for e in shipping.events] == [
        ("Delivery Attempted", {"outcome": "not_at_home"})
    ]
    assert sorted(e.name or "" for e in tracks.events) == ["Delivery Attempted", "Order Completed"]
    with pytest.raises(InvalidInput, match="touchpoint"):
        services.profiles.timeline(owner, "u1", touchpoints=["moon"])
    with pytest.raises(InvalidInput, match="cursor"):
        services.profiles.timeline(owner, "u1", cursor="garbage")


def test_prefill_gives_known_fields_with_source_and_age_and_lists_the_unknown(
    services: Services, owner: Caller
) -> None:
    msg = identify(
        "u1",
        firstName="Ann",
        lastName="Lee",
        email="ann@example.com",
        address={"street": "12 High St", "city": "York", "postalCode": "YO1 7HH", "country": "GB"},
    )
    msg["timestamp"] = "2026-01-01T00:00:00Z"
    services.intake.ingest([msg], source=WEB)

    filled = services.profiles.prefill(
        owner, "ann@example.com", "shipping", now=datetime(2026, 1, 11, tzinfo=UTC)
    )

    known = {f.field: (f.value, f.source, f.age_days) for f in filled.fields if f.known}
    assert known == {
        "first_name": ("Ann", "web-shop", 10.0),
        "last_name": ("Lee", "web-shop", 10.0),
        "address.street": ("12 High St", "web-shop", 10.0),
        "address.city": ("York", "web-shop", 10.0),
        "address.postal_code": ("YO1 7HH", "web-shop", 10.0),
        "address.country": ("GB", "web-shop", 10.0),
    }
    assert filled.unknown == [
        "phone",
        "address.state",
        "delivery_instructions",
        "learned.delivery_window",
    ]


def test_prefill_of_an_unknown_form_names_the_forms(services: Services, owner: Caller) -> None:
    services.intake.ingest([identify("u1")], source=WEB)

    with pytest.raises(NotFound, match="contact, order, returns, shipping"):
        services.profiles.prefill(owner, "u1", "tax-return")


def test_group_attaches_the_person_to_an_account_with_its_own_traits(
    services: Services, owner: Caller
) -> None:
    services.intake.ingest(
        [
            identify("u1", email="buyer@acme.example"),
            group("u1", "acct-42", name="ACME Ltd", employees=40),
        ],
        source=WEB,
    )

    person = services.profiles.get(owner, "u1")
    (account_id,) = person.accounts
    account = services.profiles.get(owner, account_id)
    timeline = services.profiles.timeline(owner, account_id)

    assert account.kind == "account"
    assert account.members == [person.id]
    assert {k: t.value for k, t in account.traits.items()} == {"employees": 40, "name": "ACME Ltd"}
    assert [e.type for e in timeline.events] == ["group"]


def test_search_finds_by_identifier_in_any_format_and_by_name(
    services: Services, owner: Caller
) -> None:
    services.intake.ingest(
        [
            identify(
                "u1",
                email="Ann.Lee@example.com",
                phone="07700 900123",
                firstName="Ann",
                lastName="Lee",
            )
        ],
        source=WEB,
    )

    by_email = services.profiles.search(owner, "ANN.LEE@example.com")
    by_phone = services.profiles.search(owner, "+44 7700 900123")
    by_name = services.profiles.search(owner, "lee")

    assert [(h.name, h.email, h.phone, h.matched) for h in by_email] == [
        ("Ann Lee", "ann.lee@example.com", "+447700900123", "email")
    ]
    assert [h.matched for h in by_phone] == ["phone"]
    assert [h.matched for h in by_name] == ["name"]
    assert services.profiles.search(owner, "nobody@example.com") == []


def test_every_read_is_audited_with_who_and_what(services: Services, owner: Caller) -> None:
    services.intake.ingest([identify("u1")], source=WEB)
    profile = services.profiles.get(owner, "u1")
    services.profiles.timeline(owner, "u1")
    services.profiles.prefill(owner, "u1", "contact")

    with services.store.unit_of_work() as uow:
        entries = uow.audit.find(customer_id=profile.id)

    assert [(e.actor, e.action, e.via) for e in entries] == [
        ("test-owner", "read_profile", "library"),
        ("test-owner", "read_timeline", "library"),
        ("test-owner", "prefill", "library"),
    ]


def test_a_write_key_caller_cannot_read_customers(services: Services) -> None:
    from cornerstore.access.caller import Caller as C

    services.intake.ingest([identify("u1")], source=WEB)

    with pytest.raises(Forbidden):
        services.profiles.get(C(actor="write_key:web", role="writer", via="api"), "u1")


def test_unknown_customers_are_not_found(services: Services, owner: Caller) -> None:
    with pytest.raises(NotFound):
        services.profiles.get(owner, "cus_ffffffffffffffff")
    with pytest.raises(NotFound):
        services.profiles.get(owner, "someone@example.com")


def test_the_one_statement_profile_read_gives_what_the_separate_reads_give(
    services: Services, owner: Caller
) -> None:
    services.intake.ingest(
        [
            identify("u1", email="ann@example.com", firstName="Ann", city="Leeds"),
            identify("u1", phone="07700 900123", city="York"),
            identify(anonymous_id="a2", email="bob@example.com", firstName="Bob"),
            identify("u3", email="cat@example.com", firstName="Cat"),
            track("Viewed", user_id="u1"),
            track("Bought", anonymous_id="a2"),
            group("u1", "shop-1", name="Corner Ltd"),
        ],
        source=WEB,
    )
    claim = identify(anonymous_id="someone", email="ann@example.com", phone="07700 900999")
    services.intake.ingest([claim], source=Source("shop-pages", "web", client_side=True))
    ann, bob, cat = (services.profiles.get(owner, u).id for u in ("u1", "a2", "u3"))
    services.merges.merge(owner, ann, bob)
    at = datetime(2025, 5, 1, tzinfo=UTC)
    with services.store.unit_of_work(write=True) as uow:
        uow.identity.add_relations([(bob, cat)], "household", "resolve", at)
        uow.consents.add_many(
            [
                {
                    "customer_id": bob,
                    "purpose": "marketing",
                    "granted": True,
                    "at": at,
                    "touchpoint": "web",
                    "source": "web-shop",
                }
            ]
        )
    root = services.profiles.get(owner, "u1").id
    account = services.profiles.get(owner, "shop-1").id

    with services.store.unit_of_work() as uow:
        read, account_read = uow.customers.profile(root), uow.customers.profile(account)
        members = uow.customers.members(root)
        apart = ProfileFacts(
            row=uow.customers.get(root),
            members=members,
            identifiers=uow.identifiers.of_customers(members),
            observed=uow.traits.of_customers(members),
            claims=uow.unverified_traits.of_customers(members),
            events=uow.events.summary(members),
            accounts=uow.accounts.accounts_of(members),
            account_members=uow.accounts.members_of(members),
            household=household_of(uow, root, members),
            merges=uow.merges.involving(members),
        )
        consents = uow.consents.of_customers(members)
        merged = bob if root != bob else ann
        not_a_root = uow.customers.profile(merged)
        by_merged_profile = uow.customers.profile_of(merged)
        unknown = uow.customers.profile_of("cus_ffffffffffffffff")

    assert read is not None and account_read is not None
    facts, account_facts = read[0], account_read[0]
    assert replace(facts, events=sorted(facts.events)) == replace(
        apart, events=sorted(apart.events)
    )
    assert (len(facts.members), len(facts.merges), facts.household, facts.accounts) == (
        2,
        1,
        [services.profiles.get(owner, "u3").id],
        [account],
    )
    assert read[1] == consents and len(consents) == 1 and len(facts.claims) >= 1
    assert account_facts.account_members == [root]
    assert (not_a_root, by_merged_profile, unknown) == (None, read, None)
