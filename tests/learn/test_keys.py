"""Customers as integer keys while learning: keys sort as the ids do, and name them again."""

from __future__ import annotations

import random

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from cornerstore.learn.keys import CustomerKeys


@given(st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=60, unique=True))
def test_keys_sort_as_the_ids_do_and_name_them_again(ids: list[str]) -> None:
    keys = CustomerKeys(pl.Series(ids))
    frame = pl.DataFrame({"customer_id": ids, "n": list(range(len(ids)))})

    keyed = keys.keyed(frame)

    assert keys.named(keyed).equals(frame)
    by_key = keyed.sort("customer_id")["n"].to_list()
    assert by_key == frame.sort("customer_id")["n"].to_list()


def test_rows_of_customers_the_run_did_not_list_are_left_out() -> None:
    keys = CustomerKeys(pl.Series(["cus_b", "cus_a", "cus_d"]))
    frame = pl.DataFrame({"customer_id": ["cus_d", "cus_c", "cus_a", "cus_z"], "n": [1, 2, 3, 4]})

    keyed = keys.keyed(frame)

    assert keyed.rows() == [(2, 1), (0, 3)]
    assert keys.named(keyed).rows() == [("cus_d", 1), ("cus_a", 3)]


def test_an_empty_frame_takes_the_keys_type() -> None:
    keys = CustomerKeys(
        pl.Series([f"cus_{i:04x}" for i in random.Random(1).sample(range(9999), 50)])
    )
    empty = pl.DataFrame(schema={"customer_id": pl.String, "clv": pl.Float64})

    keyed = keys.keyed(empty)

    assert keyed.schema == pl.Schema({"customer_id": pl.UInt32(), "clv": pl.Float64()})


def test_no_customers_leave_every_row_out() -> None:
    keys = CustomerKeys(pl.Series([], dtype=pl.String))

    keyed = keys.keyed(pl.DataFrame({"customer_id": ["cus_a"], "n": [1]}))

    assert keyed.height == 0
