"""How close identity resolution comes to what the records allow, on the messy customers.

Cluster F1 on the messy set (``bench_identity.messy_rows``) is limited by the records as much as
by the model: a person whose two records agree on nothing but the name, after a move, a new
phone and no e-mail, looks like a namesake to anyone. This benchmark measures that limit. The
records are prepared, the model trained and every candidate pair scored once; then the same
clustering (first-name rule, household ambiguity) runs on four sets of pair weights:

* **cornerstore**: the trained model, at the default match probability and at the best
  threshold of a sweep (what tuning the threshold on the ground truth could buy);
* **supervised classifier**: a gradient-boosted classifier (scikit-learn's
  ``HistGradientBoostingClassifier``) trained on the ground truth itself, from every
  comparison's level and weight (term frequencies included) and how many records carry each
  record's full name. Two-fold: people are split in halves and each half is scored by the
  classifier trained on the other. Its best threshold is reported. It is what any model that
  decides pair by pair could learn from these comparisons, given labels no shop has;
* **oracle**: exactly the true pairs among the candidate pairs merged (the bound that blocking
  sets).

Also reported: the candidate pairs that agree exactly on first and last name and on nothing
else, every other field missing or different (the commonest cause of a split person), the share
of them that are one person, and how many of the true pairs cornerstore leaves apart are such
pairs.

    python -m benchmarks.bench_identity_ceiling
    python -m benchmarks.bench_identity_ceiling --records 50000
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from typing import Any

from benchmarks.bench_identity import scored_messy, scores
from benchmarks.common import machine, print_table, write_result

#: Thresholds tried, as match weights (log2 odds): probability 0.2 to 0.996.
SWEEP = (-2.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0)


def _name_only(levels: list[int], comparisons: list[Any]) -> bool:
    """Whether a pair agrees exactly on both names and every other field is missing or "all
    other" (its first or last level)."""
    for level, comparison in zip(levels, comparisons, strict=True):
        if comparison.name in ("first_name", "last_name"):
            if comparison.levels[level].label != "exact":
                return False
        elif 0 < level < len(comparison.levels) - 1:
            return False
    return True


