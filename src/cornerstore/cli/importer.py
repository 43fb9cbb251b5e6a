"""``cornerstore import``: CSV, JSONL or Parquet files through the same intake as the API."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from cornerstore.cli.common import Invocation, err, out, print_json, shared_options, writable_file
from cornerstore.cli.terminal import visible
from cornerstore.errors import InvalidInput
from cornerstore.plural import counted


@shared_options("json", "db")
def import_file(
    run: Invocation,
    path: Path = typer.Argument(..., help="CSV, JSONL or Parquet file", exists=False),
    touchpoint: str = typer.Option(..., help="Department the file comes from: store, web, ..."),
    map: list[str] = typer.Option(
        [], "--map", help="FIELD=COLUMN, e.g. email=E-Mail, first_name=Vorname (repeatable)"
    ),
    source: str | None = typer.Option(None, help="Source name (default: the file name)"),
    type: str = typer.Option("identify", "--type", help="identify (traits) or track (events)"),
    event: str | None = typer.Option(None, help="Event name for --type track"),
    all_columns: bool = typer.Option(
        False, "--all-columns", help="Also keep unmapped columns (as traits or properties)"
    ),
    format: str | None = typer.Option(
        None, help="csv, tsv, jsonl or parquet (default: by extension)"
    ),
    rejects: Path | None = typer.Option(
        None, help="Where rejected rows go (default: FILE.rejects.jsonl)"
    ),
    batch_size: int = typer.Option(1000, min=1, max=2500, help="Rows a transaction"),
) -> None:
    """Import customers or events from a file; safe to run twice (rows are deduplicated)."""
    from cornerstore.intake.files import ImportSpec, count_rows, import_rows, parse_mapping

    if not path.exists():
        raise InvalidInput(f"{path}: no such file")
    if path.is_dir():
        raise InvalidInput(f"{path} is a folder, not a file")
    spec = ImportSpec(
        path=path,
        touchpoint=touchpoint,
        mapping=parse_mapping(map),
        source=source or path.name,
        message_type=type,
        event=event,
        all_columns=all_columns,
        format=format,
    )
    spec.validate()
    rejects_path = rejects or path.with_name(path.name + ".rejects.jsonl")
    # Before any batch is stored: a rejects file with nowhere to go would stop the import at
    # its first reject, halfway through the file.
    writable_file(rejects_path, "--rejects")
    # Counting is a pass over the file, worth it only for a progress bar someone watches.
    show_progress = err.is_terminal
    total = count_rows(spec) if show_progress else None
    stored = 0  # rows read whose batches are stored, as the import reports them
    try:
        with (
            run.services() as s,
            Progress(
                # The file name is shown as written, never read as markup.
                TextColumn("{task.description}", style="progress.description", markup=False),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=err,
                transient=True,
                # Off when stderr is not a terminal: a log or a pipe gets only the summary.
                disable=not show_progress,
            ) as progress,
        ):
            task = progress.add_task(f"importing {visible(path.name)}", total=total)

            def advance(rows: int) -> None:
                nonlocal stored
                stored = rows
                progress.update(task, completed=rows)

            summary = import_rows(
                s.intake,
                spec,
                rejects_path=rejects_path,
                batch_size=batch_size,
                progress=advance,
            )
    except KeyboardInterrupt:
        # Each batch is stored as it goes, under ids made from its rows: a second run of the
        # same file stores only what the first did not.
        err.print(
            f"import stopped after {counted(stored, 'row')}; those stay stored, and importing "
            "the file again adds only the rest"
        )
        raise
    if run.json:
        print_json(summary)
        return
    out.print(
        f"read {summary.read}, accepted {summary.accepted}, already imported {summary.duplicates}, "
        f"rejected {summary.rejected}"
    )
    for reason, n in summary.reasons.items():
        out.print(f"  {n} rejected: {reason}")
    if summary.rejected:
        out.print(f"rejected rows written to {summary.rejects_path}")
    for reason, n in summary.refused.items():
        out.print(f"  {n} accepted, but {reason}")
