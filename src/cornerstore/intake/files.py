"""File import: CSV, TSV, JSON lines and Parquet through the same intake as the API.

Each data row becomes one Segment Spec message (``identify`` by default, or ``track`` with an
event name), built from a mapping ``FIELD=COLUMN`` by :mod:`cornerstore.intake.rows` (which
describes the fields, the messageId and how values are converted) and handed to
:meth:`~cornerstore.intake.service.Intake.ingest` in batches, so a file is validated,
deduplicated and stitched exactly like HTTP traffic.

Choices worth knowing
---------------------
- **Formats.** CSV is UTF-8 (a byte-order mark is fine) and the separator of a ``.csv`` file
  is taken from its header line (``,``, ``;``, tab or ``|``), so German Excel exports import as
  they are. ``.json`` files are read as JSON lines, whose column types the whole file decides.
- **Rejects** are written as JSON lines ``{"row": N, "reason": "..."}``, with N the 1-based
  data row (the header is not a row) and never a value of the row.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson
import polars as pl

from cornerstore.errors import InvalidInput
from cornerstore.intake.rows import (
    ImportSpec,
    MessageBuilder,
    RowError,
    column_values,
    plan_fields,
)
from cornerstore.intake.service import Intake, Source, trait_name

log = logging.getLogger(__name__)

_FORMAT_LABELS = {"csv": "CSV", "tsv": "TSV", "jsonl": "JSON lines", "parquet": "Parquet"}
_SEPARATORS = (",", ";", "\t", "|")
_QUOTED = re.compile(r'"[^"]*"')
_HEAD_BYTES = 64 * 1024
# Control bytes no text file holds (tab, line feed, carriage return and form feed are text).
_BINARY_CONTROLS = bytes([*range(0, 9), 11, *range(14, 27), *range(28, 32), 127])
_OVER_LIMIT = re.compile(r"message is \d+ bytes, over")


def parse_mapping(items: list[str]) -> dict[str, str]:
    """Turn ``--map FIELD=COLUMN`` items into ``{field: column}``.

    Field names are snake_case (``firstName`` is read as ``first_name``); the column is taken as
    written after the first ``=``, so column names may contain ``=`` and spaces.

    Examples
    --------
    >>> parse_mapping(["email=E-Mail", "firstName=Vorname", "address.city=Ort"])
    {'email': 'E-Mail', 'first_name': 'Vorname', 'address.city': 'Ort'}
    """
    mapping: dict[str, str] = {}
    for item in items:
        name, sep, column = item.partition("=")
        name = name.strip()
        if not sep or not name or not column:
            raise InvalidInput(f"--map {item!r}: expected FIELD=COLUMN")
        target = ".".join(trait_name(part.strip()) for part in name.split("."))
        if target in mapping:
            raise InvalidInput(f"--map {item}: the field {target!r} is mapped twice")
        mapping[target] = column
    return mapping


@dataclass
class ImportSummary:
    """What happened to a file: rows read, accepted, already imported and rejected (by reason),
    and the accepted rows whose merge or new identifier a safeguard refused (by reason)."""

    read: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    rejects_path: str | None = None
    refused: dict[str, int] = field(default_factory=dict)


# -- reading the file ---------------------------------------------------------------------------
def _unreadable(
    spec: ImportSpec, fmt: str, exc: Exception, after: int | None = None
) -> InvalidInput:
    # Only our own words: polars' messages can quote the file's contents.
    log.debug("import: reading failed", exc_info=exc)
    name = Path(spec.path).name
    label = _FORMAT_LABELS[fmt]
    text = str(exc).lower()
    if isinstance(exc, pl.exceptions.NoDataError):
        hint = "the file is empty"
    elif isinstance(exc, FileNotFoundError):
        hint = "no such file"
    elif "utf-8" in text or "utf8" in text:
        hint = "it is not UTF-8 text (save it as UTF-8)"
    elif "more fields" in text:
        hint = "a row has more fields than the header (check the quoting)"
    elif isinstance(exc, OSError):
        hint = "it cannot be opened"
    elif fmt == "jsonl":
        hint = "expected one JSON object a line"
    elif fmt == "parquet":
        hint = "it is not a Parquet file"
    else:
        hint = "expected text with a header row"
    where = ""
    if after:
        where = f" (after row {after}; the rows before it were imported, importing again is safe)"
    return InvalidInput(f"{name}: cannot read it as {label}: {hint}{where}")


def _sniff_separator(path: Path) -> str:
    """The separator of a CSV file's header line: the most frequent of , ; tab and |."""
    try:
        with path.open("rb") as f:
            head = f.read(64 * 1024)
    except OSError:
        return ","
    line = head.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    line = _QUOTED.sub("", line)
    counts = [(line.count(sep), -i, sep) for i, sep in enumerate(_SEPARATORS)]
    best = max(counts)
    return best[2] if best[0] else ","


