"""From a file's rows to Segment Spec messages: fields, values and a repeatable messageId.

:mod:`cornerstore.intake.files` reads the file, calls :func:`plan_fields` once to learn which
column feeds which field, then :func:`column_values` for each batch of rows and
:meth:`MessageBuilder.build` for each row.

Choices worth knowing
---------------------
- **Fields.** ``user_id`` and ``anonymous_id`` identify the message; ``timestamp`` (ISO-8601,
  ``YYYY-MM-DD`` or ``YYYYMMDD``; without a zone it is UTC) dates it, and rows without one are
  stamped with the time of the import. ``address.street|city|postal_code|country|state`` build
  the Spec ``address`` object and ``external.<type>`` adds a ``context.externalIds`` entry. Any
  other field is a trait (identify) or a property (track). On track messages ``email`` and
  ``phone`` go to ``context.traits``, where the intake looks for identifiers.
- **Rows without userId or anonymousId.** The Spec needs one of them, so a row identified only
  by an e-mail, a phone or an external id is given ``anonymousId = "import-" +
  sha256(source, kind, normalised value)[:20]``, from the strongest of them (e-mail, then phone,
  then external ids in mapping order). It is deterministic, so importing the file again lands on
  the same profile, and stitching joins the profile through the e-mail or phone anyway. A row
  with no identifier, or only invalid or placeholder ones, is rejected.
- **Safe to run twice.** ``messageId`` is a hash of the source, touchpoint, type and the row's
  mapped values, so an unchanged row is a duplicate the second time and a changed row is a new
  observation. Two identical rows of one file are one observation. The source (by default the
  file name) is part of the hash: a renamed file imports again unless the source is kept.
- **Values.** Empty cells are left out. CSV is read as text, so a phone ``07700 900123`` keeps
  its leading zero; in Parquet and JSON lines, identifiers stored as numbers become text without
  a trailing ``.0``. Numbers stay numbers; in CSV a property (not a trait) that is a plain
  decimal such as ``12.50`` is sent as a number unless its name is ``id`` or ends in ``_id``.
  With ``all_columns`` the unmapped columns are kept under their snake_case names (a column
  named like a field above, such as ``email``, is used as that field).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from cornerstore.errors import InvalidInput
from cornerstore.intake.service import Intake, trait_name
from cornerstore.privacy.detect import find
from cornerstore.settings import TOUCHPOINTS
from cornerstore.spec import ADDRESS_PARTS

# Fields with a meaning of their own; every other field is a trait or a property.
SPEC_FIELDS = ("user_id", "anonymous_id", "timestamp", "email", "phone")

_FIELD = re.compile(r"[^\W\d]\w{0,127}")
_EXTERNAL_TYPE = re.compile(r"[a-z0-9_]{1,48}")
_NOT_WORD = re.compile(r"\W+")
_PLAIN_NUMBER = re.compile(r"-?(?:0|[1-9]\d{0,14})(?:\.\d{1,15})?")
_ANCHOR_ORDER = {"email": 0, "phone": 1, "external": 2}
_EMAIL_LIKE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Numbers, phones, card numbers, dates, times and amounts: digits and what separates them.
_NUMBER_LIKE = re.compile(r"[\s\d.,:;/+()#'-]*\d[\s\d.,:;/+()#'-]*")
_KIND_WORDS = {"payment_card": "a card number", "iban": "an IBAN", "birth_date": "a date"}

NO_IDENTIFIER = "row has no identifier (user_id, anonymous_id, email, phone or external id)"
NO_USABLE_IDENTIFIER = (
    "row has no usable identifier: its email, phone or external id is invalid or a placeholder"
)
BAD_TIMESTAMP = "timestamp: not an ISO-8601 time, YYYY-MM-DD or YYYYMMDD"
NOT_JSON = "row: holds a value that is not JSON (binary data inside a list or object)"


def column_field_name(column: str) -> str:
    """The trait or property name an unmapped column is kept under with ``all_columns``.

    >>> column_field_name("Customer Email"), column_field_name("E-Mail"), column_field_name("PLZ")
    ('customer_email', 'e_mail', 'plz')
    """
    return _NOT_WORD.sub("_", trait_name(column.strip())).strip("_").lower()


def _value_kind(cell: str) -> str | None:
    """What kind of value ``cell`` of a first row is, or None when it may be a column name."""
    text = cell.strip()
    found = find(text)
    if found:
        kind = found[0].kind
        return _KIND_WORDS.get(kind, f"a {kind.replace('_', ' ')}")
    if _EMAIL_LIKE.fullmatch(text):
        return "an e-mail"
    if _NUMBER_LIKE.fullmatch(text):
        return "a number"
    return None


def check_header(columns: list[str], file_name: str) -> None:
    """Raise :class:`InvalidInput` when the first row of a CSV holds values, not column names.

    The message gives the positions and kinds of the values it saw, never the values.

    Examples
    --------
    >>> check_header(["E-Mail", "Vorname", "PLZ"], "kunden.csv")
    >>> check_header(["anna@example.com", "Anna", "4111 1111 1111 1111", "12.50"], "kunden.csv")
    Traceback (most recent call last):
    cornerstore.errors.InvalidInput: kunden.csv: the file has no header row: its first row holds \
