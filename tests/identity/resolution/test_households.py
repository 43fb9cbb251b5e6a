"""A file shows households, or it does not: the first-name rule of clustering follows; what
the rule does not read as another first name."""

from __future__ import annotations

import json
from typing import Any

from cornerstore.identity.names import nickname_keys
from cornerstore.identity.resolution.clustering import cluster_pairs, names_conflict
from cornerstore.identity.resolution.comparisons import comparisons_for
from cornerstore.identity.resolution.households import household_evidence
from cornerstore.identity.resolution.model import IdentityModel
from cornerstore.identity.resolution.records import PreparedRecords, prepare_records

_SURNAMES = [f"surname{chr(97 + i)}{chr(97 + j)}" for i in range(6) for j in range(6)]


def _prepared(rows: list[dict[str, Any]]) -> PreparedRecords:
    fields = ["first_name", "last_name", "address"]
    return prepare_records(rows, [str(i) for i in range(len(rows))], fields)


def _households(count: int) -> list[dict[str, Any]]:
    """Two people at each address, each on two records: John and Mary Lee, twice each."""
    rows = []
    for k in range(count):
        address = f"{k + 1} high street"
        for first in ("john", "mary"):
            rows += [{"first_name": first, "last_name": _SURNAMES[k], "address": address}] * 2
    return rows


def _replaced_first_names(count: int) -> list[dict[str, Any]]:
    """One person at each address, on three records, one with its first name replaced (as
    FEBRL corrupts a duplicate)."""
    rows = []
    for k in range(count):
        address = f"{k + 1} high street"
        rows += [{"first_name": "john", "last_name": _SURNAMES[k], "address": address}] * 2
        rows.append({"first_name": "gabrielle", "last_name": _SURNAMES[k], "address": address})
    return rows


def test_two_recurring_first_names_at_one_address_show_households() -> None:
    evidence = household_evidence(_prepared(_households(25)))

    assert (evidence.pairs, evidence.recurring, evidence.shows_households) == (25, 25, True)


def test_one_off_first_names_at_one_address_show_no_households() -> None:
    evidence = household_evidence(_prepared(_replaced_first_names(25)))

    assert (evidence.pairs, evidence.recurring, evidence.shows_households) == (25, 0, False)


def test_too_few_pairs_to_tell_are_taken_for_households() -> None:
    evidence = household_evidence(_prepared(_replaced_first_names(5)))

    assert (evidence.pairs, evidence.shows_households) == (5, True)


def test_a_file_without_addresses_or_phones_is_taken_for_households() -> None:
    rows = [{"first_name": f, "last_name": "lee"} for f in ("john", "mary")]
    records = prepare_records(rows, ["0", "1"], ["first_name", "last_name"])

    assert household_evidence(records).shows_households


def test_clustering_joins_a_replaced_first_name_only_when_the_rule_is_lifted() -> None:
    records = _prepared(_replaced_first_names(1))
    pairs = ([0, 0, 1], [1, 2, 2], [30.0, 25.0, 25.0])

    kept_apart = cluster_pairs(records, *pairs, 3.0)
    joined = cluster_pairs(records, *pairs, 3.0, refuse_name_conflicts=False)

    assert kept_apart.labels == [0, 0, 2]
    assert joined.labels == [0, 0, 0]


def test_a_model_keeps_whether_its_file_showed_households() -> None:
    model = IdentityModel(comparisons_for({"first_name", "last_name"}), 0.5, households=False)

    older = json.loads(model.to_json())
    del older["households"]

    assert IdentityModel.from_json(model.to_json()).households is False
    # A model saved before the field existed keeps the rule.
    assert IdentityModel.from_json(json.dumps(older)).households is True


def _person(first: str | None, last: str | None) -> dict[str, Any]:
    return {"first_name": first, "first_name_keys": list(nickname_keys(first)), "last_name": last}


def test_a_surname_written_as_the_first_name_is_no_conflicting_first_name() -> None:
    assert not names_conflict(_person("cooper", None), _person("fred", "cooper"))
    assert names_conflict(_person("mary", None), _person("fred", "cooper"))


def test_a_first_name_opening_with_an_initial_agrees_with_the_name_it_begins() -> None:
    assert not names_conflict(_person("g w t", "gould"), _person("george", "gould"))
    assert names_conflict(_person("v c", "gould"), _person("william", "gould"))


def _families(count: int, seconds: int) -> list[dict[str, Any]]:
    """A shop's families: two people at each address with one profile each, and ``seconds``
    of the addresses with a second profile of one of them (the same name)."""
    rows = []
    for k in range(count):
        address = f"{k + 1} high street"
        rows += [
            {"first_name": first, "last_name": _SURNAMES[k % len(_SURNAMES)], "address": address}
            for first in ("john", "mary")
        ]
        if k < seconds:
            rows.append(rows[-2])
    return rows


def test_families_with_one_profile_each_show_households() -> None:
    # No first name recurs beside another, so the recurring pairs cannot tell: there are more
    # pairs of different first names than people with two records, which no file of
    # duplicates gives.
    evidence = household_evidence(_prepared(_families(30, seconds=5)))

    assert (evidence.pairs, evidence.recurring, evidence.repeats) == (30, 0, 5)
    assert evidence.shows_households


def test_replaced_first_names_fewer_than_kept_ones_show_no_households() -> None:
    evidence = household_evidence(_prepared(_replaced_first_names(25)))

    assert evidence.repeats == 25
    assert not evidence.shows_households
