"""Everything that talks to Splink: training a model (u by random sampling, m by EM) and scoring
the candidate pairs of a whole data set. Splink and DuckDB are imported here, lazily, and nowhere
else in cornerstore.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from cornerstore.errors import InvalidInput
from cornerstore.identity.resolution.comparisons import (
    Comparison,
    Level,
    blocking_rule_sql,
    comparisons_for,
)
from cornerstore.identity.resolution.model import IdentityModel, LinkType
from cornerstore.identity.resolution.records import PreparedRecords

log = logging.getLogger(__name__)

# Rules that admit almost no false matches, used to count how many matches a record has.
_DETERMINISTIC_RULES: tuple[tuple[str, ...], ...] = (
    ("email",),
    ("phone", "last_name"),
    ("first_name", "last_name", "postcode"),
    ("first_name", "last_name", "address"),
)
# EM sessions, in order: each trains the comparisons whose columns it does not block on, and
# Splink averages a comparison's m over the sessions that train it. Phone is blocked together
# with the first name: a landline is shared by a household, whose members agree on surname,
# address and phone, and EM took them for matches (half the "matches" of a phone-only session
# had different first names and e-mails, and m of those levels came out four times too high).
_EM_RULES: tuple[tuple[str, ...], ...] = (
    ("email",),
    ("phone", "first_name"),
    ("first_name", "last_name"),
    ("postcode",),
    ("address",),
    ("last_name",),
)


def _linker(records: PreparedRecords, settings: dict[str, Any]) -> Any:
    """A Splink Linker on a fresh in-memory DuckDB, one table (dedupe) or two (link)."""
    import pyarrow.compute as pc
    from splink import DuckDBAPI, Linker

    # Splink warns about every level EM could not observe; train_model fills those with
    # cautious values, so its warnings would only alarm the reader of a command's output.
    logging.getLogger("splink").setLevel(logging.ERROR)

    db = DuckDBAPI()
    table = records.to_arrow()
    if settings["link_type"] == "link_only":
        frames = [
            db.register(table.filter(pc.equal(table["source_dataset"], f"input_{s}")))
            for s in (0, 1)
        ]
        return Linker(frames, settings, log_level=None)
    return Linker(db.register(table), settings, log_level=None)


def _link_type(records: PreparedRecords) -> LinkType:
    return "link_only" if records.source else "dedupe_only"


def _pairs_per_record(records: PreparedRecords) -> int:
    """How many records each record could match: N - 1 in a dedupe, the other file in a link."""
    if records.source:
        return max(1, min(records.source.count(0), records.source.count(1)))
    return max(1, len(records) - 1)


def _has_pairs(records: PreparedRecords, rule: tuple[str, ...]) -> bool:
    """Whether at least a few records share a key of ``rule``: EM fails on a rule with no pairs."""
    seen: set[tuple[Any, ...]] = set()
    shared = 0
    columns = [records.columns[c] for c in rule]
    for key in zip(*columns, strict=True):
        if None in key:
            continue
        if key in seen:
            shared += 1
            if shared >= 10:
                return True
        seen.add(key)
    return False


def _covers(rule: tuple[str, ...], comparison: Comparison) -> bool:
    """A session blocking on ``rule`` cannot train a comparison that reads a blocked column."""
    read = {c for lv in comparison.levels for c in lv.reads()}
    return not (read & set(rule))


def train_model(
    records: PreparedRecords,
    *,
    seed: int = 0,
    max_pairs_for_u: float | None = None,
    max_pairs_for_em: float = 1e6,
    progress: Callable[[str], None] | None = None,
) -> IdentityModel:
    """Train a model on the records themselves: u by random sampling, m by EM.

    The match rate comes from deterministic rules (exact e-mail, phone and surname, full name
    and postcode) assumed to find 70% of the matches. u is sampled from ``max_pairs_for_u``
    random pairs, by default 20 a record between 50,000 and 1,000,000 (DuckDB compares about
    250,000 pairs a second a core here, so a small shop trains in about a second).

    >>> records = prepare_records(rows, ids, ["first_name", "last_name", "email"])  # doctest: +SKIP
    >>> train_model(records).to_json()  # doctest: +SKIP
    """
    import splink

    say = progress or (lambda _msg: None)
    compared = records.compared
    comparisons = comparisons_for(compared)
    if len(comparisons) < 2:
        raise InvalidInput(
            "fields: map at least two of first_name, last_name, email, phone, "
            "address, city, postcode"
        )
    link_type = _link_type(records)
    others = _pairs_per_record(records)
    model = IdentityModel(comparisons, matches_per_record=0.5, link_type=link_type)
    settings = model.splink_settings(others)
    # EM stops when no parameter moves by more than 0.001: finer steps change no decision.
    settings["em_convergence"] = 0.001
    settings["max_iterations"] = 15
    linker = _linker(records, settings)

    say("estimating the match rate")
    usable = {c.name for c in comparisons} | model.columns
    rules = [blocking_rule_sql(r) for r in _DETERMINISTIC_RULES if set(r) <= usable]
    if rules:
        linker.training.estimate_probability_two_random_records_match(rules, recall=0.7)
        rate = linker._settings_obj._probability_two_random_records_match
    else:
        rate = 0.5 / others
    n_pairs = len(records) * (len(records) - 1) / 2
    say("estimating u by random sampling")
    u_pairs = max_pairs_for_u or min(1e6, max(5e4, 20.0 * len(records)))
    # Splink's probe phase (10 chunks, stopping early) costs more than it saves on few pairs.
    linker.training.estimate_u_using_random_sampling(
        max_pairs=min(u_pairs, n_pairs), seed=seed, num_chunks=1 if u_pairs <= 2e5 else 10
    )
    say("estimating m by expectation maximisation")
    untrained = list(comparisons)
    for rule in _EM_RULES:
        if not untrained or not set(rule) <= usable:
            continue
        if not any(_covers(rule, c) for c in untrained):
            continue
        if not _has_pairs(records, rule):
            continue  # no two records share this key (say, every e-mail is unique)
        before = linker.misc.save_model_to_json()
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                blocking_rule_sql(rule),
                estimate_without_term_frequencies=True,
                max_pairs=max_pairs_for_em,
            )
        except ValueError as exc:
            # Splink refuses an m that underflows to 0 (a level seen only in pairs EM is sure
            # are two people) and leaves the model half-updated: go back to the model before
            # this session; later sessions, or the cautious defaults, train its comparisons.
            log.info("identity: EM blocked on %s gave no usable estimate (%s)", rule, exc)
            linker = _linker(records, before)
            continue
        untrained = [c for c in untrained if not _covers(rule, c)]
    trained = linker.misc.save_model_to_json()
    sampled = min(u_pairs, n_pairs)
    model.comparisons = [
        _with_parameters(c, spec, sampled, float(rate))
        for c, spec in zip(comparisons, trained["comparisons"], strict=True)
    ]
    model.matches_per_record = float(rate) * others
    model.records = len(records)
    model.splink_version = splink.__version__
    return model


def _with_parameters(
    comparison: Comparison, spec: dict[str, Any], sampled: float, match_rate: float = 0.0
) -> Comparison:
    """The comparison with Splink's trained m and u, made safe for levels seen rarely.

    Random sampling estimates u from pairs of which a share ``match_rate`` are matches, so it
    sees ``match_rate * m + (1 - match_rate) * u``; the matches' share is taken out again. It
    matters for identifiers only: two random records share an e-mail address mostly because
    they are one person, and counting those as chance agreements made an exact e-mail weigh
    as little as a first name and a surname together.

    A level random sampling never observed would get u = 0 and an infinite weight; it gets half
    an observation among the sampled pairs instead, and m = 0.1% when EM never saw it. No level
    may then weigh more than the comparison's exact level: a near match or a swap is never
    stronger evidence than an exact match (without this cap one rare swapped record, weighted by
    a tiny u, bridged many people sharing a common name).
    """
    levels: list[Level] = list(comparison.levels[:1])
    ceiling: float | None = None
    for level, trained in zip(comparison.levels[1:], spec["comparison_levels"][1:], strict=True):
        m = trained.get("m_probability")
        u = trained.get("u_probability")
        if m is None or not math.isfinite(m) or m <= 0:
            m = 1e-3
        if u is not None and math.isfinite(u) and match_rate > 0:
            u = (u - match_rate * m) / (1.0 - match_rate)
        if u is None or not math.isfinite(u) or u <= 0:
            u = 0.5 / max(sampled, 1.0)
        weight = math.log2(m / u)
        if ceiling is None:
            ceiling = weight
        elif weight > ceiling and level.kind != "else":
            u = m / 2.0**ceiling
        levels.append(_replace(level, m=float(m), u=float(u)))
    return Comparison(comparison.name, tuple(levels), comparison.description)


def _replace(level: Level, **changes: Any) -> Level:
    from dataclasses import replace

    return replace(level, **changes)


def predict_pairs(
    records: PreparedRecords, model: IdentityModel, min_probability: float
) -> dict[str, list[Any]]:
    """Score every candidate pair with Splink and keep those at or above ``min_probability``.

    Returns columns ``left`` and ``right`` (row positions in ``records``), ``match_weight`` and
    ``match_probability``.
    """
    settings = model.splink_settings(_pairs_per_record(records))
    settings["link_type"] = _link_type(records)
    linker = _linker(records, settings)
    predictions = linker.inference.predict(
        threshold_match_probability=min_probability, warning_mode="never"
    )
    has_source = bool(records.source)
    source_cols = ", source_dataset_l, source_dataset_r" if has_source else ""
    sql = (
        "select unique_id_l, unique_id_r, match_weight, match_probability"
        + source_cols
        + f" from {predictions.physical_name}"
    )
    table = linker.misc.query_sql(sql, output_type="pandas")
    position: dict[tuple[str, str], int] = {}
    sources = records.source or [0] * len(records)
    for i, (s, uid) in enumerate(zip(sources, records.columns["unique_id"], strict=True)):
        position[(f"input_{s}", uid)] = i
    left_source = table["source_dataset_l"] if has_source else ["input_0"] * len(table)
    right_source = table["source_dataset_r"] if has_source else ["input_0"] * len(table)
    out: dict[str, list[Any]] = {
        "left": [position[(s, u)] for s, u in zip(left_source, table["unique_id_l"], strict=True)],
        "right": [
            position[(s, u)] for s, u in zip(right_source, table["unique_id_r"], strict=True)
        ],
        "match_weight": table["match_weight"].astype(float).tolist(),
        "match_probability": table["match_probability"].astype(float).tolist(),
    }
    return out
