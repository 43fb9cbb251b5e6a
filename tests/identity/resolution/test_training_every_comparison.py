"""Training covers every comparison a file maps, whatever subset of fields it has, and stops
with a clear message rather than score with a comparison it could not learn."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from cornerstore.errors import InvalidInput
from cornerstore.identity.resolution.records import prepare_records
from cornerstore.identity.resolution.splink_engine import train_model

FAKE_1000 = Path(__file__).parents[2] / "data" / "fake_1000.csv"


def test_a_names_email_and_city_file_learns_that_the_same_email_is_the_same_person() -> None:
    frame = pl.read_csv(FAKE_1000, infer_schema=False)
    rows = [
        {
            "first_name": r["first_name"],
            "last_name": r["surname"],
            "email": r["email"],
            "city": r["city"],
        }
        for r in frame.iter_rows(named=True)
    ]
    records = prepare_records(
        rows, frame["unique_id"].to_list(), ["first_name", "last_name", "email", "city"]
    )

    model = train_model(records)

    names = [c.name for c in model.comparisons]
    assert names == ["first_name", "last_name", "email", "city"]
    assert model.backwards_comparisons() == []
    email = names.index("email")
    # An exact e-mail is strong evidence on its own: more than first name and city together.
    assert model.level_weight(email, 1) > 5.0
    assert model.level_weight(email, 1) > model.level_weight(0, 1) + model.level_weight(3, 1)


def _unlearnable_email_rows() -> list[dict[str, str]]:
    # Pairs share an e-mail and a surname, but no two records share a first name: no session
    # that leaves the e-mail comparison's columns (e-mail and surname) unblocked has pairs.
    surnames = [
        "Smith",
        "Jones",
        "Taylor",
        "Brown",
        "Wilson",
        "Evans",
        "Thomas",
        "Roberts",
        "Walker",
        "Wright",
        "Green",
        "Hall",
        "Wood",
        "Clarke",
        "Hughes",
        "Lewis",
    ]
    rows = []
    for i, surname in enumerate(surnames):
        for k in range(2):
            rows.append(
                {
                    "first_name": f"Person{chr(65 + i)}{chr(65 + k)}",
                    "last_name": surname,
                    "email": f"{surname.lower()}{i}@example.com",
                }
            )
    return rows


def test_training_that_cannot_learn_a_comparison_stops_and_names_it() -> None:
    rows = _unlearnable_email_rows()
    records = prepare_records(
        rows, [str(i) for i in range(len(rows))], ["first_name", "last_name", "email"]
    )

    with pytest.raises(InvalidInput) as raised:
        train_model(records)

    message = str(raised.value)
    assert "could learn email" in message
    assert "nothing was scored" in message
