"""What reviewers' decisions buy: identity resolution on the messy customers before and after
staff judged part of the grey zone.

The model is trained and the candidate pairs scored once (``bench_identity.messy_rows``). Then a
sample of the pairs ``identity resolve`` queues for review (from the review probability 0.5,
left in two clusters, first names not in conflict) is decided by the ground truth, standing in
for reviewers, and the records are clustered three ways:

* **no decisions**: the model as trained;
* **decisions kept**: rejected pairs are cannot-links, accepted pairs are merged (what
  ``identity resolve`` does with decisions);
* **decisions kept + calibrated**: the same, with the model calibrated on the decisions
  (``labels.calibrate``: every pair's weight moved by the fitted shift), as the next
  ``identity learn`` does.

Reported: pairwise and cluster precision / recall / F1, the shift and the decisions the model
agreed with before and after calibration.

    python -m benchmarks.bench_calibration
    python -m benchmarks.bench_calibration --records 50000 --decisions 200 500 2000
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Any

from benchmarks.bench_identity import scored_messy, scores
from benchmarks.common import machine, print_table, write_result


def run(records: int, decisions: list[int], seed: int) -> dict[str, Any]:
    from cornerstore.identity.resolution.clustering import cluster_pairs, names_conflict
    from cornerstore.identity.resolution.labels import calibrate
    from cornerstore.identity.resolution.model import weight_of

    started = time.perf_counter()
    rows, rec, model, pairs = scored_messy(records, seed)
    left, right, weights = pairs["left"], pairs["right"], pairs["match_weight"]
    match_weight = weight_of(model.match_probability)
    prepared_s = time.perf_counter() - started
    truth = [r["truth"] for r in rows]

    def clustered(keep: list[int], weight: list[float]) -> list[int]:
        return cluster_pairs(
            rec,
            [left[k] for k in keep],
            [right[k] for k in keep],
            [weight[k] for k in keep],
            match_weight,
        ).labels

    labels = clustered(list(range(len(left))), list(weights))
    # What identity resolve queues: pairs left in two clusters whose first names agree.
    grey = [
        k
        for k in range(len(left))
        if labels[left[k]] != labels[right[k]]
        and not names_conflict(rec.row(left[k]), rec.row(right[k]))
    ]
    out: dict[str, Any] = {
        "records": len(rows),
        "pairs_scored": len(left),
        "grey_zone_pairs": len(grey),
        "train_and_score_s": round(prepared_s, 1),
        "no_decisions": scores(labels, truth),
        "runs": [],
    }
    rng = random.Random(seed)
    for n in decisions:
        judged = rng.sample(grey, min(n, len(grey)))
        is_match = {k: truth[left[k]] == truth[right[k]] for k in judged}
        rejected = {k for k, match in is_match.items() if not match}
        keep = [k for k in range(len(left)) if k not in rejected]
        kept_weights = list(weights)
        for k, match in is_match.items():
            if match:
                kept_weights[k] = max(kept_weights[k], 100.0)  # merged at once, like accept
        # As identity learn does, pairs queued above the match probability (kept apart by a
        # clustering rule, not for their weight) are set aside.
        by_weight = [k for k in judged if weights[k] < match_weight]
        calibration = calibrate(
            [weights[k] for k in by_weight],
            [is_match[k] for k in by_weight],
            set_aside=len(judged) - len(by_weight),
        )
        shifted = [w + calibration.shift_bits for w in kept_weights]
        out["runs"].append(
            {
                "decisions": len(judged),
                "accepted": sum(is_match.values()),
                "calibrated_on": len(by_weight),
                "calibrated_accepted": calibration.accepted,
                "shift_bits": calibration.shift_bits,
                "agreed_before": calibration.agreed_before,
                "agreed_after": calibration.agreed_after,
                "decisions_kept": scores(clustered(keep, kept_weights), truth),
                "kept_and_calibrated": scores(clustered(keep, shifted), truth),
            }
        )
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=100_000, help="messy records (100,000)")
    parser.add_argument(
        "--decisions",
        type=int,
        nargs="+",
        default=[100, 500, 2000],
        help="grey-zone pairs decided, one run each (100 500 2000)",
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    result = run(args.records, args.decisions, args.seed)
    base = result["no_decisions"]
    rows: list[list[Any]] = [
        ["no decisions", "-", "-", "-", base["pair_precision"], base["pair_recall"],
         base["cluster_precision"], base["cluster_recall"], base["cluster_f1"]],
    ]  # fmt: skip
    for r in result["runs"]:
        for label, key in (
            ("kept", "decisions_kept"),
            ("kept + calibrated", "kept_and_calibrated"),
        ):
            s = r[key]
            rows.append(
                [
                    f"{r['decisions']:,} decided: {label}",
                    f"{r['accepted']:,}",
                    f"{r['shift_bits']:+.2f}" if key == "kept_and_calibrated" else "-",
                    f"{r['agreed_before']} -> {r['agreed_after']}"
                    if key == "kept_and_calibrated"
                    else "-",
                    s["pair_precision"],
                    s["pair_recall"],
                    s["cluster_precision"],
                    s["cluster_recall"],
                    s["cluster_f1"],
                ]
            )
    print_table(
        f"Staff decisions on the grey zone, messy {result['records']:,} records "
        f"({result['grey_zone_pairs']:,} grey-zone pairs)",
        [
            "run",
            "accepted",
            "shift (bits)",
            "agreed",
            "pair P",
            "pair R",
            "cluster P",
            "cluster R",
            "cluster F1",
        ],
        rows,
    )
    result["machine"] = machine()
    write_result("calibration", result)
    return result


if __name__ == "__main__":
    main()
