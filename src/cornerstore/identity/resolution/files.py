"""File mode for data teams: deduplicate or link CSV / Parquet files, train a model on a file,
explain why two records match. The CLI's ``cornerstore identity`` commands call these functions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from cornerstore.errors import InvalidInput
from cornerstore.identity.resolution.batch import Resolution, resolve
from cornerstore.identity.resolution.labels import calibrate, weigh_labelled
from cornerstore.identity.resolution.model import IdentityModel, probability_of, weight_of
from cornerstore.identity.resolution.records import (
    FIELDS,
    PreparedRecords,
    concat,
    content_order,
    prepare_records,
    taken,
)
from cornerstore.identity.resolution.scorer import Explanation, Scorer
from cornerstore.identity.resolution.splink_engine import Engine, train_model

Progress = Callable[[str], None]


def parse_field_map(pairs: Sequence[str]) -> dict[str, str]:
    """``["first_name=given", ...]`` -> ``{"first_name": "given"}``, known fields only; may be
    empty, for :func:`fields_by_column` completes it from the file's column names.

    >>> parse_field_map(["email=E-Mail", "last_name=surname"])
    {'email': 'E-Mail', 'last_name': 'surname'}
    """
    mapping: dict[str, str] = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        field, column = field.strip(), column.strip()
        if not sep or not field or not column:
            raise InvalidInput(f"--map {pair!r}: expected FIELD=COLUMN")
        if field not in FIELDS:
            raise InvalidInput(f"--map: unknown field {field!r}; known: {', '.join(FIELDS)}")
        if field in mapping:
            raise InvalidInput(f"--map: the field {field!r} is mapped twice")
        mapping[field] = column
    return mapping


# Column names read as a field when ``--map`` leaves the field out, compared in lower case with
# spaces, dashes and dots read as underscores; the field's own name first. A file whose columns
# are already called ``email`` or ``Surname`` needs no mapping.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "full_name": ("full_name", "fullname", "name", "customer_name"),
    "first_name": ("first_name", "firstname", "given_name", "forename", "first"),
    "last_name": ("last_name", "lastname", "surname", "family_name", "last"),
    "email": ("email", "e_mail", "email_address", "mail"),
    "phone": ("phone", "phone_number", "telephone", "tel", "mobile", "mobile_phone"),
    "address": ("address", "street_address", "address_1", "address_line_1", "street"),
    "city": ("city", "town", "suburb"),
    "state": ("state", "county", "province"),
    "postcode": ("postcode", "post_code", "postal_code", "zip", "zipcode", "zip_code"),
    "country": ("country",),
}
_NOT_WORD = re.compile(r"[\s.\-]+")


def fields_by_column(
    columns: Sequence[str], mapping: dict[str, str], id_col: str
) -> dict[str, str]:
    """``mapping`` with every field it leaves out that a column is named like (see
    :data:`FIELD_ALIASES`), in :data:`FIELDS` order. The id column and mapped columns are
    never read twice.

    >>> fields_by_column(["id", "E-Mail", "Surname", "given"], {"first_name": "given"}, "id")
    {'first_name': 'given', 'last_name': 'Surname', 'email': 'E-Mail'}
    """
    named = {_NOT_WORD.sub("_", c.strip()).lower(): c for c in reversed(columns)}
    taken = {id_col, *mapping.values()}
    found = dict(mapping)
    for name in FIELDS:
        if name in found:
            continue
        for alias in FIELD_ALIASES.get(name, (name,)):
            column = named.get(alias)
            if column is not None and column not in taken:
                found[name] = column
                taken.add(column)
                break
    return {name: found[name] for name in FIELDS if name in found}


def read_table(path: Path) -> pl.DataFrame:
    """A CSV or Parquet file (by extension) with every column as text."""
    if not path.exists():
        raise InvalidInput(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pl.read_parquet(path)
            return frame.with_columns(pl.all().cast(pl.String))
        if suffix in (".csv", ".tsv", ".txt"):
            return pl.read_csv(
                path, infer_schema=False, separator="\t" if suffix == ".tsv" else ","
            )
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError):
        # Our own words: polars' messages can quote the file's contents.
        raise InvalidInput(f"{path}: could not be read as {suffix[1:]}") from None
    raise InvalidInput(f"{path}: give a .csv, .tsv or .parquet file")


TABLE_SUFFIXES = (".parquet", ".csv", ".tsv", ".txt")


def check_output(path: Path, suffixes: Sequence[str] = TABLE_SUFFIXES) -> None:
    """Refuse an output path that cannot be written before any work is done: a file type
    other than ``suffixes`` (any when empty), or a folder that does not exist."""
    if suffixes and path.suffix.lower() not in suffixes:
        raise InvalidInput(f"{path}: give a .csv, .tsv or .parquet output file")
    if not path.parent.is_dir():
        raise InvalidInput(f"{path}: no folder {path.parent}")
    if path.is_dir():
        raise InvalidInput(f"{path}: is a folder, give a file name")


def write_table(frame: pl.DataFrame, path: Path) -> None:
    """Write CSV or Parquet, by extension."""
    check_output(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame.write_parquet(path)
        else:
            frame.write_csv(path, separator="\t" if suffix == ".tsv" else ",")
    except OSError as exc:
        raise InvalidInput(f"{path}: could not be written ({exc.strerror or 'error'})") from None


def typed_ids(path: Path, id_col: str, ids: list[Any]) -> pl.Series:
    """The id column as the file gives it: Parquet's own type; in a CSV, integers when every
    id reads as one and writes back the same (``007`` stays text), else text. ``ids`` are the
    ids as text, in file order (what ``read_table`` read).

    Output joins back to the input on the id only when the two have one type.
    """
    if path.suffix.lower() == ".parquet":
        return pl.read_parquet(path, columns=[id_col])[id_col]
    text = pl.Series(id_col, ids, dtype=pl.String)
    try:
        numbers = text.str.strip_chars().cast(pl.Int64, strict=True)
    except pl.exceptions.PolarsError:
        return text
    if numbers.cast(pl.String).to_list() != ids:
        return text
    return numbers


def _one_type(ids: list[pl.Series]) -> list[pl.Series]:
    """Two files' id columns as one type: integers of two widths (a CSV's Int64, a Parquet
    file's Int32) as Int64, other pairs of types as text (which joins with neither)."""
    if len({i.dtype for i in ids}) == 1:
        return ids
    if all(i.dtype.is_integer() for i in ids):
        try:
            return [i.cast(pl.Int64) for i in ids]
        except pl.exceptions.InvalidOperationError:
            pass  # an unsigned id past Int64's range
    return [i.cast(pl.String) for i in ids]


