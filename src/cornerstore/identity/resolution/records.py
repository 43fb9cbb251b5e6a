"""Turn customer records of any shape into the normalised columns the model compares.

A record is a mapping of known fields (``FIELDS``) to raw values; the result is a columnar
``PreparedRecords`` that Splink reads as an Arrow table and the in-process scorer reads row by row.
The same function prepares records for training, batch resolution and placing one new record, so
the three can never normalise differently.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, cast, overload

from cornerstore.errors import InvalidInput
from cornerstore.identity.addresses import normalise_address, normalise_postcode, postcode_area
from cornerstore.identity.names import (
    nickname_keys,
    normalise_first_name,
    normalise_name,
    parse_name,
)
from cornerstore.identity.normalise import Normaliser
from cornerstore.settings import IdentityRules

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

#: The fields a record may carry; any subset will do.
FIELDS: tuple[str, ...] = (
    "full_name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "address",
    "city",
    "state",
    "postcode",
    "country",
)

#: The columns of a prepared record, in the order Splink sees them.
COLUMNS: tuple[str, ...] = (
    "unique_id",
    "first_name",
    "first_name_keys",
    "last_name",
    "email",
    "email_local",
    "phone",
    "address",
    "house_number",
    "street",
    "unit",
    "postcode",
    "postcode_area",
    "city",
    "state",
)

#: Which prepared columns each input field feeds: a model compares only what its data has.
FEEDS: dict[str, tuple[str, ...]] = {
    "full_name": ("first_name", "last_name"),
    "first_name": ("first_name",),
    "last_name": ("last_name",),
    "email": ("email",),
    "phone": ("phone",),
    "address": ("address",),
    "city": ("city",),
    "state": ("state",),
    "postcode": ("postcode",),
    "country": (),
}


class TextColumn(Sequence[str | None]):
    """A prepared column of text held as one Arrow array: about the text's own bytes and 4 more
    a value, where a Python string takes 50 to 90 bytes (ids and e-mail addresses, nearly
    all different, cost about 250 bytes a record so, 2.5 GB at ten million).

    Read like a list: an item is made a Python string when asked for.
    """

    def __init__(self, array: Any) -> None:
        self.array = array

    def __len__(self) -> int:
        return len(self.array)

    @overload
    def __getitem__(self, i: int) -> str | None: ...

    @overload
    def __getitem__(self, i: slice) -> list[str | None]: ...

    def __getitem__(self, i: int | slice) -> str | list[str | None] | None:
        if isinstance(i, slice):
            return list(self.array[i].to_pylist())
        return self.array[i].as_py()

    def __iter__(self) -> Iterator[str | None]:
        step = 65_536
        for start in range(0, len(self.array), step):
            yield from self.array[start : start + step].to_pylist()


@dataclass
class PreparedRecords:
    """Normalised records as columns (lists of equal length), plus which fields were given.

    ``source`` holds 0 or 1 when two files are linked (which file a row came from).
    """

    columns: dict[str, list[Any]]
    fields: tuple[str, ...]
    source: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.columns["unique_id"])

    def row(self, i: int) -> dict[str, Any]:
        """Row ``i`` as a dict of prepared columns."""
        return {name: values[i] for name, values in self.columns.items()}

    def to_arrow(self) -> Any:
        """The records as a pyarrow Table (Splink registers it without copying to pandas)."""
        import pyarrow as pa

        data: dict[str, Any] = {
            name: values.array if isinstance(values, TextColumn) else values
            for name, values in self.columns.items()
        }
        data["first_name_keys"] = pa.array(self.columns["first_name_keys"], pa.list_(pa.string()))
        if self.source:
            data["source_dataset"] = [f"input_{s}" for s in self.source]
        return pa.table(data)

    @property
    def compared(self) -> set[str]:
        """The prepared columns that carry data in these records (mapped and not all empty)."""
        mapped = {col for f in self.fields for col in FEEDS[f]}
        return {c for c in mapped if any(v is not None for v in self.columns[c])}


@cache
def _normaliser(region: str) -> Normaliser:
    return Normaliser(IdentityRules(), default_region=region)


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and value != value):  # NaN from pandas
        return None
    text = str(value).strip()
    return text or None


def _region(country: str | None, default_region: str) -> str:
    if country and len(country) == 2 and country.isalpha():
        return country.upper()
    if country and country.upper() in ("USA", "UNITED STATES"):
        return "US"
    if country and country.upper() in ("UK", "UNITED KINGDOM"):
        return "GB"
    return default_region


def prepare_record(raw: Mapping[str, object], default_region: str = "GB") -> dict[str, Any]:
    """Normalise one record's known fields into the prepared columns (``unique_id`` excluded).

    >>> r = prepare_record({"first_name": "Bob", "last_name": "Smith", "email": "B.Smith@X.com",
    ...                     "address": "Flat 2, 12 High Street", "postcode": "sw1a1aa"})
    >>> r["first_name"], r["email_local"], r["address"], r["unit"], r["postcode_area"]
    ('bob', 'b.smith', '12 high st', '2', 'SW1A')
    """
    country = _text(raw.get("country"))
    region = _region(country, default_region)
    first = normalise_first_name(_text(raw.get("first_name")))
    last = normalise_name(_text(raw.get("last_name")))
    full = _text(raw.get("full_name"))
    if full and not (first and last):
        parts = parse_name(full)
        first, last = first or parts.first, last or parts.last
    email_text, phone_text = _text(raw.get("email")), _text(raw.get("phone"))
    normaliser = _normaliser(region)
    email = normaliser.email(email_text) if email_text else None
    phone = normaliser.phone(phone_text) if phone_text else None
    address = normalise_address(_text(raw.get("address")), country)
    postcode = normalise_postcode(_text(raw.get("postcode")), country or region)
    city = normalise_name(_text(raw.get("city")))
    state = normalise_name(_text(raw.get("state")))
    return {
        "first_name": first,
        "first_name_keys": list(nickname_keys(first)),
        "last_name": last,
        "email": email,
        "email_local": email.rsplit("@", 1)[0] if email else None,
        "phone": phone,
        "address": address.line,
        "house_number": address.house_number,
        "street": address.street,
        "unit": address.unit,
        "postcode": postcode,
        "postcode_area": postcode_area(postcode),
        "city": city,
        "state": state,
    }


def prepare_records(
    rows: Iterable[Mapping[str, object]],
    ids: Sequence[object],
    fields: Sequence[str],
    default_region: str = "GB",
    source: Sequence[int] = (),
    progress: Any = None,
) -> PreparedRecords:
    """Normalise many records; ``ids`` become ``unique_id`` (as text) and must be unique.

    ``progress``, when given, is called with the number of rows done every 10,000 rows.

    >>> prepared = prepare_records([{"first_name": "Peggy"}], ids=[7], fields=["first_name"])
    >>> prepared.columns["unique_id"], "margaret" in prepared.columns["first_name_keys"][0]
    (['7'], True)
    """
    unknown = [f for f in fields if f not in FIELDS]
    if unknown:
        raise InvalidInput(f"unknown field {unknown[0]!r}; known: {', '.join(FIELDS)}")
    columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    for i, raw in enumerate(rows):
        for name, value in prepare_record(raw, default_region).items():
            columns[name].append(value)
        if progress is not None and (i + 1) % 10_000 == 0:
            progress(i + 1)
    unique_ids = [str(x) for x in ids]
    if len(unique_ids) != len(columns["first_name"]):
        raise InvalidInput("ids: there must be one id per record")
    if len(set(zip(source or [0] * len(unique_ids), unique_ids, strict=True))) != len(unique_ids):
        raise InvalidInput("id column: ids must be unique")
    columns["unique_id"] = unique_ids
    return PreparedRecords(columns=columns, fields=tuple(fields), source=list(source))


def concat(a: PreparedRecords, b: PreparedRecords) -> PreparedRecords:
    """Two prepared files as one, each row marked with the file it came from (0 or 1)."""
    columns = {name: a.columns[name] + b.columns[name] for name in COLUMNS}
    fields = tuple(f for f in a.fields if f in b.fields)
    return PreparedRecords(columns=columns, fields=fields, source=[0] * len(a) + [1] * len(b))


#: The prepared columns that say what a record holds: not its id, nor the nickname keys made
#: from its first name.
CONTENT_COLUMNS: tuple[str, ...] = tuple(
    c for c in COLUMNS if c not in ("unique_id", "first_name_keys")
)


def content_digest(values: Iterable[object]) -> int:
    """A 64-bit digest of ``values`` (by their ``repr``), the same in every process: Python's
    own ``hash`` of text changes from one process to the next.

    >>> content_digest(["bob", None]) == content_digest(("bob", None)) != content_digest(["bo"])
    True
    """
    text = repr(tuple(values)).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def content_order(records: PreparedRecords) -> list[int]:
    """The positions of ``records`` in the order of their content (a digest of their prepared
    values, then their file and id): the same for the same records however they were ordered.

    Splink samples the pairs it estimates u and EM from by a hash of each record's position,
    and clustering breaks ties between equal weights by position: records read in another
    order learned other u values and could cluster otherwise. Records in this order do not.

    >>> from cornerstore.identity.resolution.records import prepare_records
    >>> rows = [{"first_name": n} for n in ("ann", "bob", "cy")]
    >>> a = prepare_records(rows, ["1", "2", "3"], ["first_name"])
    >>> b = prepare_records(rows[::-1], ["3", "2", "1"], ["first_name"])
    >>> [a.columns["unique_id"][i] for i in content_order(a)] == [
    ...     b.columns["unique_id"][i] for i in content_order(b)]
    True
    """
    columns = [records.columns[c] for c in CONTENT_COLUMNS]
    source = records.source or [0] * len(records)
    digests = [content_digest(values) for values in zip(source, *columns, strict=True)]
    ids = records.columns["unique_id"]
    return sorted(range(len(records)), key=lambda i: (digests[i], source[i], ids[i]))


def taken(records: PreparedRecords, positions: Sequence[int]) -> PreparedRecords:
    """The records at ``positions``, in that order (a ``TextColumn`` staying one).

    >>> from cornerstore.identity.resolution.records import prepare_records
    >>> rows = [{"first_name": n} for n in ("ann", "bob")]
    >>> taken(prepare_records(rows, ["1", "2"], ["first_name"]), [1, 0]).columns["unique_id"]
    ['2', '1']
    """
    columns = {name: taken_column(values, positions) for name, values in records.columns.items()}
    source = taken_column(records.source, positions) if records.source else []
    return PreparedRecords(columns=columns, fields=records.fields, source=source)


#: Positions ``taken_column`` turns into Python ints at a time (a list of ten million ints
#: takes about 360 MB).
_TAKEN_AT_A_TIME = 1 << 20


def taken_column(
    values: Sequence[Any], positions: Sequence[int] | npt.NDArray[np.integer[Any]]
) -> list[Any]:
    """The ``values`` at ``positions``, in that order: a ``TextColumn`` stays one, and the
    positions may be a numpy array.

    >>> taken_column(["a", "b", "c"], [2, 0])
    ['c', 'a']
    """
    import numpy as np

    if isinstance(values, TextColumn):
        at = np.asarray(positions, dtype=np.int64)
        return cast(list[Any], TextColumn(values.array.take(at)))
    out: list[Any] = []
    for start in range(0, len(positions), _TAKEN_AT_A_TIME):
        part = positions[start : start + _TAKEN_AT_A_TIME]
        out.extend([values[i] for i in (part.tolist() if isinstance(part, np.ndarray) else part)])
    return out