def _text_problem(path: Path) -> str | None:
    """Why the start of a CSV or JSON lines file is not UTF-8 text, or None when it is."""
    try:
        with path.open("rb") as f:
            head = f.read(_HEAD_BYTES)
    except OSError:
        return None  # polars says what is wrong with the path itself
    if head.startswith(b"PAR1"):
        return "it is a Parquet file (give --format parquet)"
    controls = sum(head.count(bytes([c])) for c in _BINARY_CONTROLS)
    if b"\x00" in head or controls > len(head) // 100:
        return "it is binary data, not text"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A character cut in two by the end of the sample is not a fault of the file.
        if not (exc.reason == "unexpected end of data" and len(head) == _HEAD_BYTES):
            return "it is not UTF-8 text (save it as UTF-8)"
    return None


def _scan(spec: ImportSpec) -> tuple[pl.LazyFrame, str]:
    fmt = spec.file_format()
    path = Path(spec.path)
    if fmt != "parquet" and (problem := _text_problem(path)) is not None:
        log.debug("import: %s is not UTF-8 text", path.name)
        raise InvalidInput(f"{path.name}: cannot read it as {_FORMAT_LABELS[fmt]}: {problem}")
    if fmt in ("csv", "tsv"):
        separator = "\t" if fmt == "tsv" else _sniff_separator(path)
        # Text only: inference would turn 07700900123 into 7700900123 and 1e3 into 1000.0.
        return pl.scan_csv(path, separator=separator, infer_schema=False), fmt
    if fmt == "jsonl":
        # The whole file decides the types, so a late row of another type is no surprise.
        return pl.scan_ndjson(path, infer_schema_length=None), fmt
    return pl.scan_parquet(path), fmt


def _schema(spec: ImportSpec) -> tuple[pl.LazyFrame, pl.Schema, str]:
    lf, fmt = _scan(spec)
    try:
        return lf, lf.collect_schema(), fmt
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise _unreadable(spec, fmt, exc) from None


def count_rows(spec: ImportSpec) -> int:
    """The number of data rows in the file, without reading its values into Python.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "people.csv"
    >>> _ = path.write_text("E-Mail\\na@example.com\\nb@example.com\\n")
    >>> count_rows(ImportSpec(path, "store", {"email": "E-Mail"}, source="people.csv"))
    2
    """
    lf, _, fmt = _schema(spec)
    try:
        return int(lf.select(pl.len()).collect().item())
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise _unreadable(spec, fmt, exc) from None


