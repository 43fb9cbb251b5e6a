"""Why the stored-customer path misses true pairs the file path finds, on the same records.

Runs ``bench_identity_stored``'s stored path (intake, ``identity learn``, ``identity resolve``)
and the file path on the same messy records, keeping what each decided along the way, and sorts
every true pair of records the stored path left apart by where it was lost:

* **stitched apart**: never, intake only joins;
* per pair of the two records' customers after intake: *not scored* (no blocking key shared
  by any two of their variants, or below the review probability), *below the match
  probability*, *kept apart by clustering* (scored above it), *not merged* (clustered together,
  the merge refused);

each split by whether the file path joined the two records. It prints the counts, the two
models' weights side by side, and examples.

    python -m benchmarks.stored_errors --records 20000
"""

from __future__ import annotations

import argparse
import logging
from collections import Counter, defaultdict
from typing import Any

from benchmarks.bench_identity import CORNERSTORE_FIELDS, messy_rows, scores
from benchmarks.bench_placement import _message
from benchmarks.common import fresh_database, services_taking_in

_SHOWN = ("first_name", "last_name", "email", "phone", "address", "postcode", "city")


def _stored(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The stored path on ``rows``, with what resolve read, scored and clustered."""
    import cornerstore.identity.resolution.resolving as resolving
    from cornerstore.access.caller import system_caller
    from cornerstore.identity.resolution.stored_profiles import active_model
    from cornerstore.intake.service import Source

    kept: dict[str, Any] = {}
    read, per, cluster = (
        resolving.read_profile_variants,
        resolving.per_customer,
        resolving.cluster_pairs,
    )

    def read_kept(*a: Any, **k: Any) -> Any:
        kept["profiles"] = read(*a, **k)
        return kept["profiles"]

    def per_kept(*a: Any, **k: Any) -> Any:
        kept["pairs"] = per(*a, **k)
        return kept["pairs"]

    def cluster_kept(*a: Any, **k: Any) -> Any:
        kept["clusters"] = cluster(*a, **k)
        kept["match_weight"] = a[4]
        return kept["clusters"]

    resolving.read_profile_variants = read_kept  # type: ignore[assignment]
    resolving.per_customer = per_kept  # type: ignore[assignment]
    resolving.cluster_pairs = cluster_kept  # type: ignore[assignment]
    import os

    if os.environ.get("LEARN_VARIANTS"):
        import cornerstore.identity.resolution.learning as learning
        from cornerstore.identity.resolution.stored_profiles import read_profile_variants

        learning.read_profiles = lambda uow, region, only=None: (
            read_profile_variants(  # type: ignore
                uow, region, only
            ).variants
        )
    owner = system_caller(actor="bench")
    keys = [("anonymous_id", r["id"]) for r in rows]
    with fresh_database(None, "stored-errors") as url:
        services, _ = services_taking_in(url, [_message(r) for r in rows], Source("till", "store"))
        with services.store.unit_of_work() as uow:
            found = uow.identifiers.lookup(keys)
            kept["intake"] = [found[k].root_id for k in keys]
        services.identity.train(owner)
        kept["model"] = active_model(services.store)
        kept["resolved"] = services.identity.resolve(owner)
        with services.store.unit_of_work() as uow:
            found = uow.identifiers.lookup(keys)
            kept["final"] = [found[k].root_id for k in keys]
        services.store.dispose()
    return kept


def _file(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The file path on ``rows``: its model, scored pairs and labels."""
    import cornerstore.identity.resolution.batch as batch
    from cornerstore.identity.resolution.records import prepare_records

    kept: dict[str, Any] = {}
    cluster = batch.cluster_pairs

    def cluster_kept(records: Any, left: Any, right: Any, weights: Any, *a: Any, **k: Any) -> Any:
        kept["weight"] = {
            (min(x, y), max(x, y)): w for x, y, w in zip(left, right, weights, strict=True)
        }
        kept["match_weight"] = a[0]
        return cluster(records, left, right, weights, *a, **k)

    batch.cluster_pairs = cluster_kept  # type: ignore[assignment]
    prepared = prepare_records(rows, [r["id"] for r in rows], CORNERSTORE_FIELDS, "GB")
    result = batch.resolve(prepared)
    kept.update(records=prepared, model=result.model, labels=result.clusters.labels)
    return kept


def _weights(model: Any) -> dict[str, float]:
    """Each comparison level's match weight (bits), by ``comparison:level``; the prior's
    matches a record has under ``prior``."""
    import math

    out: dict[str, float] = {"prior:matches_per_record": round(model.matches_per_record, 3)}
    for comparison in model.comparisons:
        for level in comparison.levels:
            if level.m and level.u:
                out[f"{comparison.name}:{level.label}"] = round(math.log2(level.m / level.u), 2)
    return out


def diagnose(records: int, seed: int, examples: int) -> None:
    logging.getLogger("splink").setLevel(logging.ERROR)
    rows = messy_rows(records, seed)
    truth = [r["truth"] for r in rows]
    stored = _stored(rows)
    file = _file(rows)
    print("stored", scores(stored["final"], truth))
    print("file  ", scores(file["labels"], truth))
    print("resolved", stored["resolved"])

    profiles = stored["profiles"]
    ids = list(profiles.customers.columns["unique_id"])
    position = {c: i for i, c in enumerate(ids)}
    pairs = stored["pairs"]
    weight = {
        (a, b): w
        for a, b, w in zip(pairs["left"], pairs["right"], pairs["match_weight"], strict=True)
    }
    labels = stored["clusters"].labels
    threshold = stored["match_weight"]
    file_labels, file_weight = file["labels"], file["weight"]

    people: dict[Any, list[int]] = defaultdict(list)
    for i, t in enumerate(truth):
        people[t].append(i)
    causes: Counter[tuple[str, bool]] = Counter()
    lost_by_file: Counter[str] = Counter()
    shown: dict[tuple[str, bool], list[str]] = defaultdict(list)
    for members in people.values():
        for k, i in enumerate(members):
            for j in members[k + 1 :]:
                joined_file = file_labels[i] == file_labels[j]
                if stored["final"][i] == stored["final"][j]:
                    if not joined_file:
                        lost_by_file["file misses, stored finds"] += 1
                    continue
                a, b = position[stored["intake"][i]], position[stored["intake"][j]]
                w = weight.get((min(a, b), max(a, b)))
                if w is None:
                    cause = "not scored"
                elif w < threshold:
                    cause = "below match"
                elif labels[a] != labels[b]:
                    cause = "kept apart by clustering"
                else:
                    cause = "not merged"
                causes[(cause, joined_file)] += 1
                if len(shown[(cause, joined_file)]) < examples:
                    fw = file_weight.get((min(i, j), max(i, j)))
                    shown[(cause, joined_file)].append(
                        f"    stored {'-' if w is None else f'{w:.1f}'} file "
                        f"{'-' if fw is None else f'{fw:.1f}'}\n"
                        f"      {[rows[i].get(c) for c in _SHOWN]}\n"
                        f"      {[rows[j].get(c) for c in _SHOWN]}\n"
                        f"      customers {a} ({_size(stored['intake'], ids[a])} records) "
                        f"{b} ({_size(stored['intake'], ids[b])} records)"
                    )
    print(f"\nstored threshold {threshold:.2f} bits, file {file['match_weight']:.2f}")
    print("true pairs the stored path misses, by cause (and whether the file path finds them):")
    for (cause, joined_file), n in causes.most_common():
        print(f"{n:7d}  {cause:28s} file {'finds' if joined_file else 'misses'}")
    for name, n in lost_by_file.items():
        print(f"{n:7d}  {name}")
    sw, fw = _weights(stored["model"]), _weights(file["model"])
    print("\nlevel weights (bits), stored model / file model:")
    for name in sorted(set(sw) | set(fw)):
        print(f"  {name:60s} {sw.get(name, float('nan')):7.2f} {fw.get(name, float('nan')):7.2f}")
    for key, lines in shown.items():
        print(f"\n-- {key[0]}, file {'finds' if key[1] else 'misses'}")
        print("\n".join(lines))


def _size(intake: list[str], root: str) -> int:
    return intake.count(root)


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.stored_errors", description=__doc__)
    p.add_argument("--records", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--examples", type=int, default=3, help="example pairs shown per cause")
    args = p.parse_args()
    diagnose(args.records, args.seed, args.examples)


if __name__ == "__main__":
    main()
