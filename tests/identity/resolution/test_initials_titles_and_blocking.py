"""Initials, titles and ordinals in first names; fields that tell nobody apart; the broader
blocking rules a small file affords."""

from __future__ import annotations

from typing import Any

import duckdb

from cornerstore.identity.resolution.comparisons import first_name_comparison
from cornerstore.identity.resolution.model import IdentityModel
from cornerstore.identity.resolution.records import prepare_record, prepare_records
from cornerstore.identity.resolution.splink_engine import train_model, wide_blocking_for


def _level(a: dict[str, Any], b: dict[str, Any]) -> str:
    comparison = first_name_comparison()
    return comparison.levels[comparison.level_of(prepare_record(a), prepare_record(b))].label


def test_an_initial_agrees_with_a_name_it_begins() -> None:
    assert _level({"first_name": "A."}, {"first_name": "Andrew"}) == "an initial of the other"
    assert _level({"first_name": "A."}, {"first_name": "Brian"}) == "all other"


def test_the_initial_level_means_the_same_in_duckdb_as_in_python() -> None:
    level = next(lv for lv in first_name_comparison().levels if lv.kind == "initial")
    cases = [("a", "andrew"), ("andrew", "a"), ("a", "brian"), ("ann", "andrew"), ("a", "a")]

    in_sql = [
        duckdb.sql(
            f"select {level.sql()} from (select ? as first_name_l, ? as first_name_r)",
            params=[a, b],
        ).fetchall()[0][0]
        for a, b in cases
    ]

    in_python = [level.holds({"first_name": a}, {"first_name": b}) for a, b in cases]
    assert in_sql == in_python == [True, True, False, False, True]


def test_a_title_or_an_ordinal_is_no_first_name() -> None:
    assert prepare_record({"first_name": "Sir"})["first_name"] is None
    assert prepare_record({"first_name": "1st"})["first_name"] is None
    assert prepare_record({"first_name": "Sir George"})["first_name"] == "george"
    # A missing first name is no evidence either way; "sir" against "george" was a conflict.
    assert _level({"first_name": "Sir"}, {"first_name": "George"}) == "first_name missing"


def _town(people: int) -> list[dict[str, Any]]:
    firsts = ["Ann", "Bob", "Cara", "Dev", "Eve", "Finn", "Gus", "Hana", "Ian", "Jo"]
    lasts = ["Shaw", "Kerr", "Lund", "Moss", "Nair", "Orr", "Pike", "Quinn", "Rees", "Sousa"]
    rows = []
    for p in range(people):
        first, last = firsts[p % 10], lasts[(p // 10) % 10]
        email = f"{first.lower()}.{last.lower()}{p}@example.com"
        # Everyone in one town; each person twice, every other one with a new e-mail.
        rows.append({"first_name": first, "last_name": last, "email": email, "city": "Anytown"})
        rows.append({"first_name": first, "last_name": last,
                     "email": email if p % 2 else "new." + email, "city": "Anytown"})  # fmt: skip
    return rows


def test_a_field_most_records_share_is_not_compared_and_wide_rules_are_kept() -> None:
    rows = _town(100)
    records = prepare_records(rows, [str(i) for i in range(len(rows))],
                              ["first_name", "last_name", "email", "city"])  # fmt: skip

    model = train_model(records)

    assert [c.name for c in model.comparisons] == ["first_name", "last_name", "email"]
    assert ("email_local",) in model.wide_blocking
    assert all("city" not in rule for rule in model.blocking_rules)
    again = IdentityModel.from_json(model.to_json())
    assert again.blocking_rules == model.blocking_rules


def test_a_broad_rule_costs_only_the_pairs_its_narrower_rules_have_not_made() -> None:
    # 45 Lees in 3 towns: surname and town make 3 x 105 pairs, surname alone 990, of which 675
    # are new. The budget (25 a record: 1,125) affords surname alone only so counted.
    firsts = [a + b for a in "abcdefghij" for b in "klmnop"]
    rows = [{"first_name": firsts[i], "last_name": "lee", "city": "abc"[i % 3]} for i in range(45)]
    records = prepare_records(rows, [str(i) for i in range(45)],
                              ["first_name", "last_name", "city"])  # fmt: skip

    rules = wide_blocking_for(records, {"first_name", "last_name", "city"})

    assert rules == [("first_name", "city"), ("last_name", "city"), ("last_name",)]
