"""Everything that talks to Splink: training a model (u by random sampling, m by EM) and scoring
the candidate pairs of a whole data set, on DuckDB (in memory, the default) or on Spark. Splink,
DuckDB and pyspark are imported here, lazily, and nowhere else in cornerstore.

The model's levels give their conditions in DuckDB SQL (``Level.sql``); for Spark each level is
rendered again here (``spark_condition``) with Spark's quoting and functions, so the same model
runs on both engines.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from cornerstore.errors import InvalidInput
from cornerstore.identity.resolution.blocking import (
    CrowdedKeys,
    pairs_within,
    with_crowded_column,
)
from cornerstore.identity.resolution.comparisons import (
    SQL_FUNCTIONS,
    WIDE_BLOCKING_RULES,
    Comparison,
    Level,
    blocking_rule_sql,
    comparisons_for,
)
from cornerstore.identity.resolution.households import household_evidence
from cornerstore.identity.resolution.model import IdentityModel, LinkType
from cornerstore.identity.resolution.records import PreparedRecords

log = logging.getLogger(__name__)

#: Where Splink runs: an in-memory DuckDB, or Spark (``spark_session``; ``pip install
#: 'cornerstore[spark]'``, Java 17 or later).
Engine = Literal["duckdb", "spark"]
ENGINES: tuple[Engine, ...] = ("duckdb", "spark")

# Rules that admit almost no false matches, used to count how many matches a record has.
_DETERMINISTIC_RULES: tuple[tuple[str, ...], ...] = (
    ("email",),
    ("phone", "last_name"),
    ("first_name", "last_name", "postcode"),
    ("first_name", "last_name", "address"),
)
#: The fewest matches per record training starts from. Stored customers come stitched: every
#: two that shared an e-mail address or a phone number are one customer already, so the rules
#: above find few of the matches left, often none. A rate of 0 gave EM nothing to start from:
#: every pair a non-match, every m zero, agreement weighing against a match.
MIN_MATCHES_PER_RECORD = 0.01
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
    # A names + e-mail + city list: the e-mail comparison reads the surname (a local part made
    # of it says nothing new), so no session above trains it; one blocked on first name and
    # city does.
    ("first_name", "city"),
)
#: Last resorts, tried only for a comparison no session of ``_EM_RULES`` trained: a broad key
#: whose pairs EM samples (``max_pairs_for_em``) rather than scores all.
_FALLBACK_EM_RULES: tuple[tuple[str, ...], ...] = (("first_name",), ("city",))


@dataclass
class RegisteredRecords:
    """Records registered once with a database (an in-memory DuckDB, or Spark), for every
    Splink Linker that reads them: training's, then scoring's (``register_records``).

    Registering copies the records into the database; a small shop paid for it, and for a new
    DuckDB, twice in each run.
    """

    records: PreparedRecords
    engine: Engine
    db: Any
    frames: list[Any]
    #: The blocking keys too crowded to block on (``blocking.crowded_keys``).
    crowded: CrowdedKeys
    #: The Arrow table registered (DuckDB reads it in place), and where DuckDB spills.
    table: Any = None
    spill: tempfile.TemporaryDirectory[str] | None = None


#: The most memory DuckDB may hold, as a share of the machine's (and at most
#: ``DUCKDB_MAX_MEMORY_BYTES``); past it, joins and sorts spill to a temporary directory.
#: DuckDB's own default, 80% of the machine, left the Python process holding the records
#: nothing: ten million customers' blocking joins would have taken the machine.
DUCKDB_MEMORY_SHARE = 0.25
DUCKDB_MAX_MEMORY_BYTES = 6 * 1024**3


def duckdb_memory_limit() -> str:
    """DuckDB's memory limit here, as its ``memory_limit`` setting reads it (``"6144MB"``)."""
    try:
        machine = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not every system says
        machine = 4 * DUCKDB_MAX_MEMORY_BYTES
    limit = min(int(machine * DUCKDB_MEMORY_SHARE), DUCKDB_MAX_MEMORY_BYTES)
    return f"{max(limit // 1024**2, 256)}MB"


