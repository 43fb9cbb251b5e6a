"""Score one record against many in-process, with the trained model's weights as plain data.

Splink's own ``predict_between`` / ``score_pair`` build and run SQL for every call (hundreds of
milliseconds against 100k records); a new customer at the till needs an answer in a few. This
module keeps the reference records as columns, an index per blocking rule (the same rules Splink
blocks on), and term frequencies counted the way Splink counts them, then applies the model's
levels (``Level.holds``) and weights in Python to the few candidates the indexes return. On the
same records it gives the same match weights as Splink's ``predict`` (tests compare them).

A wide blocking rule (a common surname alone) brings hundreds of candidates to one arrival, and
building each one's row and ``FieldWeight`` objects was most of placement's CPU tail. ``score``
therefore only adds weights: each level's test is made once per arrival with the arrival's
values bound and reads the candidates' columns in place (``Level.bound``), and each level's
weight is looked up, not recomputed. ``explain`` keeps the levels and values to show; both give
the same floats.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cornerstore.identity.resolution.blocking import block_cap
from cornerstore.identity.resolution.clustering import names_conflict
from cornerstore.identity.resolution.model import IdentityModel, probability_of, weight_of
from cornerstore.identity.resolution.records import COLUMNS, PreparedRecords


@dataclass(frozen=True)
class FieldWeight:
    """How one comparison scored a pair: the level that held and its match weight."""

    field: str
    level: str
    left: Any
    right: Any
    weight: float


@dataclass
class Explanation:
    """Why two records score as they do: the prior, each field's weight, the total."""

    left_id: str
    right_id: str
    prior_weight: float
    fields: list[FieldWeight]
    match_weight: float
    match_probability: float


@dataclass(frozen=True)
class Candidate:
    """A reference record scored against a new one."""

    position: int
    unique_id: str
    match_weight: float
    match_probability: float


@dataclass(frozen=True)
class Placement:
    """Where a new record goes: into an existing record's person, to review, or on its own."""

    decision: Literal["merge", "review", "new"]
    best: Candidate | None
    candidates: int


