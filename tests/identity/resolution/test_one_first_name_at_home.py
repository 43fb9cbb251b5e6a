"""At one home a first name names one person: records holding the same first name at one home
(its address in town and its phones, joined through any record holding two of them) are
joined however their pairs scored, by clustering (the file path), by resolving the stored
customers and by placing one. On SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from cornerstore.access.caller import Caller
from cornerstore.identity.resolution.clustering import cluster_pairs, one_at_home
from cornerstore.identity.resolution.records import PreparedRecords, prepare_records
from cornerstore.services import Services
from tests.identity.resolution.stored import TILL, WEB, ingest_shop, message, root_of
from tests.identity.resolution.test_arrivals import store_shop

FIELDS = ["first_name", "last_name", "email", "phone", "address", "city", "postcode"]
LANDLINE = "0131 496 0111"
HOME = {"last_name": "Nowak", "address": "137 Mill Lane", "city": "Edinburgh"}


def _prepared(rows: list[dict[str, Any]]) -> PreparedRecords:
    return prepare_records(rows, [str(i) for i in range(len(rows))], FIELDS, default_region="GB")


def _moved_aaron(housemate: dict[str, Any]) -> PreparedRecords:
    """Aaron at home; Aaron after moving to Leeds, giving the family's landline; a housemate."""
    return _prepared(
        [
            {**HOME, "first_name": "Aaron", "email": "aaron@example.com"},
            {"first_name": "Aaron", "last_name": "Nowak", "phone": LANDLINE, "city": "Leeds",
             "address": "4 Low Road", "postcode": "LS4 4AX"},
            housemate,
        ]
    )  # fmt: skip


def test_a_moved_customer_giving_the_familys_landline_is_one_person_with_himself_at_home() -> None:
    records = _moved_aaron({**HOME, "first_name": "Maria", "phone": LANDLINE})

    clusters = cluster_pairs(records, [], [], [], min_weight=3.0)

    assert clusters.labels == [0, 0, 2]
    assert clusters.joined_by_rule == [(0, 1)]


def test_a_landline_nobody_held_at_the_address_makes_no_home_of_it() -> None:
    records = _moved_aaron({**HOME, "first_name": "Maria", "phone": "0131 496 0222"})

    assert cluster_pairs(records, [], [], [], min_weight=3.0).labels == [0, 1, 2]


def test_the_same_street_in_another_town_is_another_home() -> None:
    records = _prepared(
        [
            {**HOME, "first_name": "Aaron"},
            {**HOME, "first_name": "Aaron", "city": "Cardiff"},
        ]
    )

    assert one_at_home(records) == []


def test_a_nickname_at_home_may_be_a_housemates_and_joins_nobody() -> None:
    records = _prepared(
        [
            {**HOME, "first_name": "Abbigale", "email": "abbigale@example.com"},
            {**HOME, "first_name": "Abbe", "email": "abbe@example.com"},
        ]
    )

    assert one_at_home(records) == []


def test_records_joined_at_home_stay_apart_from_a_cluster_whose_first_names_disagree() -> None:
    records = _prepared(
        [
            {**HOME, "first_name": "Aaron", "email": "aaron@example.com"},
            {**HOME, "first_name": "Aaron"},
            {"first_name": "Zoe", "last_name": "Nowak", "email": "aaron@example.com"},
        ]
    )

    # Aaron and Zoe share an e-mail and were clustered; the second Aaron joins them only if no
    # first name disagrees with his.
    clusters = cluster_pairs(records, [0], [2], [30.0], min_weight=3.0)

    assert clusters.labels == [0, 1, 0]


# Mary's order holds the family's landline and the address of John Leeming's own record
# (``stored.NAMED``'s "john"); John, moved to York, gave that landline.
MARY = message("mary2", first_name="Mary", last_name="Leeming", phone="0113 496 0111",
               address="3 Mill Lane", city="Leeds", postcode="LS1 4AB")  # fmt: skip