def _duckdb_database() -> tuple[Any, tempfile.TemporaryDirectory[str]]:
    """Splink's DuckDBAPI on an in-memory DuckDB held to ``duckdb_memory_limit``, spilling to a
    temporary directory removed when the records are let go."""
    import duckdb
    from splink import DuckDBAPI

    spill = tempfile.TemporaryDirectory(prefix="cornerstore-duckdb-")
    con = duckdb.connect(
        ":memory:", config={"memory_limit": duckdb_memory_limit(), "temp_directory": spill.name}
    )
    return DuckDBAPI(con), spill


def records_table(records: PreparedRecords) -> tuple[Any, CrowdedKeys]:
    """``records`` as the Arrow table Splink reads, with the ``crowded`` column the capped
    blocking rules read (``blocking``), and what the crowded keys leave out."""
    import pyarrow as pa

    table, crowded = with_crowded_column(records.to_arrow())
    # Splink knows each record by its row position, so scored pairs come back as positions
    # with no join on the records' own ids (at ten million records that join took gigabytes).
    table = table.set_column(
        table.schema.get_field_index("unique_id"),
        "unique_id",
        pa.array(np.arange(table.num_rows, dtype=np.int64)),
    )
    return table, crowded


def register_records(
    records: PreparedRecords,
    engine: Engine = "duckdb",
    prepared: tuple[Any, CrowdedKeys] | None = None,
) -> RegisteredRecords:
    """Register ``records`` with a new database on ``engine``: one table (dedupe) or two, one a
    file (link), with the ``crowded`` column the capped blocking rules read (``blocking``).
    ``prepared`` is ``records_table(records)`` when the caller made it already."""
    import pyarrow.compute as pc

    if engine not in ENGINES:
        raise InvalidInput(f"engine: {engine!r} is not one of {', '.join(ENGINES)}")
    table, crowded = prepared if prepared is not None else records_table(records)
    spill = None
    if engine == "spark":
        db, register = _spark_database()
    else:
        db, spill = _duckdb_database()
        register = db.register
    if records.source:
        frames = [
            register(table.filter(pc.equal(table["source_dataset"], f"input_{s}"))) for s in (0, 1)
        ]
    else:
        frames = [register(table)]
    return RegisteredRecords(records, engine, db, frames, crowded, table, spill)


def _registered(
    records: PreparedRecords, engine: Engine, registered: RegisteredRecords | None
) -> RegisteredRecords:
    if registered is None:
        return register_records(records, engine)
    if registered.records is not records or registered.engine != engine:
        raise ValueError("registered records: registered for other records or another engine")
    return registered


def _linker(
    registered: RegisteredRecords, settings: dict[str, Any], comparisons: list[Comparison]
) -> Any:
    """A Splink Linker over the registered records, one table (dedupe) or two (link);
    ``settings`` are ``comparisons`` as Splink settings (in DuckDB SQL).

    The tables an earlier Linker made on the same database are dropped first: Splink caches
    them by purpose, not by settings, and at a million records they hold gigabytes.
    """
    from splink import Linker

    # Splink warns about every level EM could not observe; train_model fills those with
    # cautious values, so its warnings would only alarm the reader of a command's output.
    logging.getLogger("splink").setLevel(logging.ERROR)
    db = registered.db
    db._intermediate_table_cache.invalidate_cache()
    db.delete_tables_created_by_splink_from_db()
    if registered.engine == "spark":
        settings = _in_spark_sql(settings, comparisons)
    frames = registered.frames if len(registered.frames) > 1 else registered.frames[0]
    # The settings are made here, from the model: Splink's validation (which parses every
    # level's SQL to name columns the input lacks) would only repeat what the model knows.
    return Linker(frames, settings, log_level=None, validate_settings=False)


# -- Spark -----------------------------------------------------------------------------------------

