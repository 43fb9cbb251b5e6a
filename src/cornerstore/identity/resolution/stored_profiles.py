"""The stored customers as the records matching reads, and staff decisions on pairs of them.

Learning, resolving, placing, reviewing and explaining all read customers through
:func:`read_profiles`, so each job compares the same values; a rejected pair and an undone merge
are read as "two people" by :func:`decided_pairs` and :func:`decided_with` alike.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from cornerstore.errors import NotFound
from cornerstore.identity.resolution.model import IdentityModel
from cornerstore.identity.resolution.records import (
    COLUMNS,
    FIELDS,
    PreparedRecords,
    TextColumn,
    content_digest,
    prepare_records,
    taken_column,
)
from cornerstore.identity.resolution.scorer import FieldWeight, Scorer
from cornerstore.spec import MATCHING_TRAITS
from cornerstore.storage.database import Store
from cornerstore.storage.unit_of_work import UnitOfWork

# Address objects ({street, city, postal_code, ...}) are taken apart into record fields; a
# plain address trait is the street line (MATCHING_TRAITS maps the other traits).
ADDRESS_FIELDS: dict[str, str] = {
    "street": "address",
    "city": "city",
    "state": "state",
    "postal_code": "postcode",
    "postcode": "postcode",
    "country": "country",
}


def profile_record(
    traits: Mapping[str, Any], emails: list[str], phones: list[str]
) -> dict[str, Any]:
    """One profile's record for matching, from its current traits and identifiers.

    Traits win over identifiers (they are what the customer last told a department); the
    oldest e-mail and phone identifiers fill in when there is no such trait.

    >>> record = profile_record({"first_name": "Bob", "address": {"street": "12 High St",
    ...                          "postal_code": "SW1A 1AA"}}, ["bob@example.com"], [])
    >>> record["address"], record["postcode"], record["email"]
    ('12 High St', 'SW1A 1AA', 'bob@example.com')
    """
    record: dict[str, Any] = {}
    for name, value in traits.items():
        target = MATCHING_TRAITS.get(name)
        if target is None or value in (None, ""):
            continue
        if isinstance(value, Mapping):
            if name == "address":
                for part, field in ADDRESS_FIELDS.items():
                    if value.get(part) not in (None, ""):
                        record.setdefault(field, str(value[part]))
            continue
        if isinstance(value, str | int | float):
            record[target] = str(value)
    if "email" not in record and emails:
        record["email"] = emails[0]
    if "phone" not in record and phones:
        record["phone"] = phones[0]
    return record


#: One observation of a customer: when, and the message that brought it (None for traits set
#: otherwise). Messages stored at one time (an import's rows without a timestamp, one intake
#: batch) are each a moment of their own: keyed by time alone, a customer stitched from such
#: rows held one mixed moment and lost the older values of all but its last row.
Moment = tuple[datetime, str | None]


def _chronological(moments: Mapping[Moment, dict[str, Any]]) -> list[tuple[Moment, Any]]:
    """The moments oldest first; those of one time in the order their rows were stored."""
    return sorted(moments.items(), key=lambda item: item[0][0])


@dataclass(frozen=True)
class _Observed:
    """What matching reads of the stored customers: per customer (root id) its traits as
    observed moment by moment (in the order stored), and its e-mail and phone identifiers,
    oldest first."""

    roots: list[str]
    moments: dict[str, dict[Moment, dict[str, Any]]]
    emails: dict[str, list[str]]
    phones: dict[str, list[str]]

    def latest(self, root: str) -> dict[str, Any]:
        """The customer's current traits: each the last value observed."""
        out: dict[str, Any] = {}
        for _moment, traits in _chronological(self.moments.get(root, {})):
            out.update(traits)
        return out

    def record(self, root: str, traits: Mapping[str, Any]) -> dict[str, Any]:
        return profile_record(traits, self.emails.get(root, []), self.phones.get(root, []))


