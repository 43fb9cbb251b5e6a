"""``cornerstore identity``: deduplicate or link files, train a model, explain a match; on the
stored customers learn a model, resolve, review the grey zone and explain two customers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import Progress, SpinnerColumn, TimeElapsedColumn
from rich.table import Table

from cornerstore.cli.common import (
    Invocation,
    count_option,
    err,
    out,
    print_json,
    read_text_file,
    reading_file,
    row_id_argument,
    shared_options,
    when,
)
from cornerstore.plural import counted

if TYPE_CHECKING:
    from cornerstore.identity.resolution.explain import ScoredVariant
    from cornerstore.identity.resolution.labels import Calibration
    from cornerstore.identity.resolution.model import IdentityModel
    from cornerstore.identity.resolution.scorer import Explanation, FieldWeight

app = typer.Typer(
    help="Identity resolution on files and on the stored customers", no_args_is_help=True
)

MapOption = typer.Option(
    [],
    "--map",
    help="FIELD=COLUMN (repeatable); fields: first_name, last_name, full_name, email, phone, "
    "address, city, state, postcode, country. Columns named like a field (email, Surname, "
    "Post Code, ...) are read as it without one",
)
IdOption = typer.Option(..., "--id-col", help="The column that identifies a row")
RegionOption = typer.Option("GB", "--region", help="Country of phone numbers without a +prefix")
ModelOption = typer.Option(None, "--model", help="A model from `identity train` (default: train)")


class EngineChoice(StrEnum):
    """Where Splink runs (the names of ``splink_engine.ENGINES``)."""

    duckdb = "duckdb"
    spark = "spark"


EngineOption = typer.Option(
    EngineChoice.duckdb,
    "--engine",
    help="Where Splink runs: duckdb (in memory) or spark (a local Spark session; "
    "pip install 'cornerstore[spark]', Java 17+)",
)


@contextmanager
def _steps(label: str) -> Iterator[Progress]:
    """A spinner on stderr naming the running step (Splink's steps report no fraction)."""
    with Progress(
        SpinnerColumn(),
        "[progress.description]{task.description}",
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        yield progress


@contextmanager
def _reading(*files: tuple[Path | None, str]) -> Iterator[None]:
    """Read the given data files inside the block: a folder or a missing file is refused
    before, an empty or non-UTF-8 one is said as such when the reader fails on it."""
    with ExitStack() as stack:
        for path, what in files:
            if path is not None:
                stack.enter_context(reading_file(path, what))
        yield


def _load_model(path: Path | None) -> IdentityModel | None:
    if path is None:
        return None
    text = read_text_file(path, "--model")
    from cornerstore.identity.resolution.model import IdentityModel

    return IdentityModel.from_json(text)


@app.command("dedupe")
@shared_options("json")
def dedupe(
    run: Invocation,
    input: Path = typer.Argument(..., help="CSV or Parquet file"),
    id_col: str = IdOption,
    map: list[str] = MapOption,
    output: Path = typer.Option(..., "--output", help="CSV or Parquet: id column, cluster_id"),
    link: Path | None = typer.Option(None, "--link", help="Link INPUT with this second file"),
    model: Path | None = ModelOption,
    threshold: float | None = typer.Option(
        None, "--threshold", min=0.5, max=0.999999, help="Match probability to merge (0.9)"
    ),
    households: Path | None = typer.Option(
        None, "--households", help="Also write household relations: cluster_id, other_cluster_id"
    ),
    region: str = RegionOption,
    engine: EngineChoice = EngineOption,
) -> None:
    """Cluster a file's records into people (or link two files); write id and cluster_id."""
    from cornerstore.identity.resolution.files import dedupe_files, parse_field_map

    mapping = parse_field_map(map)
    with _reading((input, "INPUT"), (link, "--link")), _steps("identity") as progress:
        task = progress.add_task("starting", total=None)
        result = dedupe_files(
            input,
            output,
            id_col,
            mapping,
            link_path=link,
            model=_load_model(model),
            match_probability=threshold,
            default_region=region,
            households_path=households,
            progress=lambda msg: progress.update(task, description=msg),
            engine=engine.value,
        )
    summary = {
        "output": str(result.output),
        "records": result.records,
        "clusters": result.clusters,
        "largest_cluster": result.largest_cluster,
        "households": result.households,
        "pairs_scored": result.pairs_scored,
        "crowded_keys": result.crowded_keys,
        "crowded_records": result.crowded_records,
        "fields": result.mapping,
    }
    if run.json:
        print_json(summary)
        return
    named_alike = {f: c for f, c in result.mapping.items() if f not in mapping}
    if named_alike:
        out.print(
            "fields read from columns named like them: "
            + ", ".join(f"{f}={c}" for f, c in named_alike.items()),
            markup=False,
        )
    out.print(
        f"{counted(result.records, 'record', grouped=True)} -> "
        f"{counted(result.clusters, 'cluster', grouped=True)} (largest {result.largest_cluster}, "
        f"{counted(result.households, 'household', grouped=True)}); "
        f"wrote {result.output}"
        + (
            f"; {counted(result.crowded_keys, 'blocking key', grouped=True)} shared by too "
            f"many to compare on ({counted(result.crowded_records, 'record', grouped=True)}, "
            "reached through their other keys)"
            if result.crowded_keys
            else ""
        )
    )


@app.command("train")
def train(
    input: Path = typer.Option(..., "--input", help="CSV or Parquet file to train on"),
    id_col: str = IdOption,
    map: list[str] = MapOption,
    output: Path = typer.Option(..., "--output", help="Where the model JSON goes"),
    labels: Path | None = typer.Option(
        None,
        "--labels",
        help="Clerically labelled pairs to calibrate on (CSV or Parquet with unique_id_l, "
        "unique_id_r, clerical_match_score)",
    ),
    region: str = RegionOption,
    seed: int = count_option(0, least=0, help="Seed of the random sampling of u"),
    engine: EngineChoice = EngineOption,
) -> None:
    """Train a model on a file (u by random sampling, m by EM; calibrated on --labels) and save
    it as JSON."""
    from cornerstore.identity.resolution.files import parse_field_map, train_file

    with _reading((input, "--input"), (labels, "--labels")), _steps("train") as progress:
        task = progress.add_task("starting", total=None)
        model = train_file(
            input,
            output,
            id_col,
            parse_field_map(map),
            labels_path=labels,
            default_region=region,
            seed=seed,
            progress=lambda msg: progress.update(task, description=msg),
            engine=engine.value,
        )
    out.print(
        f"trained on {counted(model.records, 'record', grouped=True)} "
        f"({', '.join(c.name for c in model.comparisons)}); "
        f"wrote {output}"
    )
    if model.calibration is not None:
        _say_calibration(model.calibration)


@app.command("explain")
@shared_options("json")
def explain(
    run: Invocation,
    input: Path = typer.Argument(..., help="CSV or Parquet file"),
    left: str = typer.Argument(..., help="Id of one record"),
    right: str = typer.Argument(..., help="Id of the other record"),
    id_col: str = IdOption,
    map: list[str] = MapOption,
    model: Path | None = ModelOption,
    region: str = RegionOption,
) -> None:
    """Show each field's match weight for two records of a file, and the total."""
    from cornerstore.identity.resolution.files import explain_records, parse_field_map

    with _steps("explain") as progress:
        task = progress.add_task("starting", total=None)
        result = explain_records(
            input,
            id_col,
            parse_field_map(map),
            left,
            right,
            model=_load_model(model),
            default_region=region,
            progress=lambda msg: progress.update(task, description=msg),
        )
    if run.json:
        print_json(result)
        return
    out.print(_weights_table(result, left, right))


def _show(value: object) -> str:
    return "-" if value is None else str(value)


def _fields_table(left: str, right: str, title: str | None = None) -> Table:
    """A table of field weights, its value columns headed by the two ids."""
    table = Table(title=title, title_justify="left")
    for col in ("field", "level", left, right, "match weight"):
        table.add_column(col, justify="right" if col == "match weight" else "left")
    return table


def _add_fields(table: Table, fields: Iterable[FieldWeight]) -> Table:
    """Each field's level, both values and match weight as rows of ``table``."""
    for f in fields:
        table.add_row(f.field, f.level, _show(f.left), _show(f.right), f"{f.weight:+.2f}")
    return table


def _weights_table(result: Explanation, left: str, right: str) -> Table:
    table = _fields_table(left, right, title=f"{left} vs {right}")
    table.add_row("prior", "", "", "", f"{result.prior_weight:+.2f}")
    _add_fields(table, result.fields)
    table.add_row(
        "total",
        f"probability {result.match_probability:.4f}",
        "",
        "",
        f"{result.match_weight:+.2f}",
    )
    return table


# -- the stored customers ------------------------------------------------------------------------


@app.command("learn")
@shared_options("json", "acting", "db")
def learn(
    run: Invocation,
    seed: int = count_option(0, least=0, help="Seed of the random sampling of u"),
    engine: EngineChoice = EngineOption,
    calibrate: bool = typer.Option(
        True,
        "--calibrate/--no-calibrate",
        help="Calibrate the model on staff decisions (accepted and rejected reviews, undone "
        "merges)",
    ),
) -> None:
    """Train a model on the stored customers and make it the one `identity resolve` uses."""
    from cornerstore.identity.resolution.model import IdentityModel

    with run.services() as s, _steps("learn") as progress:
        task = progress.add_task("starting", total=None)
        stored = s.identity.train(
            run.caller(s),
            seed=seed,
            engine=engine.value,
            progress=lambda msg: progress.update(task, description=msg),
            calibrate_on_decisions=calibrate,
        )
    calibration = IdentityModel.from_json(stored.model).calibration
    if run.json:
        summary = {k: v for k, v in asdict(stored).items() if k != "model"}
        print_json({**summary, "calibration": calibration.to_dict() if calibration else None})
        return
    out.print(
        f"model {stored.id}: learned from {counted(stored.records, 'customer', grouped=True)}, "
        "now active"
    )
    if calibration is not None:
        _say_calibration(calibration)


def _say_calibration(calibration: Calibration) -> None:
    judged = calibration.accepted + calibration.rejected
    out.print(
        f"calibrated on {judged:,} labelled pairs ({calibration.accepted:,} one person, "
        f"{calibration.rejected:,} two): every pair {calibration.shift_bits:+.2f} bits; "
        f"agrees with {calibration.agreed_after:,} of {judged:,} "
        f"({calibration.agreed_before:,} before)"
    )


@app.command("resolve")
@shared_options("json", "acting", "db")
def resolve_stored(
    run: Invocation,
    engine: EngineChoice = EngineOption,
) -> None:
    """Merge the stored customers the active model is sure of, queue the unsure for review."""
    with run.services() as s, _steps("resolve") as progress:
        task = progress.add_task("starting", total=None)
        result = s.identity.resolve(
            run.caller(s),
            engine=engine.value,
            progress=lambda msg: progress.update(task, description=msg),
        )
    if run.json:
        print_json(result)
        return
    out.print(
        f"{counted(result.profiles, 'customer', grouped=True)}, "
        f"{counted(result.pairs_scored, 'candidate pair', grouped=True)}: "
        f"{result.merged:,} merged, {result.queued:,} queued for review, "
        f"{result.refused:,} refused by the safeguards, "
        f"{counted(result.households, 'household', grouped=True)} kept apart, "
        f"{result.kept_apart_by_decision:,} kept apart by earlier decisions"
        + (
            f"; {counted(result.crowded_keys, 'blocking key', grouped=True)} shared by too "
            f"many to compare on ({counted(result.crowded_customers, 'customer', grouped=True)}, "
            "reached through their other keys)"
            if result.crowded_keys
            else ""
        )
    )


@app.command("review")
@shared_options("json", "acting", "db")
def review(
    run: Invocation,
    limit: int = typer.Option(20, min=1, max=100, help="How many pairs to show (at most 100)"),
    after: str | None = typer.Option(
        None, "--after", help="Show the pairs after this cursor (the next page, as printed)"
    ),
    before: str | None = typer.Option(
        None, "--before", help="Show the pairs before this cursor (the previous page)"
    ),
) -> None:
    """Pairs waiting for a decision, strongest first, a page at a time, with each field's match
    weight."""
    with run.services() as s:
        page = s.identity.review_page(run.caller(s), limit, after, before)
    if run.json:
        print_json(page)
        return
    if not page.reviews:
        out.print(
            "no pairs waiting for review"
            if not page.waiting
            else f"no pairs here; {page.waiting:,} waiting from the start"
        )
    else:
        shown = f"{page.ahead + 1:,}-{page.ahead + len(page.reviews):,}"
        out.print(
            f"{counted(page.waiting, 'pair', grouped=True)} waiting, strongest first; "
            f"these are {shown}"
        )
    for r in page.reviews:
        # The ids in full on their own line: a narrow table cuts its headers short, and staff
        # copy the ids into `customers show` or `identity explain-profiles`.
        out.print(
            f"review {r.id}: {r.left.id} and {r.right.id}, probability {r.match_probability:.4f}"
        )
        out.print(_add_fields(_fields_table(r.left.id, r.right.id), r.fields))
        if r.against:
            title = "evidence against: other records of the two disagree"
            out.print(_add_fields(_fields_table(r.left.id, r.right.id, title), r.against))
    if page.reviews:
        out.print("decide each with `cornerstore identity decide REVIEW_ID --accept|--reject`")
    sized = "" if limit == 20 else f" --limit {limit}"
    if page.previous_before:
        out.print(
            f"previous page: cornerstore identity review --before {page.previous_before}{sized}"
        )
    if page.next_after:
        out.print(f"next page: cornerstore identity review --after {page.next_after}{sized}")


@app.command("decide")
@shared_options("json", "acting", "db")
def decide(
    run: Invocation,
    review_id: int = row_id_argument("A review id from `identity review`"),
    accept: bool = typer.Option(
        ..., "--accept/--reject", help="Merge the two customers, or keep them apart for good"
    ),
) -> None:
    """Accept (merge, recorded and reversible) or reject (remembered) a queued pair."""
    with run.services() as s:
        record = s.identity.decide(run.caller(s), review_id, accept)
    if run.json:
        print_json(record)
        return
    verb = "merged" if accept else "kept apart"
    out.print(f"review {record.id} {record.status}: {record.left_id} and {record.right_id} {verb}")


@app.command("explain-profiles")
@shared_options("json", "acting", "db")
def explain_profiles(
    run: Invocation,
    a: str = typer.Argument(..., help="A customer: profile id, e-mail, phone or identifier"),
    b: str = typer.Argument(..., help="The other customer"),
) -> None:
    """Show each field's match weight for two stored customers as `identity resolve` scores them.

    They are scored on the pair of their records (each current, or as observed earlier) that
    agrees best."""
    with run.services() as s:
        result = s.identity.explain(run.caller(s), a, b)
    if run.json:
        print_json(result)
        return
    out.print(_weights_table(result, result.left_id, result.right_id))
    out.print(
        f"scored on {result.left_id}'s {_variant(result.left_variant)} and "
        f"{result.right_id}'s {_variant(result.right_variant)}",
        markup=False,
    )
    if not result.compared:
        out.print("identity resolve does not compare these two: no records share a blocking key")


def _variant(variant: ScoredVariant) -> str:
    if variant.current:
        return "current record"
    return f"record as observed {when(variant.observed_at)}"


@app.command("place")
@shared_options("json", "acting", "db")
def place(
    run: Invocation,
    ref: str = typer.Argument(..., help="A customer: profile id, e-mail, phone or identifier"),
) -> None:
    """Score one stored customer against all others; merge it, queue it for review, or leave it."""
    with run.services() as s:
        placed = s.identity.place(run.caller(s), ref)
    if run.json:
        print_json(placed)
        return
    chance = (
        f" (probability {placed.match_probability:.4f})"
        if placed.match_probability is not None
        else ""
    )
    with_whom = {
        "merged": f"merged into {placed.other_id}",
        "queued": f"queued for review with {placed.other_id}",
        "refused": f"not merged into {placed.other_id}: the safeguards refused",
        "left": "left on its own" + (f"; closest {placed.other_id}" if placed.other_id else ""),
    }[placed.decision]
    out.print(
        f"{placed.customer_id}: {with_whom}{chance}, {counted(placed.candidates, 'candidate')}"
    )
