"""Households found among the records whatever their pairs score: by clustering (the file path
and resolve), by resolving the stored customers and by placing one; and pairs that can only say
"this household" kept out of the review queue. On SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

import pytest

from cornerstore.access.caller import Caller
from cornerstore.identity.resolution import learning
from cornerstore.identity.resolution.clustering import (
    MAX_NAMES_AT_HOME,
    cluster_pairs,
    household_or_nothing,
)
from cornerstore.identity.resolution.model import IdentityModel
from cornerstore.identity.resolution.records import PreparedRecords, prepare_records
from cornerstore.services import Services
from tests.identity.resolution.stored import TILL, ingest_shop, message, root_of
from tests.identity.resolution.test_arrivals import arrive, store_shop

FIELDS = ["first_name", "last_name", "email", "phone", "address"]


def _prepared(rows: list[dict[str, Any]]) -> PreparedRecords:
    return prepare_records(rows, [str(i) for i in range(len(rows))], FIELDS)


@pytest.fixture
def low_prior(monkeypatch: pytest.MonkeyPatch) -> None:
    """Learning keeps a prior 2**-16 of the one it estimated: a shop whose intake stitched
    most of its customers learns a low one, and then housemates score below the review
    probability."""
    estimate = learning.estimate_store_match_rate

    def estimate_low(model: IdentityModel, *args: Any, **kwargs: Any) -> dict[str, list[Any]]:
        pairs = estimate(model, *args, **kwargs)
        model.matches_per_record /= 2**16
        return pairs

    monkeypatch.setattr(learning, "estimate_store_match_rate", estimate_low)


def test_housemates_are_a_household_though_no_pair_of_theirs_was_scored() -> None:
    records = _prepared(
        [
            {"first_name": "john", "last_name": "lee", "address": "1 high st"},
            {"first_name": "mary", "last_name": "lee", "address": "1 high st"},
            {"first_name": "ann", "last_name": "lee", "address": "2 low st"},
            {"first_name": "jon", "last_name": "lee", "phone": "+441134960000"},
            {"first_name": "sue", "last_name": "lee", "phone": "+441134960000"},
        ]
    )

    clusters = cluster_pairs(records, [], [], [], min_weight=3.0)

    assert clusters.households == [(0, 1), (3, 4)]


def test_housemates_merged_into_one_cluster_are_no_household_of_it() -> None:
    records = _prepared(
        [
            {"first_name": "john", "last_name": "lee", "address": "1 high st"},
            {"first_name": "jon", "last_name": "lee", "address": "1 high st"},
            {"first_name": "mary", "last_name": "lee", "address": "1 high st"},
        ]
    )

    clusters = cluster_pairs(records, [0], [1], [20.0], min_weight=3.0)

    assert (clusters.labels, clusters.households) == ([0, 0, 2], [(0, 2)])


def test_a_home_with_more_first_names_than_a_household_has_is_none() -> None:
    names = [f"name{chr(97 + i)}{chr(97 + i)}x" for i in range(MAX_NAMES_AT_HOME + 1)]
    records = _prepared(
        [{"first_name": n, "last_name": "care", "address": "1 home"} for n in names]
    )

    assert cluster_pairs(records, [], [], [], min_weight=3.0).households == []


def test_a_nameless_record_sharing_only_a_home_can_say_no_more_than_the_household() -> None:
    home = {"last_name": "smith", "address": "1 a st"}
    records = _prepared(
        [
            {**home, "first_name": "fred", "email": "f@x.com", "phone": "07911 123456"},
            {**home, "email": "thesmiths@x.com"},  # the family mailbox
            {**home},
            {**home, "email": "fred.smith@y.com"},  # its e-mail gives the first name
            {**home, "phone": "07911 123456"},  # Fred's mobile
        ]
    )
    fred, family, bare, spelled, mobile = (records.row(i) for i in range(5))

    assert [
        household_or_nothing(fred, family),
        household_or_nothing(family, bare),
        household_or_nothing(fred, spelled),
        household_or_nothing(fred, mobile),
    ] == [True, True, False, False]


def test_resolving_relates_housemates_who_score_below_the_review_probability(
    services: Services, owner: Caller, low_prior: None
) -> None:
    ingest_shop(services)
    services.identity.train(owner)
    john, mary = root_of(services, "john"), root_of(services, "mary")
    explained = services.identity.explain(owner, john, mary)
    model = services.identity.active_model()
    assert explained.match_probability < model.review_probability

    result = services.identity.resolve(owner)

    assert result.households > 0
    assert services.profiles.get(owner, john).household == [mary]
    assert services.profiles.get(owner, mary).household == [john]


def test_placing_relates_a_housemate_who_scores_below_the_review_probability(
    services: Services, owner: Caller, low_prior: None
) -> None:
    store_shop(services, "robert", "john")
    services.identity.train(owner)

    arrive(services, "mary")

    john, mary = root_of(services, "john"), root_of(services, "mary")
    related = [services.profiles.get(owner, c).household for c in (john, mary)]
    assert john != mary and related == [[mary], [john]]


def _ingest_nameless_leemings(services: Services) -> None:
    """Two records with the Leemings' surname and address and no first name, one from the
    family mailbox."""
    home = {"last_name": "Leeming", "address": "3 Mill Lane", "city": "Leeds"}
    services.intake.ingest(
        [
            message("leeming", **home, postcode="LS1 4AB", email="theleemings@example.org"),
            message("leeming2", **home, postcode="LS1 4AB"),
        ],
        source=TILL,
    )


def test_nameless_records_at_a_household_are_queued_with_nobody(
    services: Services, owner: Caller
) -> None:
    ingest_shop(services)
    _ingest_nameless_leemings(services)
    services.identity.train(owner)

    services.identity.resolve(owner)

    john, mary = root_of(services, "john"), root_of(services, "mary")
    nameless = {root_of(services, "leeming"), root_of(services, "leeming2")}
    assert john != mary and not nameless & {john, mary}
    leemings = nameless | {john, mary}
    pending = services.identity.pending(owner, limit=100)
    queued = {r.left.id for r in pending} | {r.right.id for r in pending}
    assert queued and not (queued & leemings)
