"""Deterministic stitching and its safeguards, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from cornerstore.access.caller import Caller
from cornerstore.intake.service import Source
from cornerstore.services import Services
from cornerstore.settings import Settings
from tests.factories import alias, identify, track

WEB = Source("web-shop", "web")
TILL = Source("till", "store")
SUPPORT = Source("support-desk", "support")


def roots(services: Services) -> int:
    with services.store.unit_of_work() as uow:
        return uow.customers.count()


def test_the_same_email_from_two_departments_is_one_customer(
    services: Services, owner: Caller
) -> None:
    services.intake.ingest([identify("web-1", email="Ann.Lee@example.com")], source=WEB)
    services.intake.ingest(
        [
            track(
                "Order Completed",
                anonymous_id="till-77",
                context={"traits": {"email": " ann.lee@EXAMPLE.com"}},
            )
        ],
        source=TILL,
    )

    profile = services.profiles.get(owner, "ann.lee@example.com")

    assert roots(services) == 1
    assert sorted((i.kind, i.value, i.source) for i in profile.identifiers) == [
        ("anonymous_id", "till-77", "till"),
        ("email", "ann.lee@example.com", "web-shop"),
        ("user_id", "web-1", "web-shop"),
    ]
    assert profile.summary.by_touchpoint == {"store": 1, "web": 1}


def test_a_message_carrying_identifiers_of_two_profiles_merges_them(
    services: Services, owner: Caller
) -> None:
    services.intake.ingest([identify("web-1", first_name="Bob")], source=WEB)
    services.intake.ingest(
        [identify(anonymous_id="phone-call", phone="07700 900123")], source=SUPPORT
    )
    assert roots(services) == 2

    result = services.intake.ingest([identify("web-1", phone="+447700900123")], source=WEB)

    profile = services.profiles.get(owner, "web-1")
    assert (result.merges, roots(services)) == (1, 1)
    assert len(profile.merged_profiles) == 1
    assert profile.merges[0].reason == "stitch"
    assert {"kind": "phone", "value": "+447700900123"} in profile.merges[0].evidence


def test_a_merge_joining_two_different_user_ids_is_refused_and_logged(
    services: Services, owner: Caller
) -> None:
    services.intake.ingest([identify("web-1", email="family@example.com")], source=WEB)

    result = services.intake.ingest([identify("web-2", email="family@example.com")], source=WEB)

    assert (result.merges, result.refused_merges, roots(services)) == (0, 1, 2)
    with services.store.unit_of_work() as uow:
        (refusal,) = uow.merges.refusals()
    assert refusal.reason == "merge refused: a profile may hold at most 1 user_id identifier(s)"
    assert refusal.times == 1
    # The shared e-mail stays with the first person; the second keeps their own profile.
    second = services.profiles.get(owner, "web-2")
    assert [(i.kind, i.value) for i in second.identifiers] == [("user_id", "web-2")]


def test_a_shared_tablet_does_not_join_the_customers_who_used_it(
    services: Services, owner: Caller
) -> None:
    services.intake.ingest([identify("alice", anonymous_id="tablet-1")], source=TILL)

    services.intake.ingest([identify("bob", anonymous_id="tablet-1")], source=TILL)

    bob = services.profiles.get(owner, "bob")
    alice = services.profiles.get(owner, "alice")
    assert bob.id != alice.id
    assert ("anonymous_id", "tablet-1") not in [(i.kind, i.value) for i in bob.identifiers]
    assert bob.summary.events == 1


def test_placeholder_values_never_join_customers(services: Services) -> None:
    services.intake.ingest([identify("a", email="null", phone="0000000000")], source=WEB)
    services.intake.ingest([identify("b", email="null", phone="0000000000")], source=WEB)

    assert roots(services) == 2


def test_a_message_with_only_placeholder_ids_is_rejected_with_its_reason(
    services: Services,
) -> None:
    result = services.intake.ingest([track("Viewed", user_id="anonymous")], source=WEB)

    assert result.accepted == 0
    assert [r.index for r in result.rejected] == [0]
    assert "blocked placeholder" in result.rejected[0].reason


def test_alias_links_the_anonymous_visitor_to_the_signed_in_customer(
    services: Services, owner: Caller
) -> None:
    services.intake.ingest([track("Product Viewed", anonymous_id="anon-9")], source=WEB)
    services.intake.ingest([identify("web-9", email="c@example.com")], source=WEB)

    result = services.intake.ingest([alias("anon-9", "web-9")], source=WEB)

    profile = services.profiles.get(owner, "web-9")
    assert result.merges == 1
    assert profile.summary.by_type == {"alias": 1, "identify": 1, "track": 1}
    assert profile.merges[0].reason == "alias"


def test_alias_with_an_unknown_previous_id_remembers_it(services: Services, owner: Caller) -> None:
    services.intake.ingest([alias("old-device", "web-3")], source=WEB)

    profile = services.profiles.get(owner, "old-device")

    assert profile.id == services.profiles.get(owner, "web-3").id


def test_identifiers_per_profile_are_capped(services: Services) -> None:
    services.settings.identity.max_per_kind["email"] = 2
    services.intake.ingest([identify("u", email=f"n{i}@example.com") for i in range(4)], source=WEB)

    with services.store.unit_of_work() as uow:
        kinds = uow.identifiers.kind_counts(uow.customers.root_ids())
    assert list(kinds.values()) == [{"email": 2, "user_id": 1}]


def test_external_ids_in_context_identify_the_customer(services: Services, owner: Caller) -> None:
    card = {
        "externalIds": [
            {"id": "LC-1001", "type": "loyalty_card", "collection": "users", "encoding": "none"}
        ]
    }
    services.intake.ingest(
        [track("Order Completed", anonymous_id="till-a", context=card)], source=TILL
    )
    services.intake.ingest(
        [track("Order Completed", anonymous_id="till-b", context=card)], source=TILL
    )

    profile = services.profiles.get(owner, "LC-1001")

    assert profile.summary.events == 2
    assert ("external:loyalty_card", "LC-1001") in [(i.kind, i.value) for i in profile.identifiers]


@pytest.mark.parametrize("batch_size", [1, 2, 4])
def test_results_do_not_depend_on_how_a_stream_is_split_into_batches(
    services: Services, owner: Caller, batch_size: int
) -> None:
    messages = [
        identify("u1", email="x@example.com"),
        track("A", anonymous_id="d1", context={"traits": {"email": "x@example.com"}}),
        identify(anonymous_id="d2", phone="07700900999"),
        identify("u1", phone="07700900999"),
    ]
    for start in range(0, len(messages), batch_size):
        services.intake.ingest(messages[start : start + batch_size], source=WEB)

    profile = services.profiles.get(owner, "u1")

    assert roots(services) == 1
    assert profile.summary.events == 4


def test_the_same_refusal_repeated_is_recorded_once_and_counted(services: Services) -> None:
    services.intake.ingest([identify("mum", anonymous_id="family-laptop")], source=WEB)

    for _ in range(3):
        services.intake.ingest(
            [track("Viewed", user_id="kid", anonymous_id="family-laptop") for _ in range(2)],
            source=WEB,
        )

    with services.store.unit_of_work() as uow:
        refusals = uow.merges.refusals()
    assert [(r.reason, r.times) for r in refusals] == [
        ("merge refused: a profile may hold at most 1 user_id identifier(s)", 6)
    ]


def test_an_identifier_added_to_a_merged_profile_is_found_later_in_the_same_batch(
    services: Services, owner: Caller
) -> None:
    services.intake.ingest(
        [identify("u1", email="a@example.com"), identify(anonymous_id="a2", phone="07700900123")],
        source=WEB,
    )
    services.intake.ingest(
        [identify(anonymous_id="a3", email="a@example.com", phone="07700900123")], source=WEB
    )

    result = services.intake.ingest(
        [
            track("X", anonymous_id="a2", context={"traits": {"email": "new@example.com"}}),
            track("Y", anonymous_id="zz", context={"traits": {"email": "new@example.com"}}),
        ],
        source=WEB,
    )

    assert (result.accepted, result.rejected) == (2, [])
    assert services.profiles.get(owner, "zz").id == services.profiles.get(owner, "u1").id


def test_a_shared_landline_keeps_a_household_apart_while_a_mobile_joins(
    services: Services, owner: Caller
) -> None:
    # John and Mary Leeming share the landline at 3 Mill Lane; each has an own e-mail.
    services.intake.ingest(
        [identify("web-john", first_name="John", email="john@example.com", phone="0113 496 0000")],
        source=WEB,
    )
    services.intake.ingest(
        [identify(anonymous_id="till-9", first_name="Mary", phone="(0113) 4960000")],
        source=TILL,
    )
    # Bob gives his mobile online and at the till: one customer.
    services.intake.ingest([identify("web-bob", phone="07700 900123")], source=WEB)
    services.intake.ingest([identify(anonymous_id="till-10", phone="+44 7700 900123")], source=TILL)

    assert roots(services) == 3
    john = services.profiles.get(owner, "+441134960000")
    assert {i.value for i in john.identifiers or []} >= {"web-john", "+441134960000"}
    mary = services.profiles.get(owner, "till-9")
    assert mary.id != john.id
    assert mary.traits is not None and mary.traits["phone"].value == "(0113) 4960000"


def test_a_known_landline_alone_decides_nothing_even_when_it_is_all_a_message_carries(
    services: Services, owner: Caller
) -> None:
    services.intake.ingest(
        [identify("web-john", email="john@example.com", phone="0113 496 0000")], source=WEB
    )
    # The anonymousId is a placeholder, so the landline is the message's only identifier.
    services.intake.ingest([identify(anonymous_id="undefined", phone="01134960000")], source=TILL)
    # A returning customer whose identifiers are all known stays where they are.
    again = services.intake.ingest(
        [identify("web-john", email="john@example.com", phone="01134960000")], source=WEB
    )

    assert roots(services) == 2
    assert (again.accepted, again.profiles_created, again.merges) == (1, 0, 0)
    john = services.profiles.get(owner, "web-john")
    assert sorted(i.value for i in john.identifiers or []) == [
        "+441134960000",
        "john@example.com",
        "web-john",
    ]


@contextmanager
def stitching_landlines(settings: Settings) -> Iterator[Services]:
    """Services of an installation whose landlines stitch (``stitch_on_landlines``)."""
    from cornerstore.settings import IdentityRules
    from cornerstore.storage import open_store

    joined = settings.model_copy(update={"identity": IdentityRules(stitch_on_landlines=True)})
    store = open_store(joined.database_url, upgrade=True)
    try:
        yield Services.build(joined, store)
    finally:
        store.dispose()


def test_the_shops_own_freephone_number_joins_no_one_even_where_landlines_stitch(
    settings: Settings,
) -> None:
    with stitching_landlines(settings) as services:
        # Two customers type the shop's 0800 number into the phone field of the form.
        services.intake.ingest([identify("web-ann", phone="0800 111 1111")], source=WEB)
        services.intake.ingest([identify(anonymous_id="till-7", phone="08001111111")], source=TILL)
        # A mobile still joins.
        services.intake.ingest([identify("web-bob", phone="07911 123456")], source=WEB)
        till_8 = identify(anonymous_id="till-8", phone="+447911123456")
        services.intake.ingest([till_8], source=TILL)

        assert roots(services) == 3


def test_landlines_stitch_when_the_installation_says_so(settings: Settings) -> None:
    with stitching_landlines(settings) as services:
        services.intake.ingest([identify("web-john", phone="0113 496 0000")], source=WEB)
        services.intake.ingest([identify(anonymous_id="till-9", phone="01134960000")], source=TILL)

        assert roots(services) == 1
