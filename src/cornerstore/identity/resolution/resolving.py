"""Resolving every stored customer at once: score candidate pairs with Splink, cluster them,
merge what clustering joined, queue the grey zone for review and record households.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import numpy as np

from cornerstore.access.caller import Caller
from cornerstore.access.policy import CHANGE
from cornerstore.identity.merge import MERGES_PER_TRANSACTION
from cornerstore.identity.resolution.clustering import (
    Clusters,
    cluster_pairs,
    household_or_nothing,
    names_conflict,
    one_person_per_owner,
)
from cornerstore.identity.resolution.forked import run_forked
from cornerstore.identity.resolution.jobs import ResolutionJob
from cornerstore.identity.resolution.learning import Progress
from cornerstore.identity.resolution.model import IdentityModel, weight_of
from cornerstore.identity.resolution.records import PreparedRecords
from cornerstore.identity.resolution.scorer import Scorer
from cornerstore.identity.resolution.splink_engine import Engine
from cornerstore.identity.resolution.stored_profiles import (
    ProfileVariants,
    active_model,
    decided_pairs,
    pair,
    per_customer,
    read_profile_variants,
    review_row,
)

log = logging.getLogger(__name__)

#: Candidate pairs Splink blocks and scores at a time (on DuckDB), a chunk of the records
#: against all of them: memory follows the chunk's pairs, while each chunk reads all records
#: once more. Chunked by records (50,000 a chunk), a million customers took 21 chunks for
#: about 28 million pairs, and ten million would take 200, each joining all 10 million again.
PAIRS_PER_CHUNK = 20_000_000


@contextmanager
def _without_collections() -> Iterator[None]:
    """Python's cyclic collector paused for the block, and what the block made frozen out of
    its later collections (until ``gc.unfreeze``, at the end of the run).

    A full collection walks every tracked container, and a store's records and pairs are lists
    and dicts of millions of values: at ten million customers two thirds of the reading's CPU
    went to the collector (py-spy), each collection walking all that was read so far. Reading
    and clustering make no reference cycles to collect.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()
        gc.freeze()


@dataclass(frozen=True)
class Resolved:
    """What one resolution run did."""

    profiles: int
    pairs_scored: int
    merged: int
    refused: int
    queued: int
    households: int
    kept_apart_by_decision: int
    #: Blocking keys shared by too many customers' records to block on (``blocking``), and the
    #: customers holding one: counts only, never the values.
    crowded_keys: int = 0
    crowded_customers: int = 0
    #: Candidate pairs of variants the blocking rules made, counted rule by rule (a pair two
    #: rules find counted under each, so at most this many were scored): the cost of a run.
    candidate_pairs: int = 0


def _scored_pairs(
    variants: PreparedRecords,
    prepared: tuple[Any, Any],
    model: IdentityModel,
    min_probability: float,
    engine: Engine,
    chunks: int,
    say: Progress,
) -> dict[str, np.ndarray]:
    """Every candidate pair of ``variants`` scored with ``model`` (its wide rules afforded
    already) on a new database, kept at or above ``min_probability``: ``predict_pair_arrays``.
    ``prepared`` is their Arrow table and crowded keys (``records_table``)."""
    from cornerstore.identity.resolution.splink_engine import (
        predict_pair_arrays,
        register_records,
    )

    registered = register_records(variants, engine, prepared)
    return predict_pair_arrays(
        variants,
        model,
        min_probability,
        engine=engine,
        registered=registered,
        chunks=chunks,
        afforded=True,
        on_chunk=(lambda done, n: say(f"scored chunk {done} of {n}")) if chunks > 1 else None,
    )


