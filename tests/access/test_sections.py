"""Every role x every customer read x every section, through the service layer (which the API,
CLI and console all call): what is allowed is there, what is not is absent or refused."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cornerstore.access.caller import system_caller
from cornerstore.errors import Forbidden, NotFound
from cornerstore.intake.service import Source
from cornerstore.profiles.service import PROFILE_SECTIONS
from cornerstore.services import Services
from cornerstore.settings import RoleGrant
from tests.access import ROLES, add_dee, staff_caller
from tests.factories import identify, services_with_roles

ALL_PARTS = [
    "accounts",
    "household",
    "identifiers",
    "members",
    "merged_profiles",
    "merges",
    "summary",
    "traits",
    "unverified",
]

# role -> (sections, parts of the answer, traits, identifier kinds)
PROFILE: dict[str, tuple[list[str], list[str], list[str], list[str] | None]] = {
    "owner": (
        [
            "accounts",
            "addresses",
            "contact",
            "delivery_preferences",
            "identifiers",
            "merges",
            "name",
            "payment",
            "summary",
            "traits",
        ],
        ALL_PARTS,
        [
            "address",
            "delivery_instructions",
            "email",
            "favourite_colour",
            "first_name",
            "last_name",
            "phone",
            "refund_method",
        ],
        ["user_id", "email", "phone"],
    ),
    "support": (
        [
            "accounts",
            "addresses",
            "contact",
            "delivery_preferences",
            "identifiers",
            "merges",
            "name",
            "summary",
            "traits",
        ],
        ALL_PARTS,
        [
            "address",
            "delivery_instructions",
            "email",
            "favourite_colour",
            "first_name",
            "last_name",
            "phone",
        ],
        ["user_id", "email", "phone"],
    ),
    "shipping": (
        ["addresses", "delivery_preferences", "name"],
        ["traits", "unverified"],
        ["address", "delivery_instructions", "first_name", "last_name"],
        None,
    ),
    "billing": (
        ["addresses", "contact", "name", "payment"],
        ["identifiers", "traits", "unverified"],
        ["address", "email", "first_name", "last_name", "phone", "refund_method"],
        ["email", "phone"],
    ),
    "marketing": (
        ["summary", "traits"],
        ["summary", "traits", "unverified"],
        ["favourite_colour"],
        None,
    ),
    "analyst": (
        ["summary", "traits"],
        ["summary", "traits", "unverified"],
        ["favourite_colour"],
        None,
    ),
}

EVERY_DEPARTMENT = ["shipping", "billing", "support", "store", "web"]
TIMELINE: dict[str, list[str] | None] = {
    "owner": EVERY_DEPARTMENT,
    "support": EVERY_DEPARTMENT,
    "shipping": ["shipping"],
    "billing": ["billing"],
    "marketing": None,
    "analyst": EVERY_DEPARTMENT,
}


def _parts(profile: Any) -> list[str]:
    return sorted(p for p in ALL_PARTS if getattr(profile, p) is not None)


@pytest.mark.parametrize("role", ROLES)
def test_a_profile_holds_exactly_the_sections_the_role_may_read(
    services: Services, role: str
) -> None:
    cid = add_dee(services)

    profile = services.profiles.get(staff_caller(role), cid)

    identifiers = [i.kind for i in profile.identifiers] if profile.identifiers is not None else None
    assert (profile.sections, _parts(profile), sorted(profile.traits or {}), identifiers) == (
        PROFILE[role]
    )


@pytest.mark.parametrize("role", ROLES)
def test_the_timeline_holds_only_the_departments_the_role_may_read(
    services: Services, role: str
) -> None:
    cid = add_dee(services)
    caller = staff_caller(role)

    if TIMELINE[role] is None:
        with pytest.raises(Forbidden, match="your role may not read the timeline"):
            services.profiles.timeline(caller, cid)
        return
    page = services.profiles.timeline(caller, cid)

    assert [e.touchpoint for e in page.events] == TIMELINE[role]


def test_asking_for_a_department_the_role_may_not_read_is_refused(services: Services) -> None:
    cid = add_dee(services)

    with pytest.raises(Forbidden, match=r"your role may not read timeline\.store"):
        services.profiles.timeline(staff_caller("shipping"), cid, touchpoints=["store"])


def test_an_identify_event_shows_only_the_traits_the_role_may_read(services: Services) -> None:
    services.intake.ingest(
        [identify("u-eve", firstName="Eve", email="eve@example.com", refundMethod="card")],
        source=Source("billing-desk", "billing"),
    )
    cid = services.profiles.get(staff_caller("owner"), "u-eve").id

    shown = {
        role: [e.properties for e in services.profiles.timeline(staff_caller(role), cid).events]
        for role in ("owner", "billing", "support", "shipping")
    }

    assert shown == {
        "owner": [{"firstName": "Eve", "email": "eve@example.com", "refundMethod": "card"}],
        "billing": [{"firstName": "Eve", "email": "eve@example.com", "refundMethod": "card"}],
        "support": [{"firstName": "Eve", "email": "eve@example.com"}],
        "shipping": [],
    }


def test_an_analyst_sees_stable_pseudonyms_and_no_person(services: Services) -> None:
    cid = add_dee(services)
    analyst = staff_caller("analyst")

    first = services.profiles.get(analyst, cid)
    again = services.profiles.get(analyst, cid)
    page = services.profiles.timeline(analyst, cid)

    assert first.id == again.id == page.customer_id
    assert first.id.startswith("psn_") and cid not in first.id
    assert {e.customer_id for e in page.events} == {first.id}
    assert [(e.user_id, e.anonymous_id, e.context) for e in page.events] == [(None, None, {})] * 5
    assert [e.properties for e in page.events] == [{"total": 20}] * 4 + [{}]
    assert "Dee" not in repr(first) + repr(page) and "Fox" not in repr(first) + repr(page)


# trait -> roles that may read its history
TRAIT_READERS = {
    "email": ["billing", "owner", "support"],
    "delivery_instructions": ["owner", "shipping", "support"],
    "refund_method": ["billing", "owner"],
    "favourite_colour": ["analyst", "marketing", "owner", "support"],
}


@pytest.mark.parametrize("trait", sorted(TRAIT_READERS))
def test_a_trait_history_is_read_only_by_roles_holding_its_section(
    services: Services, trait: str
) -> None:
    cid = add_dee(services)

    readers = []
    for role in ROLES:
        try:
            history = services.profiles.trait_history(staff_caller(role), cid, trait)
        except Forbidden:
            continue
        assert len(history) == 1
        readers.append(role)

    assert sorted(readers) == TRAIT_READERS[trait]


PREFILL: dict[str, list[str] | None] = {
    "owner": ["phone", "delivery_instructions"],
    "support": ["phone", "delivery_instructions"],
    "shipping": ["delivery_instructions"],
    "billing": ["phone"],
    "marketing": None,
    "analyst": None,
}


@pytest.mark.parametrize("role", ROLES)
def test_prefill_leaves_out_the_fields_the_role_may_not_read(services: Services, role: str) -> None:
    cid = add_dee(services)
    caller = staff_caller(role)

    if PREFILL[role] is None:
        with pytest.raises(Forbidden):
            services.profiles.prefill(caller, cid, "shipping")
        return
    filled = services.profiles.prefill(caller, cid, "shipping")

    fields = [f.field for f in filled.fields]
    assert [f for f in ("phone", "delivery_instructions") if f in fields] == PREFILL[role]
    assert {"first_name", "last_name", "address.city"} <= set(fields)
    # Nothing learned yet: the delivery window is still to ask, for roles that see it.
    window = ["learned.delivery_window"] if "delivery_instructions" in PREFILL[role] else []
    assert filled.unknown == ["address.state", "address.country", *window]


SEARCH: dict[str, tuple[list[dict[str, Any]] | None, list[str] | None]] = {
    # role -> (keys of a hit found by name, roles finding her by e-mail)
    "owner": (["id", "kind", "name", "email", "phone", "matched"], ["email"]),
    "support": (["id", "kind", "name", "email", "phone", "matched"], ["email"]),
    "billing": (["id", "kind", "name", "email", "phone", "matched"], ["email"]),
    "shipping": (["id", "kind", "name", "matched"], []),
    "marketing": (None, None),
    "analyst": (None, None),
}


@pytest.mark.parametrize("role", ROLES)
def test_search_finds_and_shows_only_by_what_the_role_may_read(
    services: Services, role: str
) -> None:
    add_dee(services)
    caller = staff_caller(role)
    keys, by_email = SEARCH[role]

    if keys is None:
        with pytest.raises(Forbidden, match="your role may not read customer search"):
            services.profiles.search(caller, "fox")
        return
    (hit,) = services.profiles.search(caller, "fox")
    email_hits = services.profiles.search(caller, "dee.fox@example.com")

    assert list(hit.visible()) == keys
    assert [h.matched for h in email_hits] == by_email


@pytest.mark.parametrize("role", ROLES)
def test_a_role_without_contact_cannot_find_a_customer_by_e_mail(
    services: Services, role: str
) -> None:
    add_dee(services)
    caller = staff_caller(role)

    if role in ("owner", "support", "billing"):
        assert services.profiles.get(caller, "dee.fox@example.com").sections
        return
    with pytest.raises(NotFound, match="customer: no such customer"):
        services.profiles.get(caller, "dee.fox@example.com")


@pytest.mark.parametrize("role", ROLES)
def test_merging_and_unmerging_need_the_right_to_change_merges(
    services: Services, role: str
) -> None:
    cid = add_dee(services)
    services.intake.ingest(
        [identify(anonymous_id="till-7", email="o@example.com")], source=Source("till", "store")
    )
    other = services.profiles.get(staff_caller("owner"), "o@example.com").id
    caller = staff_caller(role)

    if role not in ("owner", "support"):
        with pytest.raises(Forbidden, match="your role may not change merges"):
            services.merges.merge(caller, cid, other)
        return
    record = services.merges.merge(caller, cid, other)
    undone = services.merges.unmerge(caller, record.id)

    assert undone.undone_by == f"test:{role}"


@pytest.mark.parametrize("role", ["shipping", "marketing", "analyst"])
def test_a_refusal_says_the_same_whether_or_not_the_customer_exists(
    services: Services, role: str
) -> None:
    cid = add_dee(services)
    caller = staff_caller(role)

    answers = []
    for ref in (cid, "cus_0000000000000000"):
        with pytest.raises(Forbidden) as refused:
            services.profiles.trait_history(caller, ref, "email")
        answers.append(refused.value.message)

    assert answers[0] == answers[1]


def test_every_read_records_the_sections_it_showed(services: Services) -> None:
    cid = add_dee(services)
    shipping = staff_caller("shipping").because("parcel came back")

    services.profiles.get(shipping, cid)
    services.profiles.timeline(shipping, cid)
    services.profiles.prefill(shipping, cid, "shipping")

    entries = services.audit.for_customer(cid)
    assert [(e.actor, e.action, e.sections, e.reason) for e in entries] == [
        (
            "test:shipping",
            "read_profile",
            ["addresses", "delivery_preferences", "name"],
            "parcel came back",
        ),
        ("test:shipping", "read_timeline", ["timeline.shipping"], "parcel came back"),
        (
            "test:shipping",
            "prefill",
            ["addresses", "delivery_preferences", "name"],
            "parcel came back",
        ),
    ]


def test_staff_limited_to_a_branch_merge_only_customers_of_that_branch(
    services: Services,
) -> None:
    store_source = Source("till", "store")
    services.intake.ingest(
        [
            identify("u-lee", email="lee@example.com", branch="Leeds"),
            identify(anonymous_id="till-1", phone="07700 900111", branch="Leeds"),
            identify(anonymous_id="till-2", phone="07700 900222", branch="York"),
            identify(anonymous_id="till-3", phone="07700 900333"),
        ],
        source=store_source,
    )
    owner = staff_caller("owner")
    lee, leeds, york, nowhere = (
        services.profiles.get(owner, ref).id
        for ref in ("u-lee", "07700 900111", "07700 900222", "07700 900333")
    )
    leeds_support = staff_caller("support", branch="Leeds")

    same = services.merges.merge(leeds_support, lee, leeds)
    unbranched = services.merges.merge(leeds_support, lee, nowhere)
    with pytest.raises(Forbidden, match="own branch only"):
        services.merges.merge(leeds_support, lee, york)
    across = services.merges.merge(owner, lee, york)
    with pytest.raises(Forbidden, match="own branch only"):
        services.merges.unmerge(leeds_support, across.id)

    assert {same.winner_id, same.loser_id} == {lee, leeds}
    assert nowhere in (unbranched.winner_id, unbranched.loser_id)
    assert [e.branch for e in services.audit.find(owner, action="merge")] == [
        "Leeds",
        "Leeds",
        None,
    ]


def test_any_policy_shows_exactly_what_it_grants_and_nothing_else(services: Services) -> None:
    cid = add_dee(services)

    @given(granted=st.sets(st.sampled_from(PROFILE_SECTIONS)))
    @settings(max_examples=40, deadline=None)
    def check(granted: set[str]) -> None:
        custom = services_with_roles(services, custom=RoleGrant(read=sorted(granted)))
        policy, profiles = custom.policy, custom.profiles
        caller = staff_caller("custom")
        if not granted:
            with pytest.raises(Forbidden):
                profiles.get(caller, cid)
            return

        profile = profiles.get(caller, cid)

        assert profile.sections == sorted(granted)
        assert {policy.section_of(t) for t in profile.traits or {}} <= granted
        assert {policy.identifier_section(i.kind) for i in profile.identifiers or []} <= granted
        assert (profile.summary is not None) == ("summary" in granted)
        assert (profile.merges is not None) == ("merges" in granted)
        assert (profile.accounts is not None) == ("accounts" in granted)
        if "contact" not in granted:
            assert "dee.fox@example.com" not in repr(profile).lower()

    check()


def test_marketing_sees_traits_only_of_customers_who_allow_personalisation(
    services: Services,
) -> None:
    cid = add_dee(services)
    marketing = staff_caller("marketing")
    before = services.profiles.get(marketing, cid)

    services.consents.change(system_caller(), cid, {"personalisation": False})
    after = services.profiles.get(marketing, cid)
    owner_view = services.profiles.get(system_caller(), cid)

    assert before.traits
    assert after.traits is None and "traits" not in after.sections
    assert after.summary is not None
    assert owner_view.traits