# -- the import loop ----------------------------------------------------------------------------
class _Rejects:
    """The rejects file, opened on the first reject; row numbers and reasons, never values."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: IO[bytes] | None = None

    def write(self, row: int, reason: str) -> None:
        if self.file is None:
            try:
                self.file = self.path.open("wb")
            except OSError:
                raise InvalidInput(f"--rejects: cannot write {self.path}") from None
        self.file.write(orjson.dumps({"row": row, "reason": reason}) + b"\n")

    def close(self) -> str | None:
        if self.file is not None:
            self.file.close()
            return str(self.path)
        # An old rejects file would describe another run.
        if self.path.is_file():
            self.path.write_bytes(b"")
        return None


def _check_rejects_path(spec: ImportSpec, rejects_path: Path) -> None:
    source = Path(spec.path)
    same = rejects_path.resolve() == source.resolve()
    if not same and rejects_path.exists() and source.exists():
        same = rejects_path.samefile(source)
    if same:
        raise InvalidInput("--rejects: must not be the file being imported")


def _read_batches(lf: pl.LazyFrame, columns: list[str], size: int) -> Iterator[pl.DataFrame]:
    """The needed columns, ``size`` rows at a time; columns by position, as names may be regexes."""
    names = lf.collect_schema().names()
    selected = lf.select(pl.nth(*[names.index(c) for c in columns]))
    yield from selected.collect_batches(chunk_size=size)


def import_rows(
    intake: Intake,
    spec: ImportSpec,
    rejects_path: Path | str,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import every row of the file through the intake, ``batch_size`` rows a transaction.

    Rows that cannot become a message (a bad timestamp, no identifier) and rows the intake
    rejects are written to ``rejects_path`` with their row number and reason. Batches before a
    failure stay stored; importing again is safe because unchanged rows are duplicates.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from cornerstore.settings import Settings
    >>> from cornerstore.storage import open_store
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "kunden.csv").write_text("Vorname;E-Mail\\nAnna;anna@example.com\\n")
    >>> spec = ImportSpec(
    ...     folder / "kunden.csv", "store", {"first_name": "Vorname", "email": "E-Mail"}, "kunden"
    ... )
    >>> intake = Intake(open_store("sqlite://", upgrade=True), Settings())
    >>> import_rows(intake, spec, folder / "rejects.jsonl")
    ImportSummary(read=1, accepted=1, duplicates=0, rejected=0, reasons={}, rejects_path=None, \
refused={})
    """
    spec.validate()
    if batch_size < 1:
        raise InvalidInput("--batch-size: must be at least 1")
    size = min(batch_size, intake.settings.intake.max_batch_messages)
    rejects_path = Path(rejects_path)
    _check_rejects_path(spec, rejects_path)
    lf, schema, fmt = _schema(spec)
    fields = plan_fields(spec, schema, fmt)
    columns = list(dict.fromkeys(f.column for f in fields))
    builder = MessageBuilder(intake, spec, fields)
    source = Source(spec.source, spec.touchpoint)
    actor = f"import:{spec.source}"
    received_at = datetime.now(UTC)
    summary = ImportSummary()
    reasons: dict[str, int] = {}
    rejects = _Rejects(rejects_path)

    def reject(row: int, reason: str) -> None:
        summary.rejected += 1
        reasons[reason] = reasons.get(reason, 0) + 1
        rejects.write(row, reason)

    batches = _read_batches(lf, columns, size)
    try:
        while True:
            try:
                batch = next(batches, None)
            except (pl.exceptions.PolarsError, OSError) as exc:
                raise _unreadable(spec, fmt, exc, after=summary.read) from None
            if batch is None:
                break
            first_row = summary.read + 1
            values = [column_values(f, batch.get_column(f.column)) for f in fields]
            messages: list[dict[str, Any]] = []
            rows: list[int] = []
            for row, row_values in enumerate(zip(*values, strict=True), start=first_row):
                try:
                    messages.append(builder.build(row_values))
                except RowError as exc:
                    reject(row, exc.reason)
                    continue
                rows.append(row)
            if messages:
                result = intake.ingest(
                    messages,
                    source=source,
                    actor=actor,
                    received_at=received_at,
                    # The message type is implied so reasons say "row..." without a batch index.
                    implied_type=spec.message_type,
                    where="row",
                    entrance="import",
                )
                summary.accepted += result.accepted
                summary.duplicates += result.duplicates
                for rejection in result.rejected:
                    # Limits quote the size; one reason per limit keeps the counts useful.
                    reason = _OVER_LIMIT.sub("message is over", rejection.reason)
                    reject(rows[rejection.index], reason)
                for refusal in result.refused:
                    summary.refused[refusal.reason] = summary.refused.get(refusal.reason, 0) + 1
            summary.read += batch.height
            if progress is not None:
                progress(summary.read)
    finally:
        summary.rejects_path = rejects.close()
    summary.reasons = dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    summary.refused = dict(sorted(summary.refused.items(), key=lambda kv: (-kv[1], kv[0])))
    return summary
