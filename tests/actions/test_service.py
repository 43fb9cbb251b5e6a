"""The next best action over the store (SQLite and PostgreSQL): each rule on a seeded
customer, caps, complaint suppression, consent, the role policy and the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cornerstore.access.caller import Caller
from cornerstore.errors import Forbidden, InvalidInput, NotFound
from cornerstore.services import Services
from tests.access import staff_caller
from tests.actions.shop import NOW, open_action_shop, root_of
from tests.suggest.shop import WEB, order


@pytest.fixture
def shop(services: Services) -> Services:
    open_action_shop(services)
    return services


def summaries(services: Services, caller: Caller, ref: str) -> list[str]:
    return [a.summary for a in services.actions.for_customer(caller, ref, now=NOW).actions]


@pytest.mark.parametrize(
    ("customer", "expected"),
    [
        ("vip", ["call: high value, slipping away, unresolved delivery complaint"]),
        ("regular", ["offer: replenishment due: coffee beans"]),
        ("tenth", ["thank: 10th order"]),
        ("mover", ["offer: moved house"]),
        ("busy", ["nothing: contacted 3 times in all in the last 30 days (at most 3)"]),
        ("quiet", ["nothing: no consent to marketing email"]),
        ("fresh", ["nothing: no reason to reach out now"]),
    ],
)
def test_each_seeded_customer_gets_the_action_their_story_calls_for(
    shop: Services, owner: Caller, customer: str, expected: list[str]
) -> None:
    assert summaries(shop, owner, customer) == expected


def test_no_marketing_reaches_a_customer_with_an_open_complaint(
    shop: Services, owner: Caller
) -> None:
    found = shop.actions.for_customer(owner, "vip", now=NOW)

    # vip's monthly teapot is due again, but not while the complaint is open.
    assert [(h.action, h.reasons, h.why) for h in found.held_back] == [
        (
            "offer",
            ["replenishment due: teapot"],
            "a complaint is open: no marketing until it is resolved",
        )
    ]
    assert all(a.purpose == "service" for a in found.actions)


def test_a_regular_buy_missed_for_many_cycles_is_no_replenishment_due(
    shop: Services, owner: Caller
) -> None:
    # A teapot every month until 200 days ago: a habit they had, not one that is due.
    bought = [order("lapsed", NOW - timedelta(days=200 + 30 * k), "POT") for k in range(3)]
    shop.intake.ingest(bought, source=WEB)
    shop.consents.change(owner, "lapsed", {"marketing_email": True})

    found = shop.actions.for_customer(owner, "lapsed", now=NOW)

    reasons = [r for h in (*found.actions, *found.held_back) for r in h.reasons]
    assert not any(r.startswith("replenishment due") for r in reasons)


def test_without_profiling_consent_nothing_learned_is_used_and_the_answer_says_so(
    shop: Services, owner: Caller
) -> None:
    found = shop.actions.for_customer(owner, "withdrawn", now=NOW)

    assert [a.summary for a in found.actions] == ["nothing: no reason to reach out now"]
    assert found.notes == ["the customer did not allow profiling: value, risk and moments unused"]


def test_a_role_that_may_not_read_cases_does_not_learn_the_complaints_category(
    shop: Services,
) -> None:
    marketing = staff_caller("marketing")

    assert summaries(shop, marketing, root_of(shop, "vip")) == [
        "call: high value, slipping away, unresolved complaint"
    ]


def test_roles_without_the_section_are_refused_before_any_lookup(shop: Services) -> None:
    for role in ("shipping", "billing", "analyst"):
        with pytest.raises(Forbidden, match="your role may not read next_actions"):
            shop.actions.for_customer(staff_caller(role), "nobody-at-all", now=NOW)


def test_support_reads_them_and_every_read_is_audited(shop: Services, owner: Caller) -> None:
    support = staff_caller("support")

    found = shop.actions.for_customer(support, "vip", now=NOW)

    entry = shop.audit.find(owner, action="read_next_actions")[-1]
    assert (entry.actor, entry.customer_id, entry.sections) == (
        support.actor,
        root_of(shop, "vip"),
        ["next_actions"],
    )
    assert found.customer_id == root_of(shop, "vip")


def test_an_unknown_customer_is_not_found(shop: Services, owner: Caller) -> None:
    with pytest.raises(NotFound):
        shop.actions.for_customer(owner, "nobody-at-all", now=NOW)


def test_a_segment_lists_customers_with_something_to_do_first(
    shop: Services, owner: Caller
) -> None:
    everyone = {"score": "value.clv", "op": ">=", "value": 0}
    segment = shop.segments.create(owner, "Everyone valued", everyone)

    found = shop.actions.for_segment(owner, segment.id, limit=100, now=NOW)

    firsts = [f.actions[0].action for f in found]
    assert firsts[:4] == ["call", "offer", "offer", "thank"]
    assert set(firsts[4:]) == {"nothing"}


def test_a_segment_listing_limit_out_of_range_is_refused(shop: Services, owner: Caller) -> None:
    with pytest.raises(InvalidInput, match="limit: must be between 1 and 200"):
        shop.actions.for_segment(owner, "any", limit=0, now=NOW)
