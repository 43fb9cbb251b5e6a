"""Identity resolution on the stored profiles: learn, resolve, review, explain, on SQLite and
PostgreSQL alike."""

from __future__ import annotations

from collections import defaultdict

import pytest

from cornerstore.access.caller import Caller
from cornerstore.errors import Conflict, Forbidden, NotFound
from cornerstore.identity.resolution.model import IdentityModel
from cornerstore.identity.resolution.records import prepare_record
from cornerstore.identity.resolution.scorer import FieldWeight
from cornerstore.services import Services
from cornerstore.settings import AccessRules, RoleGrant, Settings
from tests.identity.resolution.stored import (
    MOVED,
    TILL,
    ingest_shop,
    message,
    move_robert,
    queue_robert_and_bob,
    root_of,
)


def learn_with_a_nameless_leeming(services: Services, owner: Caller) -> None:
    """The shop plus a record with the Leemings' surname and address and no first name, which
    could be John or Mary; then a model learned."""
    ingest_shop(services)
    nameless = {"last_name": "Leeming", "address": "3 Mill Lane", "city": "Leeds"}
    services.intake.ingest([message("leeming", **nameless, postcode="LS1 4AB")], source=TILL)
    services.identity.train(owner)


@pytest.fixture
def shop(services: Services, owner: Caller) -> list[dict[str, object]]:
    rows = ingest_shop(services)
    services.identity.train(owner)
    return rows


def test_learning_stores_the_model_trained_on_every_person_customer(
    services: Services, owner: Caller
) -> None:
    ingest_shop(services)
    with services.store.unit_of_work() as uow:
        people = len(uow.identity.person_roots())

    first = services.identity.train(owner)
    second = services.identity.train(owner, seed=1)

    with services.store.unit_of_work() as uow:
        active = uow.identity.active_model()
    assert active is not None
    assert (active.id, active.active, active.records) == (second.id, True, people)
    assert first.id != second.id
    model = IdentityModel.from_json(active.model)
    assert model.records == people
    assert {c.name for c in model.comparisons} >= {"first_name", "last_name", "email", "postcode"}


def test_resolving_before_learning_says_what_to_run(services: Services, owner: Caller) -> None:
    ingest_shop(services, people=20)

    with pytest.raises(NotFound, match="identity learn"):
        services.identity.resolve(owner)


def test_resolving_merges_a_nickname_and_keeps_a_household_apart(
    services: Services, owner: Caller, shop: list[dict[str, object]]
) -> None:
    assert root_of(services, "robert") != root_of(services, "bob")

    result = services.identity.resolve(owner)

    assert result.merged > 0 and result.households > 0
    assert root_of(services, "robert") == root_of(services, "bob")
    assert root_of(services, "john") != root_of(services, "mary")
    profile = services.profiles.get(owner, "bob")
    assert profile.merges is not None
    assert [m.reason for m in profile.merges] == ["resolve"]


def test_resolution_merges_records_of_the_same_person(
    services: Services, owner: Caller, shop: list[dict[str, object]]
) -> None:
    def mixed_customers() -> int:
        people: dict[str, set[object]] = defaultdict(set)
        for row in shop:
            people[root_of(services, str(row["id"]))].add(row["person_id"])
        return sum(len(persons) > 1 for persons in people.values())

    # Intake's stitching on shared landlines already joins some household members.
    before = mixed_customers()

    result = services.identity.resolve(owner)

    assert result.merged >= 40
    assert mixed_customers() - before <= result.merged // 5


def test_a_resolved_merge_is_undone_by_unmerge_and_not_redone(
    services: Services, owner: Caller, shop: list[dict[str, object]]
) -> None:
    services.identity.resolve(owner)
    bob = root_of(services, "bob")
    robert_profile = services.profiles.get(owner, "robert")
    assert robert_profile.merges is not None
    record = next(m for m in robert_profile.merges if m.reason == "resolve")

    services.merges.unmerge(owner, record.id)
    # A second run may join other records whose merged details now agree, never these two.
    services.identity.resolve(owner)

    assert root_of(services, "robert") != root_of(services, "bob")
    assert bob in (record.winner_id, record.loser_id)
    for ref in ("robert", "bob"):
        merges = services.profiles.get(owner, ref).merges or []
        assert [m.id for m in merges if m.undone_at is None and m.reason == "resolve"] == []


