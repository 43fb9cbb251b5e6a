"""A mailbox or a mobile is one person's: records sharing an e-mail address or a mobile number
whose first names agree are joined however their pairs scored; a shared mailbox (first names
that conflict, or a record without one) joins nobody. A nameless record's e-mail initial
("dhughes@...") says which housemate it is not."""

from __future__ import annotations

from typing import Any

from cornerstore.identity.resolution.clustering import (
    cluster_pairs,
    names_conflict,
    one_behind_identifier,
)
from cornerstore.identity.resolution.records import PreparedRecords, prepare_records

FIELDS = ["first_name", "last_name", "email", "phone", "address", "city", "postcode"]
MOVED = {"address": "176 Ings Court", "city": "Manchester", "postcode": "M14 6GQ"}
BRISTOL = {"address": "144 Fold Close", "city": "Bristol", "postcode": "BS7 5LY"}


def _prepared(rows: list[dict[str, Any]]) -> PreparedRecords:
    return prepare_records(rows, [str(i) for i in range(len(rows))], FIELDS, default_region="GB")


def test_a_customer_who_moved_and_married_is_one_person_with_her_mailbox() -> None:
    records = _prepared(
        [
            {**BRISTOL, "first_name": "Eleazer", "last_name": "Dunwood",
             "email": "eleazer.dunwood@example.com"},
            {**MOVED, "first_name": "Eleazer", "last_name": "Walker",
             "email": "eleazer.dunwood@example.com"},
        ]
    )  # fmt: skip

    clusters = cluster_pairs(records, [], [], [], min_weight=3.0)

    assert clusters.labels == [0, 0]
    assert clusters.joined_by_rule == [(0, 1)]


def test_one_mobile_and_one_first_name_are_one_person_after_a_move() -> None:
    records = _prepared(
        [
            {**BRISTOL, "first_name": "Victor", "last_name": "Moore", "phone": "07911 123456"},
            {**MOVED, "first_name": "Vic", "last_name": "Fairweather", "phone": "07911 123456"},
        ]
    )

    assert one_behind_identifier(records) == [(0, 1)]


def test_a_family_mailbox_joins_nobody() -> None:
    records = _prepared(
        [
            {**BRISTOL, "first_name": "Ann", "last_name": "Lee", "email": "lees@example.com"},
            {**MOVED, "first_name": "Ann", "last_name": "Lee", "email": "lees@example.com"},
            {**BRISTOL, "first_name": "Tom", "last_name": "Lee", "email": "lees@example.com"},
        ]
    )

    assert one_behind_identifier(records) == []
    assert cluster_pairs(records, [], [], [], min_weight=3.0).labels == [0, 1, 2]


def test_a_shared_landline_is_no_ones_own() -> None:
    records = _prepared(
        [
            {**BRISTOL, "first_name": "Ann", "last_name": "Lee", "phone": "0117 496 0111"},
            {**MOVED, "first_name": "Ann", "last_name": "Lee", "phone": "0117 496 0111"},
        ]
    )

    assert one_behind_identifier(records) == []


def test_a_nameless_order_from_a_mailbox_joins_nobody_it_may_be_a_housemates() -> None:
    records = _prepared(
        [
            {**BRISTOL, "first_name": "John", "last_name": "Leeming",
             "email": "theleemings@example.com"},
            {**BRISTOL, "last_name": "Leeming", "email": "theleemings@example.com"},
        ]
    )  # fmt: skip

    assert one_behind_identifier(records) == []


def test_an_initial_in_the_email_of_a_nameless_record_agrees_only_with_its_own_first_name() -> None:
    nameless = {"last_name": "hughes", "email_local": "dhughes", "address": "1 a st"}
    donald = {"first_name": "donald", "first_name_keys": ["donald"], "last_name": "hughes",
              "address": "1 a st"}  # fmt: skip
    arminda = {**donald, "first_name": "arminda", "first_name_keys": ["arminda"]}
    bob = {**donald, "first_name": "bob", "first_name_keys": ["robert"]}
    rsmith = {**nameless, "email_local": "rhughes"}

    assert not names_conflict(nameless, donald)
    assert names_conflict(nameless, arminda)
    assert not names_conflict(rsmith, bob)


def test_a_nameless_record_with_an_initial_email_joins_the_housemate_it_names() -> None:
    home = {**BRISTOL, "last_name": "Hughes", "phone": "0117 496 0111"}
    records = _prepared(
        [
            {**home, "first_name": "Donald", "email": "donald.hughes@example.com"},
            {**home, "first_name": "Arminda", "email": "arminda.hughes@example.com"},
            {**home, "email": "dhughes@example.net"},
        ]
    )

    # The nameless record fits both housemates equally; its e-mail's initial says Donald.
    clusters = cluster_pairs(records, [2, 2], [0, 1], [30.0, 30.0], min_weight=3.0)

    assert clusters.labels == [0, 1, 0]