def load_records(
    path: Path,
    id_col: str,
    mapping: dict[str, str],
    default_region: str = "GB",
    source: int | None = None,
    *,
    complete: bool = True,
) -> tuple[PreparedRecords, pl.DataFrame, dict[str, str]]:
    """Read a file and prepare its mapped columns, and (``complete``) those named like a field
    (see :func:`fields_by_column`); returns the records, the raw frame and the mapping used."""
    frame = read_table(path)
    missing = [c for c in (id_col, *mapping.values()) if c not in frame.columns]
    if missing:
        raise InvalidInput(f"{path.name}: no column {missing[0]!r}")
    if complete:
        mapping = fields_by_column(frame.columns, mapping, id_col)
    if not mapping:
        raise InvalidInput(
            f"{path.name}: no column is named like a field ({', '.join(FIELDS)}); "
            "map them with --map FIELD=COLUMN, e.g. --map email=Email"
        )
    if frame[id_col].null_count():
        raise InvalidInput(f"{path.name}: column {id_col!r} has empty ids")
    if frame[id_col].is_duplicated().any():
        raise InvalidInput(
            f"{path.name}: column {id_col!r} has the same id twice (ids must be unique)"
        )
    raw = frame.select([pl.col(col).alias(field) for field, col in mapping.items()])
    records = prepare_records(
        raw.iter_rows(named=True),
        ids=frame[id_col].to_list(),
        fields=list(mapping),
        default_region=default_region,
        source=[source] * frame.height if source is not None else (),
    )
    return records, frame, mapping


