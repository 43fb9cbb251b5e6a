"""A customer's history as arrays: the same whatever the order of the purchases, and the
repeat cycle (median gap) and the shortest gap the same as the plain definitions."""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from cornerstore.suggest.model import History, _gaps

START = datetime(2024, 1, 1)
purchases = st.lists(
    st.tuples(st.sampled_from(["tea", "pot", "mug", "beans"]), st.integers(0, 400)),
    max_size=60,
)


@given(purchases, st.randoms(use_true_random=False))
def test_the_history_does_not_depend_on_the_order_of_purchases(
    rows: list[tuple[str, int]], rng: object
) -> None:
    pairs = [(item, START + timedelta(days=d, hours=d % 24)) for item, d in rows]
    shuffled = list(pairs)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]

    once, again = History.of(pairs), History.of(shuffled)

    assert once.days == again.days
    assert once.days == {
        item: sorted({datetime(at.year, at.month, at.day) for i, at in pairs if i == item})
        for item, _ in pairs
    }


@given(st.lists(st.lists(st.integers(0, 3000), max_size=12, unique=True), max_size=8))
def test_the_cycle_is_the_median_gap_between_buys_beside_the_shortest(
    groups: list[list[int]],
) -> None:
    days = [sorted(g) for g in groups]
    flat = np.array([d for g in days for d in g], dtype=np.float64)
    group = np.repeat(np.arange(len(days)), [len(g) for g in days])
    buys = np.array([len(g) for g in days], dtype=np.int64)

    median, shortest = _gaps(flat, group, buys, 3)

    expected = [statistics.median(np.diff(g).tolist()) if len(g) >= 3 else None for g in days]
    least = [min(np.diff(g).tolist()) if len(g) >= 3 else None for g in days]
    assert [None if np.isnan(v) else v for v in median.tolist()] == expected
    assert [None if np.isnan(v) else v for v in shortest.tolist()] == least