def _gathered(
    roots: list[str],
    traits: Iterable[tuple[str, str, Any, datetime, str | None]],
    identifiers: Iterable[tuple[str, str, str]],
) -> _Observed:
    """The customers ``roots`` as observed: their trait rows (root, name, value, at, message
    id; each customer's oldest first) moment by moment, and their identifier rows (root, kind,
    value) as e-mails and phones."""
    moments: dict[str, dict[Moment, dict[str, Any]]] = {}
    for root, name, value, at, message_id in traits:
        moments.setdefault(root, {}).setdefault((at, message_id), {})[name] = value
    emails: dict[str, list[str]] = {}
    phones: dict[str, list[str]] = {}
    for root, kind, value in identifiers:
        (emails if kind == "email" else phones).setdefault(root, []).append(value)
    return _Observed(roots, moments, emails, phones)


class _InOrder:
    """Rows of one streamed query, customer by customer in the order of the customers read
    (``read``, their root ids), taken a slice of customers at a time."""

    def __init__(self, rows: Iterator[tuple[Any, ...]], read: Set[str]) -> None:
        self.rows = rows
        self.read = read
        self.head: tuple[Any, ...] | None = next(rows, None)

    def before(self, part: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """The rows of the customers ``part`` (the next slice); rows of customers not being
        read are passed over, and a row of a customer read but not in ``part`` is taken for
        one of a later slice (``finish`` says when it was not)."""
        here = set(part)
        while self.head is not None:
            root = self.head[0]
            if root in here:
                yield self.head
            elif root in self.read:
                return
            self.head = next(self.rows, None)

    def finish(self) -> None:
        """After the last slice: no row of a customer read may be left (it came after rows of
        a later customer, and its slice was read without it)."""
        while self.head is not None:
            if self.head[0] in self.read:
                raise RuntimeError("stored customers: rows came out of order")
            self.head = next(self.rows, None)


def _observed_slices(
    uow: UnitOfWork, roots: list[str], only: Sequence[str] | None
) -> Iterator[tuple[list[str], _Observed]]:
    """What matching reads of the customers ``roots`` (person customers, in the order
    :meth:`person_roots` gives them), :data:`PROFILES_PER_READ` customers at a time.

    Given customers (``only``: a sample, a few judged ones) are read a slice at a time by
    their ids, one parameter a query, so reading grows with the customers read, not with the
    store. All of them are streamed in two queries over the whole store, customer by
    customer: reading a million customers by their ids, 900 to an IN list, made PostgreSQL
    scan the traits' customers and the identifiers once per list and took 18 minutes.
    """
    if only is not None:
        for start in range(0, len(roots), PROFILES_PER_READ):
            part = roots[start : start + PROFILES_PER_READ]
            yield (
                part,
                _gathered(
                    part,
                    uow.identity.person_traits_of(list(MATCHING_TRAITS), part),
                    uow.identity.person_identifiers_of(["email", "phone"], part),
                ),
            )
        return
    # A set of the customers read, not a dict of their places: at ten million, 0.8 GB less.
    read = set(roots)
    traits = _InOrder(uow.identity.person_traits_in_order(list(MATCHING_TRAITS)), read)
    identifiers = _InOrder(uow.identity.person_identifiers_in_order(["email", "phone"]), read)
    for start in range(0, len(roots), PROFILES_PER_READ):
        part = roots[start : start + PROFILES_PER_READ]
        yield part, _gathered(part, traits.before(part), identifiers.before(part))
    traits.finish()
    identifiers.finish()


#: Customers whose traits and identifiers :func:`read_profiles` reads at a time: besides the
#: prepared records, only one slice's observations (Python dicts, a few KB a customer) are held.
PROFILES_PER_READ = 20_000
#: Prepared columns whose values repeat across customers (names, places): each distinct value
#: is held once, however many customers share it.
_SHARED_COLUMNS = (
    "first_name",
    "last_name",
    "house_number",
    "street",
    "unit",
    "postcode",
    "postcode_area",
    "city",
    "state",
)
#: Prepared columns whose values nearly every record has its own (ids, e-mail addresses):
#: held as Arrow text (``TextColumn``) when reading compactly.
_OWN_COLUMNS = ("unique_id", "email", "email_local", "phone")


def read_profiles(
    uow: UnitOfWork, default_region: str, only: Sequence[str] | None = None
) -> PreparedRecords:
    """Every person customer (root profile) as a prepared record, ``unique_id`` its id; only
    the customers ``only`` (root ids) when given.

    Read :data:`PROFILES_PER_READ` customers at a time, and each repeated value (a first name,
    a town) is held once: a million customers take about 1 GB, not the 4.5 GB that reading
    them all at once as dicts took.
    """
    roots = uow.identity.person_roots(only)
    records = _SharedColumns()
    for part, seen in _observed_slices(uow, roots, only):
        records.add([seen.record(root, seen.latest(root)) for root in part], part, default_region)
        del seen
    return records.prepared()


def joined(a: PreparedRecords, b: PreparedRecords) -> PreparedRecords:
    """The customers of ``a`` then those of ``b`` that ``a`` lacks, as one set of records."""
    have = set(a.columns["unique_id"])
    extra = [i for i, uid in enumerate(b.columns["unique_id"]) if uid not in have]
    columns = {name: a.columns[name] + [b.columns[name][i] for i in extra] for name in COLUMNS}
    fields = tuple(f for f in FIELDS if f in a.fields or f in b.fields)
    return PreparedRecords(columns=columns, fields=fields)


@dataclass(frozen=True)
class ProfileVariants:
    """The stored customers twice over: ``customers`` one record each (as :func:`read_profiles`
    reads them), ``variants`` one record per distinct set of values a customer was seen with,
    ``owner[i]`` the position in ``customers`` of the customer variant ``i`` belongs to, and
    ``observed[i]`` the moment whose values variant ``i`` shows (None for the current record)."""

    customers: PreparedRecords
    variants: PreparedRecords
    owner: Sequence[int]
    observed: list[datetime | None]

    def grouped(self) -> list[list[dict[str, Any]]]:
        """Each customer's prepared variants (in the order of ``customers``), current first."""
        out: list[list[dict[str, Any]]] = [[] for _ in range(len(self.customers))]
        for i, o in enumerate(self.owner):
            out[o].append(self.variants.row(i))
        return out


def read_profile_variants(
    uow: UnitOfWork,
    default_region: str,
    only: Sequence[str] | None = None,
    *,
    compact: bool = False,
) -> ProfileVariants:
    """Every person customer (of ``only`` when given) as its current record and as every
    variant of it.

    A customer stitched from several records holds older addresses, phones, e-mails and name
    spellings besides its current ones; matching on the current record alone loses the links
    those older values carry. A variant is the customer's current record with the traits of one
    moment they were observed at laid over it (the moment's values win); variants with the
    same values are kept once, the current record always first.

    Read :data:`PROFILES_PER_READ` customers at a time, each record prepared once (a
    customer's record is its first variant's, named by the customer) and each repeated value
    held once, as in :func:`read_profiles`: memory follows the prepared values, not every
    customer's observations at once (a million customers took 8.7 GB that way).

    ``compact`` holds the ids, e-mails and phones as Arrow text (``TextColumn``, read like a
    list but not a list: for resolving all customers, whose records go to Splink as Arrow).
    """
    return _read_variants(uow, default_region, only, compact, keep_fields=False)[0]


def read_profile_variants_of(
    uow: UnitOfWork, default_region: str, parts: Sequence[Sequence[str]]
) -> list[ProfileVariants]:
    """For each of ``parts`` (root ids), what :func:`read_profile_variants` reads of it, from
    one read of them all: customers in two parts (learning's random sample and its name
    blocks overlap) are read once.

    Each part comes out as its own read gives it: its customers in the same order (content,
    then oldest first, which a part keeps from the whole), the same prepared values, and the
    fields its own records hold.
    """
    union = list(dict.fromkeys(root for part in parts for root in part))
    whole, fields_of = _read_variants(uow, default_region, union, False, keep_fields=True)
    assert fields_of is not None
    out = [_part_of(whole, fields_of, set(part)) for part in parts]
    del whole
    return out


def _field_bits(keys: Iterable[str]) -> int:
    held = set(keys)
    return sum(1 << i for i, name in enumerate(FIELDS) if name in held)


def _fields_in(bits: int) -> tuple[str, ...]:
    return tuple(f for i, f in enumerate(FIELDS) if bits >> i & 1) or ("first_name",)


def _part_of(
    whole: ProfileVariants, fields_of: Mapping[str, tuple[int, int]], wanted: Set[str]
) -> ProfileVariants:
    """The customers of ``whole`` in ``wanted``, in ``whole``'s order, with their variants."""
    roots = whole.customers.columns["unique_id"]
    keep = [i for i, root in enumerate(roots) if root in wanted]
    place = {old: new for new, old in enumerate(keep)}
    rows = [i for i, o in enumerate(whole.owner) if o in place]
    current = variant = 0
    for i in keep:
        current_bits, variant_bits = fields_of[roots[i]]
        current, variant = current | current_bits, variant | variant_bits
    customers = PreparedRecords(
        columns={n: taken_column(v, keep) for n, v in whole.customers.columns.items()},
        fields=_fields_in(current),
    )
    variants = PreparedRecords(
        columns={n: taken_column(v, rows) for n, v in whole.variants.columns.items()},
        fields=_fields_in(variant),
    )
    owner = array("q", [place[whole.owner[i]] for i in rows])
    return ProfileVariants(customers, variants, owner, taken_column(whole.observed, rows))


def _read_variants(
    uow: UnitOfWork,
    default_region: str,
    only: Sequence[str] | None,
    compact: bool,
    *,
    keep_fields: bool,
) -> tuple[ProfileVariants, dict[str, tuple[int, int]] | None]:
    roots = uow.identity.person_roots(only)
    variants = _SharedColumns(compact)
    owner = array("q")
    observed: list[datetime | None] = []
    firsts = array("q")  # each customer's current record: its first variant
    digests = array("Q")  # each customer's content (``content_digest`` of its variants)
    present: set[str] = set()  # the fields the current records hold
    # Each customer's fields (bits of FIELDS: its current record's, all its variants'), kept
    # only for a read that is divided afterwards (see read_profile_variants_of).
    fields_of: dict[str, tuple[int, int]] | None = {} if keep_fields else None
    for part, seen in _observed_slices(uow, roots, only):
        rows: list[dict[str, Any]] = []
        ids: list[str] = []
        for position, root in enumerate(part, len(firsts)):
            latest = seen.latest(root)
            kept: dict[tuple[tuple[str, str], ...], tuple[dict[str, Any], datetime | None]] = {}
            current = seen.record(root, latest)
            present.update(current)
            firsts.append(len(owner))
            moments: list[tuple[datetime | None, dict[str, Any]]] = [(None, latest)]
            moments += [(at, t) for (at, _), t in _chronological(seen.moments.get(root, {}))]
            for at, traits in moments:
                row = current if at is None else seen.record(root, {**latest, **traits})
                kept.setdefault(tuple(sorted((k, str(v)) for k, v in row.items())), (row, at))
            # The current record first, the others in the order of their values, not of the
            # moments they were stored at: the same people stored again are read the same.
            keys = list(kept)
            keys[1:] = sorted(keys[1:])
            digests.append(content_digest(keys))
            if fields_of is not None:
                held = (k for row, _ in kept.values() for k in row)
                fields_of[root] = (_field_bits(current), _field_bits(held))
            for n, key in enumerate(keys, 1):
                row, at = kept[key]
                rows.append(row)
                ids.append(f"{root}/{n}")
                owner.append(position)
                observed.append(at)
        variants.add(rows, ids, default_region)
        del seen, rows, ids
    prepared, owner, observed, firsts, roots = _in_content_order(
        variants.prepared(), owner, observed, firsts, roots, digests
    )
    # The customers' records are their current variants' values (the same objects), by id;
    # the very columns when every customer has one variant.
    if len(firsts) == len(owner):
        columns = dict(prepared.columns)
    else:
        columns = {name: taken_column(values, firsts) for name, values in prepared.columns.items()}
    columns["unique_id"] = list(roots)
    fields = tuple(f for f in FIELDS if f in present) or ("first_name",)
    customers = PreparedRecords(columns=columns, fields=fields)
    return ProfileVariants(customers, prepared, owner, observed), fields_of


def _in_content_order(
    variants: PreparedRecords,
    owner: array[int],
    observed: list[datetime | None],
    firsts: array[int],
    roots: list[str],
    digests: array[int],
) -> tuple[PreparedRecords, array[int], list[datetime | None], array[int], list[str]]:
    """The customers (``roots``, each with its ``variants`` from ``firsts``) in the order of
    their content (``digests``, then as read for customers of the very same values).

    Customers are read in the order they were stored (their random ids break ties), and
    Splink samples the pairs it learns u and m from by each record's position (a hash of
    it), while clustering breaks ties between equal weights by position: the same people
    stored in another order learned other u values, and could be resolved otherwise.
    """
    import numpy as np

    order = np.argsort(np.frombuffer(digests, dtype=np.uint64), kind="stable")
    starts = np.frombuffer(firsts, dtype=np.int64)
    counts = np.diff(np.append(starts, len(owner)))[order]
    new_firsts = (np.cumsum(counts) - counts).astype(np.int64)
    # Each customer's variants stay together, in their own order.
    rows = np.repeat(starts[order] - new_firsts, counts) + np.arange(len(owner))
    # A column at a time, each let go once taken: the columns are held twice one at a time.
    for name in list(variants.columns):
        variants.columns[name] = taken_column(variants.columns.pop(name), rows)
    new_owner = array("q", np.repeat(np.arange(len(order), dtype=np.int64), counts).tobytes())
    return (
        variants,
        new_owner,
        taken_column(observed, rows),
        array("q", new_firsts.tobytes()),
        taken_column(roots, order),
    )


class _SharedColumns:
    """Prepared records gathered a slice at a time, each repeated value held once; with
    ``compact``, the columns of values nearly every record has its own (``_OWN_COLUMNS``) as
    ``TextColumn``."""

    def __init__(self, compact: bool = False) -> None:
        self.columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
        self.present: set[str] = set()
        self.shared: dict[str, dict[Any, Any]] = {name: {} for name in _SHARED_COLUMNS}
        self.nicknames: dict[str | None, list[str]] = {}
        self.own: dict[str, list[Any]] = {name: [] for name in _OWN_COLUMNS} if compact else {}

    def add(self, rows: list[dict[str, Any]], ids: list[str], default_region: str) -> None:
        import pyarrow as pa

        self.present.update(key for row in rows for key in row)
        part = prepare_records(rows, ids, FIELDS, default_region)
        for name, values in part.columns.items():
            if name in self.own:
                self.own[name].append(pa.array(values, pa.string()))
                continue
            if name in self.shared:
                held = self.shared[name]
                values = [held.setdefault(v, v) for v in values]
            elif name == "first_name_keys":
                values = [
                    self.nicknames.setdefault(first, keys)
                    for first, keys in zip(part.columns["first_name"], values, strict=True)
                ]
            self.columns[name].extend(values)

    def prepared(self) -> PreparedRecords:
        import pyarrow as pa

        for name, parts in self.own.items():
            array = pa.concat_arrays(parts) if parts else pa.array([], pa.string())
            self.columns[name] = cast(list[Any], TextColumn(array))  # read like a list
        self.own = {}
        fields = tuple(f for f in FIELDS if f in self.present) or ("first_name",)
        return PreparedRecords(columns=self.columns, fields=fields)


def per_customer(pairs: Mapping[str, Any], owner: Sequence[int]) -> dict[str, Any]:
    """Scored pairs of variants (``left``, ``right`` positions in the variants) as pairs of
    customers: each pair of two customers once, with the score of its best-scoring variants
    (kept as ``left_variant`` and ``right_variant``); pairs within one customer are dropped.

    ``left``, ``right`` and ``match_weight``, which clustering walks pair by pair, come as
    lists; the rest, read for the few pairs queued for review, as numpy arrays (a list costs
    about 36 bytes a pair, an array 8: tens of millions of pairs at ten million customers).

    >>> got = per_customer({"left": [0, 0, 1], "right": [1, 2, 2],
    ...                     "match_weight": [9.0, 1.0, 4.0],
    ...                     "match_probability": [0.99, 0.6, 0.9]}, [0, 0, 1])
    >>> got["left"], got["right"], got["match_weight"]
    ([0], [1], [4.0])
    >>> [got[name].tolist() for name in ("match_probability", "left_variant", "right_variant")]
    [[0.9], [1], [2]]
    """
    import numpy as np

    left = np.asarray(pairs["left"], dtype=np.int64)
    right = np.asarray(pairs["right"], dtype=np.int64)
    weights = np.asarray(pairs["match_weight"], dtype=np.float64)
    owners = np.asarray(owner, dtype=np.int64)
    a, b = owners[left], owners[right]
    k = np.flatnonzero(a != b)  # pairs within one customer are dropped
    low, high = np.minimum(a[k], b[k]), np.maximum(a[k], b[k])
    # Per pair of customers the best weight, the first such pair on a tie: sorted by the
    # customers, then weight (highest first), then position; the first of each run is kept.
    order = np.lexsort((k, -weights[k], high, low))
    low, high, k = low[order], high[order], k[order]
    first = np.ones(len(k), dtype=bool)
    first[1:] = (low[1:] != low[:-1]) | (high[1:] != high[:-1])
    low, high, k = low[first], high[first], k[first]
    # Each customer's own variant: the pair's left one when it belongs to the lower customer.
    mine = owners[left[k]] == low
    probabilities = np.asarray(pairs["match_probability"], dtype=np.float64)
    return {
        "left": low.tolist(),
        "right": high.tolist(),
        "match_weight": weights[k].tolist(),
        "match_probability": probabilities[k],
        "left_variant": np.where(mine, left[k], right[k]),
        "right_variant": np.where(mine, right[k], left[k]),
    }


def pair(a: str, b: str) -> tuple[str, str]:
    """Two customer ids in sorted order, as pairs are stored and looked up."""
    return (a, b) if a <= b else (b, a)


def field_dict(f: FieldWeight) -> dict[str, Any]:
    """A field's weight as a review row keeps it (plain JSON values)."""

    def plain(value: Any) -> Any:
        return list(value) if isinstance(value, list | tuple) else value

    return {
        "field": f.field,
        "level": f.level,
        "left": plain(f.left),
        "right": plain(f.right),
        "weight": f.weight,
    }


def review_row(
    scorer: Scorer,
    a: tuple[str, Mapping[str, Any]],
    b: tuple[str, Mapping[str, Any]],
    probability: float,
    weight: float,
    at: datetime,
) -> dict[str, Any]:
    """A review-queue row for two customers (id, prepared record): ids in sorted order, each
    field's level and weight with the left customer's values first."""
    (left_id, left), (right_id, right) = (a, b) if a[0] <= b[0] else (b, a)
    return {
        "left_id": left_id,
        "right_id": right_id,
        "match_probability": probability,
        "match_weight": weight,
        "fields": [field_dict(f) for f in scorer.explain(left, right)],
        "created_at": at,
    }


def decided_pairs(uow: UnitOfWork, roots: set[str]) -> dict[tuple[str, str], str]:
    """Every reviewed pair, named by the customers its profiles belong to now. An undone
    merge counts as a rejection: someone decided the two are different people."""
    reviewed = uow.identity.reviewed_pairs()
    for undone in uow.identity.undone_merges():
        reviewed[pair(*undone)] = "rejected"
    members = {m for reviewed_pair in reviewed for m in reviewed_pair}
    root_of = uow.customers.roots_of(sorted(members))
    out: dict[tuple[str, str], str] = {}
    for (a, b), status in reviewed.items():
        ra, rb = root_of.get(a, a), root_of.get(b, b)
        if ra != rb and ra in roots and rb in roots:
            # A rejection outweighs anything else said about the same two customers.
            key = pair(ra, rb)
            if out.get(key) != "rejected":
                out[key] = status
    return out


def decided_with(uow: UnitOfWork, root: str) -> dict[str, str]:
    """Decisions on pairs that include this customer: the other customer (as it is named
    now) -> rejected, accepted or pending. An undone merge counts as a rejection."""
    members = uow.customers.members(root)
    reviewed = uow.identity.reviewed_pairs_involving(members)
    for undone in uow.identity.undone_merges(members):
        reviewed[pair(*undone)] = "rejected"
    others = {x for reviewed_pair in reviewed for x in reviewed_pair}
    root_of = uow.customers.roots_of(sorted(others))
    out: dict[str, str] = {}
    for reviewed_pair, status in reviewed.items():
        ra, rb = (root_of.get(x, x) for x in reviewed_pair)
        other = rb if ra == root else ra if rb == root else None
        if other is not None and other != root and out.get(other) != "rejected":
            out[other] = status
    return out


def active_model(store: Store) -> IdentityModel:
    """The model resolution uses; NotFound before one was learned."""
    with store.unit_of_work() as uow:
        stored = uow.identity.active_model()
    if stored is None:
        raise NotFound("identity model: none learned yet (run `cornerstore identity learn`)")
    return IdentityModel.from_json(stored.model)
