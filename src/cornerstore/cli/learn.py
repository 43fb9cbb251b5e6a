"""``cornerstore learn`` and ``cornerstore customers scores|at-risk``: what is learned."""

from __future__ import annotations

import json as jsonlib
from dataclasses import asdict

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cornerstore.cli.common import Invocation, err, id_column, out, print_json, shared_options, when
from cornerstore.plural import counted

RefArgument = typer.Argument(..., help="Profile id, e-mail, phone or another identifier")


@shared_options("json", "db")
def learn(
    run: Invocation,
) -> None:
    """Recompute value, loyalty, churn risk, delivery windows and moments for every customer,
    and retrain the suggestions."""
    from cornerstore.learn.service import STEPS

    with run.services() as s:
        columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
        with Progress(*columns, console=err, transient=True, disable=run.json) as bar:
            task = bar.add_task("reading the history", total=len(STEPS) + 1)

            def advance(step: str) -> None:
                bar.update(task, advance=1, description=step)

            report = s.learner.run(run.caller(s), progress=advance)
            trained = s.suggestions.train(run.caller(s))
            advance("suggestions")
    if run.json:
        print_json({**asdict(report), "suggestions": asdict(trained)})
        return
    out.print(
        f"learned about {report.profiled} of {counted(report.customers, 'customer')} in "
        f"{report.seconds}s; "
        f"{report.opted_out} asked not to be profiled"
    )
    out.print(f"recency, value and risk as of {when(report.as_of)} UTC")
    if report.value_model:
        params = ", ".join(f"{k}={v:g}" for k, v in report.value_parameters.items())
        converged = "converged" if report.value_converged else "did not converge"
        out.print(f"value model: {report.value_model} ({params}); {converged}")
        if report.value_note:
            out.print(report.value_note, markup=False)
    else:
        out.print(report.value_note or "no value model")
    share = f" ({report.at_risk / report.profiled:.1%})" if report.profiled else ""
    out.print(
        f"{counted(report.at_risk, 'customer')} at risk{share}; "
        f"{counted(report.moments_added, 'new moment')}"
    )
    out.print(
        f"suggestions learned from the purchases of {counted(trained.customers, 'customer')} "
        f"({counted(trained.items, 'product')})"
    )


@shared_options("json", "acting", "db")
def scores(
    run: Invocation,
    ref: str = RefArgument,
) -> None:
    """What was learned about the customer, with when and by which model."""
    with run.services() as s:
        found = s.learner.scores(run.caller(s), ref)
    if run.json:
        print_json(found)
        return
    if not found.profiled:
        out.print(f"{found.customer_id} asked not to be profiled: nothing is learned about them")
        return
    if not found.scores:
        out.print(f"nothing learned about {found.customer_id} yet: run `cornerstore learn`")
        return
    table = Table("score", "value", "computed", "model", title=found.customer_id)
    for name, score in found.scores.items():
        table.add_row(
            name,
            jsonlib.dumps(score.value, ensure_ascii=False),
            when(score.computed_at),
            score.model,
        )
    out.print(table)


@shared_options("json", "acting", "db")
def at_risk(
    run: Invocation,
    limit: int = typer.Option(20, min=1, max=1000),
) -> None:
    """Customers slipping away, highest value at risk first, with their names (when your role
    may read names) and the reasons."""
    with run.services() as s:
        risky = s.learner.at_risk(run.caller(s), limit)
    if run.json:
        print_json(risky)
        return
    if not risky:
        out.print("no customers at risk: run `cornerstore learn` to recompute")
        return
    named = any(r.name for r in risky)
    table = Table(
        id_column("customer", (r.customer_id for r in risky)),
        *(["name"] if named else []),
        "value at risk",
        "why",
    )
    for r in risky:
        # The console never reads markup, so a name is shown as the customer wrote it.
        name = [r.name or "-"] if named else []
        table.add_row(r.customer_id, *name, f"{r.value_at_risk:,.2f}", "; ".join(r.reasons))
    out.print(table)


surveys_app = typer.Typer(help="Survey answers against behaviour", no_args_is_help=True)


@surveys_app.command("say-vs-do")
@shared_options("json", "db")
def say_vs_do(
    run: Invocation,
    days: int = typer.Option(180, min=7, max=730, help="Follow-up window after each answer"),
) -> None:
    """What customers said (NPS, CSAT) against what they did afterwards; answers asked for by
    staff reported apart."""
    with run.services() as s:
        report = s.learner.say_vs_do(run.caller(s), days)
    if run.json:
        print_json(report)
        return
    summary = Table("survey", "asked by staff", "answers", "mean score", "NPS", "score~spend")
    for m in report.summaries:
        summary.add_row(
            m.survey,
            "yes" if m.solicited else "no",
            str(m.answers),
            f"{m.mean_score:g}",
            "-" if m.nps is None else f"{m.nps:+g}",
            "-" if m.score_spend_correlation is None else f"{m.score_spend_correlation:+.2f}",
        )
    out.print(summary)
    title = f"the {counted(report.window_days, 'day')} after each answer (answers up to "
    title += f"{when(report.followed_until)})"
    table = Table(
        "survey", "asked", "band", "segment", "answers", "bought again", "spend after",
        title=title,
    )  # fmt: skip
    for r in report.rows:
        table.add_row(
            r.survey, "yes" if r.solicited else "no", r.band, r.segment or "all",
            str(r.answers), f"{r.bought_again:.0%}", f"{r.mean_spend_after:,.2f}",
        )  # fmt: skip
    out.print(table)
