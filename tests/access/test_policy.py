"""The section policy: what each role may read and change, deny by default, custom roles."""

from __future__ import annotations

import pytest

from cornerstore.access.caller import Caller
from cornerstore.access.policy import SECTIONS, Policy
from cornerstore.errors import Forbidden, InvalidInput
from cornerstore.identity.resolution.records import FIELDS
from cornerstore.settings import AccessRules, RoleGrant
from tests.access import staff_caller

TIMELINE = {f"timeline.{tp}" for tp in ("store", "web", "app", "support")} | {
    f"timeline.{tp}" for tp in ("billing", "shipping", "survey", "other")
}


def test_each_built_in_role_reads_exactly_the_sections_its_job_needs() -> None:
    policy = Policy()

    visible = {role: policy.visible_sections(staff_caller(role)) for role in policy.role_names()}

    assert visible == {
        "owner": frozenset(SECTIONS),
        "support": frozenset(
            {
                "name",
                "contact",
                "addresses",
                "delivery_preferences",
                "identifiers",
                "traits",
                "summary",
                "accounts",
                "merges",
                "cases",
                "shipments",
                "consents",
                "suggestions",
                "service_metrics",
                "next_actions",
                *TIMELINE,
            }
        ),
        "supervisor": frozenset(
            {
                "name",
                "contact",
                "addresses",
                "delivery_preferences",
                "identifiers",
                "traits",
                "summary",
                "accounts",
                "merges",
                "cases",
                "shipments",
                "consents",
                "suggestions",
                "next_actions",
                "scores",
                "service_metrics",
                *TIMELINE,
            }
        ),
        "shipping": frozenset(
            {"name", "addresses", "delivery_preferences", "shipments", "timeline.shipping"}
        ),
        "billing": frozenset(
            {"name", "contact", "addresses", "payment", "invoices", "timeline.billing"}
        ),
        "marketing": frozenset(
            {
                "traits",
                "summary",
                "segments",
                "scores",
                "consents",
                "suggestions",
                "next_actions",
                "campaigns",
            }
        ),
        "analyst": frozenset(
            {"traits", "summary", "scores", "segments", "service_metrics", *TIMELINE}
        ),
    }


def test_only_owner_support_and_supervisor_may_change_merges() -> None:
    policy = Policy()

    allowed = [r for r in policy.role_names() if policy.may(staff_caller(r), "merges", "change")]

    assert allowed == ["owner", "supervisor", "support"]


def test_a_section_no_policy_names_is_denied_to_every_role_but_the_owner() -> None:
    policy = Policy()

    readers = [r for r in policy.role_names() if policy.may(staff_caller(r), "loyalty_notes")]

    assert readers == ["owner"]
    with pytest.raises(Forbidden, match="your role may not read loyalty_notes"):
        policy.require(staff_caller("support"), "loyalty_notes")


def test_later_parts_ask_the_policy_with_one_call() -> None:
    policy = Policy()

    policy.require(staff_caller("marketing"), "consents", "read")

    with pytest.raises(Forbidden, match="your role may not change consents"):
        policy.require(staff_caller("marketing"), "consents", "change")


def test_a_write_key_may_read_no_section() -> None:
    policy = Policy()
    writer = Caller("write_key:web", "writer", "api")

    assert policy.visible_sections(writer) == frozenset()
    with pytest.raises(Forbidden, match="may only send events"):
        policy.require(writer, "name")


def test_a_role_the_installation_does_not_know_is_refused() -> None:
    with pytest.raises(Forbidden, match="role is not known"):
        Policy().require(staff_caller("intern"), "name")


def test_custom_roles_come_from_settings_and_may_replace_built_in_ones() -> None:
    rules = AccessRules(
        roles={
            "returns": RoleGrant(read=["name", "addresses", "timeline.*"], change=["shipments"]),
            "marketing": RoleGrant(read=["segments"]),
        }
    )

    policy = Policy.from_settings(rules)

    assert "returns" in policy.role_names()
    assert sorted(policy.visible_sections(staff_caller("returns")) - TIMELINE) == [
        "addresses",
        "name",
    ]
    assert policy.visible_sections(staff_caller("marketing")) == frozenset({"segments"})
    assert policy.may(staff_caller("returns"), "shipments", "change")


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        ({"owner": RoleGrant(read=["name"])}, "the owner role cannot be redefined"),
        (
            {"stats": RoleGrant(read=["summary", "contact"], pseudonymised=True)},
            "a pseudonymised role may not hold contact",
        ),
        (
            {"stats": RoleGrant(read=["*"], pseudonymised=True)},
            "a pseudonymised role may not hold accounts, addresses",
        ),
        ({"Bad Name": RoleGrant()}, "is not a role name"),
        ({"odd": RoleGrant(read=["name; drop"])}, "is not a section or pattern"),
    ],
)
def test_a_policy_that_would_leak_or_cannot_be_read_is_refused_at_start(
    roles: dict[str, RoleGrant], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        Policy(roles)


@pytest.mark.parametrize(
    ("trait", "section"),
    [
        ("first_name", "name"),
        ("lastName", "name"),
        ("email", "contact"),
        ("work_email", "contact"),
        ("home_phone", "contact"),
        ("address", "addresses"),
        ("billing_address", "addresses"),
        ("delivery_instructions", "delivery_preferences"),
        ("refund_method", "payment"),
        ("favourite_colour", "traits"),
    ],
)
def test_every_trait_belongs_to_one_section(trait: str, section: str) -> None:
    assert Policy().section_of(trait) == section


def test_settings_can_move_a_trait_to_another_section() -> None:
    policy = Policy(trait_sections={"loyalty_card": "identifiers"})

    assert policy.section_of("loyalty_card") == "identifiers"


def test_a_staff_member_of_one_branch_may_change_only_that_branch() -> None:
    policy = Policy()
    leeds = staff_caller("shipping", branch="Leeds")

    policy.require_branch(leeds, "Leeds")
    policy.require_branch(staff_caller("shipping"), "York")
    with pytest.raises(Forbidden, match="own branch only"):
        policy.require_branch(leeds, "York")


def test_every_field_has_one_section_for_traits_forms_scores_and_identity() -> None:
    policy = Policy(trait_sections={"loyalty_card": "payment"})
    fields = [
        *FIELDS,
        "firstName",
        "work_email",
        "address.city",
        "loyalty_card",
        "learned.value",
        "learned.delivery_window",
        "favourite_colour",
    ]

    sections = {field: policy.section_of(field) for field in fields}

    assert sections == {
        "full_name": "name",
        "first_name": "name",
        "last_name": "name",
        "email": "contact",
        "phone": "contact",
        "address": "addresses",
        "city": "addresses",
        "state": "addresses",
        "postcode": "addresses",
        "country": "addresses",
        "firstName": "name",
        "work_email": "contact",
        "address.city": "addresses",
        "loyalty_card": "payment",
        "learned.value": "scores",
        "learned.delivery_window": "delivery_preferences",
        "favourite_colour": "traits",
    }
