"""Pending pairs in the review queue for the paging tests: plain customers and a pair of
neighbours for each weight given (no model needed: the pairs' fields are made up)."""

from __future__ import annotations

from datetime import UTC, datetime

from cornerstore.services import Services
from tests.factories import identify
from tests.identity.resolution.stored import TILL

FIELDS = [{"field": "last_name", "level": "exact", "left": "x", "right": "x", "weight": 4.0}]
# Weights with ties, so that the id orders pairs of one weight.
WEIGHTS = [3.0, 1.5, 3.0, -0.5, 2.25, 1.5, 0.0, 3.0, 2.25, 1.5, -0.5, 0.75, 3.0] * 2


def queue_pairs(services: Services, weights: list[float], name: str = "Ann") -> list[int]:
    """Customers ``c0``, ``c1``, ... (first names ``name`` and their number) and a pending pair
    of neighbours for each weight; returns the review ids in queue order (weight descending,
    then id)."""
    services.intake.ingest(
        [
            identify(f"c{i}", first_name=f"{name}{i}", last_name="Page")
            for i in range(len(weights) + 1)
        ],
        source=TILL,
    )
    with services.store.unit_of_work() as uow:
        owners = uow.identifiers.lookup([("user_id", f"c{i}") for i in range(len(weights) + 1)])
    ids = [owners[("user_id", f"c{i}")].root_id for i in range(len(weights) + 1)]
    now = datetime.now(UTC)
    rows = [
        {
            "left_id": min(ids[i], ids[i + 1]),
            "right_id": max(ids[i], ids[i + 1]),
            "match_probability": 2**w / (1 + 2**w),
            "match_weight": w,
            "fields": FIELDS,
            "created_at": now,
        }
        for i, w in enumerate(weights)
    ]
    with services.store.unit_of_work(write=True) as uow:
        uow.identity.add_reviews(rows)
        queued = uow.identity.pending(1000)
    return [r.id for r in sorted(queued, key=lambda r: (-r.match_weight, r.id))]
