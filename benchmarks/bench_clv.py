"""Customer value: fit time and holdout accuracy on the CDNOW sample against lifetimes and
PyMC-Marketing, then BG/NBD + Gamma-Gamma fit and predictions on a million simulated customers.

CDNOW (``../shared/data/cdnow_sample.txt``, 2,357 customers, weekly, calibration to 1997-09-30,
39-week holdout): each implementation fits BG/NBD (and cornerstore also Pareto/NBD, MBG/NBD and
``auto``) on the calibration period and predicts each customer's holdout purchases; the table
shows fit time (median of ``--repeats``; PyMC-Marketing's first fit, which compiles, apart),
parameters, log-likelihood, and the holdout RMSE, correlation and total. PyMC-Marketing fits
BetaGeoModel by MAP with flat priors (its default priors are not the maximum likelihood).

Scale: ``--customers`` (1,000,000) histories are drawn from the BG/NBD process with the CDNOW
parameters at day resolution (first purchases over 12 weeks, 39-week calibration) and mean
repeat values from the Gamma-Gamma process with the CDNOW spend parameters, then fitted in a
fresh subprocess per implementation that reads them from a Parquet file, so that peak memory
(``VmHWM``, and the traced peak of the fit alone) belongs to that implementation. Predictions
(``predict_clv`` for 52 weeks: expected purchases, P(alive), expected spend, CLV) are timed in the
same subprocess. cornerstore's times are the median of three runs after a warm one; lifetimes and
PyMC-Marketing (``--pymc-at-scale``; it compiles first) run once, as they take tens of seconds.

    python -m benchmarks.bench_clv
    python -m benchmarks.bench_clv --customers 100000 --no-pymc
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from benchmarks.common import machine, print_table, scratch_dir, write_result
from cornerstore.learn import bgnbd, mbgnbd, paretonbd
from cornerstore.learn.bgnbd import BgNbd, simulate_bgnbd
from cornerstore.learn.clv import FITTERS, ClvFit, fit_clv, predict_clv, score_holdout
from cornerstore.learn.fitting import group_customers
from cornerstore.learn.gammagamma import GammaGamma, fit_gamma_gamma
from cornerstore.learn.transactions import RfmSummary, read_transactions, summarise_rfm

ROOT = Path(__file__).parents[1]
CDNOW = ROOT.parent / "shared" / "data" / "cdnow_sample.txt"
CALIBRATION_END = date(1997, 9, 30)
HOLDOUT_WEEKS = 39.0
CDNOW_BGNBD = BgNbd(r=0.2426, alpha=4.414, a=0.7929, b=2.426)
CDNOW_SPEND = GammaGamma(p=6.25, q=3.744, gamma=15.44)
FIT_TARGET_S = 2.0
MEMORY_TARGET_MB = 1024.0
PREDICT_TARGET_S = 0.5
PYMC_MEMORY_LIMIT = 12 * 2**30


# -- CDNOW side by side ---------------------------------------------------------------------------
def timed(fn: Callable[[], Any], repeats: int) -> tuple[Any, float]:
    """The result of ``fn`` and its median wall time over ``repeats`` runs after one untimed
    warm-up run (imports, caches), for every implementation alike."""
    seconds = []
    result = fn()
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - started)
    return result, statistics.median(seconds)


def holdout_row(name: str, predicted: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    error = predicted - actual
    return {
        "rmse": float(np.sqrt(np.mean(error**2))),
        "correlation": float(np.corrcoef(predicted, actual)[0, 1]),
        "predicted_total": float(predicted.sum()),
    }


def cdnow_cornerstore(summary: RfmSummary, repeats: int) -> list[dict[str, Any]]:
    table = summary.table
    x, t_x, T = (table[c].to_numpy().astype(np.float64) for c in ("frequency", "recency", "T"))
    z = table["monetary_value"].to_numpy().astype(np.float64)
    rows = []
    for model in ("bgnbd", "paretonbd", "mbgnbd", "auto"):
        if model == "auto":
            # Three fits, holdout scoring of each, and the choice.
            fit, seconds = timed(lambda: fit_clv(summary, model="auto", spend=False), repeats)
            fitted = fit.model
        else:
            fitted, seconds = timed(lambda m=model: FITTERS[m](x, t_x, T), repeats)  # type: ignore[misc]
        score = score_holdout(fitted, summary)
        rows.append(
            {
                "implementation": "cornerstore",
                "model": model if model != "auto" else f"auto ({fitted.name})",
                "fit_ms": seconds * 1000,
                "parameters": fitted.parameters,
                "log_likelihood": fitted.log_likelihood,
                "rmse": score.rmse,
                "correlation": score.correlation,
                "predicted_total": score.predicted_total,
            }
        )
    spend, seconds = timed(lambda: fit_gamma_gamma(x, z), repeats)
    rows.append(
        {
            "implementation": "cornerstore",
            "model": "gamma-gamma",
            "fit_ms": seconds * 1000,
            "parameters": spend.parameters,
            "log_likelihood": spend.log_likelihood,
        }
    )
    return rows


LIKELIHOODS = {
    "bgnbd": bgnbd.log_likelihood,
    "paretonbd": paretonbd.log_likelihood,
    "mbgnbd": mbgnbd.log_likelihood,
}


def log_likelihood_at(model: str, parameters: Any, frame: Any) -> float:
    """A peer's parameters scored by cornerstore's likelihood, so log-likelihoods compare."""
    groups = group_customers(
        *(np.asarray(frame[c], dtype=np.float64) for c in ("frequency", "recency", "T"))
    )
    names = {"bgnbd": "r alpha a b", "mbgnbd": "r alpha a b", "paretonbd": "r alpha s beta"}
    log_params = np.log([float(parameters[k]) for k in names[model].split()])
    return LIKELIHOODS[model](log_params, groups)[0]


def cdnow_lifetimes(summary: RfmSummary, repeats: int) -> list[dict[str, Any]]:
    warnings.filterwarnings("ignore")
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter, ParetoNBDFitter

    frame = summary.table.to_pandas()
    actual = frame["holdout_frequency"].to_numpy(dtype=np.float64)
    rows = []
    for name, cls in (
        ("bgnbd", BetaGeoFitter),
        ("paretonbd", ParetoNBDFitter),
        ("mbgnbd", ModifiedBetaGeoFitter),
    ):
        model, seconds = timed(
            lambda c=cls: c().fit(frame["frequency"], frame["recency"], frame["T"]),  # type: ignore[misc]
            repeats,
        )
        predicted = model.conditional_expected_number_of_purchases_up_to_time(
            HOLDOUT_WEEKS, frame["frequency"], frame["recency"], frame["T"]
        ).to_numpy(dtype=np.float64)
        rows.append(
            {
                "implementation": "lifetimes",
                "model": name,
                "fit_ms": seconds * 1000,
                "parameters": {k: float(v) for k, v in model.params_.items()},
                "log_likelihood": log_likelihood_at(name, model.params_, frame),
                **holdout_row(name, predicted, actual),
            }
        )
    repeat = frame[frame["frequency"] > 0]
    spend, seconds = timed(
        lambda: GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"]), repeats
    )
    rows.append(
        {
            "implementation": "lifetimes",
            "model": "gamma-gamma",
            "fit_ms": seconds * 1000,
            "parameters": {k: float(v) for k, v in spend.params_.items()},
            "log_likelihood": None,
        }
    )
    return rows


def cdnow_pymc(summary: RfmSummary, repeats: int) -> list[dict[str, Any]]:
    """PyMC-Marketing's BetaGeoModel by MAP with flat priors on r, alpha, a, b."""
    warnings.filterwarnings("ignore")
    from pymc_extras.prior import Prior
    from pymc_marketing.clv import BetaGeoModel

    frame = summary.table.select(
        pl.col("customer_id"), "frequency", "recency", "T", "holdout_frequency"
    ).to_pandas()
    data = frame[["customer_id", "frequency", "recency", "T"]]
    actual = frame["holdout_frequency"].to_numpy(dtype=np.float64)
    config = {name: Prior("HalfFlat") for name in ("r", "alpha", "a", "b")}

    def fit() -> Any:
        model = BetaGeoModel(data=data, model_config=config)
        model.fit(method="map", progressbar=False)
        return model

    started = time.perf_counter()
    model = fit()
    first = time.perf_counter() - started
    model, seconds = timed(fit, repeats)
    posterior = model.fit_result
    parameters = {k: float(posterior[k].values.ravel()[0]) for k in ("r", "alpha", "a", "b")}
    histories = {c: data[c].to_numpy(dtype=np.float64) for c in ("frequency", "recency", "T")}
    predicted = BgNbd(**parameters).expected_purchases(
        HOLDOUT_WEEKS,
        *(data[c].to_numpy(dtype=np.float64) for c in ("frequency", "recency", "T")),
    )
    own = model.expected_purchases(data=data, future_t=HOLDOUT_WEEKS)
    return [
        {
            "implementation": "pymc-marketing (MAP, flat)",
            "model": "bgnbd",
            "fit_ms": seconds * 1000,
            "first_fit_ms": first * 1000,
            "parameters": parameters,
            "log_likelihood": log_likelihood_at("bgnbd", parameters, histories),
            "own_predicted_total": float(np.asarray(own).sum()),
            **holdout_row("bgnbd", predicted, actual),
        }
    ]


