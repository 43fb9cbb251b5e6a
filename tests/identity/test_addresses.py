from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cornerstore.identity.addresses import (
    AddressParts,
    normalise_address,
    normalise_postcode,
    postcode_area,
)
from cornerstore.identity.companies import normalise_company


def test_street_types_and_flats_are_written_one_way() -> None:
    expected = AddressParts(line="12 high st", house_number="12", street="high st", unit="3")

    assert normalise_address("Flat 3, 12 High Street") == expected
    assert normalise_address("12 high st. apt 3") == expected
    assert normalise_address("12 HIGH ST #3") == expected


@pytest.mark.parametrize(
    ("raw", "line"),
    [
        ("7 Wallaby Place", "7 wallaby pl"),
        ("221B Baker Street", "221b baker st"),
        ("1 Saint Mary's Road", "1 st marys rd"),
        ("45 Queen's Avenue", "45 queens ave"),
    ],
)
def test_common_address_lines(raw: str, line: str) -> None:
    assert normalise_address(raw).line == line


def test_us_addresses_are_parsed_with_usaddress() -> None:
    a = normalise_address("1600 Pennsylvania Avenue NW Apt 5", "US")
    b = normalise_address("1600 Pennsylvania Ave. N.W. #5", "US")

    assert (
        a
        == b
        == AddressParts(
            line="1600 pennsylvania ave nw",
            house_number="1600",
            street="pennsylvania ave nw",
            unit="5",
        )
    )


def test_postcodes_are_written_as_the_post_office_writes_them() -> None:
    assert normalise_postcode("sw1a1aa", "GB") == "SW1A 1AA"
    assert normalise_postcode(" SW1A  1AA", None) == "SW1A 1AA"
    assert normalise_postcode("02139-4307", "US") == "02139"
    assert normalise_postcode("k1a0b1", "CA") == "K1A 0B1"
    assert normalise_postcode("2119", "AU") == "2119"
    assert normalise_postcode("  ", "GB") is None


def test_the_postcode_area_is_the_outward_code_or_the_first_three_characters() -> None:
    assert [postcode_area(p) for p in ("SW1A 1AA", "02139", "2119", None)] == [
        "SW1A",
        "021",
        "211",
        None,
    ]


@given(st.text(max_size=40))
def test_normalising_an_address_line_twice_changes_nothing(text: str) -> None:
    once = normalise_address(text).line

    assert normalise_address(once).line == once


def test_company_names_lose_their_legal_form() -> None:
    assert normalise_company("The ACME Widgets Ltd.") == "acme widgets"
    assert normalise_company("Acme Widgets Limited") == "acme widgets"
    assert normalise_company("Müller & Co GmbH") == "muller"
