"""Run every benchmark with its default sizes, then print and save a summary of the targets.

python -m benchmarks.run                  # what `make bench` does
python -m benchmarks.run --quick          # small sizes: checks the harness in a minute
python -m benchmarks.run --only intake
python -m benchmarks.run --only clv
python -m benchmarks.run --only identity   # needs pip install -e '.[bench]'
python -m benchmarks.run --only placement
python -m benchmarks.run --only calibration
python -m benchmarks.run --only identity_ceiling
python -m benchmarks.run --only cli_startup
python -m benchmarks.run --only search
python -m benchmarks.run --only console
python -m benchmarks.run --only suggest
python -m benchmarks.run --only uplift
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from benchmarks import (
    bench_calibration,
    bench_cli_startup,
    bench_clv,
    bench_console,
    bench_identity,
    bench_identity_ceiling,
    bench_intake,
    bench_learn,
    bench_placement,
    bench_privacy,
    bench_profile_read,
    bench_retail,
    bench_search,
    bench_suggest,
    bench_uplift,
)
from benchmarks.common import console, machine, print_table, write_result

QUICK_INTAKE = ["--events", "20000", "--http-events", "10000", "--known", "2000"]
QUICK_READ = ["--profiles", "5000", "--events", "100000", "--targets", "10"]
QUICK_READ += ["--duration", "3", "--warmup", "1", "--lookups", "200"]
QUICK_CLV = ["--customers", "50000", "--repeats", "1", "--no-pymc"]
QUICK_LEARN = ["--customers", "20000", "--transactions", "200000"]
QUICK_IDENTITY = ["--records", "10000", "--reference", "10000", "--probes", "200"]
QUICK_PLACEMENT = ["--stored", "10000", "--probes", "200", "--peer-probes", "20"]
QUICK_SEARCH = ["--customers", "10000", "--queries", "50"]
QUICK_CONSOLE = ["--profiles", "10000", "--events", "50000", "--requests", "50"]
QUICK_CONSOLE += ["--customers", "10000", "--queries", "20"]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--quick", action="store_true", help="small sizes, to check the harness")
    p.add_argument(
        "--only",
        choices=[
            "intake",
            "profile_read",
            "privacy",
            "clv",
            "learn",
            "retail",
            "identity",
            "placement",
            "calibration",
            "identity_ceiling",
            "cli_startup",
            "search",
            "console",
            "suggest",
            "uplift",
        ],
        help="run one benchmark",
    )
    p.add_argument(
        "--database-url",
        help="also passed to the intake, placement, search and console benchmarks",
    )
    args = p.parse_args(argv)

    load = os.getloadavg()[0]
    if load > 0.5:
        console.print(
            f"[yellow]load average is {load:.1f} before starting: other work shares the CPUs, "
            "so the figures will be low[/]"
        )
    results: dict[str, Any] = {}
    if args.only in (None, "intake"):
        intake_args = QUICK_INTAKE if args.quick else []
        if args.database_url:
            intake_args = [*intake_args, "--database-url", args.database_url]
        results["intake"] = bench_intake.main(intake_args)
    if args.only in (None, "profile_read"):
        results["profile_read"] = bench_profile_read.main(QUICK_READ if args.quick else [])
    if args.only in (None, "privacy"):
        results["privacy"] = bench_privacy.main(["--megabytes", "2"] if args.quick else [])
    if args.only in (None, "clv"):
        results["clv"] = bench_clv.main(QUICK_CLV if args.quick else [])
    if args.only in (None, "learn"):
        results["learn"] = bench_learn.main(QUICK_LEARN if args.quick else [])
    if args.only in (None, "retail"):
        results["retail"] = bench_retail.main([])
    if args.only in (None, "identity"):
        results["identity"] = bench_identity.main(QUICK_IDENTITY if args.quick else [])
    if args.only in (None, "placement"):
        placement_args = QUICK_PLACEMENT if args.quick else []
        if args.database_url:
            placement_args = [*placement_args, "--database", args.database_url]
        results["placement"] = bench_placement.main(placement_args)
    if args.only in (None, "calibration"):
        calibration_args = ["--records", "10000", "--decisions", "100"] if args.quick else []
        results["calibration"] = bench_calibration.main(calibration_args)
    if args.only in (None, "identity_ceiling"):
        ceiling_args = ["--records", "10000"] if args.quick else []
        results["identity_ceiling"] = bench_identity_ceiling.main(ceiling_args)
    if args.only in (None, "cli_startup"):
        startup_args = ["--runs", "3", "--customers", "300"] if args.quick else []
        results["cli_startup"] = bench_cli_startup.main(startup_args)
    if args.only in (None, "search"):
        search_args = QUICK_SEARCH if args.quick else []
        if args.database_url:
            search_args = [*search_args, "--database", args.database_url]
        results["search"] = bench_search.main(search_args)
    if args.only in (None, "console"):
        console_args = QUICK_CONSOLE if args.quick else []
        if args.database_url:
            console_args = [*console_args, "--database", args.database_url]
        results["console"] = bench_console.main(console_args)
    if args.only in (None, "suggest"):
        suggest_args = ["--lookups", "100", "--skip-accuracy"] if args.quick else []
        results["suggest"] = bench_suggest.main(suggest_args)
    if args.only in (None, "uplift"):
        uplift_args = ["--replications", "200", "--recipients", "20000"] if args.quick else []
        results["uplift"] = bench_uplift.main(uplift_args)

    rows = [
        row | {"benchmark": name} for name, r in results.items() for row in r.get("targets", [])
    ]
    print_table(
        "Summary" + (" (--quick sizes: not comparable with the targets)" if args.quick else ""),
        ["target", "goal", "measured", "score (>= 1 meets)", "result"],
        [[r["name"], _goal(r), r["measured"], r["ratio"], r["pass"]] for r in rows],
    )
    summary = {"machine": machine(), "quick": args.quick, "targets": rows}
    path = write_result("summary", summary)
    passed = sum(r["pass"] for r in rows)
    console.print(f"{passed} of {len(rows)} targets met; wrote {path}")
    return summary


def _goal(row: dict[str, Any]) -> str:
    if "goal" in row:
        return str(row["goal"])
    target = row["target"]
    if "p99" in row["name"] or "false positives" in row["name"] or row["name"].endswith(" s"):
        return f"<= {target:g}"
    return f">= {target:,g}"


if __name__ == "__main__":
    main()