# -- a million simulated customers ----------------------------------------------------------------
def simulate(customers: int, seed: int) -> RfmSummary:
    """BG/NBD + Gamma-Gamma histories with the CDNOW parameters at day resolution."""
    rng = np.random.default_rng(seed)
    age_days = 272 - rng.integers(0, 84, customers)
    T = age_days / 7.0
    p = CDNOW_BGNBD
    x, t_x = simulate_bgnbd(p.r, p.alpha, p.a, p.b, T, rng)
    recency_days = np.minimum(np.ceil(t_x * 7.0), age_days) * (x > 0)
    nu = rng.gamma(CDNOW_SPEND.q, 1.0 / CDNOW_SPEND.gamma, customers)
    repeats = np.maximum(x, 1.0)
    mean_value = rng.gamma(CDNOW_SPEND.p * repeats, 1.0 / (nu * repeats))
    table = pl.DataFrame(
        {
            "customer_id": np.arange(customers).astype(str),
            "frequency": x.astype(np.int64),
            "recency": recency_days / 7.0,
            "T": T,
            "monetary_value": np.where(x > 0, mean_value, np.nan),
            "holdout_frequency": np.zeros(customers, dtype=np.int64),
        }
    ).with_columns(pl.col("monetary_value").fill_nan(None))
    return RfmSummary(table=table, calibration_end=CALIBRATION_END, period="week", holdout_length=0)