def test_the_grey_zone_is_queued_once_and_a_rejected_pair_stays_apart(
    services: Services, owner: Caller, shop: list[dict[str, object]]
) -> None:
    first = services.identity.resolve(owner)
    queue = services.identity.pending(owner, limit=100)
    assert first.queued == len(queue) > 1
    rejected, accepted = queue[0], queue[1]

    services.identity.decide(owner, rejected.id, accept=False)
    services.identity.decide(owner, accepted.id, accept=True)
    second = services.identity.resolve(owner)

    left_rejected = services.profiles.get(owner, rejected.left.id).id
    right_rejected = services.profiles.get(owner, rejected.right.id).id
    assert left_rejected != right_rejected
    assert services.profiles.get(owner, accepted.left.id).id == (
        services.profiles.get(owner, accepted.right.id).id
    )
    pending = services.identity.pending(owner, limit=100)
    first_ids = {r.id for r in queue}
    assert [r.id for r in pending if r.id in first_ids] == [r.id for r in queue[2:]]
    # Only pairs the merges made new are queued again, never the rejected one.
    assert second.queued == len(pending) - len(queue[2:])
    assert frozenset((left_rejected, right_rejected)) not in {
        frozenset((r.left.id, r.right.id)) for r in pending
    }
    with pytest.raises(Conflict, match="already rejected"):
        services.identity.decide(owner, rejected.id, accept=True)


def test_a_review_shows_both_profiles_and_each_fields_weight(
    services: Services, owner: Caller, shop: list[dict[str, object]]
) -> None:
    services.identity.resolve(owner)

    review = services.identity.pending(owner, limit=1)[0]

    assert review.status == "pending"
    assert review.left.id != review.right.id
    assert review.left.traits is not None and review.right.traits is not None
    assert [f.field for f in review.fields] == [
        c.name for c in services.identity.active_model().comparisons
    ]
    assert review.match_probability >= 0.5


def test_a_review_shows_the_evidence_against_from_the_customers_other_records(
    services: Services, owner: Caller
) -> None:
    ingest_shop(services)
    move_robert(services)
    services.identity.train(owner)
    robert, bob = queue_robert_and_bob(services)

    (review,) = [
        r for r in services.identity.pending(owner, limit=100) if r.left.id in (robert, bob)
    ]

    shown = {f.field: (f.left, f.right) for f in review.fields}
    against = {f.field: f for f in review.against}
    new_home = prepare_record({"address": MOVED["address"]})["address"]
    old_home = prepare_record({"address": "12 High St"})["address"]
    assert shown["address"] == (old_home, old_home)  # the variants that agree best
    assert {against["address"].left, against["address"].right} == {new_home, old_home}
    assert against["address"].weight < 0
    assert all(f.weight < 0 and shown[f.field] != (f.left, f.right) for f in review.against)


def test_a_record_without_a_first_name_at_a_household_joins_neither_member_nor_is_queued(
    services: Services, owner: Caller
) -> None:
    # It shares only the Leemings' surname and home: a reviewer could not say whose it is.
    learn_with_a_nameless_leeming(services, owner)

    services.identity.resolve(owner)

    leeming = root_of(services, "leeming")
    assert leeming not in (root_of(services, "john"), root_of(services, "mary"))
    pending = services.identity.pending(owner, limit=500)
    assert pending
    assert leeming not in {r.left.id for r in pending} | {r.right.id for r in pending}


def test_explaining_two_customers_adds_up_each_fields_weight(
    services: Services, owner: Caller, shop: list[dict[str, object]]
) -> None:
    explanation = services.identity.explain(owner, root_of(services, "bob"), "robert")

    by_field = {f.field: f for f in explanation.fields}
    assert by_field["first_name"].weight > 0
    assert (by_field["first_name"].left, by_field["first_name"].right) in (
        ("bob", "robert"),
        ("robert", "bob"),
    )
    assert by_field["postcode"].level == "exact"
    total = explanation.prior_weight + sum(f.weight for f in explanation.fields)
    assert explanation.match_weight == pytest.approx(total)
    assert explanation.match_probability > 0.99


@pytest.mark.parametrize("role", ["shipping", "billing", "marketing", "analyst"])
def test_roles_without_the_merges_section_are_refused(
    services: Services, role: str, owner: Caller
) -> None:
    ingest_shop(services, people=20)
    caller = Caller("someone", role, "api")

    for attempt in (
        lambda: services.identity.train(caller),
        lambda: services.identity.resolve(caller),
        lambda: services.identity.pending(caller),
        lambda: services.identity.decide(caller, 1, accept=True),
        lambda: services.identity.explain(caller, "bob", "robert"),
    ):
        with pytest.raises(Forbidden):
            attempt()


def test_support_may_review_and_decide(
    services: Services, owner: Caller, shop: list[dict[str, object]]
) -> None:
    services.identity.resolve(owner)
    support = Caller("sue", "support", "api")

    review = services.identity.pending(support, limit=1)[0]
    decided = services.identity.decide(support, review.id, accept=False)

    assert (decided.status, decided.decided_by) == ("rejected", "sue")


