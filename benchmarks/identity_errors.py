"""Why cornerstore's identity resolution gets people wrong on the messy set, by cause.

Resolves the messy customers (``bench_identity.messy_rows``) and, with the ground truth, sorts
every person the clustering got wrong:

* **split**: a person's records end in more than one cluster, because the parts share no
  blocking key (*unblocked*), were scored below the match threshold (*below threshold*), or were
  scored above it but kept apart by the first-name rule (*refused*);
* **merged**: a cluster holds records of more than one person: of one household (same
  ``household_id``) or of strangers (namesakes).

It prints counts and, for each cause, the commonest field-level patterns (the level of each
comparison for the pair), so that the largest cause can be fixed first.

    python -m benchmarks.identity_errors --records 50000
"""

from __future__ import annotations

import argparse
import time
from collections import Counter, defaultdict
from typing import Any

from benchmarks.bench_identity import scored_messy, scores


def _components(nodes: list[int], edges: list[tuple[int, int]]) -> int:
    parent = {n: n for n in nodes}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        parent[find(a)] = find(b)
    return len({find(n) for n in nodes})


def _pattern(scorer: Any, rec: Any, a: int, b: int) -> str:
    parts = []
    for f in scorer.explain(rec.row(a), rec.row(b)):
        parts.append(f"{f.field}:{f.level[:14]}")
    return " | ".join(parts)


_SHOWN = ("first_name", "last_name", "email", "phone", "address", "postcode", "city")


def _example(rec: Any, a: int, b: int, weight: float | None) -> str:
    def values(i: int) -> str:
        return ", ".join(str(rec.columns[c][i]) for c in _SHOWN)

    shown = "unblocked" if weight is None else f"{weight:6.1f}"
    return f"        {shown}  [{values(a)}]  [{values(b)}]"


def diagnose(records_n: int, seed: int, show: int, examples_shown: int) -> None:
    from cornerstore.identity.resolution.clustering import cluster_pairs, names_conflict
    from cornerstore.identity.resolution.model import weight_of
    from cornerstore.identity.resolution.scorer import Scorer

    started = time.perf_counter()
    rows, rec, model, pairs = scored_messy(records_n, seed, 1e-9)
    threshold = weight_of(model.match_probability)
    clusters = cluster_pairs(rec, pairs["left"], pairs["right"], pairs["match_weight"], threshold)
    print(f"resolved in {time.perf_counter() - started:.1f} s; {len(pairs['left']):,} pairs")
    truth = [r["truth"] for r in rows]
    household = [r["household_id"] for r in rows]
    print(scores(clusters.labels, truth))
    labels = clusters.labels
    weight: dict[tuple[int, int], float] = {}
    for a, b, w in zip(pairs["left"], pairs["right"], pairs["match_weight"], strict=True):
        weight[(min(a, b), max(a, b))] = w
    people: dict[Any, list[int]] = defaultdict(list)
    for i, t in enumerate(truth):
        people[t].append(i)
    scorer = Scorer(model, rec)

    split: Counter[str] = Counter()
    split_patterns: dict[str, Counter[str]] = defaultdict(Counter)
    examples: dict[str, list[str]] = defaultdict(list)
    for members in people.values():
        if len(members) < 2 or len({labels[i] for i in members}) == 1:
            continue
        inner = [(a, b) for k, a in enumerate(members) for b in members[k + 1 :]]
        above = [(a, b) for a, b in inner if weight.get((min(a, b), max(a, b)), -1e9) >= threshold]
        blocked = [(a, b) for a, b in inner if (min(a, b), max(a, b)) in weight]
        if _components(members, above) == 1:
            cause = "refused (first names)"
        elif _components(members, blocked) == 1:
            cause = "below threshold"
        else:
            cause = "unblocked"
        split[cause] += 1
        for a, b in inner:
            if labels[a] == labels[b]:
                continue
            key = (min(a, b), max(a, b))
            if cause == "refused (first names)" and key in weight and weight[key] >= threshold:
                conflict = names_conflict(rec.row(a), rec.row(b))
                split_patterns[cause][
                    f"{'direct' if conflict else 'via cluster'}: "
                    f"{rec.columns['first_name'][a]} / {rec.columns['first_name'][b]}"
                ] += 1
            elif cause == "below threshold" and key in weight and weight[key] < threshold:
                pattern = _pattern(scorer, rec, a, b)
                split_patterns[cause][pattern] += 1
                examples[pattern].append(_example(rec, a, b, weight[key]))
            elif cause == "unblocked" and key not in weight:
                pattern = _pattern(scorer, rec, a, b)
                split_patterns[cause][pattern] += 1
                examples[pattern].append(_example(rec, a, b, None))

    merged: Counter[str] = Counter()
    merged_patterns: dict[str, Counter[str]] = defaultdict(Counter)
    by_label: dict[int, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        by_label[label].append(i)
    for members in by_label.values():
        persons = {truth[i] for i in members}
        if len(persons) < 2:
            continue
        homes = {household[i] for i in members}
        cause = "household" if len(homes) == 1 else "strangers"
        merged[cause] += 1
        for k, a in enumerate(members):
            for b in members[k + 1 :]:
                if truth[a] != truth[b]:
                    pattern = _pattern(scorer, rec, a, b)
                    merged_patterns[cause][pattern] += 1
                    key = (min(a, b), max(a, b))
                    examples[pattern].append(_example(rec, a, b, weight.get(key)))

    multi = sum(len(m) > 1 for m in people.values())
    print(f"\npeople {len(people):,} (with 2+ records {multi:,}); clusters {len(by_label):,}")
    print("people split:", dict(split), "  clusters merging people:", dict(merged))
    for title, table in (("split", split_patterns), ("merged", merged_patterns)):
        for cause, patterns in table.items():
            print(f"\n-- {title}: {cause} ({sum(patterns.values())} pairs)")
            for pattern, n in patterns.most_common(show):
                print(f"{n:6d}  {pattern}")
                for line in examples.get(pattern, [])[:examples_shown]:
                    print(line)


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.identity_errors", description=__doc__)
    p.add_argument("--records", type=int, default=50_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--show", type=int, default=15, help="patterns shown per cause")
    p.add_argument("--examples", type=int, default=0, help="example pairs shown per pattern")
    args = p.parse_args()
    diagnose(args.records, args.seed, args.show, args.examples)


if __name__ == "__main__":
    main()
