"""A move counts once; a mobile is one person's, a landline and an address the home's."""

from __future__ import annotations

from typing import Any

from cornerstore.identity.resolution.clustering import cluster_pairs, names_conflict
from cornerstore.identity.resolution.comparisons import city_comparison, postcode_comparison
from cornerstore.identity.resolution.moves import move_evidence
from cornerstore.identity.resolution.records import prepare_record, prepare_records

HOME = {"address": "12 High Street", "postcode": "YO31 4YT", "city": "York"}
MOVED = {"address": "4 Mill Lane", "postcode": "LS6 2AB", "city": "Leeds"}


def _label(comparison: Any, a: dict[str, Any], b: dict[str, Any]) -> str:
    left, right = prepare_record(a), prepare_record(b)
    return str(comparison.levels[comparison.level_of(left, right)].label)


def test_after_a_move_the_postcode_and_town_are_not_counted_again() -> None:
    assert _label(postcode_comparison(True), HOME, MOVED) == (
        "postcode missing, or another one at another address"
    )
    assert _label(city_comparison(True), HOME, MOVED) == (
        "city missing, or another one at another address or postcode"
    )


def test_another_postcode_at_the_same_address_still_counts() -> None:
    same_street = {**HOME, "postcode": "LS6 2AB", "city": "Leeds"}

    assert _label(postcode_comparison(True), HOME, same_street) == "all other"
    assert _label(city_comparison(True), HOME, same_street) == (
        "city missing, or another one at another address or postcode"
    )


def test_without_addresses_another_postcode_counts_the_move() -> None:
    home = {"postcode": "YO31 4YT", "city": "York"}
    moved = {"postcode": "LS6 2AB", "city": "Leeds"}

    assert _label(postcode_comparison(True), home, moved) == "all other"
    assert _label(city_comparison(True), home, moved) == (
        "city missing, or another one at another address or postcode"
    )


def test_the_same_town_after_a_move_still_agrees() -> None:
    assert _label(city_comparison(True), HOME, {**MOVED, "city": "York"}) == "exact"


def test_a_shared_mobile_outweighs_first_names_a_shared_landline_does_not() -> None:
    som = {"first_name": "Som", "last_name": "White", "address": "95 Side Place"}
    samuel = {**som, "first_name": "Samuel"}

    def conflict(phone: str) -> bool:
        return names_conflict(
            prepare_record({**som, "phone": phone}), prepare_record({**samuel, "phone": phone})
        )

    assert (conflict("07911 123456"), conflict("0113 496 0000")) == (False, True)


def _home_of_two(nameless: dict[str, Any]) -> list[int]:
    """John and Mary Lee at one address and landline, John on two records (one with his
    mobile), and a record without a first name linked to John; labels of the four records."""
    home = {"last_name": "Lee", "address": "1 High Street", "phone": "0113 496 0000"}
    rows = [
        {**home, "first_name": "John", "email": "john@example.com", "phone": "07911 000003"},
        {**home, "first_name": "John"},
        {**home, "first_name": "Mary", "email": "mary@example.com", "phone": "07911 000001"},
        {**home, **nameless},
    ]
    fields = ["first_name", "last_name", "email", "phone", "address"]
    records = prepare_records(rows, [str(i) for i in range(len(rows))], fields)
    # John's two records, John and Mary (a household, scored high), and the nameless record
    # linked to John; its link to Mary falls below the threshold (her mobile differs).
    left, right, weights = [0, 0, 1, 3, 3], [1, 2, 2, 0, 2], [30.0, 25.0, 25.0, 20.0, 1.0]
    return cluster_pairs(records, left, right, weights, 10.0).labels


def test_a_nameless_record_does_not_join_a_housemate_on_what_the_home_shares() -> None:
    assert _home_of_two({}) == [0, 0, 2, 3]


def test_a_nameless_record_joins_the_housemate_whose_mobile_or_e_mail_it_shares() -> None:
    assert _home_of_two({"phone": "07911 000003"}) == [0, 0, 2, 0]
    assert _home_of_two({"email": "john@example.com"}) == [0, 0, 2, 0]


def _pairs_sharing_an_email(second: dict[str, str], count: int = 25) -> Any:
    rows = []
    for k in range(count):
        email = f"person{k}@example.com"
        rows += [{"email": email, **HOME}, {"email": email, **second}]
    fields = ["email", "address", "postcode", "city"]
    return prepare_records(rows, [str(i) for i in range(len(rows))], fields)


def test_a_file_whose_people_change_address_and_postcode_together_shows_moves() -> None:
    evidence = move_evidence(_pairs_sharing_an_email(MOVED))

    assert (evidence.other_address, evidence.other_postcode, evidence.shows_moves) == (
        25,
        25,
        True,
    )


def test_a_file_whose_addresses_differ_alone_shows_no_moves() -> None:
    # A duplicate with its address corrupted on its own, as FEBRL makes them.
    evidence = move_evidence(_pairs_sharing_an_email({**HOME, "address": "7 Orchard Grove"}))

    assert (evidence.other_address, evidence.other_postcode, evidence.shows_moves) == (
        25,
        0,
        False,
    )
