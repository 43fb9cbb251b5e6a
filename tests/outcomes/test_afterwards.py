"""Golden test of what customers did in the 90 days after a resolved case, against comparable
customers without one.

Judged on 1 September 2026. ann (segment a) had a case resolved on 2 March: followed 2 March to
31 May. bob (a): resolved 10 March, followed to 8 June. cat (b): resolved 20 August, her 90 days
are not over, so she is left out, and segment b has nobody to compare with. Comparable customers
(no case at all), in id order, take the windows of their segment in turn: dan -> 2 March,
eve -> 10 March. fay (b) and gus (no segment) have no window to borrow.

Purchases: ann 1 Apr (50) and 1 May (30); bob 1 Feb (before his window); dan 1 Mar (before) and
1 Jun (after 31 May); eve 15 Apr (40).
- after a case: 2 customers, 1 bought (ann), 2 purchases / 2 = 1.0, spend 80 / 2 = 40.0,
  P(alive) (0.9 + 0.5) / 2 = 0.7;
- comparable: 2 customers, 1 bought (eve), 1 / 2 = 0.5, spend 40 / 2 = 20.0, P(alive) dan 0.2
  (eve's is unknown).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cornerstore.outcomes.afterwards import follow_customers
from cornerstore.outcomes.estimates import wilson_rate
from cornerstore.outcomes.model import CaseRecord, GroupOutcome, Purchase, StatusChange


def t(month: int, day: int) -> datetime:
    return datetime(2026, month, day, tzinfo=UTC)


def opened(id: int, customer: str, day: datetime) -> CaseRecord:
    return CaseRecord(id, customer, "chat", "delivery", day, (StatusChange(day, "open"),))


def test_customers_after_a_resolved_case_are_compared_over_the_same_windows() -> None:
    cases = [opened(1, "ann", t(3, 1)), opened(2, "bob", t(3, 9)), opened(3, "cat", t(8, 19))]
    after = follow_customers(
        cases,
        [t(3, 2), t(3, 10), t(8, 20)],
        cases_anywhere={"ann", "bob", "cat"},
        purchases=[
            Purchase("ann", t(4, 1), 50.0),
            Purchase("ann", t(5, 1), 30.0),
            Purchase("bob", t(2, 1), 10.0),
            Purchase("dan", t(3, 1), 20.0),
            Purchase("dan", t(6, 1), 25.0),
            Purchase("eve", t(4, 15), 40.0),
        ],
        segments={
            "ann": "a",
            "bob": "a",
            "cat": "b",
            "dan": "a",
            "eve": "a",
            "fay": "b",
            "gus": None,
        },
        p_alive={"ann": 0.9, "bob": 0.5, "dan": 0.2},
        as_of=t(9, 1),
    )
    assert after.window_days == 90
    assert after.after_case == GroupOutcome(
        customers=2,
        bought_again=wilson_rate(1, 2),
        mean_purchases=1.0,
        mean_spend=40.0,
        mean_p_alive=pytest.approx(0.7),  # type: ignore[arg-type]
    )
    assert after.comparable == GroupOutcome(
        customers=2,
        bought_again=wilson_rate(1, 2),
        mean_purchases=0.5,
        mean_spend=20.0,
        mean_p_alive=0.2,
    )


def test_a_customer_with_several_cases_is_followed_from_the_first_resolution() -> None:
    cases = [opened(1, "ann", t(3, 1)), opened(2, "ann", t(1, 5))]
    after = follow_customers(
        cases,
        [t(3, 2), t(1, 6)],
        cases_anywhere={"ann"},
        purchases=[Purchase("ann", t(2, 1), 10.0), Purchase("ann", t(5, 1), 10.0)],
        segments={},
        p_alive={},
        as_of=t(9, 1),
    )
    # Followed from 6 Jan to 6 Apr: the 1 Feb purchase counts, the 1 May one does not.
    assert (after.after_case.customers, after.after_case.mean_purchases) == (1, 1.0)