def peak_rss_mb() -> float:
    """This process's peak resident memory. ``VmHWM`` belongs to the process's own memory map;
    ``ru_maxrss`` would also count the parent's peak, which Linux carries across ``execve``."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(implementation: str, data: Path) -> dict[str, Any]:
    """Runs in its own process on the simulated summary in ``data``: fit (median of three
    timed runs after a warm one, then once traced for memory) and predict (likewise)."""
    table = pl.read_parquet(data)
    summary = RfmSummary(
        table=table, calibration_end=CALIBRATION_END, period="week", holdout_length=0
    )
    x, t_x, T = (table[c].to_numpy().astype(np.float64) for c in ("frequency", "recency", "T"))
    z = table["monetary_value"].to_numpy().astype(np.float64)
    baseline_mb = peak_rss_mb()
    out: dict[str, Any] = {"implementation": implementation, "customers": table.height}
    if implementation == "cornerstore":

        def fit() -> ClvFit:
            return fit_clv(summary, model="bgnbd", spend=True)

        fitted, out["fit_s"] = timed(fit, 3)
        tracemalloc.start()
        fit()
        out["fit_traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        predictions, out["predict_s"] = timed(lambda: predict_clv(fitted, summary, horizon=52), 3)
        out["clv_total"] = float(predictions["clv"].sum())
        out["parameters"] = fitted.model.parameters | (
            fitted.spend.parameters if fitted.spend else {}
        )
        out["distinct_histories"] = int(
            table.select(pl.struct("frequency", "recency", "T").n_unique()).item()
        )
    elif implementation == "pymc-marketing":
        # Bound the address space: PyMC-Marketing can exhaust memory at this size.
        resource.setrlimit(resource.RLIMIT_AS, (PYMC_MEMORY_LIMIT, PYMC_MEMORY_LIMIT))
        warnings.filterwarnings("ignore")
        import pandas as pd
        from pymc_extras.prior import Prior
        from pymc_marketing.clv import BetaGeoModel, GammaGammaModel

        data = pd.DataFrame(
            {"customer_id": np.arange(len(x)), "frequency": x, "recency": t_x, "T": T}
        )
        repeat = x > 0
        spend_data = pd.DataFrame(
            {
                "customer_id": np.flatnonzero(repeat),
                "frequency": x[repeat],
                "monetary_value": z[repeat],
            }
        )
        flat = {name: Prior("HalfFlat") for name in ("r", "alpha", "a", "b")}
        flat_spend = {name: Prior("HalfFlat") for name in ("p", "q", "v")}
        started = time.perf_counter()
        model = BetaGeoModel(data=data, model_config=flat)
        model.fit(method="map", progressbar=False)
        spend = GammaGammaModel(data=spend_data, model_config=flat_spend)
        spend.fit(method="map", progressbar=False)
        out["fit_s"] = time.perf_counter() - started
        out["parameters"] = {
            k: float(model.fit_result[k].values.ravel()[0]) for k in ("r", "alpha", "a", "b")
        } | {k: float(spend.fit_result[k].values.ravel()[0]) for k in ("p", "q", "v")}
    else:
        warnings.filterwarnings("ignore")
        import pandas as pd
        from lifetimes import BetaGeoFitter, GammaGammaFitter

        frequency, recency, age = pd.Series(x), pd.Series(t_x), pd.Series(T)
        started = time.perf_counter()
        model = BetaGeoFitter().fit(frequency, recency, age)
        repeat = x > 0
        spend = GammaGammaFitter().fit(pd.Series(x[repeat]), pd.Series(z[repeat]))
        out["fit_s"] = time.perf_counter() - started
        started = time.perf_counter()
        model.conditional_expected_number_of_purchases_up_to_time(52, frequency, recency, age)
        model.conditional_probability_alive(frequency, recency, age)
        spend.conditional_expected_average_profit(pd.Series(x), pd.Series(np.nan_to_num(z)))
        out["predict_s"] = time.perf_counter() - started
        out["parameters"] = {k: float(v) for k, v in model.params_.items()} | {
            k: float(v) for k, v in spend.params_.items()
        }
    out["peak_rss_mb"] = peak_rss_mb()
    out["rss_after_reading_mb"] = baseline_mb
    return out


def at_scale(implementation: str, data: Path) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_clv", "--worker", implementation, str(data)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        tail = result.stderr.strip().splitlines()[-1:] or ["no output"]
        return {"implementation": implementation, "error": tail[0]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def installed(module: str) -> bool:
    try:
        __import__(module)
    except Exception:
        return False
    return True


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_clv", description=__doc__)
    p.add_argument("--customers", type=int, default=1_000_000, help="simulated (1,000,000)")
    p.add_argument("--repeats", type=int, default=5, help="CDNOW fits timed per model (5)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-pymc", action="store_true", help="leave PyMC-Marketing out")
    p.add_argument("--no-lifetimes-at-scale", action="store_true", help="skip lifetimes on 1M")
    p.add_argument(
        "--pymc-at-scale",
        action="store_true",
        help="also fit PyMC-Marketing (MAP) on the simulated customers (address space capped "
        "at 12 GB)",
    )
    p.add_argument(
        "--worker",
        nargs=2,
        metavar=("IMPLEMENTATION", "DATA"),
        help=argparse.SUPPRESS,
    )
    args = p.parse_args(argv)
    if args.worker:
        result = worker(args.worker[0], Path(args.worker[1]))
        sys.stdout.write(json.dumps(result) + "\n")
        return result

    summary = summarise_rfm(read_transactions(CDNOW), calibration_end=CALIBRATION_END)
    rows = cdnow_cornerstore(summary, args.repeats)
    peers = ["lifetimes"] if installed("lifetimes") else []
    if peers:
        rows += cdnow_lifetimes(summary, args.repeats)
    if not args.no_pymc and installed("pymc_marketing"):
        rows += cdnow_pymc(summary, max(1, args.repeats // 2))
        peers.append("pymc-marketing")
    print_table(
        f"CDNOW: {summary.customers:,} customers, 39-week calibration, 39-week holdout "
        f"({int(summary.table['holdout_frequency'].sum())} actual holdout transactions)",
        ["implementation", "model", "fit ms", "parameters", "LL", "holdout RMSE", "corr", "sum"],
        [
            [
                r["implementation"],
                r["model"],
                r["fit_ms"],
                " ".join(f"{k}={v:.4g}" for k, v in r["parameters"].items()),
                None if r.get("log_likelihood") is None else f"{r['log_likelihood']:.2f}",
                r.get("rmse"),
                r.get("correlation"),
                r.get("predicted_total"),
            ]
            for r in rows
        ],
    )

    implementations = ["cornerstore"]
    if "lifetimes" in peers and not args.no_lifetimes_at_scale:
        implementations.append("lifetimes")
    if "pymc-marketing" in peers and args.pymc_at_scale:
        implementations.append("pymc-marketing")
    with scratch_dir("clv") as folder:
        data = folder / "simulated.parquet"
        simulate(args.customers, args.seed).table.write_parquet(data)
        scale = [at_scale(name, data) for name in implementations]
    print_table(
        f"{args.customers:,} simulated customers: BG/NBD + Gamma-Gamma (each in its own process)",
        [
            "implementation",
            "fit s",
            "predict s",
            "RSS after reading MB",
            "peak RSS MB",
            "fit traced peak MB",
            "error",
        ],
        [
            [
                s["implementation"],
                s.get("fit_s"),
                s.get("predict_s"),
                s.get("rss_after_reading_mb"),
                s.get("peak_rss_mb"),
                s.get("fit_traced_peak_mb"),
                s.get("error"),
            ]
            for s in scale
        ],
    )
    ours = scale[0]
    ours_bgnbd = next(
        r for r in rows if r["implementation"] == "cornerstore" and r["model"] == "bgnbd"
    )
    ours_auto = next(r for r in rows if r["model"].startswith("auto"))
    anchors = [
        r["rmse"]
        for r in rows
        if r["implementation"] != "cornerstore" and "rmse" in r and r["model"] == "bgnbd"
    ]
    best_anchor = min(anchors) if anchors else ours_bgnbd["rmse"]
    peer_fit = next(
        (s for s in scale[1:] if s["implementation"] == "lifetimes" and "fit_s" in s), None
    )
    fit_s = ours.get("fit_s", float("inf"))
    memory = ours.get("peak_rss_mb", float("inf"))
    predict_s = ours.get("predict_s", float("inf"))
    targets = [
        {
            "name": f"clv BG/NBD + Gamma-Gamma fit, {args.customers:,} customers (s)",
            "goal": f"<= {FIT_TARGET_S:g} s",
            "target": FIT_TARGET_S,
            "measured": round(fit_s, 3),
            "ratio": round(FIT_TARGET_S / fit_s, 2),
            "pass": fit_s <= FIT_TARGET_S,
        },
        {
            "name": f"clv fit peak memory, {args.customers:,} customers (MB RSS)",
            "goal": f"<= {MEMORY_TARGET_MB:g} MB",
            "target": MEMORY_TARGET_MB,
            "measured": round(memory, 1),
            "ratio": round(MEMORY_TARGET_MB / memory, 2),
            "pass": memory <= MEMORY_TARGET_MB,
        },
        {
            "name": f"clv predictions, {args.customers:,} customers (s)",
            "goal": f"<= {PREDICT_TARGET_S:g} s",
            "target": PREDICT_TARGET_S,
            "measured": round(predict_s, 3),
            "ratio": round(PREDICT_TARGET_S / predict_s, 2),
            "pass": predict_s <= PREDICT_TARGET_S,
        },
        {
            "name": "clv CDNOW holdout RMSE, auto vs best peer BG/NBD",
            "goal": f"<= {best_anchor:.4f}",
            "target": round(best_anchor, 4),
            "measured": round(ours_auto["rmse"], 4),
            "ratio": round(best_anchor / ours_auto["rmse"], 4),
            "pass": ours_auto["rmse"] <= best_anchor + 1e-9,
        },
    ]
    result = {
        "machine": machine(),
        "cdnow": rows,
        "scale": scale,
        "speedup_vs_lifetimes_at_scale": round(peer_fit["fit_s"] / fit_s, 1) if peer_fit else None,
        "targets": targets,
    }
    write_result("clv", result)
    return result


if __name__ == "__main__":
    main()