#: A small machine's local session: two cores, few shuffle partitions (Spark's 200 would make
#: hundreds of tiny tasks on a few thousand rows), no web UI or progress bars, modest memory.
SPARK_CONFIG: dict[str, str] = {
    "spark.master": "local[2]",
    "spark.app.name": "cornerstore-identity",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.driver.memory": "2g",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
#: Spark has no Jaro-Winkler, and the one in Splink's jar counts half transpositions without
#: rounding down: it gives the e-mail local parts maxine.anderson / marion.anderson 0.878 where
#: DuckDB gives 0.888, a level lower at 0.88. These pandas UDFs run rapidfuzz, whose algorithm
#: DuckDB uses and the in-process scorer calls, so the model means the same on every engine
#: (a cluster's executors need rapidfuzz, as cornerstore does).
SPARK_FUNCTIONS = {
    name: SQL_FUNCTIONS["spark"][name] for name in ("jaro_winkler", "damerau_levenshtein")
}
_spark: dict[str, Any] = {}


def spark_session() -> Any:
    """The Spark session Splink runs on: the active one (a notebook's, a cluster's) or else a
    local one started with ``SPARK_CONFIG``, kept for the process.

    Checkpoints go to a temporary directory removed when the process ends, unless the session
    has a checkpoint directory already; the functions of ``SPARK_FUNCTIONS`` are registered.
    InvalidInput when pyspark is not installed or Java cannot be started. Nothing is
    downloaded: pyspark's wheel carries Spark's jars.
    """
    if "session" in _spark:
        return _spark["session"]
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise InvalidInput(
            "engine spark: pyspark is not installed; pip install 'cornerstore[spark]'"
        ) from None
    session = SparkSession.getActiveSession()
    if session is None:
        session = _local_spark_session(SparkSession.builder)
    context = session.sparkContext
    if context.getCheckpointDir() is None:
        checkpoints = tempfile.TemporaryDirectory(prefix="cornerstore-spark-")
        context.setCheckpointDir(checkpoints.name)
        _spark["checkpoints"] = checkpoints
    _register_similarity_functions(session)
    _spark["session"] = session
    return session


def _local_spark_session(builder: Any) -> Any:
    for key, value in SPARK_CONFIG.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # pyspark raises its own error types when the JVM does not start
        log.debug("Spark did not start", exc_info=True)
        raise InvalidInput(
            "engine spark: Spark could not start (it needs Java 17 or later on PATH or in "
            f"JAVA_HOME): {type(exc).__name__}"
        ) from None
    context = session.sparkContext
    context.setLogLevel("ERROR")
    # Local workers run this interpreter, which has rapidfuzz and pandas, rather than whatever
    # `python3` comes first on PATH.
    context.pythonExec = sys.executable
    return session


def _register_similarity_functions(session: Any) -> None:
    """Register ``SPARK_FUNCTIONS`` as pandas UDFs: NULL when either side is NULL, as in SQL."""
    import pandas as pd
    from pyspark.sql import functions

    pandas_udf: Any = functions.pandas_udf

    def jaro_winkler(left: pd.Series, right: pd.Series) -> pd.Series:
        from rapidfuzz.distance import JaroWinkler

        similarity = JaroWinkler.similarity
        values = [
            similarity(a, b) if isinstance(a, str) and isinstance(b, str) else None
            for a, b in zip(left, right, strict=True)
        ]
        return pd.Series(values, dtype="float64")

    def damerau_levenshtein(left: pd.Series, right: pd.Series) -> pd.Series:
        from rapidfuzz.distance import DamerauLevenshtein

        distance = DamerauLevenshtein.distance
        values = [
            distance(a, b) if isinstance(a, str) and isinstance(b, str) else None
            for a, b in zip(left, right, strict=True)
        ]
        return pd.Series(values, dtype="Int64")

    for name, function, returns in (
        ("jaro_winkler", jaro_winkler, "double"),
        ("damerau_levenshtein", damerau_levenshtein, "int"),
    ):
        # pyspark reads the kind of UDF from the type hints; this module's postponed
        # annotations would be strings it cannot resolve, so they are given as classes.
        function.__annotations__ = {"left": pd.Series, "right": pd.Series, "return": pd.Series}
        session.udf.register(SPARK_FUNCTIONS[name], pandas_udf(function, returns))


def _spark_database() -> tuple[Any, Callable[[Any], Any]]:
    """Splink's SparkAPI on the local session, and how to register an Arrow table with it."""
    session = spark_session()  # first: it says what to install when pyspark is missing
    from splink import SparkAPI

    # Splink's own jar of Scala functions is not used (see SPARK_FUNCTIONS). Intermediate
    # tables go to parquet in the checkpoint directory (Splink's default): it cuts the lineage
    # of each step, so a later query reads the result instead of computing it again.
    db = SparkAPI(
        spark_session=session, break_lineage_method="parquet", register_udfs_automatically=False
    )

    def register(table: Any) -> Any:
        # A frame made from local data keeps its rows in the query plan, and Spark's optimiser
        # copies them for every query that reads them: at 100,000 records blocking alone ran
        # out of 2 GB. Written as parquet, the input is read like any other table.
        path = f"{session.sparkContext.getCheckpointDir()}/input-{uuid.uuid4().hex}"
        session.createDataFrame(table).write.parquet(path)
        return db.register(session.read.parquet(path))

    return db, register


def spark_condition(level: Level) -> str:
    """A level's condition in Spark SQL (``Level.sql("spark")``): what ``Level.sql`` says in
    DuckDB SQL, with Spark's quoting and functions.

    >>> spark_condition(Level("nickname", "nickname", "first_name_keys"))
    'arrays_overlap(`first_name_keys_l`, `first_name_keys_r`)'
    """
    return level.sql("spark")


def _in_spark_sql(settings: dict[str, Any], comparisons: list[Comparison]) -> dict[str, Any]:
    """The settings with each level's condition in Spark SQL (blocking rules need no change)."""
    specs = []
    for spec, comparison in zip(settings["comparisons"], comparisons, strict=True):
        levels = [
            {**level_spec, "sql_condition": spark_condition(level)}
            for level_spec, level in zip(spec["comparison_levels"], comparison.levels, strict=True)
        ]
        specs.append({**spec, "comparison_levels": levels})
    return {**settings, "comparisons": specs}


def _link_type(records: PreparedRecords) -> LinkType:
    return "link_only" if records.source else "dedupe_only"


def pairs_per_record(records: PreparedRecords) -> int:
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


#: Candidate pairs a wide blocking rule may add, a record (and at most ``WIDE_MAX_PAIRS``
#: whatever the size: DuckDB scores about 250,000 pairs a second a core here).
WIDE_PAIRS_PER_RECORD = 25
WIDE_MAX_PAIRS = 4_000_000


def pairs_sharing(records: PreparedRecords, rule: tuple[str, ...], table: Any | None = None) -> int:
    """How many candidate pairs blocking on ``rule`` makes (across the files of a link);
    counted in ``table`` (the records as Arrow, ``PreparedRecords.to_arrow``) when given, as a
    Python Counter of ten million keys took gigabytes."""
    from collections import Counter

    if table is not None and not records.source:
        cols = list(rule)
        counts = table.group_by(cols, use_threads=False).aggregate([([], "count_all")])
        return pairs_within(counts, cols)
    keys = zip(*(records.columns[c] for c in rule), strict=True)
    if not records.source:
        counts = Counter(k for k in keys if None not in k)
        return sum(n * (n - 1) // 2 for n in counts.values())
    sides: dict[tuple[Any, ...], list[int]] = {}
    for key, side in zip(keys, records.source, strict=True):
        if None not in key:
            sides.setdefault(key, [0, 0])[side] += 1
    return sum(a * b for a, b in sides.values())


def wide_blocking_for(
    records: PreparedRecords,
    usable: set[str],
    rules: Sequence[tuple[str, ...]] = WIDE_BLOCKING_RULES,
    table: Any | None = None,
) -> list[tuple[str, ...]]:
    """The ``WIDE_BLOCKING_RULES`` whose columns the model compares and whose candidate pairs
    stay within ``WIDE_PAIRS_PER_RECORD`` a record (``WIDE_MAX_PAIRS`` at most), each and all
    together.

    A rule costs the pairs it adds: a broader rule (surname alone) holds every pair of a
    narrower one chosen before it (surname and town), and Splink scores a pair once, so the
    narrower rule's pairs are not counted twice (the largest such rule's, a lower bound of the
    overlap). Counted twice, they kept surname alone from Splink's historical_50k by 1%
    of the budget, and a third of its true pairs from being compared.
    """
    budget = min(WIDE_PAIRS_PER_RECORD * len(records), WIDE_MAX_PAIRS)
    chosen: dict[tuple[str, ...], int] = {}
    spent = 0
    for rule in rules:
        if not set(rule) <= usable:
            continue
        pairs = pairs_sharing(records, rule, table)
        within = [n for narrower, n in chosen.items() if set(rule) < set(narrower)]
        added = pairs - max(within, default=0)
        if spent + added <= budget:
            chosen[rule] = pairs
            spent += added
    return list(chosen)


def affordable(
    model: IdentityModel, records: PreparedRecords, table: Any | None = None
) -> IdentityModel:
    """The model with only those of its wide rules (``wide_blocking``) that ``records`` still
    afford (``wide_blocking_for``): training chose them on its own records, often a sample, and
    a broad key's pairs grow as the square of the records scored. On the scale store, first
    name and town chosen on 250,000 customers would make about 43 million pairs at 1M and 4.3
    billion at 10M, against a budget of 4 million.
    """
    if not model.wide_blocking:
        return model
    kept = wide_blocking_for(records, set(records.columns), model.wide_blocking, table)
    if kept == model.wide_blocking:
        return model
    dropped = [r for r in model.wide_blocking if r not in kept]
    log.info(
        "identity: not blocking on %s: too many pairs among %d records",
        "; ".join(" + ".join(r) for r in dropped),
        len(records),
    )
    return replace(model, wide_blocking=kept)


#: A field whose commonest value this share of the records hold (one town's census, every
#: customer in "London") tells nobody apart: its agreement is no evidence of one person, and EM
#: learns it backwards. It is not compared.
MOST_RECORDS = 0.5


def shared_by_most(values: list[Any]) -> bool:
    """Whether one value is held by ``MOST_RECORDS`` of the records that have the field.

    >>> shared_by_most(["anytown"] * 6 + ["elsewhere"] * 4), shared_by_most(["a", "b", None])
    (True, False)
    """
    from collections import Counter

    present = [v for v in values if v is not None]
    if len(present) < 10:
        return False
    return Counter(present).most_common(1)[0][1] >= MOST_RECORDS * len(present)


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
    engine: Engine = "duckdb",
    refuse_backwards: bool = True,
    registered: RegisteredRecords | None = None,
    em_records: PreparedRecords | None = None,
) -> IdentityModel:
    """Train a model on the records themselves: u by random sampling, m by EM.

    ``em_records``, when given, are the records EM learns m from (and households are seen in)
    instead: a sample of a large store in which the records that may be one person were kept
    together (``Learning.train`` takes whole name blocks), where ``records`` is the store's
    random sample that u, the match rate and the blocking are learned from.

    Every comparison is trained by at least one EM session, whatever subset of fields the
    records have; ``UntrainedModel`` (InvalidInput) when one cannot be, or, unless
    ``refuse_backwards`` is False, when agreeing on a field comes out counting against a match
    (the stored-customer path checks that itself, after keeping an earlier model's weights).

    The match rate comes from deterministic rules (exact e-mail, phone and surname, full name
    and postcode) assumed to find 70% of the matches. u is sampled from ``max_pairs_for_u``
    random pairs, by default 20 a record between 50,000 and 1,000,000 (DuckDB compares about
    250,000 pairs a second a core here, so a small shop trains in about a second). ``engine``
    ``"spark"`` trains on a local Spark session instead of an in-memory DuckDB; ``registered``
    (``register_records``) lets training and later scoring read one copy of the records.

    Used like this::

        records = prepare_records(rows, ids, ["first_name", "last_name", "email"])
        train_model(records).to_json()
    """
    import splink

    say = progress or (lambda _msg: None)
    compared = records.compared
    same = sorted(c for c in compared if shared_by_most(records.columns[c]))
    for column in same:
        say(f"not comparing {column}: most records have the same one")
        log.info("identity: %s is the same in most records; not compared", column)
    comparisons = comparisons_for(compared - set(same))
    if len(comparisons) < 2:
        raise InvalidInput(
            "fields: map at least two of first_name, last_name, email, phone, "
            "address, city, postcode"
        )
    link_type = _link_type(records)
    others = pairs_per_record(records)
    model = IdentityModel(comparisons, matches_per_record=0.5, link_type=link_type)
    settings = model.splink_settings(others)
    # EM stops when no parameter moves by more than 0.001: finer steps change no decision.
    settings["em_convergence"] = 0.001
    settings["max_iterations"] = 15
    registered = _registered(records, engine, registered)
    linker = _linker(registered, settings, comparisons)

    say("estimating the match rate")
    usable = {c.name for c in comparisons} | model.columns
    rules = [blocking_rule_sql(r) for r in _DETERMINISTIC_RULES if set(r) <= usable]
    if rules:
        linker.training.estimate_probability_two_random_records_match(rules, recall=0.7)
        rate = linker._settings_obj._probability_two_random_records_match
    else:
        rate = 0.5 / others
    if rate * others < MIN_MATCHES_PER_RECORD:
        log.info("identity: deterministic rules found %.3g matches per record", rate * others)
        rate = MIN_MATCHES_PER_RECORD / others
        linker._settings_obj._probability_two_random_records_match = rate
    n_pairs = len(records) * (len(records) - 1) / 2
    say("estimating u by random sampling")
    u_pairs = max_pairs_for_u or min(1e6, max(5e4, 20.0 * len(records)))
    # Splink's probe phase (10 chunks, stopping early) costs more than it saves on few pairs.
    linker.training.estimate_u_using_random_sampling(
        max_pairs=min(u_pairs, n_pairs), seed=seed, num_chunks=1 if u_pairs <= 2e5 else 10
    )
    learning = records
    if em_records is not None:
        # EM keeps the u just sampled (Splink fixes u in EM sessions) and learns m from the
        # records kept together.
        learning, trained_u = em_records, linker.misc.save_model_to_json()
        del linker
        registered = register_records(em_records, engine)
        linker = _linker(registered, trained_u, comparisons)
    say("estimating m by expectation maximisation")
    untrained = list(comparisons)
    for rule in _EM_RULES + _FALLBACK_EM_RULES:
        if not untrained or not set(rule) <= usable:
            continue
        if not any(_covers(rule, c) for c in untrained):
            continue
        if not _has_pairs(learning, rule):
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
            linker = _linker(registered, before, comparisons)
            continue
        untrained = [c for c in untrained if not _covers(rule, c)]
    if untrained:
        raise UntrainedModel(
            f"identity model: no training session could learn "
            f"{', '.join(c.name for c in untrained)} from these {len(records):,} records (too "
            "few share a key to learn from), so nothing was scored; map more fields or "
            "give a file with more records"
        )
    trained = linker.misc.save_model_to_json()
    sampled = min(u_pairs, n_pairs)
    model.comparisons = [
        _with_parameters(c, spec, sampled, float(rate))
        for c, spec in zip(comparisons, trained["comparisons"], strict=True)
    ]
    model.comparisons = [
        _with_counted_identifier_u(c, records, float(rate)) for c in model.comparisons
    ]
    model.matches_per_record = float(rate) * others
    model.records = len(records)
    model.splink_version = splink.__version__
    areas = {"postcode_area"} if "postcode" in {c.name for c in model.comparisons} else set()
    model.wide_blocking = wide_blocking_for(records, usable | areas)
    evidence = household_evidence(records)
    model.households = evidence.shows_households
    if not model.households:
        say("no households in these records: first names decide by their weight alone")
        log.info(
            "identity: %d pairs of first names at one surname and address, %d both recurring: "
            "no households",
            evidence.pairs,
            evidence.recurring,
        )
    backwards = model.backwards_comparisons()
    if backwards and refuse_backwards:
        raise UntrainedModel(
            f"identity model: trained on these {len(records):,} records, agreeing on "
            f"{', '.join(backwards)} counts against a match, so nothing was scored: too few "
            "records are one person to learn from; map more fields, or give a file with more "
            "records"
        )
    return model


class UntrainedModel(InvalidInput):
    """Training left a comparison untrained, or learned that agreeing on it is evidence of
    two different people: scoring with such a model would be silently wrong."""


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

    Disagreeing ("all other") is never less likely among matches than 0.1% either: on stored
    customers EM may see only matches that agree on a field (each customer's latest address,
    say) and put m at 1e-48, so one disagreement outweighed all other evidence (-158 bits for
    another address, -536 for another city).
    """
    levels: list[Level] = list(comparison.levels[:1])
    ceiling: float | None = None
    for level, trained in zip(comparison.levels[1:], spec["comparison_levels"][1:], strict=True):
        m = trained.get("m_probability")
        u = trained.get("u_probability")
        if m is None or not math.isfinite(m) or m <= 0:
            m = 1e-3
        elif level.kind == "else":
            m = max(m, 1e-3)
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


#: Comparisons whose exact level is a personal identifier, with the column it reads: two
#: records that share one are nearly always one person, so its u is counted on every pair.
#: A phone is one too: the housemates who share a landline stay in the count as strangers, so
#: a file of households keeps an exact phone weaker than one of mobiles (sampled at 300,000
#: messy records, u was 8.5e-6; counted, 2.0e-6: the housemates' shared landlines).
IDENTIFIER_COLUMNS = {"email": "email", "phone": "phone"}
#: Counted u needs at least this many pairs sharing the identifier: fewer say too little (a
#: store's customers, stitched on their e-mails, share none), and random sampling decides.
MIN_SHARED_PAIRS = 100
#: The share of pairs sharing an identifier that may still be two people however well the
#: matches' share is taken out: the count cannot tell a remainder smaller than the match
#: rate's own error. So a shared e-mail alone is at most 99 to 1 one person, at every size.
IDENTIFIER_STRANGER_SHARE = 0.01


def shared_value_pairs(records: PreparedRecords, column: str) -> tuple[float, float]:
    """How many pairs of records (across the two files, when two are linked) share a value of
    ``column``, and how many pairs both have one.

    >>> from cornerstore.identity.resolution.records import prepare_records
    >>> rows = [{"email": e} for e in ("a@x.com", "a@x.com", "b@x.com", "")]
    >>> shared_value_pairs(prepare_records(rows, [1, 2, 3, 4], ["email"]), "email")
    (1.0, 3.0)
    """
    values = records.columns[column]
    if records.source:
        sides = [Counter(v for v, s in zip(values, records.source, strict=True) if v and s == k)
                 for k in (0, 1)]  # fmt: skip
        shared = float(sum(n * sides[1].get(v, 0) for v, n in sides[0].items()))
        return shared, float(sum(sides[0].values())) * sum(sides[1].values())
    counts = Counter(v for v in values if v)
    present = sum(counts.values())
    shared = float(sum(n * (n - 1) // 2 for n in counts.values()))
    return shared, present * (present - 1) / 2.0


def _with_counted_identifier_u(
    comparison: Comparison, records: PreparedRecords, match_rate: float
) -> Comparison:
    """The comparison with its exact level's u counted on every pair, for an identifier.

    Random sampling sees about 20 pairs a record, at most a million in all; among them a
    handful share an e-mail, nearly all of them matches, so u of an exact e-mail was the
    difference of two counts of two or three (3.2e-6 at 300,000 messy records, a stranger with
    one's e-mail in every 300,000 pairs, where the file has none). Its weight, 18.2 bits, was
    then about the prior's at that size (-17.6), and a customer who moved and kept the e-mail
    fell below the match probability. Counting the pairs that share each address
    (``shared_value_pairs``) needs no sample: u = shared share - match rate x m, never below
    ``IDENTIFIER_STRANGER_SHARE`` of the shared share, nor above the sampled u. A file whose
    e-mails many people share (a family mailbox, a made-up address typed at the till) keeps a
    high u: sampling and the count both see the strangers.
    """
    column = IDENTIFIER_COLUMNS.get(comparison.name)
    if column is None or column not in records.columns:
        return comparison
    shared, both = shared_value_pairs(records, column)
    if shared < MIN_SHARED_PAIRS or both <= 0:
        return comparison
    levels = list(comparison.levels)
    for i, level in enumerate(levels):
        if level.kind == "exact" and level.column == column and level.m is not None:
            observed = shared / both
            u = max(observed - match_rate * level.m, IDENTIFIER_STRANGER_SHARE * observed)
            # Never above the sampled u: the count's remainder is only as good as the match
            # rate, and where training's rules find too few matches (fake_1000: four a record)
            # it counts the missed ones as strangers; sampling sees the same strangers anyway.
            levels[i] = _replace(level, u=float(min(u, level.u if level.u else u)))
            break
    return Comparison(comparison.name, tuple(levels), comparison.description)


def _replace(level: Level, **changes: Any) -> Level:
    from dataclasses import replace

    return replace(level, **changes)


def predict_pairs(
    records: PreparedRecords,
    model: IdentityModel,
    min_probability: float,
    *,
    engine: Engine = "duckdb",
    registered: RegisteredRecords | None = None,
    chunks: int = 1,
    afforded: bool = False,
) -> dict[str, list[Any]]:
    """Score every candidate pair with Splink on ``engine`` and keep those at or above
    ``min_probability``: ``predict_pair_arrays`` as Python lists."""
    arrays = predict_pair_arrays(
        records,
        model,
        min_probability,
        engine=engine,
        registered=registered,
        chunks=chunks,
        afforded=afforded,
    )
    return {name: values.tolist() for name, values in arrays.items()}


def predict_pair_arrays(
    records: PreparedRecords,
    model: IdentityModel,
    min_probability: float,
    *,
    engine: Engine = "duckdb",
    registered: RegisteredRecords | None = None,
    chunks: int = 1,
    afforded: bool = False,
    on_chunk: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Score every candidate pair with Splink on ``engine`` and keep those at or above
    ``min_probability``.

    Returns numpy arrays ``left`` and ``right`` (row positions in ``records``), ``match_weight``
    and ``match_probability``, ordered by ``left`` then ``right``: about 32 bytes a pair, where
    Python lists take about 136 (tens of millions of pairs at ten million customers).
    ``registered`` (``register_records``) reads records training registered already.
    ``chunks`` > 1 blocks and scores the left records that many at a time against all (Splink's
    ``num_chunks_left``): the same pairs, with the join's memory that of one chunk; each chunk's
    pairs are read before the next is scored, and ``on_chunk(done, chunks)`` is told after each.
    ``afforded`` says the model's wide rules are those ``affordable`` keeps for ``records``
    already (counting them again takes seconds a rule at millions of records).
    """
    registered = _registered(records, engine, registered)
    if not afforded:
        model = affordable(model, records)
    # Rules with a key too crowded to block on leave it out (``blocking``).
    settings = model.splink_settings(pairs_per_record(records), capped=registered.crowded.keys)
    settings["link_type"] = _link_type(records)
    linker = _linker(registered, settings, model.comparisons)
    # Each chunk's pairs are read and its table dropped before the next is scored: Splink's own
    # chunked ``predict`` keeps every chunk's table and copies them all into one at the end, the
    # moment the 10M resolve ran out of memory.
    parts = []
    for chunk in range(1, chunks + 1):
        predictions = linker.inference.predict_chunk(
            left_chunk=(chunk, chunks),
            right_chunk=(1, 1),
            threshold_match_probability=min_probability,
            warning_mode="never",
        )
        parts.append(_scored_positions(registered, linker, predictions.physical_name))
        predictions.drop_table_from_database_and_remove_from_cache()
        if on_chunk is not None:
            on_chunk(chunk, chunks)
    left, right, weights, probabilities = (
        np.concatenate(column) for column in zip(*parts, strict=True)
    )
    del parts
    # Engines return pairs in no particular order; clustering breaks ties between equal weights
    # by order, so the pairs come in one order (by row positions) whatever the engine.
    order = np.lexsort((right, left))
    return {
        "left": left[order],
        "right": right[order],
        "match_weight": weights[order],
        "match_probability": probabilities[order],
    }


def _scored_positions(
    registered: RegisteredRecords, linker: Any, predictions: str
) -> tuple[Any, Any, Any, Any]:
    """The scored pairs of table ``predictions``: row positions in the records (Splink's
    ``unique_id``, ``register_records``), match weights and probabilities, as numpy arrays."""
    sql = f"SELECT unique_id_l, unique_id_r, match_weight, match_probability FROM {predictions}"
    if registered.engine == "duckdb":
        got = registered.db.duckdb_con.execute(sql).fetchnumpy()
    else:
        got = linker.misc.query_sql(sql, output_type="pandas")
    return (
        np.asarray(got["unique_id_l"], dtype=np.int64),
        np.asarray(got["unique_id_r"], dtype=np.int64),
        np.asarray(got["match_weight"], dtype=np.float64),
        np.asarray(got["match_probability"], dtype=np.float64),
    )
