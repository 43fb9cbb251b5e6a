"""The shop at a glance from the stored scores: churn risk, loyalty tiers, retention."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cornerstore.access.caller import Caller
from cornerstore.learn.overview import (
    Count,
    RetentionPoint,
    alive_bands,
    cohorts,
    loyalty_tiers,
    overview,
    retention_curve,
)
from cornerstore.services import Services


def bought(first: str, last: str, tier: str = "regular") -> dict[str, str]:
    return {"first_at": f"{first}T10:00:00Z", "last_at": f"{last}T10:00:00Z", "loyalty_tier": tier}


def test_p_alive_falls_into_five_bands_with_one_in_the_top_band() -> None:
    values = [{"probability_alive": p} for p in (0.05, 0.25, 0.5, 0.79, 0.8, 1.0)]
    values.append({"probability_alive": None})

    assert alive_bands(values) == [
        Count("0-20%", 1),
        Count("20-40%", 1),
        Count("40-60%", 1),
        Count("60-80%", 1),
        Count("80-100%", 2),
    ]


def test_loyalty_tiers_are_counted_in_the_tiers_order() -> None:
    values = [{"loyalty_tier": t} for t in ("new", "loyal", "loyal", "slipping")]

    assert [(c.label, c.customers) for c in loyalty_tiers(values)] == [
        ("loyal", 2),
        ("regular", 0),
        ("occasional", 0),
        ("slipping", 1),
        ("new", 1),
        ("one-off", 0),
    ]


def test_retention_counts_only_customers_whose_first_purchase_is_old_enough() -> None:
    as_of = datetime(2026, 7, 1, tzinfo=UTC)
    values = [
        bought("2026-01-01", "2026-06-20"),  # still buying after five months
        bought("2026-01-01", "2026-01-01"),  # bought once
        bought("2026-06-01", "2026-06-01"),  # too young to tell after a month or more
    ]

    curve = retention_curve(values, as_of, months=2)

    assert curve == [
        RetentionPoint(0, 3, 1.0),
        RetentionPoint(1, 2, 0.5),
        RetentionPoint(2, 2, 0.5),
    ]


def test_a_cohort_too_young_for_a_mark_says_so_instead_of_a_share() -> None:
    as_of = datetime(2026, 7, 1, tzinfo=UTC)
    values = [bought("2026-01-10", "2026-05-01"), bought("2026-02-01", "2026-02-01")]
    values.append(bought("2026-05-01", "2026-06-01"))

    found = cohorts(values, as_of)

    assert [(c.quarter, c.customers, c.retained) for c in found] == [
        ("2026 Q2", 1, {3: None, 6: None, 12: None}),
        ("2026 Q1", 2, {3: 0.5, 6: None, 12: None}),
    ]


def test_the_overview_measures_retention_to_the_latest_purchase_of_anyone() -> None:
    loyalty = [bought("2024-01-01", "2024-12-01"), bought("2024-06-01", "2024-06-01", "one-off")]
    churn = [{"at_risk": True, "value_at_risk": 12.5}, {"at_risk": False, "value_at_risk": 0}]

    found = overview([{"probability_alive": 0.9}], loyalty, churn)

    assert (found.customers, found.at_risk, found.value_at_risk) == (2, 1, 12.5)
    # Measured to 2024-12-01, the second customer's first purchase is six months old.
    assert found.retention[6] == RetentionPoint(6, 2, 0.5)


def test_the_learner_overview_is_empty_before_learning_and_refused_to_shipping(
    services: Services, owner: Caller
) -> None:
    from cornerstore.errors import Forbidden

    empty = services.learner.overview(owner)

    assert (empty.customers, empty.at_risk, empty.computed_at) == (0, 0, None)
    with pytest.raises(Forbidden):
        services.learner.overview(Caller("sam", "shipping", "api"))