class Scorer:
    """The model applied in-process to a set of reference records.

    Used like this::

        scorer = Scorer(model, prepared)
        bob = prepare_record({"first_name": "Bob", "email": "bob@example.com"})
        scorer.place(bob)
        Placement(decision='merge', best=Candidate(position=41, ...), candidates=3)
    """

    def __init__(
        self, model: IdentityModel, reference: PreparedRecords, *, indexed: bool = True
    ) -> None:
        if indexed:
            # The wide rules the reference records afford, as Splink scores them.
            from cornerstore.identity.resolution.splink_engine import affordable

            model = affordable(model, reference)
        self.model = model
        # Records are added only to an indexed scorer: one that only weighs given pairs reads
        # the reference's columns in place (ten million records' columns copied took GBs).
        self.columns: dict[str, list[Any]] = {
            c: list(reference.columns[c]) if indexed else reference.columns[c] for c in COLUMNS
        }
        self.rules = model.blocking_rules
        # Without the blocking indexes (indexed=False) the scorer only weighs given pairs.
        self._keyed = [r for r in self.rules if r != ("swap",)] if indexed else []
        self._swap = (
            indexed and ("swap",) in self.rules and ("first_name", "last_name") in self.rules
        )
        self.index: dict[tuple[str, ...], dict[tuple[Any, ...], list[int]]] = {
            r: {} for r in self._keyed
        }
        self.tf_columns = sorted(
            {lv.column for c in model.comparisons for lv in c.levels if lv.tf and lv.column}
        )
        self.tf_counts: dict[str, Counter[Any]] = {c: Counter() for c in self.tf_columns}
        self.tf_totals: dict[str, int] = dict.fromkeys(self.tf_columns, 0)
        self.removed: set[int] = set()
        for i in range(len(self.columns["unique_id"])):
            self._index_row(i)
        # u of each comparison's exact level, which the TF adjustment replaces (as in Splink).
        self._u_exact: dict[tuple[int, int], float] = {}
        for ci, comparison in enumerate(model.comparisons):
            for li, level in enumerate(comparison.levels):
                if level.tf and level.u:
                    self._u_exact[(ci, li)] = level.u
        # Each level's weight before term frequencies, and the column and log2(u) of the levels
        # term frequencies adjust, looked up by ``score`` instead of recomputed per candidate.
        self._level_weights = [
            [model.level_weight(ci, li) for li in range(len(c.levels))]
            for ci, c in enumerate(model.comparisons)
        ]
        self._tf_levels: dict[tuple[int, int], tuple[str, float]] = {
            (ci, li): (level.column, math.log2(self._u_exact[(ci, li)]))
            for ci, c in enumerate(model.comparisons)
            for li, level in enumerate(c.levels)
            if level.tf and level.column and (ci, li) in self._u_exact
        }

    def __len__(self) -> int:
        """How many reference records there are (removed ones not counted)."""
        return len(self.columns["unique_id"]) - len(self.removed)

    def _index_row(self, i: int, step: int = 1) -> None:
        for rule, table in self.index.items():
            key = tuple(self.columns[c][i] for c in rule)
            if all(v is not None for v in key):
                if step > 0:
                    table.setdefault(key, []).append(i)
                else:
                    positions = table[key]
                    positions.remove(i)
                    if not positions:
                        del table[key]
        for col in self.tf_columns:
            value = self.columns[col][i]
            if value is not None:
                self.tf_counts[col][value] += step
                self.tf_totals[col] += step

    def row(self, i: int) -> dict[str, Any]:
        return {c: values[i] for c, values in self.columns.items()}

    def add(self, unique_id: str, record: Mapping[str, Any]) -> int:
        """Add a prepared record to the reference set; returns its position."""
        for c in COLUMNS:
            self.columns[c].append(unique_id if c == "unique_id" else record.get(c))
        position = len(self.columns["unique_id"]) - 1
        self._index_row(position)
        return position

    def remove(self, position: int) -> None:
        """Take a reference record out of the indexes and term frequencies (its row stays, so
        other positions keep their meaning)."""
        if position in self.removed:
            return
        self._index_row(position, step=-1)
        self.removed.add(position)

    def candidates(self, record: Mapping[str, Any]) -> set[int]:
        """Positions of reference records that share a blocking key with ``record``; a key held
        by more reference records than its rule's cap (``blocking.block_cap``) is left out, as
        Splink leaves it out."""
        found: set[int] = set()
        for rule, table in self.index.items():
            key = tuple(record.get(c) for c in rule)
            if all(v is not None for v in key):
                block = table.get(key, ())
                if len(block) <= block_cap(rule):
                    found.update(block)
        if self._swap:
            first, last = record.get("first_name"), record.get("last_name")
            names = self.index[("first_name", "last_name")]
            if first is not None and last is not None:
                crossed = names.get((last, first), ())
                cap = block_cap(("first_name", "last_name"))
                if len(crossed) <= cap and len(names.get((first, last), ())) <= cap:
                    found.update(crossed)
        return found

    def _tf(self, column: str, value: Any) -> float | None:
        total = self.tf_totals[column]
        count = self.tf_counts[column].get(value, 0)
        return count / total if value is not None and count and total else None

    def _weight(self, ci: int, li: int, left: Any, right: Any) -> float:
        """Match weight of level ``li`` of comparison ``ci``, adjusted for how common the
        values (of the level's term-frequency column) are, as Splink adjusts it."""
        level = self.model.comparisons[ci].levels[li]
        weight = self.model.level_weight(ci, li)
        if level.tf and level.column and (ci, li) in self._u_exact:
            tf_l, tf_r = self._tf(level.column, left), self._tf(level.column, right)
            if tf_l is not None or tf_r is not None:
                tf = max(x for x in (tf_l, tf_r) if x is not None)
                weight += math.log2(self._u_exact[(ci, li)]) - math.log2(tf)
        return weight

    def explain(self, left: Mapping[str, Any], right: Mapping[str, Any]) -> list[FieldWeight]:
        """Each comparison's level and match weight for two prepared records (TF included)."""
        out = []
        for ci, comparison in enumerate(self.model.comparisons):
            li = comparison.level_of(left, right)
            level = comparison.levels[li]
            tf_column = level.column or ""
            weight = self._weight(ci, li, left.get(tf_column), right.get(tf_column))
            column = comparison.levels[0].column or comparison.name
            out.append(
                FieldWeight(
                    comparison.name, level.label, left.get(column), right.get(column), weight
                )
            )
        return out

    def weigh(self, fields: Iterable[Mapping[str, Any]]) -> float | None:
        """The summed match weight (prior not included) of a pair known only by the levels an
        earlier explanation found: ``{"field", "level", "left", "right"}`` per comparison, as a
        review keeps them. None when a level is not one of this model's (its comparisons
        changed). Term frequencies apply where the values shown are the adjusted column."""
        by_name = {c.name: i for i, c in enumerate(self.model.comparisons)}
        total = 0.0
        for f in fields:
            ci = by_name.get(str(f.get("field")))
            if ci is None:
                continue  # a comparison this model no longer makes weighs nothing
            comparison = self.model.comparisons[ci]
            labels = [lv.label for lv in comparison.levels]
            if f.get("level") not in labels:
                return None
            li = labels.index(str(f["level"]))
            shown = comparison.levels[0].column or comparison.name
            if comparison.levels[li].column == shown:
                total += self._weight(ci, li, _hashable(f.get("left")), _hashable(f.get("right")))
            else:
                total += self.model.level_weight(ci, li)
        return total

    def _weigher(self, record: Mapping[str, Any]) -> Callable[[int], float]:
        """The summed match weight (prior not included) of ``record`` against the reference
        record at a position: ``explain``'s sum, without its rows and ``FieldWeight`` objects."""
        comparisons = []
        for ci, comparison in enumerate(self.model.comparisons):
            tests = []
            last = len(comparison.levels) - 1
            for li, level in enumerate(comparison.levels):
                tf = self._tf_levels.get((ci, li))
                # The arrival's term frequency is the same for every candidate: found once.
                tf_left = self._tf(tf[0], record.get(tf[0])) if tf else None
                # The last level decides when no other holds (``Comparison.level_of``).
                holds = level.bound(record, self.columns) if li < last else None
                tests.append((holds, self._level_weights[ci][li], tf, tf_left))
            comparisons.append(tests)

        def weigh(i: int) -> float:
            weights = []
            for tests in comparisons:
                for holds, weight, tf, tf_left in tests:
                    if holds is None or holds(i):
                        if tf is not None:
                            weight = self._adjusted(weight, tf, tf_left, i)
                        weights.append(weight)
                        break
            return sum(weights)

        return weigh

    def _adjusted(
        self, weight: float, tf: tuple[str, float], tf_left: float | None, i: int
    ) -> float:
        """A level's weight with ``_weight``'s term-frequency adjustment, the arrival's term
        frequency already found."""
        tf_right = self._tf(tf[0], self.columns[tf[0]][i])
        if tf_left is None and tf_right is None:
            return weight
        most = max(x for x in (tf_left, tf_right) if x is not None)
        return weight + (tf[1] - math.log2(most))

    def pair_weight(self, left: Mapping[str, Any], right: Mapping[str, Any], others: int) -> float:
        """The match weight of two records, with the prior for ``others`` candidates."""
        prior = weight_of(self.model.prior(others))
        return prior + sum(f.weight for f in self.explain(left, right))

    def score(self, record: Mapping[str, Any], exclude: int | None = None) -> list[Candidate]:
        """Every candidate for a new record, strongest first; ``exclude`` is the record's own
        position when it is itself a reference record (then scored against the others)."""
        others = max(1, len(self) - (exclude is not None))
        prior = weight_of(self.model.prior(others))
        ids = self.columns["unique_id"]
        weigh = self._weigher(record)
        scored = []
        for i in self.candidates(record):
            if i == exclude:
                continue
            w = prior + weigh(i)
            scored.append(Candidate(i, ids[i], w, probability_of(w)))
        scored.sort(key=lambda c: -c.match_weight)
        return scored

    def place(self, record: Mapping[str, Any]) -> Placement:
        """Decide for a new record: merge into the best candidate (probability at or above the
        model's match probability and no first-name conflict), send to review, or keep apart."""
        scored = self.score(record)
        for candidate in scored:
            if names_conflict(record, self.row(candidate.position)):
                continue
            if candidate.match_probability >= self.model.match_probability:
                return Placement("merge", candidate, len(scored))
            if candidate.match_probability >= self.model.review_probability:
                return Placement("review", candidate, len(scored))
            break
        return Placement("new", scored[0] if scored else None, len(scored))


def _hashable(value: Any) -> Any:
    """A value kept as JSON (lists for tuples) in the form the term-frequency counts use."""
    return tuple(value) if isinstance(value, list) else value