MOVED_JOHN = message("john2", first_name="John", last_name="Leeming", phone="0113 496 0111",
                     address="9 Park Road", city="York", postcode="YO1 7AB")  # fmt: skip


def test_resolving_merges_a_moved_customer_known_at_home_by_his_housemates_landline(
    services: Services, owner: Caller
) -> None:
    ingest_shop(services)
    services.intake.ingest([MARY, MOVED_JOHN], source=TILL)

    assert_resolved_as_one(services, owner, "john", "john2", housemate="mary2")


def test_placing_merges_a_moved_customer_known_at_home_by_his_housemates_landline(
    services: Services, owner: Caller
) -> None:
    store_shop(services, "robert", "john")
    services.intake.ingest([MARY], source=TILL)
    services.identity.train(owner)
    assert services.identity.drain(timeout=120)

    services.intake.ingest([MOVED_JOHN], source=TILL)
    assert services.identity.drain(timeout=120)

    assert root_of(services, "john2") == root_of(services, "john")
    assert root_of(services, "mary2") != root_of(services, "john")


# David Hussain told the web shop his address at 37 Chapel Place, then that he moved to 10
# Cavendish Avenue. Aisha Hussain's order holds 37 Chapel Place and the family's landline; a
# David Hussain who gives that landline and a Leeds address arrives at the till.
DAVID_BEFORE = message("david1", first_name="David", last_name="Hussain",
                       email="davidh39@example.com", address="37 Chapel Place", city="London",
                       postcode="NW5 6HZ")  # fmt: skip
DAVID_MOVED = message("david1", first_name="David", last_name="Hussain",
                      email="davidh39@example.com", address="10 Cavendish Avenue",
                      city="London", postcode="NW3 2QE")  # fmt: skip
AISHA = message("aisha", first_name="Aisha", last_name="Hussain", phone="020 7946 0111",
                address="37 Chapel Place", city="London", postcode="NW5 6HZ")  # fmt: skip
DAVID_AT_THE_TILL = message("david2", first_name="David", last_name="Hussain",
                            phone="020 7946 0111", address="5 Kirkgate", city="Leeds",
                            postcode="LS2 7DJ")  # fmt: skip


def test_resolving_finds_a_home_in_an_address_a_customer_held_before(
    services: Services, owner: Caller
) -> None:
    ingest_shop(services)
    services.intake.ingest([DAVID_BEFORE], source=WEB)
    services.intake.ingest([DAVID_MOVED], source=WEB)
    services.intake.ingest([AISHA, DAVID_AT_THE_TILL], source=TILL)

    assert_resolved_as_one(services, owner, "david1", "david2", housemate="aisha")


def assert_resolved_as_one(
    services: Services, owner: Caller, one: str, other: str, *, housemate: str
) -> None:
    """Customers ``one`` and ``other`` (anonymous ids) score below the match probability, and
    resolving makes them one customer, apart from their ``housemate``."""
    services.identity.train(owner)
    explained = services.identity.explain(owner, root_of(services, one), root_of(services, other))
    assert explained.match_probability < services.identity.active_model().match_probability

    services.identity.resolve(owner)

    assert root_of(services, other) == root_of(services, one)
    assert root_of(services, housemate) != root_of(services, one)


def test_two_homes_whose_keys_hash_alike_stay_two_homes(monkeypatch: Any) -> None:
    from cornerstore.identity.resolution import clustering

    # Every key hashing alike stands in for a 64-bit collision between two homes.
    monkeypatch.setattr(clustering, "_hashes", lambda rows, key: [0] * len(rows))
    records = _prepared(
        [
            {**HOME, "first_name": "Aaron"},
            {**HOME, "first_name": "Aaron", "email": "aaron@example.com"},
            {**HOME, "first_name": "Aaron", "address": "4 Low Road", "city": "Leeds"},
        ]
    )

    assert one_at_home(records) == [(0, 1)]