an e-mail in column 1, a card number in column 3 and a number in column 4; add a first row that \
names the columns
    """
    values = [
        f"{kind} in column {position}"
        for position, column in enumerate(columns, start=1)
        if (kind := _value_kind(column)) is not None
    ]
    if not values:
        return
    shown = values[:3] + ([f"{len(values) - 3} more"] if len(values) > 3 else [])
    listed = ", ".join(shown[:-1]) + " and " + shown[-1] if len(shown) > 1 else shown[0]
    raise InvalidInput(
        f"{file_name}: the file has no header row: its first row holds {listed}; "
        "add a first row that names the columns"
    )


def anchor_anonymous_id(source: str, kind: str, value: str) -> str:
    """The anonymousId given to a row known only by an e-mail, phone or external id.

    ``value`` is the normalised identifier, so spelling variants of one e-mail share it.

    >>> anchor_anonymous_id("crm.csv", "email", "anna@example.com")
    'import-285dbc4eb7f954ea99c5'
    """
    digest = hashlib.sha256(f"{source}\x1f{kind}\x1f{value}".encode()).hexdigest()
    return "import-" + digest[:20]


def check_field(name: str, column: str) -> None:
    """Raise :class:`InvalidInput` unless ``name`` is a field a column can be mapped to.

    >>> check_field("address.city", "Ort")
    """
    head, dot, rest = name.partition(".")
    where = f"--map {name}={column}"
    if not dot:
        if not _FIELD.fullmatch(name) or name != name.lower():
            raise InvalidInput(
                f"{where}: FIELD must be a snake_case name such as first_name, "
                "address.city or external.crm_id"
            )
    elif head == "address":
        if rest not in ADDRESS_PARTS:
            parts = ", ".join(f"address.{p}" for p in ADDRESS_PARTS)
            raise InvalidInput(f"{where}: address fields are {parts}")
    elif head == "external":
        if not _EXTERNAL_TYPE.fullmatch(rest):
            raise InvalidInput(
                f"{where}: external ids are external.TYPE with TYPE of up to 48 characters "
                "a-z, 0-9 and _"
            )
    else:
        raise InvalidInput(f"{where}: only address.* and external.* fields contain a dot")


@dataclass(frozen=True, slots=True)
class MappedField:
    """One target field and the column it reads."""

    name: str  # "email", "address.city", "external.crm_id", "revenue"
    column: str
    role: str  # user_id anonymous_id timestamp email phone external address value
    key: str  # trait or property name, address part or external id type
    number_text: bool = False  # CSV text that is sent as a number when it is a plain decimal


def _role(name: str) -> tuple[str, str]:
    head, dot, rest = name.partition(".")
    if dot:
        return head, rest
    return (name, name) if name in SPEC_FIELDS else ("value", name)


_UNUSABLE = (pl.Binary, pl.Object)


FORMATS = ("csv", "tsv", "jsonl", "parquet")
MESSAGE_TYPES = ("identify", "track")

_FORMAT_NAMES = {
    "csv": "csv",
    "tsv": "tsv",
    "jsonl": "jsonl",
    "ndjson": "jsonl",
    "json": "jsonl",
    "parquet": "parquet",
}
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


@dataclass
class ImportSpec:
    """What to import and how: the file, where it comes from and how columns map to fields.

    Examples
    --------
    >>> spec = ImportSpec("kunden.csv", "store", {"email": "E-Mail"}, source="kunden.csv")
    >>> spec.validate()
    >>> spec.file_format()
    'csv'
    """

    path: Path | str
    touchpoint: str
    mapping: dict[str, str]
    source: str
    message_type: str = "identify"
    event: str | None = None
    all_columns: bool = False
    format: str | None = None

    def file_format(self) -> str:
        """``csv``, ``tsv``, ``jsonl`` or ``parquet``: as given, else from the file extension."""
        if self.format is not None:
            fmt = _FORMAT_NAMES.get(self.format.strip().lower())
            if fmt is None:
                raise InvalidInput("--format: must be one of csv, tsv, jsonl or parquet")
            return fmt
        suffix = Path(self.path).suffix.lower()
        fmt = _EXTENSIONS.get(suffix)
        if fmt is None:
            raise InvalidInput(
                f"{Path(self.path).name}: cannot tell the format from the extension "
                f"{suffix or '(none)'!r}; give --format csv, tsv, jsonl or parquet"
            )
        return fmt

    def validate(self) -> None:
        """Raise :class:`InvalidInput` naming the first option that cannot work."""
        if self.touchpoint not in TOUCHPOINTS:
            raise InvalidInput(f"--touchpoint: must be one of {', '.join(TOUCHPOINTS)}")
        if self.message_type not in MESSAGE_TYPES:
            raise InvalidInput("--type: must be identify or track")
        if self.message_type == "track":
            if not self.event or not self.event.strip():
                raise InvalidInput("--event: is required with --type track")
            if len(self.event) > 256:
                raise InvalidInput("--event: longer than 256 characters")
        elif self.event is not None:
            raise InvalidInput("--event: only goes with --type track")
        if not self.source or not self.source.strip() or len(self.source) > 120:
            raise InvalidInput("--source: must be 1 to 120 characters")
        self.file_format()
        if not self.mapping and not self.all_columns:
            raise InvalidInput(
                "--map: map at least one column (for example --map email=E-Mail) "
                "or keep every column with --all-columns"
            )
        for name, column in self.mapping.items():
            check_field(name, column)
        if "address" in self.mapping and any(n.startswith("address.") for n in self.mapping):
            raise InvalidInput("--map address: cannot be combined with address.* fields")


def plan_fields(spec: ImportSpec, schema: pl.Schema, fmt: str) -> list[MappedField]:
    """Which column feeds which field; checks that every mapped column is in the file."""
    columns = list(schema.names())
    if fmt in ("csv", "tsv") and (
        spec.all_columns or not set(spec.mapping.values()) <= set(columns)
    ):
        # Column names become field names or appear in a message: never a customer's values.
        check_header(columns, Path(spec.path).name)
    fields: list[MappedField] = []
    for name, column in spec.mapping.items():
        if column not in schema:
            shown = ", ".join(repr(c) for c in columns[:30])
            more = f", ... ({len(columns) - 30} more)" if len(columns) > 30 else ""
            raise InvalidInput(
                f"--map {name}={column}: column {column!r} is not in the file "
                f"(columns: {shown}{more})"
            )
        role, key = _role(name)
        dtype = schema[column]
        if isinstance(dtype, _UNUSABLE) or (role != "value" and dtype.is_nested()):
            raise InvalidInput(
                f"--map {name}={column}: column {column!r} holds binary data, lists or objects"
            )
        fields.append(MappedField(name, column, role, key))
    if spec.all_columns:
        used_columns = set(spec.mapping.values())
        taken = {f.name for f in fields} | {f.name.partition(".")[0] for f in fields}
        for column in columns:
            if column in used_columns or isinstance(schema[column], _UNUSABLE):
                continue
            base = column_field_name(column) or f"column_{columns.index(column) + 1}"
            name, n = base, 1
            while name in taken:
                n += 1
                name = f"{base}_{n}"
            taken.add(name)
            role, key = _role(name)
            if role != "value" and schema[column].is_nested():
                role, key = "value", name
            fields.append(MappedField(name, column, role, key))
    if not fields:
        raise InvalidInput(f"{Path(spec.path).name}: has no columns that can be imported")
    if fmt in ("csv", "tsv") and spec.message_type == "track":
        fields = [
            MappedField(f.name, f.column, f.role, f.key, number_text=_may_be_number(f))
            for f in fields
        ]
    return fields


def _may_be_number(f: MappedField) -> bool:
    return f.role == "value" and f.key != "id" and not f.key.endswith("_id")


def _as_text(values: pl.Series) -> pl.Series:
    """Identifier values as trimmed text: 7700900123, never 7700900123.0; blanks are null."""
    dtype = values.dtype
    frame = values.rename("v").to_frame()
    v = pl.col("v")
    if dtype.is_float():
        v = v.fill_nan(None)
        whole = v.cast(pl.Int64, strict=False).cast(pl.String)
        expr = pl.coalesce(pl.when(v.round(0) == v).then(whole), v.cast(pl.String))
    elif dtype == pl.String:
        expr = v
    else:
        expr = v.cast(pl.String, strict=False)
    expr = expr.str.strip_chars()
    expr = pl.when(expr.str.len_bytes() > 0).then(expr)
    return frame.select(expr.alias("v")).to_series()


def _as_value(values: pl.Series) -> pl.Series:
    """Trait and property values: text trimmed, NaN and blanks null, decimals as floats."""
    dtype = values.dtype
    v = pl.col("v")
    expr: pl.Expr
    if dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum):
        text = v.cast(pl.String).str.strip_chars()
        expr = pl.when(text.str.len_bytes() > 0).then(text)
    elif dtype.is_float():
        expr = v.fill_nan(None)
    elif isinstance(dtype, pl.Decimal):
        expr = v.cast(pl.Float64)
    else:
        return values
    return values.rename("v").to_frame().select(expr.alias("v")).to_series()


def _json_value(value: Any) -> Any:
    """A value as JSON sees it: times as ISO-8601 text, nulls inside objects left out."""
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return float(value)
    return value


def column_values(f: MappedField, values: pl.Series) -> list[Any]:
    """One batch of a column as the Python values its field sends (``None`` for empty cells)."""
    if f.role in ("user_id", "anonymous_id", "email", "phone", "external"):
        return _as_text(values).to_list()
    prepared = _as_value(values)
    out = prepared.to_list()
    if f.role == "timestamp":
        return out
    if prepared.dtype.is_temporal() or prepared.dtype.is_nested():
        out = [None if x is None else _json_value(x) for x in out]
    if f.role == "address":
        out = [x if x is None or isinstance(x, str) else str(x) for x in out]
    elif f.number_text:
        out = [_number(x) if x is not None else None for x in out]
    return out


def _number(text: str) -> Any:
    if _PLAIN_NUMBER.fullmatch(text):
        return float(text) if "." in text else int(text)
    return text


def parse_timestamp(value: Any) -> str:
    """A file's time as ISO-8601 UTC; ``YYYY-MM-DD`` and ``YYYYMMDD`` are midnight UTC.

    >>> parse_timestamp("20240301"), parse_timestamp("2024-03-01T11:00:00+01:00")
    ('2024-03-01T00:00:00Z', '2024-03-01T10:00:00Z')
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and 0 < len(value.strip()) <= 64:
        text = value.strip()
        try:
            if len(text) == 8 and text.isdigit():
                moment = datetime.strptime(text, "%Y%m%d")
            else:
                moment = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidInput(BAD_TIMESTAMP) from None
    else:
        raise InvalidInput(BAD_TIMESTAMP)
    try:
        utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(BAD_TIMESTAMP) from None
    return utc.isoformat().replace("+00:00", "Z")