@dataclass
class DedupeResult:
    """What ``dedupe_files`` wrote and found."""

    output: Path
    records: int
    clusters: int
    largest_cluster: int
    households: int
    pairs_scored: int
    resolution: Resolution
    #: Blocking keys shared by too many records to block on, and the records holding one.
    crowded_keys: int = 0
    crowded_records: int = 0
    #: The fields compared and the columns they were read from (``--map`` and named alike).
    mapping: dict[str, str] = field(default_factory=dict)


def dedupe_files(
    input_path: Path,
    output_path: Path,
    id_col: str,
    mapping: dict[str, str],
    *,
    link_path: Path | None = None,
    model: IdentityModel | None = None,
    match_probability: float | None = None,
    default_region: str = "GB",
    households_path: Path | None = None,
    progress: Progress | None = None,
    engine: Engine = "duckdb",
) -> DedupeResult:
    """Cluster a file's records into people (or link two files) and write ``id, cluster_id``.

    When two files are linked, a ``source`` column (the file name) is written too, because the
    same id may occur in both. ``households_path`` receives ``cluster_id, other_cluster_id``
    pairs: different people living together. ``engine`` is where Splink trains and scores:
    ``"duckdb"`` (in memory) or ``"spark"`` (a local Spark session).

    Used like this::

        dedupe_files(Path("customers.csv"), Path("clusters.csv"), "id",
                     {"first_name": "first", "last_name": "last", "email": "email"}
                     ).clusters
        1873
    """
    for path in (output_path, households_path):
        if path is not None:
            check_output(path)
    say = progress or (lambda _msg: None)
    say(f"reading {input_path.name}")
    records, frame, mapping = load_records(
        input_path, id_col, mapping, default_region, 0 if link_path else None
    )
    sources = [input_path.name] * frame.height
    if link_path is not None:
        say(f"reading {link_path.name}")
        # The fields of the first file, so both files are compared on the same ones.
        other, other_frame, _ = load_records(
            link_path, id_col, mapping, default_region, 1, complete=False
        )
        records = concat(records, other)
        sources += [link_path.name] * other_frame.height
    if model is not None and not {c.name for c in model.comparisons} <= records.compared:
        raise InvalidInput("--model: the model compares fields this file does not map")
    resolution = resolve(
        records, model, match_probability=match_probability, progress=progress, engine=engine
    )
    labels = resolution.clusters.labels
    dense: dict[int, int] = {}
    cluster_ids = [dense.setdefault(label, len(dense) + 1) for label in labels]
    ids = [typed_ids(input_path, id_col, frame[id_col].to_list())]
    if link_path is not None:
        ids.append(typed_ids(link_path, id_col, other_frame[id_col].to_list()))
    columns: dict[str, Any] = {id_col: pl.concat(_one_type(ids))}
    if link_path is not None:
        columns["source"] = sources
    columns["cluster_id"] = cluster_ids
    write_table(pl.DataFrame(columns), output_path)
    if households_path is not None:
        pairs = [(dense[a], dense[b]) for a, b in resolution.clusters.households]
        write_table(
            pl.DataFrame(
                {"cluster_id": [a for a, _ in pairs], "other_cluster_id": [b for _, b in pairs]},
                schema={"cluster_id": pl.Int64, "other_cluster_id": pl.Int64},
            ),
            households_path,
        )
    sizes = resolution.clusters.sizes()
    return DedupeResult(
        output=output_path,
        records=len(records),
        clusters=len(dense),
        largest_cluster=max(sizes, default=0),
        households=len(resolution.clusters.households),
        pairs_scored=resolution.pairs_scored,
        resolution=resolution,
        crowded_keys=resolution.crowded.keys_left_out if resolution.crowded else 0,
        crowded_records=resolution.crowded.records_left_out if resolution.crowded else 0,
        mapping=mapping,
    )


