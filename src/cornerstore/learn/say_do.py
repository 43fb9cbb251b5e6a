"""Say vs do: what customers answer in surveys against what they do afterwards.

Each answer (NPS 0-10 or CSAT 1-5) is put in its band — NPS detractor 0-6, passive 7-8,
promoter 9-10; CSAT low 1-2, neutral 3, high 4-5 — and followed for ``window_days``: did the
customer buy again, and how much did they spend. Answers too recent to have been followed for the
whole window are left out, so every band is judged over the same time.

Answers a member of staff asked for at the till or on the phone (``solicited_by_employee``) run
higher than the ones customers give unprompted, so they are reported apart and never mixed into
the same band. The report gives, per survey, solicitation and band (and per segment): answers,
customers, the share who bought again, mean spend afterwards; and per survey and solicitation the
NPS (promoters minus detractors, in points) and the rank correlation between score and later
spend.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

SURVEY_COLUMNS = pl.Schema(
    {
        "customer_id": pl.String(),
        "at": pl.Datetime("us", "UTC"),
        "survey": pl.String(),
        "score": pl.Float64(),
        "solicited": pl.Boolean(),
    }
)


@dataclass(frozen=True)
class SayDoRow:
    """One group of answers and what the customers did afterwards."""

    survey: str
    solicited: bool
    band: str
    segment: str | None
    answers: int
    customers: int
    bought_again: float
    mean_spend_after: float
    mean_score: float


@dataclass(frozen=True)
class SayDoSummary:
    """Per survey and solicitation: the headline figures."""

    survey: str
    solicited: bool
    answers: int
    mean_score: float
    nps: float | None
    score_spend_correlation: float | None


@dataclass(frozen=True)
class SayDoReport:
    window_days: int
    followed_until: datetime
    summaries: list[SayDoSummary]
    rows: list[SayDoRow]


def _band(survey: pl.Expr, score: pl.Expr) -> pl.Expr:
    return (
        pl.when(survey == "nps")
        .then(
            pl.when(score <= 6)
            .then(pl.lit("detractor"))
            .when(score <= 8)
            .then(pl.lit("passive"))
            .otherwise(pl.lit("promoter"))
        )
        .otherwise(
            pl.when(score <= 2)
            .then(pl.lit("low"))
            .when(score <= 3)
            .then(pl.lit("neutral"))
            .otherwise(pl.lit("high"))
        )
    )


def say_vs_do(
    surveys: pl.DataFrame,
    orders: pl.DataFrame,
    segments: pl.DataFrame,
    now: datetime,
    window_days: int = 180,
) -> SayDoReport:
    """Link each survey answer to the customer's purchases in the following ``window_days``.

    ``surveys``: customer_id, at, survey (``nps`` / ``csat``), score, solicited. ``orders``:
    customer_id, at, amount. ``segments``: customer_id, segment (one per customer, may be
    empty).

    Examples
    --------
    >>> from datetime import UTC
    >>> t = datetime(2025, 1, 1, tzinfo=UTC)
    >>> s = pl.DataFrame({"customer_id": ["a", "b"], "at": [t, t], "survey": ["nps", "nps"],
    ...     "score": [10.0, 2.0], "solicited": [False, False]}, schema=SURVEY_COLUMNS)
    >>> o = pl.DataFrame({"customer_id": ["a"], "at": [t + timedelta(days=30)],
    ...     "amount": [50.0]})
    >>> seg = pl.DataFrame(schema={"customer_id": pl.String, "segment": pl.String})
    >>> report = say_vs_do(s, o, seg, t + timedelta(days=365))
    >>> [(r.band, r.bought_again, r.mean_spend_after) for r in report.rows]
    [('detractor', 0.0, 0.0), ('promoter', 1.0, 50.0)]
    >>> report.summaries[0].nps
    0.0
    """
    window = timedelta(days=window_days)
    followed_until = now - window
    answers = (
        surveys.filter(pl.col("at") <= followed_until)
        .drop_nulls(["score", "survey"])
        .with_row_index("answer")
        .with_columns(_band(pl.col("survey"), pl.col("score")).alias("band"))
    )
    after = (
        answers.select("answer", "customer_id", pl.col("at").alias("answered_at"))
        .join(orders.select("customer_id", "at", "amount"), on="customer_id")
        .filter(
            (pl.col("at") > pl.col("answered_at"))
            & (pl.col("at") <= pl.col("answered_at") + window)
        )
        .group_by("answer")
        .agg(pl.len().alias("purchases"), pl.col("amount").sum().alias("spend"))
    )
    linked = (
        answers.join(after, on="answer", how="left")
        .with_columns(pl.col("purchases").fill_null(0), pl.col("spend").fill_null(0.0))
        .join(segments, on="customer_id", how="left")
    )

    def grouped(keys: list[str]) -> pl.DataFrame:
        return (
            linked.group_by(keys)
            .agg(
                pl.len().alias("answers"),
                pl.col("customer_id").n_unique().alias("customers"),
                (pl.col("purchases") > 0).mean().round(3).alias("bought_again"),
                pl.col("spend").mean().round(2).alias("mean_spend_after"),
                pl.col("score").mean().round(2).alias("mean_score"),
            )
            .sort(keys, nulls_last=True)
        )

    rows = [
        SayDoRow(r["survey"], r["solicited"], r["band"], None, r["answers"], r["customers"],
                 r["bought_again"], r["mean_spend_after"], r["mean_score"])
        for r in grouped(["survey", "solicited", "band"]).iter_rows(named=True)
    ]  # fmt: skip
    if linked["segment"].drop_nulls().len():
        rows += [
            SayDoRow(r["survey"], r["solicited"], r["band"], r["segment"], r["answers"],
                     r["customers"], r["bought_again"], r["mean_spend_after"], r["mean_score"])
            for r in grouped(["survey", "solicited", "segment", "band"])
            .drop_nulls("segment")
            .iter_rows(named=True)
        ]  # fmt: skip
    summaries = []
    for (survey, solicited), group in sorted(
        linked.group_by(["survey", "solicited"]), key=lambda g: (str(g[0][0]), bool(g[0][1]))
    ):
        nps = None
        if survey == "nps":
            promoters = (group["band"] == "promoter").mean() or 0.0
            detractors = (group["band"] == "detractor").mean() or 0.0
            nps = round(100 * (float(promoters) - float(detractors)), 1)  # type: ignore[arg-type]
        correlation = None
        if group.height >= 3 and group["score"].n_unique() > 1 and group["spend"].n_unique() > 1:
            ranked = group.select(pl.col("score").rank(), pl.col("spend").rank())
            correlation = round(float(ranked.select(pl.corr("score", "spend")).item()), 3)
        summaries.append(
            SayDoSummary(
                survey=str(survey),
                solicited=bool(solicited),
                answers=group.height,
                mean_score=round(float(group["score"].mean()), 2),  # type: ignore[arg-type]
                nps=nps,
                score_spend_correlation=correlation,
            )
        )
    return SayDoReport(window_days, followed_until, summaries, rows)