class RowError(Exception):
    """A row that cannot become a message; ``reason`` never holds a value of the row."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MessageBuilder:
    """Builds one Spec message a row, with a messageId that is the same on every import."""

    def __init__(self, intake: Intake, spec: ImportSpec, fields: list[MappedField]) -> None:
        self.normaliser = intake.normaliser
        self.spec = spec
        self.fields = fields
        self.track = spec.message_type == "track"
        self.prefix = f"{spec.source}\x1f{spec.touchpoint}\x1f{spec.message_type}\x1f".encode()

    def build(self, values: tuple[Any, ...]) -> dict[str, Any]:
        user_id = anonymous_id = timestamp = None
        payload: dict[str, Any] = {}
        context_traits: dict[str, Any] = {}
        address: dict[str, Any] = {}
        external: list[dict[str, str]] = []
        anchors: list[tuple[int, str, str]] = []
        for f, value in zip(self.fields, values, strict=True):
            if value is None:
                continue
            role = f.role
            if role == "value":
                payload[f.key] = value
            elif role in ("email", "phone"):
                (context_traits if self.track else payload)[f.key] = value
                anchors.append((_ANCHOR_ORDER[role], role, value))
            elif role == "address":
                address[f.key] = value
            elif role == "external":
                external.append(
                    {"id": value, "type": f.key, "collection": "users", "encoding": "none"}
                )
                anchors.append((_ANCHOR_ORDER["external"], f"external:{f.key}", value))
            elif role == "user_id":
                user_id = value
            elif role == "anonymous_id":
                anonymous_id = value
            else:
                try:
                    timestamp = parse_timestamp(value)
                except InvalidInput as exc:
                    raise RowError(exc.message) from None
        if address:
            payload["address"] = address
        msg: dict[str, Any] = {"type": self.spec.message_type}
        if self.track:
            msg["event"] = self.spec.event
            msg["properties"] = payload
        else:
            msg["traits"] = payload
        context: dict[str, Any] = {}
        if context_traits:
            context["traits"] = context_traits
        if external:
            context["externalIds"] = external
        if context:
            msg["context"] = context
        if timestamp is not None:
            msg["timestamp"] = timestamp
        if user_id is not None:
            msg["userId"] = user_id
        if anonymous_id is not None:
            msg["anonymousId"] = anonymous_id
        if user_id is None and anonymous_id is None:
            msg["anonymousId"] = self._anchor(anchors)
        try:
            canonical = orjson.dumps(msg, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            raise RowError(NOT_JSON) from None
        msg["messageId"] = "import-" + hashlib.sha256(self.prefix + canonical).hexdigest()[:32]
        return msg

    def _anchor(self, anchors: list[tuple[int, str, str]]) -> str:
        if not anchors:
            raise RowError(NO_IDENTIFIER)
        for _, kind, raw in sorted(anchors, key=lambda a: a[0]):
            value = self.normaliser.identifier(kind, raw)
            if value:
                return anchor_anonymous_id(self.spec.source, kind, value)
        raise RowError(NO_USABLE_IDENTIFIER)