def run(records: int, seed: int) -> dict[str, Any]:
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier

    from cornerstore.identity.resolution.clustering import cluster_pairs
    from cornerstore.identity.resolution.model import weight_of
    from cornerstore.identity.resolution.scorer import Scorer

    started = time.perf_counter()
    # Every candidate pair, however weak: the classifier and the oracle decide on all of them.
    rows, rec, model, pairs = scored_messy(records, seed, 1e-9)
    left, right = pairs["left"], pairs["right"]
    weights = np.asarray(pairs["match_weight"], dtype=float)
    truth = [r["truth"] for r in rows]
    y = np.array([truth[a] == truth[b] for a, b in zip(left, right, strict=True)])
    scored_s = time.perf_counter() - started

    def labelled(pair_weights: Any, threshold: float) -> list[int]:
        return cluster_pairs(rec, left, right, list(pair_weights), threshold).labels

    def clustered(pair_weights: Any, threshold: float) -> dict[str, float]:
        return scores(labelled(pair_weights, threshold), truth)

    def best(pair_weights: Any) -> tuple[float, dict[str, float]]:
        results = [(t, clustered(pair_weights, t)) for t in SWEEP]
        return max(results, key=lambda r: r[1]["cluster_f1"])

    # Features: each comparison's level (categorical) and weight, and full-name counts.
    scorer = Scorer(model, rec, indexed=False)
    names = [c.name for c in model.comparisons]
    level_index = [{lv.label: i for i, lv in enumerate(c.levels)} for c in model.comparisons]
    features = np.zeros((len(left), 2 * len(names) + 2))
    first, last = rec.columns["first_name"], rec.columns["last_name"]
    full_names = Counter(zip(first, last, strict=True))
    for k, (a, b) in enumerate(zip(left, right, strict=True)):
        explained = scorer.explain(rec.row(a), rec.row(b))
        for ci, f in enumerate(explained):
            features[k, ci] = level_index[ci][f.level]
            features[k, len(names) + ci] = f.weight
        features[k, -2] = np.log1p(full_names[(first[a], last[a])])
        features[k, -1] = np.log1p(full_names[(first[b], last[b])])
    half = np.array([hash(truth[a]) % 2 for a in left])  # people, not pairs, split in two
    predicted = np.zeros(len(left))
    for h in (0, 1):
        classifier = HistGradientBoostingClassifier(
            max_iter=300, categorical_features=list(range(len(names))), random_state=seed
        )
        classifier.fit(features[half != h], y[half != h])
        predicted[half == h] = classifier.predict_proba(features[half == h])[:, 1]
    clipped = np.clip(predicted, 1e-9, 1 - 1e-9)
    learned = np.log2(clipped / (1 - clipped))

    default_threshold = weight_of(model.match_probability)
    cs_threshold, cs_best = best(weights)
    gb_threshold, gb_best = best(learned)
    level_columns = features[:, : len(names)].astype(int).tolist()
    name_only = [k for k, lv in enumerate(level_columns) if _name_only(lv, model.comparisons)]
    labels = labelled(weights, default_threshold)
    missed = [k for k in range(len(left)) if y[k] and labels[left[k]] != labels[right[k]]]
    name_only_set = set(name_only)
    return {
        "records": len(rows),
        "people": len(set(truth)),
        "pairs_scored": len(left),
        "true_pairs_scored": int(y.sum()),
        "train_and_score_s": round(scored_s, 1),
        "cornerstore_default": {
            "threshold_weight": round(default_threshold, 2),
            **clustered(weights, default_threshold),
        },
        "cornerstore_best": {"threshold_weight": cs_threshold, **cs_best},
        "supervised_best": {"threshold_weight": gb_threshold, **gb_best},
        "oracle": {"threshold_weight": 0.0, **clustered(np.where(y, 100.0, -100.0), 0.0)},
        "name_only_pairs": len(name_only),
        "name_only_one_person": int(y[name_only].sum()),
        "true_pairs_split_at_default": len(missed),
        "of_which_name_only": sum(k in name_only_set for k in missed),
        "seconds": round(time.perf_counter() - started, 1),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=100_000, help="messy records (100,000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    result = run(args.records, args.seed)
    rows = []
    for label, key in (
        ("cornerstore, default match probability", "cornerstore_default"),
        ("cornerstore, best threshold", "cornerstore_best"),
        ("supervised classifier (ground truth), best threshold", "supervised_best"),
        ("oracle: true candidate pairs merged", "oracle"),
    ):
        s = result[key]
        rows.append(
            [
                label,
                f"{s['threshold_weight']:+.2f}",
                s["pair_precision"],
                s["pair_recall"],
                s["pair_f1"],
                s["cluster_precision"],
                s["cluster_recall"],
                s["cluster_f1"],
            ]
        )
    print_table(
        f"What the records allow: messy {result['records']:,} records, {result['people']:,} "
        f"people, {result['pairs_scored']:,} candidate pairs",
        ["pair weights", "threshold", "pair P", "pair R", "pair F1", "cluster P", "cluster R",
         "cluster F1"],
        rows,
    )  # fmt: skip
    share = result["name_only_one_person"] / max(1, result["name_only_pairs"])
    print(
        f"pairs agreeing on first and last name and nothing else: {result['name_only_pairs']:,}, "
        f"of which one person: {result['name_only_one_person']:,} ({share:.1%})"
    )
    print(
        f"true candidate pairs left apart at the default match probability: "
        f"{result['true_pairs_split_at_default']:,}, of which agreeing on the names alone: "
        f"{result['of_which_name_only']:,}"
    )
    result["machine"] = machine()
    write_result("identity_ceiling", result)
    return result


if __name__ == "__main__":
    main()
