"""Recorded, reversible merges: undoing a merge restores both profiles exactly."""

from __future__ import annotations

import pytest

from cornerstore.access.caller import Caller
from cornerstore.errors import Conflict, Forbidden, InvalidInput, NotFound, Refused
from cornerstore.intake.service import Source
from cornerstore.profiles.model import Profile
from cornerstore.services import Services
from tests.factories import identify, track

WEB = Source("web-shop", "web")
SUPPORT = Source("support-desk", "support")


def comparable(p: Profile) -> tuple[object, ...]:
    """A profile without the merge history, which an undo rightly adds to."""
    return (p.id, p.kind, p.identifiers, p.traits, p.summary, p.accounts)


def two_customers(services: Services) -> None:
    services.intake.ingest(
        [
            identify("web-1", email="ann@example.com", first_name="Ann"),
            track("Order Completed", user_id="web-1", total=20),
        ],
        source=WEB,
    )
    services.intake.ingest(
        [
            identify(anonymous_id="call-5", phone="07700900555", first_name="Annie"),
            track("Case Opened", anonymous_id="call-5", topic="late delivery"),
        ],
        source=SUPPORT,
    )


def test_undoing_a_stitched_merge_restores_both_profiles_exactly(
    services: Services, owner: Caller
) -> None:
    two_customers(services)
    before_a = services.profiles.get(owner, "web-1")
    before_b = services.profiles.get(owner, "call-5")
    services.intake.ingest([identify("web-1", phone="07700 900555")], source=WEB)
    merged = services.profiles.get(owner, "web-1")
    assert merged.merged_profiles == [before_b.id]
    assert merged.summary.events == 5

    record = services.merges.unmerge(owner, before_b.id)

    after_a = services.profiles.get(owner, before_a.id)
    after_b = services.profiles.get(owner, before_b.id)
    assert record.undone_by == owner.actor
    assert comparable(after_b) == comparable(before_b)
    # The merging message itself (an identify with the phone) stays with its sender.
    assert after_a.summary.events == before_a.summary.events + 1
    assert after_a.identifiers == before_a.identifiers
    assert {k: v for k, v in after_a.traits.items() if k != "phone"} == before_a.traits
    assert after_a.traits["phone"].value == "07700 900555"


def test_a_manual_merge_can_be_undone_by_its_id(services: Services, owner: Caller) -> None:
    two_customers(services)
    a = services.profiles.get(owner, "web-1")
    b = services.profiles.get(owner, "call-5")

    record = services.merges.merge(owner, a.id, b.id)
    joined = services.profiles.get(owner, b.id)
    services.merges.unmerge(owner, record.id)

    assert joined.id == a.id
    assert joined.traits["first_name"].value == "Annie"  # the latest observation wins
    assert joined.traits["first_name"].observations == 2
    assert comparable(services.profiles.get(owner, a.id)) == comparable(a)
    assert comparable(services.profiles.get(owner, b.id)) == comparable(b)


def test_undoing_an_earlier_merge_after_a_later_one_keeps_the_later_one(
    services: Services, owner: Caller
) -> None:
    for i in range(3):
        services.intake.ingest(
            [identify(anonymous_id=f"d{i}", email=f"p{i}@example.com")], source=WEB
        )
    ids = [services.profiles.get(owner, f"d{i}").id for i in range(3)]
    first = services.merges.merge(owner, ids[0], ids[1])
    second = services.merges.merge(owner, ids[0], ids[2])

    services.merges.unmerge(owner, first.id)
    services.merges.unmerge(owner, second.id)

    assert [services.profiles.get(owner, i).id for i in ids] == ids


def test_a_merge_cannot_be_undone_twice(services: Services, owner: Caller) -> None:
    two_customers(services)
    a, b = (services.profiles.get(owner, r).id for r in ("web-1", "call-5"))
    record = services.merges.merge(owner, a, b)
    services.merges.unmerge(owner, record.id)

    with pytest.raises(Conflict, match="already undone"):
        services.merges.unmerge(owner, record.id)


def test_merging_two_different_user_ids_by_hand_is_refused(
    services: Services, owner: Caller
) -> None:
    services.intake.ingest([identify("u1"), identify("u2")], source=WEB)
    a, b = (services.profiles.get(owner, r).id for r in ("u1", "u2"))

    with pytest.raises(Refused, match="at most 1 user_id"):
        services.merges.merge(owner, a, b)


def test_unmerging_a_profile_that_was_never_merged_says_so(
    services: Services, owner: Caller
) -> None:
    services.intake.ingest([identify("u1")], source=WEB)
    a = services.profiles.get(owner, "u1").id

    with pytest.raises(InvalidInput, match="was not merged"):
        services.merges.unmerge(owner, a)
    with pytest.raises(NotFound):
        services.merges.unmerge(owner, "cus_0000000000000000")
    with pytest.raises(NotFound):
        services.merges.unmerge(owner, 999)


