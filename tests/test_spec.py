"""The Spec vocabulary means what identity resolution and intake do with it."""

from __future__ import annotations

from cornerstore.identity.resolution.records import FIELDS
from cornerstore.intake.service import trait_name
from cornerstore.spec import ADDRESS_PARTS, MATCHING_TRAITS


def test_the_matching_traits_fill_exactly_the_fields_identity_resolution_compares() -> None:
    filled = set(MATCHING_TRAITS.values())

    assert filled == set(FIELDS)


def test_the_spec_traits_arrive_under_the_names_of_the_vocabulary() -> None:
    person = ["firstName", "lastName", "email", "phone", "address", "postalCode", "country"]
    address = ["street", "city", "postalCode", "country", "state"]

    stored = ([trait_name(n) for n in person], [trait_name(n) for n in address])

    assert set(stored[0]) <= set(MATCHING_TRAITS)
    assert stored[1] == list(ADDRESS_PARTS)
