"""Sensitive-data detection: recall and false positives per kind on the labelled set, and speed.

The evaluation set is ``tests/data/privacy_eval.jsonl`` (valid identifiers of every kind in text,
and look-alikes: order, invoice, tracking and phone numbers, checksum failures, never-issued SSN
shapes, dates that are not birthdays). Speed is measured on ``--megabytes`` of ordinary text (the
repository's own Markdown with order, invoice, date and phone numbers mixed in), scanned as one
text and line by line, on one core.

The peer named by the privacy issue, Microsoft Presidio's pattern recognizers, is not run yet:
its AnalyzerEngine expects a spaCy language model by default, and running only its pattern
recognizers without a downloaded model has still to be tried.

    python -m benchmarks.bench_privacy
    python -m benchmarks.bench_privacy --megabytes 50
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from benchmarks.common import machine, print_table, write_result
from cornerstore.privacy.detect import find

ROOT = Path(__file__).parents[1]
EVAL = ROOT / "tests" / "data" / "privacy_eval.jsonl"
SPEED_TARGET_MB_S = 20.0


def evaluate() -> dict[str, Any]:
    """Per kind: positives found / labelled; look-alikes with any finding."""
    items = [orjson.loads(line) for line in EVAL.read_text().splitlines() if line.strip()]
    labelled: Counter[str] = Counter()
    found: Counter[str] = Counter()
    lookalikes = false_positives = 0
    for item in items:
        kinds = {f.kind for f in find(item["text"])}
        if not item["kinds"]:
            lookalikes += 1
            false_positives += bool(kinds)
        for kind in item["kinds"]:
            labelled[kind] += 1
            found[kind] += kind in kinds
    return {
        "items": len(items),
        "recall": {k: found[k] / labelled[k] for k in sorted(labelled)},
        "positives": dict(sorted(labelled.items())),
        "lookalikes": lookalikes,
        "false_positives": false_positives,
        "false_positive_rate": false_positives / lookalikes if lookalikes else 0.0,
    }


def ordinary_text(megabytes: float) -> str:
    base = (ROOT / "README.md").read_text()
    base += "".join(p.read_text() for p in sorted((ROOT / "docs").glob("*.md")))
    base += "\nOrder 10023 shipped 2024-03-12, invoice INV-2024-0042, call 555-123-4567.\n"
    size = int(megabytes * 1_000_000)
    return (base * (size // len(base) + 1))[:size]


def speed(megabytes: float) -> dict[str, Any]:
    text = ordinary_text(megabytes)
    size = len(text.encode()) / 1e6
    started = time.perf_counter()
    whole = len(find(text))
    whole_s = time.perf_counter() - started
    lines = text.splitlines(keepends=True)
    started = time.perf_counter()
    by_line = sum(len(find(line)) for line in lines)
    lines_s = time.perf_counter() - started
    return {
        "megabytes": round(size, 1),
        "whole_text_mb_s": round(size / whole_s, 1),
        "line_by_line_mb_s": round(size / lines_s, 1),
        "findings": whole,
        "findings_by_line": by_line,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_privacy", description=__doc__)
    p.add_argument("--megabytes", type=float, default=20.0, help="text scanned for speed (20)")
    args = p.parse_args(argv)
    quality = evaluate()
    fast = speed(args.megabytes)
    print_table(
        f"Detection on {quality['items']} labelled items",
        ["kind", "labelled", "recall"],
        [[k, quality["positives"][k], quality["recall"][k]] for k in quality["recall"]]
        + [["look-alikes", quality["lookalikes"], f"FP {quality['false_positive_rate']:.3f}"]],
    )
    print_table(
        f"Speed on {fast['megabytes']} MB of ordinary text, one core",
        ["scan", "MB/s"],
        [["whole text", fast["whole_text_mb_s"]], ["line by line", fast["line_by_line_mb_s"]]],
    )
    worst = min(quality["recall"].values())
    targets = [
        {
            "name": "privacy recall (worst kind)",
            "target": 1.0,
            "measured": worst,
            "ratio": worst,
            "pass": worst >= 1.0,
        },
        {
            "name": "privacy false positives on look-alikes",
            "target": 0.01,
            "measured": round(quality["false_positive_rate"], 4),
            "ratio": round(min(0.01 / max(quality["false_positive_rate"], 1e-9), 100.0), 2),
            "pass": quality["false_positive_rate"] <= 0.01,
        },
        {
            "name": "privacy scan MB/s (whole text)",
            "target": SPEED_TARGET_MB_S,
            "measured": fast["whole_text_mb_s"],
            "ratio": round(fast["whole_text_mb_s"] / SPEED_TARGET_MB_S, 3),
            "pass": fast["whole_text_mb_s"] >= SPEED_TARGET_MB_S,
        },
    ]
    result = {"machine": machine(), "quality": quality, "speed": fast, "targets": targets}
    write_result("privacy", result)
    return result


if __name__ == "__main__":
    main()
