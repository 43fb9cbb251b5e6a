"""The in-process scorer gives Splink's own match weights on the same pairs."""

from __future__ import annotations

from cornerstore.identity.resolution.model import IdentityModel
from cornerstore.identity.resolution.records import (
    PreparedRecords,
    concat,
    prepare_record,
    prepare_records,
)
from cornerstore.identity.resolution.scorer import Scorer
from cornerstore.identity.resolution.splink_engine import predict_pairs


def test_the_scorer_gives_splinks_match_weight_on_every_blocked_pair(
    messy_records: PreparedRecords, messy_model: IdentityModel
) -> None:
    pairs = predict_pairs(messy_records, messy_model, min_probability=0.0)
    scorer = Scorer(messy_model, messy_records)
    others = len(messy_records) - 1

    differences = [
        abs(scorer.pair_weight(messy_records.row(a), messy_records.row(b), others) - weight)
        for a, b, weight in zip(pairs["left"], pairs["right"], pairs["match_weight"], strict=True)
    ]

    assert len(differences) > 500
    assert max(differences) < 1e-6


def test_the_scorers_candidates_are_splinks_blocked_pairs(
    messy_records: PreparedRecords, messy_model: IdentityModel
) -> None:
    pairs = predict_pairs(messy_records, messy_model, min_probability=0.0)
    scorer = Scorer(messy_model, messy_records)
    splink_pairs = {
        (min(a, b), max(a, b)) for a, b in zip(pairs["left"], pairs["right"], strict=True)
    }

    scorer_pairs = {
        (min(i, j), max(i, j))
        for i in range(len(messy_records))
        for j in scorer.candidates(messy_records.row(i))
        if i != j
    }

    assert scorer_pairs == splink_pairs


def test_a_new_record_of_a_known_customer_is_merged_into_them(
    messy_records: PreparedRecords, messy_model: IdentityModel
) -> None:
    scorer = Scorer(messy_model, messy_records)
    known = messy_records.row(0)
    raw = {
        "first_name": known["first_name"],
        "last_name": known["last_name"],
        "email": known["email"],
        "phone": known["phone"],
        "postcode": known["postcode"],
    }

    placement = scorer.place(prepare_record(raw))

    assert placement.decision == "merge"
    assert placement.best is not None and placement.best.position == 0


def test_a_stranger_is_placed_on_their_own(
    messy_records: PreparedRecords, messy_model: IdentityModel
) -> None:
    scorer = Scorer(messy_model, messy_records)
    stranger = {"first_name": "Xanthippe", "last_name": "Quirkwood", "email": "xq@example.org"}

    placement = scorer.place(prepare_record(stranger))

    assert placement.decision == "new"


def test_explaining_a_pair_names_every_compared_field(
    messy_records: PreparedRecords, messy_model: IdentityModel
) -> None:
    scorer = Scorer(messy_model, messy_records)

    fields = scorer.explain(messy_records.row(0), messy_records.row(1))

    assert [f.field for f in fields] == [
        "first_name",
        "last_name",
        "email",
        "phone",
        "address",
        "postcode",
        "city",
    ]


def test_a_name_and_an_address_line_alone_reach_the_same_persons_full_record(
    messy_model: IdentityModel,
) -> None:
    # Typed at the till: no postcode, no town, and a nickname or a slip in one of the names, so
    # no key of first and last name, postcode or town is shared; surname or first name with the
    # address line is.
    rows = [
        {"first_name": "Gregory", "last_name": "Evans", "address": "172 Rise Gardens",
         "postcode": "YO23 1ST", "city": "York", "phone": "07775 606359"},
        {"first_name": "Greg", "last_name": "Evans", "address": "172 Rise Gdns"},
        {"first_name": "Arthur", "last_name": "Cromworth", "address": "143 Willow Court",
         "postcode": "E17 3WA", "city": "London"},
        {"first_name": "Arthur", "last_name": "Cormworth", "address": "143 Willow Ct"},
    ]  # fmt: skip
    fields = ["first_name", "last_name", "phone", "address", "city", "postcode"]
    records = prepare_records(rows, ["web-1", "till-1", "web-2", "till-2"], fields)
    scorer = Scorer(messy_model, records)

    pairs = predict_pairs(records, messy_model, min_probability=0.0)

    scored = sorted(
        (min(a, b), max(a, b)) for a, b in zip(pairs["left"], pairs["right"], strict=True)
    )
    assert scored == [(0, 1), (2, 3)]
    assert scorer.candidates(records.row(1)) == {0, 1}
    assert scorer.candidates(records.row(3)) == {2, 3}


def test_linking_two_files_that_use_the_same_ids_pairs_the_right_rows(
    messy_model: IdentityModel,
) -> None:
    # Both files number their rows 1, 2: pairs come back as row positions of the two files
    # together, each pair across the files, whatever ids the files use.
    gregory = {
        "first_name": "Gregory",
        "last_name": "Evans",
        "address": "172 Rise Gardens",
        "postcode": "YO23 1ST",
        "city": "York",
        "phone": "07775 606359",
    }
    arthur = {"first_name": "Arthur", "last_name": "Cromworth", "address": "143 Willow Court",
              "postcode": "E17 3WA", "city": "London", "email": "arthur.c@example.com"}  # fmt: skip
    fields = ["first_name", "last_name", "phone", "email", "address", "city", "postcode"]
    shop = prepare_records([gregory, arthur], [1, 2], fields)
    web = prepare_records([arthur, gregory], [1, 2], fields)

    pairs = predict_pairs(concat(shop, web), messy_model, min_probability=0.5)

    assert sorted(zip(pairs["left"], pairs["right"], strict=True)) == [(0, 3), (1, 2)]
