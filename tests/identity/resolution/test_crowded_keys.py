"""A blocking key shared by very many records (the shop's own address typed for every walk-in, one
made-up e-mail address) makes no candidate pairs through its rule, in Splink and in-process alike;
the records holding it still meet through their other keys."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cornerstore.identity.resolution.batch import resolve
from cornerstore.identity.resolution.blocking import MAX_CONTACT_BLOCK
from cornerstore.identity.resolution.model import IdentityModel
from cornerstore.identity.resolution.records import PreparedRecords, prepare_record, prepare_records
from cornerstore.identity.resolution.scorer import Scorer
from cornerstore.identity.resolution.splink_engine import (
    affordable,
    predict_pairs,
    register_records,
)

from .conftest import FIELDS

SHOP = {
    "email": "noemail@cornershop.example",
    "address": "1 Market Place",
    "city": "Thirsk",
    "postcode": "YO7 1HD",
}


def walk_ins(count: int) -> list[dict[str, Any]]:
    """``count`` different people typed at the till with the shop's own e-mail and address; the
    first two also gave one phone number."""
    rows = []
    for k in range(count):
        tag = "".join(chr(ord("a") + (k // 26**p) % 26) for p in range(3))
        first, last = f"Ann{tag}", f"Walker{tag}"
        row = {"id": f"walk-in-{k}", "first_name": first, "last_name": last, **SHOP}
        row["phone"] = "+441845520000" if k < 2 else None
        rows.append(row)
    return rows


def with_walk_ins(messy_rows: list[dict[str, Any]], count: int) -> PreparedRecords:
    rows = messy_rows + walk_ins(count)
    return prepare_records(rows, [r["id"] for r in rows], FIELDS)


def pairs_among_walk_ins(records: PreparedRecords, model: IdentityModel) -> set[tuple[str, str]]:
    ids = records.columns["unique_id"]
    pairs = predict_pairs(records, model, min_probability=0.0)
    return {
        (ids[a], ids[b])
        for a, b in zip(pairs["left"], pairs["right"], strict=True)
        if ids[a].startswith("walk-in") and ids[b].startswith("walk-in")
    }


def test_a_key_shared_by_a_thousand_records_makes_no_pairs_through_its_rule(
    messy_rows: list[dict[str, Any]], messy_model: IdentityModel
) -> None:
    records = with_walk_ins(messy_rows, 1_000)

    pairs = pairs_among_walk_ins(records, messy_model)

    # Only the two who also share a phone number meet (through the phone rule).
    assert pairs == {("walk-in-0", "walk-in-1")}


def test_a_key_a_household_shares_still_makes_its_pairs(
    messy_rows: list[dict[str, Any]], messy_model: IdentityModel
) -> None:
    records = with_walk_ins(messy_rows, 5)

    pairs = pairs_among_walk_ins(records, messy_model)

    assert len(pairs) == 5 * 4 // 2


def test_the_scorer_leaves_out_the_same_crowded_keys(
    messy_rows: list[dict[str, Any]], messy_model: IdentityModel
) -> None:
    records = with_walk_ins(messy_rows, 1_000)
    scorer = Scorer(messy_model, records)
    ids = records.columns["unique_id"]
    another = {"first_name": "Zebedee", "last_name": "Quince", **SHOP, "phone": "+441845520000"}

    found = {ids[i] for i in scorer.candidates(prepare_record(another))}

    assert found == {"walk-in-0", "walk-in-1"}


def test_what_was_left_out_is_counted_and_never_named(messy_rows: list[dict[str, Any]]) -> None:
    records = with_walk_ins(messy_rows, MAX_CONTACT_BLOCK + 1)

    crowded = register_records(records).crowded

    assert crowded.records_left_out == MAX_CONTACT_BLOCK + 1
    assert crowded.keys == {
        ("email",): 1,
        ("email_local",): 1,
        ("address", "postcode"): 1,
        ("address", "city"): 1,
        ("house_number", "postcode"): 1,
        ("street", "postcode"): 1,
        ("postcode",): 1,
    }
    described = crowded.describe()
    assert "7 keys" in described and f"{MAX_CONTACT_BLOCK + 1} records" in described
    assert not any(value.lower() in described.lower() for value in SHOP.values())
    assert "noemail" not in described and "market" not in described.lower()


def test_resolving_a_file_counts_the_crowded_keys_of_the_rules_it_blocks_on(
    messy_rows: list[dict[str, Any]], messy_model: IdentityModel
) -> None:
    records = with_walk_ins(messy_rows, 1_000)

    crowded = resolve(records, messy_model).crowded

    assert crowded is not None
    assert set(crowded.keys) <= set(messy_model.blocking_rules)
    assert crowded.keys[("email",)] == 1 and crowded.keys[("address", "city")] == 1
    assert crowded.records_left_out == 1_000


def test_a_wide_rule_chosen_on_few_records_is_dropped_where_it_would_make_too_many_pairs(
    messy_model: IdentityModel,
) -> None:
    model = replace(messy_model, wide_blocking=[("first_name", "city")])
    rows = [
        {"id": f"r{k}", "first_name": name, "last_name": f"Walker{k}", "city": "Thirsk"}
        for k in range(3_000)
        for name in ["Ann", "Bob", "Cat"][k % 3 : k % 3 + 1]
    ]
    # 3 first names in one town: 3 x 1,000 x 999 / 2 pairs, against 25 a record.
    many = prepare_records(rows, [r["id"] for r in rows], ["first_name", "last_name", "city"])
    few = prepare_records(rows[:30], [r["id"] for r in rows[:30]], ["first_name", "city"])

    assert affordable(model, many).wide_blocking == []
    assert affordable(model, few).wide_blocking == [("first_name", "city")]
    assert ("first_name", "city") not in Scorer(model, many).rules
