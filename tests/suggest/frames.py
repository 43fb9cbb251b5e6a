"""Purchase frames for the model tests, from (customer, item, at) rows."""

from __future__ import annotations

from datetime import datetime

import polars as pl


def purchases(rows: list[tuple[str, str, datetime]]) -> pl.DataFrame:
    """The model's purchase columns, one basket per customer and day."""
    return pl.DataFrame(
        {
            "customer_id": [c for c, _, _ in rows],
            "item_id": [i for _, i, _ in rows],
            "at": [at for _, _, at in rows],
            "basket_id": [f"{c}-{at:%Y%m%d}" for c, _, at in rows],
        }
    )
