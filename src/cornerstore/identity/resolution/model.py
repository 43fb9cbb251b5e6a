"""The trained identity model as plain data: comparisons with their m and u probabilities, how
many matches a record has, and when and on how much data it was trained.

It serialises to JSON (``to_json`` / ``from_json``) so that it can be kept in a file or a database
and applied later by Splink (``splink_settings``) or in-process (:mod:`.scorer`).

Thresholds are match probabilities against a size-aware prior: the prior odds that two records are
the same person are ``matches_per_record / (N - 1)`` for N records, so the same probability asks
for more evidence in a larger data set, where more random pairs could reach it by chance. A 0.9
threshold (the default) therefore means the same at 5,000 and at 1,000,000 records.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from cornerstore.errors import InvalidInput
from cornerstore.identity.resolution.blocking import capped_rule_sql
from cornerstore.identity.resolution.comparisons import (
    Comparison,
    blocking_rule_sql,
    blocking_rules_for,
)

MODEL_FORMAT = "cornerstore-identity-model"
MODEL_VERSION = 2  # 2: levels of kind differs, contains, all and any (e-mail)
LinkType = Literal["dedupe_only", "link_only"]


def weight_of(probability: float) -> float:
    """The match weight (log2 odds) of a probability.

    >>> weight_of(0.5), round(weight_of(0.99), 3)
    (0.0, 6.629)
    """
    return math.log2(probability / (1.0 - probability))


def probability_of(weight: float) -> float:
    """The probability of a match weight (log2 odds).

    >>> probability_of(0.0)
    0.5
    """
    if weight > 60:
        return 1.0
    odds = 2.0**weight
    return odds / (1.0 + odds)


@dataclass(frozen=True)
class Calibration:
    """How a model was calibrated on staff decisions.

    ``shift_bits`` was added to every pair's match weight (through the prior); ``agreed_before``
    and ``agreed_after`` count the decisions the model got right (probability >= 0.5 for an
    accepted pair, below it for a rejected one) without and with the shift. ``unreadable``
    labels kept levels the model does not have; ``set_aside`` ones were pairs whose first names
    conflict, which resolution keeps apart whatever their weight (households, mostly), so they
    say nothing about what a weight means.
    """

    accepted: int
    rejected: int
    shift_bits: float
    agreed_before: int
    agreed_after: int
    unreadable: int = 0
    set_aside: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass
class IdentityModel:
    """A trained model: comparisons with m/u per level, the match rate, thresholds, provenance.

    Examples
    --------
    >>> from cornerstore.identity.resolution.comparisons import comparisons_for
    >>> model = IdentityModel(comparisons_for({"email", "phone"}), matches_per_record=0.5)
    >>> round(model.prior_weight(1001), 3)
    -10.965
    >>> IdentityModel.from_json(model.to_json()).matches_per_record
    0.5
    """

    comparisons: list[Comparison]
    matches_per_record: float
    link_type: LinkType = "dedupe_only"
    match_probability: float = 0.9
    review_probability: float = 0.5
    trained_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    records: int = 0
    splink_version: str = ""
    version: int = MODEL_VERSION
    calibration: Calibration | None = None
    #: Broader blocking rules (``WIDE_BLOCKING_RULES``) training found affordable on its data.
    wide_blocking: list[tuple[str, ...]] = field(default_factory=list)
    #: Whether the training file shows households (``households.household_evidence``): where it
    #: does not, clustering lifts its first-name rule and the match weight alone decides.
    households: bool = True

    @property
    def columns(self) -> set[str]:
        """The prepared columns the comparisons read."""
        cols: set[str] = set()
        for comparison in self.comparisons:
            for level in comparison.levels:
                cols.update(level.reads())
        return cols

    @property
    def blocking_rules(self) -> list[tuple[str, ...]]:
        rules = blocking_rules_for({c.name for c in self.comparisons} | self.columns)
        return rules + [r for r in self.wide_blocking if r not in rules]

    def prior(self, others: int) -> float:
        """Probability that a record and one of ``others`` random records are the same person."""
        return min(0.5, max(self.matches_per_record, 1e-6) / max(1, others))

    def prior_weight(self, records: int) -> float:
        """The prior match weight in a data set of ``records`` records (dedupe)."""
        return weight_of(self.prior(records - 1))

    def level_weight(self, comparison: int, level: int) -> float:
        """log2(m / u) of one level; 0 for the null level."""
        lv = self.comparisons[comparison].levels[level]
        if level == 0 or lv.m is None or lv.u is None:
            return 0.0
        return math.log2(lv.m / lv.u)

    def backwards_comparisons(self) -> list[str]:
        """The comparisons whose agreement (their first level after "missing": exact, or the
        closest there is) does not count for a match: a model that learned agreeing is
        evidence of two different people, as EM does when it found no matches to learn from.

        >>> from cornerstore.identity.resolution.comparisons import comparisons_for
        >>> IdentityModel(comparisons_for({"email", "phone"}), 0.5).backwards_comparisons()
        ['email', 'phone']
        """
        return [
            comparison.name
            for i, comparison in enumerate(self.comparisons)
            if len(comparison.levels) > 1 and not self.level_weight(i, 1) > 0
        ]

    def keep_from(self, earlier: IdentityModel) -> list[str]:
        """Replace each comparison this model learned backwards with ``earlier``'s, when that
        one has the same levels and counts agreement for a match; returns the names replaced.

        Customers already resolved hold few matches left to learn from (a household's members
        are most of the pairs that share an address), so learning again may get a field
        backwards that the earlier model, learned before those merges, got right.
        """
        kept = []
        backwards = set(self.backwards_comparisons())
        previous = {c.name: i for i, c in enumerate(earlier.comparisons)}
        for i, comparison in enumerate(self.comparisons):
            j = previous.get(comparison.name)
            if comparison.name not in backwards or j is None:
                continue
            old = earlier.comparisons[j]
            same_levels = [lv.label for lv in old.levels] == [lv.label for lv in comparison.levels]
            if same_levels and earlier.level_weight(j, 1) > 0:
                self.comparisons[i] = old
                kept.append(comparison.name)
        return kept

    def splink_settings(
        self, others: int, capped: Collection[tuple[str, ...]] = ()
    ) -> dict[str, Any]:
        """Splink settings with this model's parameters and the prior for ``others`` candidates;
        the blocking rules of ``capped`` leave out their crowded keys
        (``blocking.capped_rule_sql``: the records need the ``crowded`` column
        ``register_records`` adds)."""
        return {
            "link_type": self.link_type,
            "unique_id_column_name": "unique_id",
            "probability_two_random_records_match": self.prior(others),
            "comparisons": [c.splink_dict() for c in self.comparisons],
            "blocking_rules_to_generate_predictions": [
                {"blocking_rule": (capped_rule_sql if rule in capped else blocking_rule_sql)(rule)}
                for rule in self.blocking_rules
            ],
            "retain_matching_columns": False,
            "retain_intermediate_calculation_columns": False,
        }

    def estimate_match_rate(
        self, evidence: Sequence[float], others: int, pairs: float, *, rounds: int = 50
    ) -> float:
        """Estimate the matches a record has from this model's own match probabilities, and
        keep it (``matches_per_record``); returns the shift of the prior in bits.

        ``evidence`` is the summed match weight without the prior (the Bayes factor, in bits)
        of every candidate pair that could be one person, ``others`` the records each record
        could match and ``pairs`` how many pairs there are in all (``N (N - 1) / 2`` in a
        dedupe). The prior is the share of all pairs that match, and given a prior each pair
        matches with its probability: the two are solved together, as the EM update of the
        match rate (Fellegi and Sunter's lambda; Winkler, "Using the EM algorithm for weight
        computation in the Fellegi-Sunter model of record linkage", 1988, eq. 3), over the
        candidate pairs only, the others taken for two people. The deterministic rules training
        starts from assume they find 70% of the matches: on sparse files they find fewer (six
        times fewer on Splink's historical_50k, whose people have twelve records each), on
        files with many namesakes more, and the same probability then meant a different
        precision on each.

        200 records, 200 of their candidate pairs plainly one person, 100 plainly two: each
        record has two matches, not the one training assumed, so the prior moves up a bit.

        >>> model = IdentityModel([], matches_per_record=1.0)
        >>> round(model.estimate_match_rate([30.0] * 200 + [-30.0] * 100, 199, 19900), 3)
        1.0
        >>> round(model.matches_per_record, 3)
        2.0
        """
        before = self.matches_per_record
        rate = max(before, 1e-6) / max(1, others)
        for _ in range(rounds):
            prior = weight_of(min(0.5, rate))
            expected = math.fsum(probability_of(prior + bits) for bits in evidence)
            new = min(0.5, max(expected, 1e-9) / max(pairs, 1.0))
            if abs(new - rate) <= 1e-4 * rate:
                rate = new
                break
            rate = new
        self.matches_per_record = rate * max(1, others)
        return math.log2(self.matches_per_record / max(before, 1e-6))

    def calibrate(self, calibration: Calibration) -> None:
        """Apply a calibration on staff decisions: every pair's match weight moves by its
        shift, through the matches a record has (the prior's odds)."""
        if self.calibration is not None:
            raise InvalidInput("model: already calibrated")
        self.matches_per_record *= 2.0**calibration.shift_bits
        self.calibration = calibration

    def to_json(self) -> str:
        """The model as JSON text, with its format, version, training date and data size."""
        return json.dumps(
            {
                "format": MODEL_FORMAT,
                "version": self.version,
                "splink_version": self.splink_version,
                "trained_at": self.trained_at,
                "records": self.records,
                "link_type": self.link_type,
                "matches_per_record": self.matches_per_record,
                "match_probability": self.match_probability,
                "review_probability": self.review_probability,
                "comparisons": [c.to_dict() for c in self.comparisons],
                "calibration": self.calibration.to_dict() if self.calibration else None,
                "wide_blocking": [list(rule) for rule in self.wide_blocking],
                "households": self.households,
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> IdentityModel:
        """A model from ``to_json`` output; InvalidInput when the text is not such a model."""
        try:
            data = json.loads(text)
            if data.get("format") != MODEL_FORMAT:
                raise InvalidInput("model: not a cornerstore identity model")
            if data["version"] > MODEL_VERSION:
                raise InvalidInput(f"model: version {data['version']} is newer than this release")
            return cls(
                comparisons=[Comparison.from_dict(c) for c in data["comparisons"]],
                matches_per_record=float(data["matches_per_record"]),
                link_type=data["link_type"],
                match_probability=float(data["match_probability"]),
                review_probability=float(data["review_probability"]),
                trained_at=data["trained_at"],
                records=int(data["records"]),
                splink_version=data.get("splink_version", ""),
                version=int(data["version"]),
                calibration=Calibration.from_dict(data["calibration"])
                if data.get("calibration")
                else None,
                wide_blocking=[tuple(rule) for rule in data.get("wide_blocking", [])],
                households=bool(data.get("households", True)),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise InvalidInput("model: not a valid cornerstore identity model") from None
