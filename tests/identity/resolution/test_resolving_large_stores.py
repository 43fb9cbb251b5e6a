"""Resolving a large store holds its records compactly and scores in bounded memory, with the
same values, pairs and counts as the plain lists it replaces."""

from __future__ import annotations

import gc
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cornerstore.access.caller import Caller
from cornerstore.identity.resolution.blocking import BLOCKING_RULES, crowded_keys
from cornerstore.identity.resolution.model import IdentityModel
from cornerstore.identity.resolution.records import PreparedRecords, TextColumn
from cornerstore.identity.resolution.splink_engine import (
    duckdb_memory_limit,
    pairs_sharing,
    predict_pair_arrays,
    predict_pairs,
    register_records,
)
from cornerstore.identity.resolution.stored_profiles import (
    _InOrder,
    per_customer,
    read_profile_variants,
)
from cornerstore.services import Services
from tests.identity.resolution.stored import WEB, ingest_shop, message


def test_a_text_column_reads_like_the_list_it_holds() -> None:
    values = ["ann@example.com", None, "bob@example.com"]

    column = TextColumn(pa.array(values, pa.string()))

    assert (len(column), column[0], column[1], column[-1]) == (3, values[0], None, values[2])
    assert (list(column), column[1:], column.index("bob@example.com")) == (values, values[1:], 2)


def test_compact_variants_hold_the_same_values_as_lists(services: Services) -> None:
    ingest_shop(services, people=30)
    # Robert tells the web shop he moved (his e-mail: the same customer, a second variant).
    moved = message(
        "robert-moved",
        first_name="Robert",
        last_name="Smith",
        email="robert.smith@example.com",
        address="7 Elm Road",
        city="Manchester",
        postcode="M1 1AA",
    )
    moved["timestamp"] = "2099-01-01T00:00:00Z"
    services.intake.ingest([moved], source=WEB)

    with services.store.unit_of_work() as uow:
        plain = read_profile_variants(uow, "GB")
        compact = read_profile_variants(uow, "GB", compact=True)

    for name, values in plain.variants.columns.items():
        assert list(compact.variants.columns[name]) == values, name
    for name, values in plain.customers.columns.items():
        assert list(compact.customers.columns[name]) == list(values), name
    assert isinstance(compact.variants.columns["email"], TextColumn)
    assert len(compact.variants) > len(compact.customers)  # Robert's two addresses
    assert (list(compact.owner), compact.observed) == (list(plain.owner), plain.observed)
    assert compact.variants.to_arrow().equals(plain.variants.to_arrow())


def _best_pairs_one_by_one(pairs: dict[str, list[Any]], owner: list[int]) -> dict[str, list[Any]]:
    """``per_customer`` as it was written pair by pair: the reference it must agree with."""
    best: dict[tuple[int, int], int] = {}
    for k in range(len(pairs["left"])):
        a, b = owner[pairs["left"][k]], owner[pairs["right"][k]]
        if a == b:
            continue
        key = (min(a, b), max(a, b))
        if key not in best or pairs["match_weight"][k] > pairs["match_weight"][best[key]]:
            best[key] = k
    out: dict[str, list[Any]] = {
        c: []
        for c in (
            "left",
            "right",
            "match_weight",
            "match_probability",
            "left_variant",
            "right_variant",
        )
    }
    for (a, b), k in sorted(best.items()):
        left, right = pairs["left"][k], pairs["right"][k]
        mine = owner[left] == a
        out["left"].append(a)
        out["right"].append(b)
        out["match_weight"].append(pairs["match_weight"][k])
        out["match_probability"].append(pairs["match_probability"][k])
        out["left_variant"].append(left if mine else right)
        out["right_variant"].append(right if mine else left)
    return out


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    owner=st.lists(st.integers(0, 5), min_size=2, max_size=12),
    data=st.data(),
)
def test_per_customer_keeps_each_pair_of_customers_best_scored_and_the_first_on_a_tie(
    owner: list[int], data: st.DataObject
) -> None:
    n = len(owner)
    variant = st.integers(0, n - 1)
    scored = data.draw(st.lists(st.tuples(variant, variant, st.sampled_from([1.0, 2.5, 4.0]))))
    scored = [(a, b, w) for a, b, w in scored if a != b]
    pairs = {
        "left": [a for a, _, _ in scored],
        "right": [b for _, b, _ in scored],
        "match_weight": [w for _, _, w in scored],
        "match_probability": [w / 10 for _, _, w in scored],
    }

    got = {name: np.asarray(values).tolist() for name, values in per_customer(pairs, owner).items()}

    assert got == _best_pairs_one_by_one(pairs, owner)


def test_counted_candidate_pairs_are_the_pairs_each_rule_blocks(
    messy_records: PreparedRecords,
) -> None:
    table = messy_records.to_arrow()

    counted = crowded_keys(table).pairs

    for rule in [r for r in BLOCKING_RULES if r != ("swap",)]:
        assert counted[rule] == pairs_sharing(messy_records, rule), rule
        assert pairs_sharing(messy_records, rule, table) == pairs_sharing(messy_records, rule)


def test_duckdb_scores_within_its_memory_limit_and_spills_to_a_directory_of_its_own(
    messy_records: PreparedRecords, messy_model: IdentityModel
) -> None:
    registered = register_records(messy_records)
    con = registered.db.duckdb_con

    spill = con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0]
    limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]

    assert registered.spill is not None and spill == registered.spill.name
    assert duckdb_memory_limit().endswith("MB") and limit not in ("", None)
    chunked = predict_pairs(messy_records, messy_model, 0.5, registered=registered, chunks=3)
    assert chunked == predict_pairs(messy_records, messy_model, 0.5)


def test_scoring_in_chunks_reads_each_chunk_and_keeps_no_chunk_table(
    messy_records: PreparedRecords, messy_model: IdentityModel
) -> None:
    registered = register_records(messy_records)
    told: list[tuple[int, int]] = []

    chunked = predict_pair_arrays(
        messy_records,
        messy_model,
        0.5,
        registered=registered,
        chunks=3,
        on_chunk=lambda done, chunks: told.append((done, chunks)),
    )
    left_behind = registered.db.duckdb_con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '%predict%'"
    ).fetchall()
    whole = predict_pair_arrays(messy_records, messy_model, 0.5)

    assert told == [(1, 3), (2, 3), (3, 3)]
    assert len(chunked["left"]) > 0
    assert all(np.array_equal(chunked[name], whole[name]) for name in whole)
    assert left_behind == []


def test_rows_that_come_out_of_customer_order_are_refused_not_dropped() -> None:
    rows = iter([("ann", 1), ("cat", 2), ("bob", 3)])  # bob's row after a later customer's
    reading = _InOrder(rows, {"ann", "bob", "cat"})

    first = list(reading.before(["ann", "bob"]))
    second = list(reading.before(["cat"]))

    assert (first, second) == ([("ann", 1)], [("cat", 2)])
    with pytest.raises(RuntimeError, match="out of order"):
        reading.finish()


def test_a_host_process_keeps_what_it_froze_after_a_resolve(
    services: Services, owner: Caller
) -> None:
    # A server freezes its app once built; a resolve run inside it must not hand those objects
    # back to the collector. Run alone (nothing frozen), it leaves nothing frozen behind.
    ingest_shop(services, people=30)
    services.identity.train(owner)
    gc.unfreeze()
    services.identity.resolve(owner)
    assert gc.get_freeze_count() == 0

    held = [{"app": "built once"} for _ in range(100)]
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        services.identity.resolve(owner)
        assert gc.get_freeze_count() >= frozen
    finally:
        gc.unfreeze()
    del held
