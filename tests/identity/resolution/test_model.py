"""Training, the model as JSON, clustering without chains, households kept apart."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest

from cornerstore.demo.messy import MessyCustomers
from cornerstore.errors import InvalidInput
from cornerstore.identity.resolution.batch import resolve
from cornerstore.identity.resolution.clustering import cluster_pairs, names_conflict
from cornerstore.identity.resolution.comparisons import phone_comparison
from cornerstore.identity.resolution.model import IdentityModel
from cornerstore.identity.resolution.placing import Placer
from cornerstore.identity.resolution.records import (
    PreparedRecords,
    prepare_record,
    prepare_records,
)
from cornerstore.identity.resolution.scorer import Candidate
from cornerstore.identity.resolution.splink_engine import (
    MIN_MATCHES_PER_RECORD,
    _with_parameters,
    train_model,
)
from tests.identity.resolution.conftest import FIELDS


def test_a_trained_model_has_m_and_u_for_every_level_but_the_null_level(
    messy_records: PreparedRecords, messy_model: IdentityModel
) -> None:
    missing = [
        (c.name, lv.label)
        for c in messy_model.comparisons
        for lv in c.levels[1:]
        if lv.m is None or lv.u is None
    ]

    assert missing == []
    assert messy_model.records == len(messy_records)
    assert 0.1 < messy_model.matches_per_record < 3


def test_the_model_survives_a_trip_through_json(messy_model: IdentityModel) -> None:
    again = IdentityModel.from_json(messy_model.to_json())

    assert again == messy_model


def test_text_that_is_not_a_model_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not a cornerstore identity model"):
        IdentityModel.from_json('{"format": "something else"}')


def test_exact_weights_are_the_same_at_every_data_size(messy_model: IdentityModel) -> None:
    # The prior falls with size, so the same probability asks for more evidence in more data.
    small, large = messy_model.prior_weight(5_000), messy_model.prior_weight(1_000_000)

    assert large < small - 7


def test_records_of_one_person_end_in_one_cluster_and_clusters_stay_small(
    messy_rows: list[dict[str, Any]], messy_records: PreparedRecords, messy_model: IdentityModel
) -> None:
    result = resolve(messy_records, messy_model)
    labels = result.clusters.labels
    people = [r["person_id"] for r in messy_rows]
    pure = sum(
        len({people[i] for i, lab in enumerate(labels) if lab == label}) == 1
        for label in set(labels)
    )

    assert max(Counter(labels).values()) <= 8
    assert pure / len(set(labels)) > 0.95
    assert len(set(labels)) < len(labels) * 0.75


HOUSEHOLD = [
    {"first_name": "John", "last_name": "Lee", "email": "john.lee@example.com",
     "phone": "01904 611111", "address": "4 Mill Lane", "city": "York", "postcode": "YO1 7AB"},
    {"first_name": "Mary", "last_name": "Lee", "email": "mary.lee@example.com",
     "phone": "01904 611111", "address": "4 Mill Lane", "city": "York", "postcode": "YO1 7AB"},
    {"first_name": "Johnny", "last_name": "Lee", "email": "john.lee@example.com",
     "phone": "", "address": "4 Mill Ln", "city": "York", "postcode": "yo17ab"},
]  # fmt: skip


def test_a_household_is_kept_apart_and_reported_as_a_relation(
    messy_rows: list[dict[str, Any]], messy_model: IdentityModel
) -> None:
    rows = messy_rows + HOUSEHOLD
    ids = [r["id"] for r in messy_rows] + ["john", "mary", "johnny"]
    records = prepare_records(rows, ids, FIELDS)
    john, mary, johnny = len(messy_rows), len(messy_rows) + 1, len(messy_rows) + 2

    clusters = resolve(records, messy_model).clusters

    assert clusters.labels[john] == clusters.labels[johnny]
    assert clusters.labels[john] != clusters.labels[mary]
    relation = tuple(sorted((clusters.labels[john], clusters.labels[mary])))
    assert relation in clusters.households


def test_a_chain_through_a_nameless_record_does_not_join_two_people() -> None:
    rows = [
        {"first_name": "Ann", "last_name": "Hall", "email": "ann@example.com"},
        {"first_name": "", "last_name": "Hall", "email": "ann@example.com", "phone": "07700900123"},
        {"first_name": "Tom", "last_name": "Hall", "phone": "07700900123"},
    ]
    records = prepare_records(rows, ["a", "x", "t"], ["first_name", "last_name", "email", "phone"])

    clusters = cluster_pairs(records, [0, 1], [1, 2], [20.0, 12.0], min_weight=5.0)

    assert clusters.labels == [0, 0, 2]
    assert clusters.refused_merges == 1
    assert clusters.households == []


def _two_pairs_of_namesakes() -> PreparedRecords:
    rows = [
        {"first_name": "John", "last_name": "Smith", "email": "js@example.com", "city": "Leeds"},
        {"first_name": "John", "last_name": "Smith", "email": "js@example.com"},
        {"first_name": "John", "last_name": "Smith", "phone": "07700900123", "city": "Leeds"},
        {"first_name": "Jon", "last_name": "Smith", "phone": "07700900123"},
    ]
    fields = ["first_name", "last_name", "email", "phone", "city"]
    return prepare_records(rows, ["a1", "a2", "b1", "b2"], fields)


@pytest.mark.parametrize(
    ("left", "right", "weak"),
    [
        pytest.param([0, 2, 1], [1, 3, 2], 1, id="one weak link"),
        # Both weak pairs pass through record 2: one record's word, linked to both of a1, a2.
        pytest.param([0, 2, 1, 0], [1, 3, 2, 2], 2, id="one record linked to a whole cluster"),
    ],
)
def test_one_weak_link_does_not_bridge_two_clusters_of_namesakes(
    left: list[int], right: list[int], weak: int
) -> None:
    records = _two_pairs_of_namesakes()
    weights = [30.0, 30.0] + [7.0] * (len(left) - 2)

    clusters = cluster_pairs(records, left, right, weights, min_weight=6.0)

    assert clusters.labels == [0, 0, 2, 2]
    assert clusters.weak_bridges == weak


def test_two_clusters_linked_by_a_second_scored_pair_are_joined() -> None:
    records = _two_pairs_of_namesakes()

    clusters = cluster_pairs(
        records, [0, 2, 1, 0], [1, 3, 2, 3], [30.0, 30.0, 7.0, 2.0], min_weight=6.0
    )

    assert clusters.labels == [0, 0, 0, 0]
    assert clusters.weak_bridges == 0


def test_a_strong_link_joins_two_clusters_on_its_own() -> None:
    records = _two_pairs_of_namesakes()

    clusters = cluster_pairs(records, [0, 2, 1], [1, 3, 2], [30.0, 30.0, 20.0], min_weight=6.0)

    assert clusters.labels == [0, 0, 0, 0]


def _five_namesakes() -> PreparedRecords:
    rows = [{"first_name": "John", "last_name": "Smith"} for _ in range(5)]
    return prepare_records(rows, ["a1", "a2", "a3", "b1", "b2"], ["first_name", "last_name"])


def test_a_cluster_past_four_records_grows_only_by_a_cluster_linked_record_by_record() -> None:
    records = _five_namesakes()
    inside = ([0, 1, 3], [1, 2, 4], [30.0, 30.0, 30.0])

    clusters = cluster_pairs(records, inside[0] + [0], inside[1] + [3], inside[2] + [25.0], 6.0)

    assert clusters.labels == [0, 0, 0, 3, 3]
    assert clusters.sparse_joins == 1


def test_a_cluster_past_four_records_takes_a_cluster_whose_every_record_links_to_it() -> None:
    records = _five_namesakes()
    left, right, weights = [0, 1, 3, 0, 2], [1, 2, 4, 3, 4], [30.0, 30.0, 30.0, 25.0, 1.0]

    clusters = cluster_pairs(records, left, right, weights, min_weight=6.0)

    assert clusters.labels == [0, 0, 0, 0, 0]
    assert clusters.sparse_joins == 0


def test_first_names_merely_alike_at_one_address_are_two_people_of_a_household() -> None:
    rows = [
        {"first_name": "Anne", "last_name": "Bridgeham", "address": "132 Regent Lane"},
        {"first_name": "Annette", "last_name": "Bridgeham", "address": "132 Regent Lane"},
        {"first_name": "Annette", "last_name": "Bridgeham", "address": "9 Mill Road"},
    ]
    records = prepare_records(rows, ["a", "b", "c"], ["first_name", "last_name", "address"])

    clusters = cluster_pairs(records, [0, 0], [1, 2], [20.0, 10.0], min_weight=5.0)

    assert clusters.labels == [0, 1, 0]
    assert clusters.households == [(0, 1)]


def _name_typed_wrong_two_ways(middle: str) -> PreparedRecords:
    # Xanthe is no name the nickname list knows: only a record spelling it says what the two
    # typos slipped from.
    rows = [
        {"first_name": "Xnathe", "last_name": "Greendale", "address": "174 Garth Way"},
        {"first_name": middle, "last_name": "Greendale", "address": "174 Garth Way"},
        {"first_name": "Xantne", "last_name": "Greendale", "address": "174 Garth Way"},
    ]
    return prepare_records(rows, ["a", "b", "c"], ["first_name", "last_name", "address"])


def test_a_name_typed_wrong_two_ways_is_one_person_beside_the_name_both_slipped_from() -> None:
    records = _name_typed_wrong_two_ways("Xanthe")

    clusters = cluster_pairs(records, [0, 1], [1, 2], [20.0, 18.0], min_weight=5.0)

    assert clusters.labels == [0, 0, 0]
    assert clusters.refused_merges == 0


def test_two_typos_of_a_name_stay_apart_without_the_name_itself() -> None:
    records = _name_typed_wrong_two_ways("")

    clusters = cluster_pairs(records, [0, 1], [1, 2], [20.0, 10.0], min_weight=5.0)

    assert clusters.labels == [0, 0, 2]
    assert clusters.refused_merges == 1


def test_two_typos_of_a_name_the_list_knows_are_one_person_without_the_name_itself() -> None:
    rows = [
        {"first_name": "Thomts", "last_name": "Smith", "address": "108 Wold Terrace"},
        {"first_name": "Thonas", "last_name": "Smith", "address": "108 Wold Terrace"},
        {"first_name": "Willaim", "last_name": "Northham", "address": "49 Hawthorn Way"},
        {"first_name": "Boll", "last_name": "Northham", "address": "49 Hawthorn Way"},
    ]
    records = prepare_records(rows, ["a", "b", "c", "d"], ["first_name", "last_name", "address"])

    clusters = cluster_pairs(records, [0, 2], [1, 3], [20.0, 18.0], min_weight=5.0)

    assert clusters.labels == [0, 0, 2, 2]
    assert clusters.refused_merges == 0


def test_short_names_two_letters_apart_conflict_even_beside_one_a_letter_from_each() -> None:
    rows = [
        {"first_name": "Tim", "last_name": "Lee", "address": "1 Mill Road"},
        {"first_name": "Jim", "last_name": "Lee", "address": "1 Mill Road"},
        {"first_name": "Jem", "last_name": "Lee", "address": "1 Mill Road"},
    ]
    records = prepare_records(rows, ["a", "b", "c"], ["first_name", "last_name", "address"])

    clusters = cluster_pairs(records, [0, 1], [1, 2], [20.0, 18.0], min_weight=5.0)

    assert clusters.labels == [0, 0, 2]
    assert clusters.refused_merges == 1


def test_a_nameless_record_as_close_to_two_people_of_a_household_joins_neither() -> None:
    rows = [
        {"first_name": "Ann", "last_name": "Hall", "address": "1 High St", "phone": "07700900123"},
        {"first_name": "", "last_name": "Hall", "address": "1 High St"},
        {"first_name": "Tom", "last_name": "Hall", "address": "1 High St", "phone": "07700900123"},
    ]
    fields = ["first_name", "last_name", "address", "phone"]
    records = prepare_records(rows, ["a", "x", "t"], fields)

    clusters = cluster_pairs(records, [0, 1, 0], [1, 2, 2], [20.0, 19.5, 15.0], min_weight=5.0)

    assert clusters.labels == [0, 1, 2]
    assert clusters.ambiguous == 2
    assert clusters.households == [(0, 2)]


@pytest.mark.parametrize(
    ("own", "value"), [("email", "jkirkcroft@example.com"), ("phone", "07911 123456")]
)
def test_a_nameless_record_sharing_an_email_or_mobile_with_one_household_member_joins_them(
    own: str, value: str
) -> None:
    # Jessica and Cameron share a surname and an address; the record without a first name
    # links to both almost equally. Jessica's e-mail (or mobile) on it says which of the two it
    # is: a household shares its address and landline, not those.
    home = {"last_name": "Kirkcroft", "address": "102 Beech Dr"}
    rows = [
        {**home, "first_name": "Jessica", own: value},
        {**home, own: value},
        {**home, "first_name": "Cameron", "phone": "0113 496 0000"},
    ]
    fields = ["first_name", "last_name", "email", "phone", "address"]
    records = prepare_records(rows, ["j", "x", "c"], fields)

    clusters = cluster_pairs(records, [0, 1, 0], [1, 2, 2], [45.9, 45.1, 15.0], min_weight=5.0)

    assert clusters.labels == [0, 0, 2]
    assert clusters.ambiguous == 0
    assert clusters.households == [(0, 2)]


def test_a_nameless_record_with_the_household_landline_stays_torn_between_its_members() -> None:
    home = {"last_name": "Kirkcroft", "address": "102 Beech Dr", "phone": "0113 496 0000"}
    rows = [{**home, "first_name": "Jessica"}, home, {**home, "first_name": "Cameron"}]
    fields = ["first_name", "last_name", "phone", "address"]
    records = prepare_records(rows, ["j", "x", "c"], fields)

    clusters = cluster_pairs(records, [0, 1, 0], [1, 2, 2], [45.9, 45.1, 15.0], min_weight=5.0)

    assert clusters.labels == [0, 1, 2]
    assert clusters.ambiguous == 2


def test_a_nameless_record_whose_email_names_another_person_stays_out_of_a_household() -> None:
    rows = [
        {"first_name": "Arminda", "last_name": "Hughes", "address": "2 Royd Tce"},
        {"last_name": "Hughes", "email": "donald.hughes42@example.com", "address": "2 Royd Tce"},
        {"first_name": "Donald", "last_name": "Hughes", "email": "donald.hughes42@example.com"},
    ]
    fields = ["first_name", "last_name", "email", "address"]
    records = prepare_records(rows, ["a", "x", "d"], fields)

    clusters = cluster_pairs(records, [0, 1], [1, 2], [25.0, 18.0], min_weight=5.0)

    assert clusters.labels == [0, 1, 1]
    assert clusters.households == [(0, 1)]


def test_a_record_with_first_and_last_name_swapped_and_mistyped_is_the_same_person() -> None:
    def row(first: str, last: str) -> dict[str, Any]:
        return prepare_record({"first_name": first, "last_name": last})

    assert not names_conflict(row("Khna", "Bess"), row("Bessie", "Khan"))
    assert not names_conflict(row("Johnson", "Ara"), row("Arry", "Johnson"))
    assert names_conflict(row("Smith", "Mary"), row("John", "Smith"))
    assert names_conflict(row("Smiht", "Mary"), row("John", "Smith"))


def test_the_same_email_outweighs_first_names_that_disagree() -> None:
    ann = {"first_name": "abijah", "first_name_keys": ["abijah"], "email": "at@example.com"}
    typed_wrong = {"first_name": "bige", "first_name_keys": ["bige"], "email": "at@example.com"}
    sister = {"first_name": "mary", "first_name_keys": ["mary"], "email": "mary@example.com"}

    assert not names_conflict(ann, typed_wrong)
    assert names_conflict(ann, sister)


def test_the_same_mobile_outweighs_first_names_that_disagree_and_a_shared_landline_does_not() -> (
    None
):
    def row(first: str, phone: str) -> dict[str, Any]:
        return prepare_record(
            {
                "first_name": first,
                "last_name": "Blackford",
                "address": "166 Moor Pl",
                "phone": phone,
            }
        )

    mobile, landline = "07911 123456", "0121 496 0000"

    assert not names_conflict(row("Lizzie", mobile), row("Lez", mobile))
    assert names_conflict(row("Lizzie", landline), row("Lez", landline))
    assert names_conflict(row("Lizzie", mobile), row("Lez", "07911 123457"))


def test_a_mistyped_nickname_does_not_conflict_with_the_name() -> None:
    def row(first: str) -> dict[str, Any]:
        return prepare_record({"first_name": first, "last_name": "Lee"})

    assert not names_conflict(row("Mragie"), row("Margaret"))
    assert names_conflict(row("Robert"), row("William"))


@pytest.mark.parametrize("email", [lambda i: "", lambda i: f"only{i}@example.com"])
def test_an_email_column_that_is_empty_or_never_repeats_still_trains(
    messy_rows: list[dict[str, Any]], email: Any
) -> None:
    rows = [{**r, "email": email(i)} for i, r in enumerate(messy_rows[:600])]
    records = prepare_records(rows, [r["id"] for r in rows], ["first_name", "last_name", "email",
                                                             "postcode"])  # fmt: skip

    result = resolve(records)

    assert len(result.clusters.labels) == 600
    assert 300 < len(set(result.clusters.labels)) < 600


def test_training_on_records_that_share_no_identifier_starts_from_one_match_per_hundred() -> None:
    # One record of each household, so no two share an e-mail, a phone or an address, as no
    # two stitched customers do: the deterministic rules find no match.
    once: dict[int, dict[str, Any]] = {}
    for row in MessyCustomers(people=300, seed=2).records():
        once.setdefault(row["household_id"], row)
    rows = list(once.values())
    records = prepare_records(rows, [r["id"] for r in rows], FIELDS)

    # The stored-customer path trains so (it refuses a backwards model itself, after keeping
    # an earlier model's weights).
    model = train_model(records, seed=0, refuse_backwards=False)

    assert model.matches_per_record == MIN_MATCHES_PER_RECORD


def test_disagreeing_on_a_field_is_never_weighed_as_impossible() -> None:
    trained = {
        "comparison_levels": [
            {},
            {"m_probability": 0.9, "u_probability": 1e-4},
            {"m_probability": 0.1, "u_probability": 1e-3},
            {"m_probability": 1e-48, "u_probability": 0.999},
        ]
    }

    phone = _with_parameters(phone_comparison(), trained, sampled=1e5)

    assert [level.m for level in phone.levels[1:]] == [0.9, 0.1, 1e-3]


# -- the match rate, estimated again from the model's own pairs ------------------------------------
def test_the_match_rate_comes_from_the_pairs_the_model_is_sure_of() -> None:
    # 200 records; 300 of their pairs plainly one person, 1,000 plainly two: three matches a
    # record, whatever training's rules guessed.
    guessed_low = IdentityModel([], matches_per_record=0.5)
    guessed_high = IdentityModel([], matches_per_record=8.0)
    evidence = [25.0] * 300 + [-25.0] * 1000

    shift_up = guessed_low.estimate_match_rate(evidence, others=199, pairs=19_900)
    shift_down = guessed_high.estimate_match_rate(evidence, others=199, pairs=19_900)

    assert guessed_low.matches_per_record == pytest.approx(3.0, rel=1e-3)
    assert guessed_high.matches_per_record == pytest.approx(3.0, rel=1e-3)
    assert (shift_up, shift_down) == (
        pytest.approx(2.585, abs=1e-3),  # log2(3 / 0.5)
        pytest.approx(-1.415, abs=1e-3),  # log2(3 / 8)
    )


def test_pairs_whose_first_names_conflict_do_not_count_as_matches_in_the_match_rate() -> None:
    from cornerstore.identity.resolution.batch import with_estimated_match_rate

    rows = [
        {"first_name": "John", "last_name": "Lee", "address": "1 Mill Lane"},
        {"first_name": "Mary", "last_name": "Lee", "address": "1 Mill Lane"},
        {"first_name": "John", "last_name": "Lee", "address": "1 Mill Ln"},
        {"first_name": "Ann", "last_name": "Ray", "address": "9 Hill Road"},
    ]
    records = prepare_records(rows, ids=range(4), fields=["first_name", "last_name", "address"])
    model = IdentityModel([], matches_per_record=0.5)
    before = model.prior_weight(4)
    # John and Mary (a household) score as high as John and John; only the latter is one person.
    pairs = {
        "left": [0, 0, 1],
        "right": [1, 2, 2],
        "match_weight": [before + 40.0] * 3,
        "match_probability": [1.0] * 3,
    }

    rescored = with_estimated_match_rate(records, model, pairs)

    # One match among 6 pairs: a record has 0.5 matches, as guessed, so nothing moves.
    assert model.matches_per_record == pytest.approx(0.5, rel=1e-3)
    assert rescored["match_weight"] == pytest.approx(pairs["match_weight"], abs=1e-3)


def test_where_each_persons_records_all_link_a_cluster_grows_past_four_by_one_strong_link() -> None:
    # A parish register: every record of a person matches most of the person's others, so the
    # median linked record has four matching pairs and clusters of up to eight join freely.
    rows = [{"first_name": "John", "last_name": "Smith"} for _ in range(8)]
    records = prepare_records(rows, [f"r{i}" for i in range(8)], ["first_name", "last_name"])
    group_a, group_b = range(5), range(5, 8)
    inside = [(a, b) for g in (group_a, group_b) for a in g for b in g if a < b]
    left = [a for a, _ in inside] + [0]
    right = [b for _, b in inside] + [5]

    clusters = cluster_pairs(records, left, right, [30.0] * len(inside) + [25.0], 6.0)

    assert clusters.labels == [0] * 8
    assert clusters.sparse_joins == 0


def test_placing_a_nameless_record_passes_over_a_housemate_without_its_mobile() -> None:
    # Placement asks the same question as clustering: which household member is a record
    # without a first name? Jessica's mobile on it answers; the landline alone would not.
    home = {"last_name": "Kirkcroft", "address": "102 Beech Dr"}
    rows = [
        {**home, "first_name": "Jessica", "phone": "07911 123456"},
        {**home, "first_name": "Cameron", "phone": "0113 496 0000"},
        {**home, "phone": "07911 123456"},
        {**home, "phone": "0113 496 0000"},
    ]
    fields = ["first_name", "last_name", "phone", "address"]
    records = prepare_records(rows, ["j", "c", "x", "y"], fields)
    index = SimpleNamespace(scorer=SimpleNamespace(row=records.row))
    jessica, cameron = (Candidate(i, uid, 45.0 - i, 1.0) for i, uid in enumerate("jc"))

    def torn(record: int) -> list[Candidate]:
        return Placer._torn(index, records.row(record), jessica, [jessica, cameron], {})  # type: ignore[arg-type]

    assert torn(2) == []
    assert torn(3) == [cameron]