def train_file(
    input_path: Path,
    output_path: Path,
    id_col: str,
    mapping: dict[str, str],
    *,
    labels_path: Path | None = None,
    default_region: str = "GB",
    seed: int = 0,
    progress: Progress | None = None,
    engine: Engine = "duckdb",
) -> IdentityModel:
    """Train a model on a file, with Splink on ``engine``, calibrate it on clerically labelled
    pairs when ``labels_path`` is given (see :func:`read_labels`), and write it as JSON."""
    check_output(output_path, suffixes=())
    records, _, _ = load_records(input_path, id_col, mapping, default_region)
    # Trained in the order of their content: the same model whatever the order of the rows.
    records = taken(records, content_order(records))
    labelled = read_labels(labels_path, records) if labels_path is not None else []
    model = train_model(records, seed=seed, progress=progress, engine=engine)
    if labelled:
        if progress:
            progress("calibrating on the labels")
        scorer = Scorer(model, records, indexed=False)
        weights, matches, set_aside = weigh_labelled(
            scorer, len(records), ((scorer.row(a), scorer.row(b), y) for a, b, y in labelled)
        )
        model.calibrate(calibrate(weights, matches, set_aside=set_aside))
    try:
        output_path.write_text(model.to_json())
    except OSError as exc:
        raise InvalidInput(
            f"{output_path}: could not be written ({exc.strerror or 'error'})"
        ) from None
    return model


LABEL_COLUMNS = ("unique_id_l", "unique_id_r", "clerical_match_score")


def read_labels(path: Path, records: PreparedRecords) -> list[tuple[int, int, bool]]:
    """Clerical labels in Splink's format: a CSV or Parquet file with the columns
    ``unique_id_l``, ``unique_id_r`` (ids of the records file) and ``clerical_match_score``
    (0 to 1; 0.5 and above means one person). Returns (left position, right position, match).
    """
    frame = read_table(path)
    missing = [c for c in LABEL_COLUMNS if c not in frame.columns]
    if missing:
        raise InvalidInput(f"{path.name}: no column {missing[0]!r} (labels need {LABEL_COLUMNS})")
    positions = {uid: i for i, uid in enumerate(records.columns["unique_id"])}
    out: list[tuple[int, int, bool]] = []
    for row_number, (left, right, score) in enumerate(
        frame.select(LABEL_COLUMNS).iter_rows(), start=2
    ):
        for column, uid in zip(LABEL_COLUMNS, (left, right), strict=False):
            if uid not in positions:
                # The column, not the id: an id may be an e-mail address or a name.
                raise InvalidInput(f"{path.name} row {row_number}: {column} names no record")
        try:
            value = float(score)
        except (TypeError, ValueError):
            value = math.nan
        if not 0.0 <= value <= 1.0:
            raise InvalidInput(
                f"{path.name} row {row_number}: clerical_match_score must be a number from 0 to 1"
            )
        if left != right:
            out.append((positions[left], positions[right], value >= 0.5))
    return out


def explain_records(
    input_path: Path,
    id_col: str,
    mapping: dict[str, str],
    left_id: str,
    right_id: str,
    *,
    model: IdentityModel | None = None,
    default_region: str = "GB",
    progress: Progress | None = None,
) -> Explanation:
    """Each field's match weight for two records of a file (training a model when none is given;
    term frequencies come from the file)."""
    records, _, _ = load_records(input_path, id_col, mapping, default_region)
    ids = records.columns["unique_id"]
    positions = {uid: i for i, uid in enumerate(ids)}
    for which, wanted in (("first", left_id), ("second", right_id)):
        if wanted not in positions:
            # Which id, not its value: an id may be an e-mail address or a name.
            raise InvalidInput(f"{input_path.name}: no record has the {which} id")
    if model is None:
        model = train_model(taken(records, content_order(records)), progress=progress)
    scorer = Scorer(model, records, indexed=False)
    left, right = records.row(positions[left_id]), records.row(positions[right_id])
    fields = scorer.explain(left, right)
    prior = weight_of(model.prior(len(records) - 1))
    total = prior + sum(f.weight for f in fields)
    return Explanation(left_id, right_id, prior, fields, total, probability_of(total))