@dataclass(eq=False)
class BatchResolution(ResolutionJob):
    """Resolve all stored person customers with the active model.

    ``forget_customers`` is called before the merges and again once they and the review queue
    are stored: placement drops its copy of the customers rather than refresh it merge by merge.
    """

    forget_customers: Callable[[], None] = lambda: None

    def resolve(
        self, caller: Caller, *, engine: Engine = "duckdb", progress: Progress | None = None
    ) -> Resolved:
        """Score candidate pairs among all person profiles with the active model; merge those
        at or above its match probability, queue the grey zone (down to its review
        probability) for review, and leave the rest.

        Clustering refuses chains (see :mod:`.clustering`), and a pair staff rejected is a
        cannot-link: no merge joins the two groups it would bring together.
        """
        self.policy.require(caller, "merges", CHANGE)
        # A host that froze its own objects (a server, after building its app) keeps them
        # frozen: unfreezing is all or nothing, so the run's objects then stay frozen too and
        # are freed by reference counting alone, as frozen objects are.
        host_froze = gc.get_freeze_count() > 0
        try:
            return self._resolve(caller, engine, progress or (lambda _msg: None))
        finally:
            if not host_froze:
                gc.unfreeze()  # what the run froze goes back to the collector

    def _read(self) -> ProfileVariants:
        """Every customer's variants (``_without_collections``)."""
        with _without_collections(), self.store.unit_of_work() as uow:
            return read_profile_variants(uow, self.settings.default_phone_region, compact=True)

    def _resolve(self, caller: Caller, engine: Engine, say: Progress) -> Resolved:
        from cornerstore.identity.resolution.splink_engine import affordable, records_table

        model = active_model(self.store)
        say("reading profiles")
        profiles = self._read()
        records, variants = profiles.customers, profiles.variants
        ids: list[str] = records.columns["unique_id"]
        with self.store.unit_of_work() as uow:
            decided = decided_pairs(uow, set(ids))
        if len(records) < 2:
            return Resolved(len(records), 0, 0, 0, 0, 0, 0)
        table, all_crowded = records_table(variants)
        crowded = all_crowded.of_rules(model.blocking_rules)
        if crowded.keys:
            say(crowded.describe())
        scoring = affordable(model, variants, table)
        candidates = all_crowded.pairs_of(scoring.blocking_rules)
        # DuckDB blocks and scores a chunk of records at a time against all: unchunked, a
        # million customers' join held several GB at once.
        chunks = max(1, -(-candidates // PAIRS_PER_CHUNK)) if engine == "duckdb" else 1
        say(f"scoring candidate pairs (about {candidates:,}, in {chunks} chunks)")

        score = partial(
            _scored_pairs,
            variants,
            (table, all_crowded),
            scoring,
            model.review_probability,
            engine,
            chunks,
        )
        # On DuckDB the scoring runs in a child process (``forked``): at ten million customers
        # the process kept 15 GB after the database was closed, memory freed but held by the
        # allocators, and clustering then ran out of memory; a child gives it all back. Spark
        # holds its memory in its own JVM, and its session is this process's.
        scored = run_forked(score, say, what="scoring") if engine == "duckdb" else score(say)
        del score, table  # the records as Arrow
        gc.collect()  # Splink's objects hold one another: an in-process database goes now
        pairs = per_customer(scored, profiles.owner)
        del scored
        left, right, weights = pairs["left"], pairs["right"], pairs["match_weight"]
        rejected = {p for p, status in decided.items() if status == "rejected"}
        match_weight = weight_of(model.match_probability)
        with _without_collections():
            one_person = one_person_per_owner(variants, profiles.owner)
            clusters = self._clusters(
                records, left, right, weights, match_weight, rejected, ids, one_person
            )
        self.forget_customers()  # placement reads them afresh, not once per merge below
        say("merging")
        merged, refused, kept_apart = self._merge_clusters(
            caller, ids, clusters, left, right, weights, match_weight, rejected
        )
        say("queueing the grey zone")
        scorer: Scorer | None = None
        queue: list[dict[str, Any]] = []
        now = datetime.now(UTC)
        labels = clusters.labels
        queued_between: set[tuple[int, int]] = set()
        # Strongest first, ties in pair order (a stable sort, as Python's): without a list of
        # tens of millions of Python ints beside the pairs at ten million customers.
        for k in np.argsort(-np.asarray(weights), kind="stable"):
            a, b = left[k], right[k]
            key = pair(ids[a], ids[b])
            if key in decided or labels[a] == labels[b]:
                continue  # decided before, or one customer now
            between = (min(labels[a], labels[b]), max(labels[a], labels[b]))
            if between in queued_between:
                continue  # the two customers these merge into have their strongest pair queued
            # Left are the grey zone and pairs above the match probability that clustering
            # kept apart: a record without a first name that could be either of two people,
            # or a pair whose clusters hold first names that disagree.
            record_a, record_b = records.row(a), records.row(b)
            if names_conflict(record_a, record_b):
                continue  # two people, a household among them
            if household_or_nothing(record_a, record_b):
                continue  # nobody can say which of a household's people it is
            # Shown as scored: the two variants of the customers that agree best.
            row_a, row_b = (
                variants.row(int(pairs["left_variant"][k])),
                variants.row(int(pairs["right_variant"][k])),
            )
            scorer = scorer or Scorer(model, variants, indexed=False)
            queue.append(
                review_row(
                    scorer,
                    (ids[a], row_a),
                    (ids[b], row_b),
                    float(pairs["match_probability"][k]),
                    float(weights[k]),
                    now,
                )
            )
            decided[key] = "pending"
            queued_between.add(between)
        households = [(ids[a], ids[b]) for a, b in clusters.households]
        with self.store.unit_of_work(write=True) as uow:
            uow.identity.add_reviews(queue)
            uow.identity.add_relations(households, "household", "resolve", now)
        self.forget_customers()  # many customers changed: placement reads them afresh
        result = Resolved(
            profiles=len(records),
            pairs_scored=len(left),
            merged=merged,
            refused=refused,
            queued=len(queue),
            households=len(clusters.households),
            kept_apart_by_decision=kept_apart,
            crowded_keys=crowded.keys_left_out,
            crowded_customers=len({profiles.owner[i] for i, f in enumerate(crowded.flags) if f}),
            candidate_pairs=candidates,
        )
        self.audit.record(
            caller,
            "identity_resolve",
            None,
            f"{merged} merged, {len(queue)} queued, {refused} refused",
            ["merges"],
        )
        return result

    @staticmethod
    def _clusters(
        records: PreparedRecords,
        left: list[int],
        right: list[int],
        weights: list[float],
        match_weight: float,
        rejected: set[tuple[str, str]],
        ids: list[str],
        one_person: list[tuple[int, int]],
    ) -> Clusters:
        """The scored pairs clustered, those of rejected pairs left out; ``one_person``, pairs
        of customers that are one person whatever they scored (one first name at one home,
        one e-mail or mobile), joined after them."""
        if rejected:
            keep = [
                k for k in range(len(left)) if pair(ids[left[k]], ids[right[k]]) not in rejected
            ]
            return cluster_pairs(
                records,
                [left[k] for k in keep],
                [right[k] for k in keep],
                [weights[k] for k in keep],
                match_weight,
                one_person_pairs=one_person,
            )
        # Every pair: not copied (millions of them at ten million customers).
        return cluster_pairs(
            records, left, right, weights, match_weight, one_person_pairs=one_person
        )

    def _merge_clusters(
        self,
        caller: Caller,
        ids: list[str],
        clusters: Clusters,
        left: list[int],
        right: list[int],
        weights: list[float],
        match_weight: float,
        rejected: set[tuple[str, str]],
    ) -> tuple[int, int, int]:
        """Merge the pairs clustering joined, strongest first and then those it joined as one
        person whatever they scored (``Clusters.joined_by_rule``), through Merges in
        batches of ``MERGES_PER_TRANSACTION``; returns (merged, refused, kept apart because
        of a rejected pair).

        Each pair is decided on the groups the pairs before it made, as if merged one at a
        time: a batch is planned as though every merge in it succeeds, and when one is refused
        (the batch stops there) the plan after it is undone and made again from what was
        merged.
        """
        labels, by_rule = clusters.labels, clusters.joined_by_rule
        # Positions in the scored pairs, then past their end, in the pairs joined by rule.
        candidates = [
            k
            for k in sorted(range(len(left)), key=lambda k: -weights[k])
            if weights[k] >= match_weight and labels[left[k]] == labels[right[k]]
        ]
        candidates.extend(range(len(left), len(left) + len(by_rule)))

        def ends(k: int) -> tuple[int, int]:
            return (left[k], right[k]) if k < len(left) else by_rule[k - len(left)]

        def pair_ids(k: int) -> tuple[str, str]:
            a, b = ends(k)
            return ids[a], ids[b]

        # Each customer's group, held only for customers a pair touched: a set for each of ten
        # million customers took about 3 GB.
        groups: dict[int, set[int]] = {}

        def group_of(i: int) -> set[int]:
            found = groups.get(i)
            if found is None:
                found = groups[i] = {i}
            return found

        merged = refused = kept_apart = 0
        start = 0
        while start < len(candidates):
            # The plan: (position in candidates, the groups joined), and pairs kept apart.
            planned: list[tuple[int, set[int], set[int]]] = []
            apart: list[int] = []
            position = start
            while position < len(candidates) and len(planned) < MERGES_PER_TRANSACTION:
                a, b = ends(candidates[position])
                position += 1
                if group_of(a) is group_of(b):
                    continue
                if rejected and any(
                    pair(ids[x], ids[y]) in rejected for x in groups[a] for y in groups[b]
                ):
                    apart.append(position - 1)
                    continue
                planned.append((position - 1, groups[a], groups[b]))
                joined = groups[a] | groups[b]
                for member in joined:
                    groups[member] = joined
            if not planned:
                kept_apart += len(apart)
                break
            outcomes = self.merges.merge_batch(
                caller,
                [pair_ids(candidates[p]) for p, _, _ in planned],
                reason="resolve",
            )
            merged += outcomes.count("merged")
            if outcomes[-1] != "refused":
                kept_apart += len(apart)
                start = position
                continue
            # Refused: that pair's groups stay apart, and what was planned after it is
            # planned again from there.
            stop = planned[len(outcomes) - 1][0]
            a, b = ends(candidates[stop])
            log.info("identity: resolve did not merge %s and %s", ids[a], ids[b])
            refused += 1
            for _, group_a, group_b in reversed(planned[len(outcomes) - 1 :]):
                for member in group_a:
                    groups[member] = group_a
                for member in group_b:
                    groups[member] = group_b
            kept_apart += sum(1 for p in apart if p < stop)
            start = stop + 1
        return merged, refused, kept_apart