def test_a_reviewer_who_reads_names_only_sees_the_names_compared_and_weights_of_the_rest(
    settings: Settings, services: Services, owner: Caller, shop: list[dict[str, object]]
) -> None:
    services.identity.resolve(owner)
    reviewer_only = AccessRules(roles={"names": RoleGrant(read=["name", "merges"])})
    narrow = Services.build(settings.model_copy(update={"access": reviewer_only}), services.store)
    shown = services.identity.pending(owner, limit=1)[0]

    review = narrow.identity.pending(Caller("nia", "names", "api"), limit=1)[0]

    def values(fields: list[FieldWeight]) -> dict[str, tuple[str | None, str | None]]:
        return {f.field: (f.left, f.right) for f in fields}

    names = {"first_name", "last_name", "full_name"}
    assert values(review.fields) == {
        field: pair if field in names else (None, None)
        for field, pair in values(shown.fields).items()
    }
    assert [f.weight for f in review.fields] == [f.weight for f in shown.fields]


def test_placing_one_customer_merges_it_into_the_same_person(
    services: Services, owner: Caller, shop: list[dict[str, object]]
) -> None:
    robert = root_of(services, "robert")

    placed = services.identity.place(owner, "bob")

    assert (placed.decision, placed.other_id) == ("merged", robert)
    assert placed.match_probability is not None and placed.match_probability >= 0.99
    assert root_of(services, "bob") == robert
    bob_profile = services.profiles.get(owner, "bob")
    assert bob_profile.merges is not None
    assert [m.reason for m in bob_profile.merges] == ["resolve"]


def test_placing_a_household_member_leaves_them_apart(
    services: Services, owner: Caller, shop: list[dict[str, object]]
) -> None:
    placed = services.identity.place(owner, "mary")

    assert placed.decision in ("left", "queued")
    assert placed.other_id != root_of(services, "john")
    assert root_of(services, "mary") != root_of(services, "john")


def test_placing_a_record_without_a_first_name_at_a_household_leaves_it_unqueued(
    services: Services, owner: Caller
) -> None:
    learn_with_a_nameless_leeming(services, owner)
    john, mary = root_of(services, "john"), root_of(services, "mary")
    queued_before = len(services.identity.pending(owner, limit=500))

    placed = services.identity.place(owner, "leeming")

    leeming = root_of(services, "leeming")
    assert placed.decision == "left" and placed.other_id in (john, mary)
    assert leeming not in (john, mary)
    assert len(services.identity.pending(owner, limit=500)) == queued_before


def test_placing_does_not_merge_a_pair_staff_kept_apart(
    services: Services, owner: Caller, shop: list[dict[str, object]]
) -> None:
    services.identity.place(owner, "bob")
    robert = services.profiles.get(owner, "robert")
    assert robert.merges is not None
    services.merges.unmerge(owner, robert.merges[0].id)

    placed = services.identity.place(owner, "bob")

    # The shop has other Robert Smiths, scored near the review probability: the model's u
    # values come from a random sample of pairs, which the customers' random ids decide, so
    # Bob may be queued with one of them. Never with Robert, and never merged.
    bob, robert = root_of(services, "bob"), root_of(services, "robert")
    assert placed.decision in ("left", "queued")
    assert placed.other_id != robert
    assert bob != robert
    queued = {frozenset((r.left.id, r.right.id)) for r in services.identity.pending(owner, 500)}
    assert frozenset((bob, robert)) not in queued


def test_a_model_learned_from_a_random_sample_resolves_the_whole_store_as_well(
    services: Services, owner: Caller
) -> None:
    shop = ingest_shop(services)
    with services.store.unit_of_work() as uow:
        people = len(uow.identity.person_roots())
    whole = IdentityModel.from_json(services.identity.train(owner).model)

    def mixed_customers() -> int:
        persons: dict[str, set[object]] = defaultdict(set)
        for row in shop:
            persons[root_of(services, str(row["id"]))].add(row["person_id"])
        return sum(len(found) > 1 for found in persons.values())

    before = mixed_customers()

    sampled = services.identity.train(owner, sample=people * 2 // 3)

    model = IdentityModel.from_json(sampled.model)
    assert (sampled.records, model.records) == (people, people)
    # The prior is estimated on the sample and carried to the store: the same matches a
    # customer, within what a third fewer customers to learn from moves it.
    assert 0.67 < model.matches_per_record / whole.matches_per_record < 1.5
    detail = services.audit.find(owner, action="identity_learn")[-1].detail
    assert f"on {people * 2 // 3} profiles (a random sample of {people})" in detail
    result = services.identity.resolve(owner)
    assert result.merged >= 40
    assert mixed_customers() - before <= result.merged // 5
