"""The comparisons' levels: postcode typos, e-mail local parts that only repeat the name, and
Splink's u made free of the matches random sampling draws."""

from __future__ import annotations

import math
from typing import Any

from cornerstore.identity.resolution.comparisons import email_comparison, postcode_comparison
from cornerstore.identity.resolution.records import prepare_record
from cornerstore.identity.resolution.splink_engine import _with_parameters


def test_a_transposed_postcode_is_one_typo() -> None:
    comparison = postcode_comparison()
    home = prepare_record({"postcode": "YO13 4YT"})

    level = comparison.level_of(home, prepare_record({"postcode": "YO31 4YT"}))

    assert comparison.levels[level].label == "one typo"


def test_local_parts_that_only_repeat_a_shared_surname_are_not_counted() -> None:
    one = {"last_name": "Smith", "email": "john.smith@gmail.com"}
    namesake = {"last_name": "Smith", "email": "johnsmith@yahoo.co.uk"}
    married = {"last_name": "Jones", "email": "johnsmith@yahoo.co.uk"}
    comparison = email_comparison()

    def level(a: dict[str, object], b: dict[str, object]) -> int:
        return comparison.level_of(prepare_record(a), prepare_record(b))

    assert level(one, namesake) == 0
    assert comparison.levels[level(one, married)].label == "same local part"
    assert comparison.levels[level(one, {**married, "email": "jon.smith@yahoo.co.uk"})].label == (
        "local part Jaro-Winkler >= 0.88"
    )


def test_u_leaves_out_the_matches_among_random_pairs() -> None:
    comparison = email_comparison()
    levels: list[dict[str, Any]] = [{}] + [{"m_probability": 0.9, "u_probability": 1e-4}] * 3
    levels.append({"m_probability": 0.1, "u_probability": 0.9997})
    spec = {"comparison_levels": levels}

    trained = _with_parameters(comparison, spec, sampled=1e6, match_rate=1e-4)

    exact = trained.levels[1]
    assert exact.u is not None
    assert math.isclose(exact.u, (1e-4 - 1e-4 * 0.9) / (1 - 1e-4))
