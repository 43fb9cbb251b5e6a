"""Placement finds housemates among every candidate: ``PlacementIndex.households`` reads the
surname and home off the index's columns and names exactly the candidates ``is_household``
names."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cornerstore.identity.resolution.clustering import is_household
from cornerstore.identity.resolution.model import IdentityModel
from cornerstore.identity.resolution.placement import PlacementIndex
from cornerstore.identity.resolution.records import prepare_records
from cornerstore.identity.resolution.scorer import Candidate, Scorer

FIELDS = ["first_name", "last_name", "email", "phone", "address"]

# Few values each, so that records share surnames, homes and first names often.
people = st.fixed_dictionaries(
    {
        "first_name": st.sampled_from(["John", "Jon", "Mary", "Anne", "Annette", "Lee", ""]),
        "last_name": st.sampled_from(["Lee", "Smith", ""]),
        "email": st.sampled_from(["", "john@example.com", "mary@example.com"]),
        "phone": st.sampled_from(["", "0113 496 0000", "07700 900123"]),
        "address": st.sampled_from(["", "1 High St", "2 Low St"]),
    }
)


def _index(model: IdentityModel, rows: list[dict[str, Any]]) -> PlacementIndex:
    ids = [f"c{i}" for i in range(len(rows))]
    scorer = Scorer(model, prepare_records(rows, ids, FIELDS, "GB"))
    return PlacementIndex(1, scorer, {c: [i] for i, c in enumerate(ids)}, dict(enumerate(ids)))


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(people, min_size=2, max_size=12))
def test_placement_names_the_households_is_household_names(
    messy_model: IdentityModel, rows: list[dict[str, Any]]
) -> None:
    index = _index(messy_model, rows)
    everyone = [Candidate(i, f"c{i}", 0.0, 0.5) for i in range(len(rows))]

    for i in range(len(rows)):
        record = index.record(f"c{i}")
        others = [c for c in everyone if c.position != i]

        found = index.households(record, others)

        assert found == [
            c.unique_id for c in others if is_household(record, index.scorer.row(c.position))
        ]


def test_housemates_at_one_address_or_one_landline_are_households(
    messy_model: IdentityModel,
) -> None:
    john = {"first_name": "John", "last_name": "Lee", "address": "1 High St"}
    index = _index(
        messy_model,
        [
            john,
            {"first_name": "Mary", "last_name": "Lee", "address": "1 High St"},
            {"first_name": "Jon", "last_name": "Lee", "address": "1 High St"},  # John again
            {"first_name": "Sue", "last_name": "Lee", "address": "2 Low St"},
            {"first_name": "Ann", "last_name": "Hill", "address": "1 High St"},
            {**john, "phone": "0113 496 0000"},
            {"first_name": "Kim", "last_name": "Lee", "phone": "0113 496 0000"},
        ],
    )
    everyone = [Candidate(i, f"c{i}", 0.0, 0.5) for i in range(7)]

    at_address = index.households(index.record("c0"), everyone[1:5])
    by_landline = index.households(index.record("c5"), everyone[6:])

    assert (at_address, by_landline) == (["c1"], ["c6"])
