"""Who is at risk: slipping against their own rhythm or by P(alive), and worth keeping; or left
with a complaint open."""

from __future__ import annotations

import polars as pl
import pytest

from cornerstore.learn.churn import churn_warnings
from cornerstore.settings import LearnSettings

NO_COMPLAINTS = pl.DataFrame(schema={"customer_id": pl.String, "open_days": pl.Float64})


def shop(*customers: tuple[str, int, float, float, float, float]) -> tuple[pl.DataFrame, ...]:
    """Behaviour and value tables from (id, orders, days since the last purchase, usual gap
    in days, P(alive), CLV), plus eight ordinary customers who set the median CLV at 100."""
    ordinary = [(f"ordinary-{i}", 10, 10.0, 10.0, 0.95, 100.0) for i in range(8)]
    rows = [*customers, *ordinary]
    behaviour = pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "orders": [r[1] for r in rows],
            "recency_days": [r[2] for r in rows],
            "mean_gap_days": [r[3] if r[1] > 1 else None for r in rows],
            "overdue_ratio": [r[2] / r[3] if r[1] > 1 else None for r in rows],
            "spend": [25.0 * r[1] for r in rows],
        }
    )
    value = pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "probability_alive": [r[4] for r in rows],
            "clv": [r[5] for r in rows],
        }
    )
    return behaviour, value


def test_a_weekly_buyer_quiet_for_four_weeks_is_at_risk_with_the_reason_in_words() -> None:
    behaviour, value = shop(("weekly", 20, 28.0, 7.0, 0.8, 300.0))

    warnings = churn_warnings(behaviour, value, NO_COMPLAINTS, LearnSettings())

    assert warnings.rows() == [("weekly", 300.0, ["no purchase for 28 days; usually every 7 days"])]


@pytest.mark.parametrize(
    "customer",
    [
        pytest.param(("weekly", 20, 14.0, 7.0, 0.9, 300.0), id="a gap twice the usual is chance"),
        pytest.param(("twice", 2, 90.0, 10.0, 0.9, 300.0), id="two purchases make no rhythm"),
        pytest.param(("small", 20, 60.0, 7.0, 0.3, 40.0), id="worth under half the median"),
        pytest.param(("gone", 20, 400.0, 7.0, 0.01, 1.5), id="long gone: lapsed, nothing to lose"),
    ],
)
def test_these_customers_are_not_at_risk(
    customer: tuple[str, int, float, float, float, float],
) -> None:
    behaviour, value = shop(customer)

    warnings = churn_warnings(behaviour, value, NO_COMPLAINTS, LearnSettings())

    assert warnings.height == 0


def test_p_alive_falling_puts_a_valuable_customer_at_risk_without_a_rhythm() -> None:
    behaviour, value = shop(("fading", 2, 200.0, 20.0, 0.3, 150.0))

    warnings = churn_warnings(behaviour, value, NO_COMPLAINTS, LearnSettings())

    assert warnings.rows() == [("fading", 150.0, ["P(alive) has fallen to 30%"])]


def test_an_open_complaint_puts_any_customer_at_risk() -> None:
    behaviour, value = shop(("upset", 3, 5.0, 10.0, 0.95, 20.0))
    complaints = pl.DataFrame({"customer_id": ["upset"], "open_days": [9.5]})

    warnings = churn_warnings(behaviour, value, complaints, LearnSettings())

    assert warnings.rows() == [("upset", 20.0, ["a complaint has been open for 9 days"])]


def test_the_most_valuable_come_first() -> None:
    behaviour, value = shop(
        ("weekly", 20, 28.0, 7.0, 0.8, 300.0), ("monthly", 12, 120.0, 30.0, 0.7, 500.0)
    )

    warnings = churn_warnings(behaviour, value, NO_COMPLAINTS, LearnSettings())

    assert warnings["customer_id"].to_list() == ["monthly", "weekly"]