def test_customers_are_merged_by_any_reference_and_a_missing_one_is_named(
    services: Services, owner: Caller
) -> None:
    two_customers(services)
    ann, annie = (services.profiles.get(owner, r).id for r in ("web-1", "call-5"))

    with pytest.raises(NotFound, match=r"^other: no such customer$"):
        services.merges.merge(owner, "ann@example.com", "nobody@example.com")
    with pytest.raises(NotFound, match=r"^customer: no such customer$"):
        services.merges.merge(owner, "cus_0000000000000000", annie)
    record = services.merges.merge(owner, "ann@example.com", "07700 900555")

    assert (record.winner_id, record.loser_id, record.reason) == (ann, annie, "manual")


def test_recent_merges_lists_the_latest_first_with_undone_ones_marked(
    services: Services, owner: Caller
) -> None:
    two_customers(services)
    services.intake.ingest(
        [
            identify(anonymous_id="web-2", email="bo@example.com"),
            identify(anonymous_id="web-3", email="cy@example.com"),
        ],
        source=WEB,
    )
    a, b, c, d = (services.profiles.get(owner, r).id for r in ("web-1", "call-5", "web-2", "web-3"))
    first = services.merges.merge(owner, a, b)
    second = services.merges.merge(owner, c, d)
    services.merges.unmerge(owner, first.id)

    recent = services.identity.recent_merges(owner, limit=5)

    assert [m.id for m in recent] == [second.id, first.id]
    assert [m.undone_by for m in recent] == [None, owner.actor]


def test_recent_merges_are_refused_to_a_role_without_the_merges_section(
    services: Services,
) -> None:
    with pytest.raises(Forbidden):
        services.identity.recent_merges(Caller("sam", "shipping", "api"))


def test_a_branch_bound_user_sees_only_the_recent_merges_of_their_branch(
    services: Services, owner: Caller
) -> None:
    services.intake.ingest(
        [
            identify(anonymous_id="leeds-1", email="lee@example.com", branch="Leeds"),
            identify(anonymous_id="leeds-2", email="lee.b@example.com", branch="Leeds"),
            identify(anonymous_id="york-1", email="yan@example.com", branch="York"),
            identify(anonymous_id="york-2", email="yan.b@example.com", branch="York"),
            identify(anonymous_id="no-branch-1", email="nia@example.com"),
            identify(anonymous_id="no-branch-2", email="nia.b@example.com"),
        ],
        source=WEB,
    )
    ids = {r: services.profiles.get(owner, r).id for r in ("leeds-1", "leeds-2", "york-1")}
    leeds = services.merges.merge(owner, ids["leeds-1"], ids["leeds-2"])
    york = services.merges.merge(owner, ids["york-1"], "york-2")
    neither = services.merges.merge(owner, "no-branch-1", "no-branch-2")
    in_leeds = Caller("sam", "support", "console", branch="Leeds")

    seen = services.identity.recent_merges(in_leeds, limit=5)

    assert [m.id for m in seen] == [neither.id, leeds.id]
    assert york.id in [m.id for m in services.identity.recent_merges(owner, limit=5)]


def test_a_merge_batch_merges_in_order_and_stops_at_the_first_refusal(
    services: Services, owner: Caller
) -> None:
    services.intake.ingest(
        [identify("u1"), identify("u2"), *(identify(anonymous_id=f"a{i}") for i in range(4))],
        source=WEB,
    )
    u1, u2 = (services.profiles.get(owner, r).id for r in ("u1", "u2"))
    a = [services.profiles.get(owner, f"a{i}").id for i in range(4)]

    outcomes = services.merges.merge_batch(
        owner, [(u1, a[0]), (a[0], u1), (a[1], u1), (u1, u2), (a[2], a[3])]
    )

    # Two user ids are refused, as merge refuses them; the pair after it is not tried.
    assert outcomes == ["merged", "one", "merged", "refused"]
    assert services.profiles.get(owner, "a1").id == services.profiles.get(owner, "u1").id
    assert services.profiles.get(owner, "a2").id != services.profiles.get(owner, "a3").id
    customer = services.profiles.get(owner, "u1").id
    with services.store.unit_of_work() as uow:
        second, first = uow.merges.recent(10)
        assert uow.merges.refusals() == []  # as a refused merge, nothing half-written
    # Which of two profiles made in the same instant survives is the stitcher's rule, not the
    # batch's: the records say who joined whom, in the order tried.
    assert {first.winner_id, first.loser_id} == {u1, a[0]}
    assert {second.winner_id, second.loser_id} == {first.winner_id, a[1]}
    assert second.winner_id == customer
    assert (first.reason, second.reason) == ("resolve", "resolve")
    audited = services.audit.find(owner, action="merge")
    assert sorted(e.customer_id for e in audited) == sorted([first.winner_id, second.winner_id])
