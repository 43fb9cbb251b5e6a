"""Cluster scored pairs into people without chaining, and find households.

Plain connected components joins A-B and B-C into one person even when A and C are plainly two
people; on large data such chains glue thousands of records together. Here pairs are merged
strongest first, and two clusters are joined only when every pair of records across them is
compatible: no two members may carry first names that disagree outright (not equal, not a
nickname of each other, not a near spelling, not swapped with the last name). This is the
cannot-link idea of constrained clustering (Wagstaff et al., "Constrained K-means clustering
with background knowledge", ICML 2001) applied to agglomerative merging.

A record without a first name cannot conflict, so at a household's address it could join any
member. When it links almost as strongly to two clusters that cannot be one person, it joins
neither (``AMBIGUITY_MARGIN``): the first name it lacks would have said which of the two it is,
unless it shares an e-mail or a mobile number with one of them and not the other (a household
shares its surname, address and landline, not those).

Two clusters that each hold two records or more are joined by a weak pair (less than
``BRIDGE_MARGIN`` bits above the match weight) only when a second scored pair links them, and
the pairs between them pass through two records on each side: one namesake link between two
otherwise separate people is a bridge, not evidence that they are one, and so is one record
linked to every record of another cluster.
A merge that would make a cluster of more than ``DENSE_SIZE`` records (or ``DENSE_DEGREES`` times
the median number of matching pairs a linked record has, where a file's people hold many records)
needs every record of the smaller cluster linked to the larger one by a scored pair: a chain grows
by single links.

Two records whose first names are each one typo from a name the nickname list knows ("Menlony"
and "Melrony" for Mellony) do not conflict (``names.mistyped_both``); nor, within a merge that
holds all three, do two that are each one typo from a third record's ("Xnathe" and "Xantne"
beside Xanthe): the name was typed wrong twice, two ways.

At one home (same surname and address or phone), first names that are merely alike by
Jaro-Winkler (Anne and Annette) conflict: a typo or a nickname still agrees.

Two records with the same last name and the same address or phone whose first names conflict
are a household: two people living together (``is_household``). Households are found among the
records themselves (``household_pairs``), not among the scored pairs: housemates share their
surname and home but rarely score above the review probability, the less so the lower a
model's prior (a shop whose intake stitched most of its customers learns a low one). They are
reported as relations between clusters, never merged.

The first-name rule is lifted (``refuse_name_conflicts=False``) for a file that shows no
households (:mod:`.households`): there a person's records may carry unrelated first names, and
only the match weight decides.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any

import numpy as np
from rapidfuzz.distance import DamerauLevenshtein

from cornerstore.identity.names import mistyped_both, mistyped_variant, nickname_keys
from cornerstore.identity.normalise import is_mobile
from cornerstore.identity.resolution.comparisons import Comparison, first_name_comparison
from cornerstore.identity.resolution.records import PreparedRecords

_FIRST = first_name_comparison()
# Levels at which two first names may be one person's: all but the last ("else").
_COMPATIBLE = frozenset(range(1, len(_FIRST.levels) - 1))
#: A record without a first name is left on its own when it links to two clusters that cannot
#: be one person (a household) and the stronger link is not at least this many bits (2: four
#: times likelier) above the other.
AMBIGUITY_MARGIN = 2.0
#: Two clusters of two records or more are joined by a pair less than this many bits above the
#: match weight only when another scored pair links them too: one weak link between two
#: otherwise separate people (a namesake, a shared e-mail variant) is a bridge, not evidence.
BRIDGE_MARGIN = 6.0
#: A merge whose cluster would hold more than this many records needs every record of the
#: smaller cluster linked by a scored pair to the larger one: one person's records are alike in
#: pairs, while a chain of namesakes and households links each new part by one record only.
DENSE_SIZE = 4
#: Past this many times a linked record's median number of matching pairs, joins must be dense.
DENSE_DEGREES = 2
#: The fewest letters of the first names ``_Names.typos_of_one`` reads: one letter turns Jim
#: into Tim, so shorter names must be exact (as in ``names.mistyped_variant``).
TYPO_WITNESS_LETTERS = 4
#: More different first names than this at one surname and address (or phone) is no household
#: but a care home, a company's address or a placeholder surname (``household_pairs``).
MAX_NAMES_AT_HOME = 12
#: Besides the surname, what a home shares: one of these the same (``_shares_home``).
HOME_COLUMNS = ("address", "phone")
#: Levels at which two first names are only alike (Jaro-Winkler): at one home (same surname and
#: address or phone) they are two people, Anne and Annette, Michael and Mia, not one person.
_ALIKE = frozenset(i for i, level in enumerate(_FIRST.levels) if "Jaro-Winkler" in level.label)


@dataclass
class Clusters:
    """Cluster labels per row, households between clusters, and how clustering went."""

    labels: list[int]
    households: list[tuple[int, int]] = field(default_factory=list)
    refused_merges: int = 0
    ambiguous: int = 0
    weak_bridges: int = 0
    sparse_joins: int = 0
    #: Pairs of rows joined because they are one person whatever they scored (``one_person``:
    #: one first name at one home, one e-mail or mobile), each joining two clusters the scored
    #: pairs had left apart.
    joined_by_rule: list[tuple[int, int]] = field(default_factory=list)

    def sizes(self) -> dict[int, int]:
        """Cluster size -> how many clusters have it."""
        counts: dict[int, int] = {}
        for label in self.labels:
            counts[label] = counts.get(label, 0) + 1
        out: dict[int, int] = {}
        for size in counts.values():
            out[size] = out.get(size, 0) + 1
        return dict(sorted(out.items()))


def names_conflict(left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
    """True when both records have first names that disagree outright, and not the same e-mail.

    Names agree when they are equal, nicknames of each other, similar (Jaro-Winkler >= 0.8),
    swapped with the last name, or one typo away from one of the other's nicknames (a name of
    three letters only by two neighbouring letters exchanged: "Rdo" for Rod). Between
    records of one home (same surname and address or phone) similar is not enough: Anne and
    Annette at one address are two people.

    The same e-mail address or mobile number outweighs a first name typed wrong twice ("Bige"
    for "Abijah", "Lez" for Lizzie): a household, by definition, has different first names *and*
    different e-mails and mobiles (``personal_identifiers``); its landline it shares.

    >>> names_conflict({"first_name": "john", "first_name_keys": ["john"]},
    ...                {"first_name": "mary", "first_name_keys": ["mary"]})
    True
    >>> names_conflict({"first_name": "bob", "first_name_keys": ["robert"]},
    ...                {"first_name": "robert", "first_name_keys": ["robert"]})
    False
    >>> anne = {"first_name": "anne", "first_name_keys": ["anne"], "last_name": "lee"}
    >>> annette = {**anne, "first_name": "annette", "first_name_keys": ["annette"]}
    >>> at_home = {"phone": "+441134960000"}
    >>> names_conflict(anne, annette), names_conflict({**anne, **at_home}, {**annette, **at_home})
    (False, True)
    """
    email = left.get("email")
    if email and email == right.get("email"):
        return False
    phone = left.get("phone")
    if phone and phone == right.get("phone") and is_mobile(phone):
        return False
    left, right = _named(left), _named(right)
    if not left.get("first_name") or not right.get("first_name"):
        return False
    if _same_or_nickname(left, right):
        return False  # the commonest answer, without weighing every level and reading
    if _surname_only(left, right) or _surname_only(right, left):
        return False
    if _begins_with_initial(left["first_name"], right["first_name"]):
        return False
    if _initial_of_nickname(left, right) or _initial_of_nickname(right, left):
        return False
    compatible = _COMPATIBLE - _ALIKE if _shares_home(left, right) else _COMPATIBLE
    return not any(
        _FIRST.level_of(a, b) in compatible
        or mistyped_variant(a["first_name"], b["first_name"])
        or mistyped_both(a["first_name"], b["first_name"])
        for a, b in _readings(left, right)
    )


def _same_or_nickname(left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
    """Whether the first names are equal or share a nickname key: the exact and nickname
    levels, which agree at home too."""
    if left["first_name"] == right["first_name"]:
        return True
    keys = left.get("first_name_keys") or ()
    return bool(keys) and not set(keys).isdisjoint(right.get("first_name_keys") or ())


def _shares_home(left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
    """Whether two records have the same surname and the same address or phone."""
    last = left.get("last_name")
    if not last or last != right.get("last_name"):
        return False
    return any(left.get(c) and left.get(c) == right.get(c) for c in HOME_COLUMNS)


def has_first_name(record: Mapping[str, Any]) -> bool:
    """Whether a prepared record has a first name, its own or the one its e-mail spells.

    >>> has_first_name({"last_name": "hughes", "email_local": "donald.hughes42"})
    True
    """
    return bool(_named(record).get("first_name"))


def _named(record: Mapping[str, Any]) -> Mapping[str, Any]:
    """The record, with the first name its e-mail gives when it has none of its own."""
    if record.get("first_name"):
        return record
    first = first_name_in_email(record.get("email_local"), record.get("last_name"))
    if first is None:
        return record
    return {**record, "first_name": first, "first_name_keys": list(nickname_keys(first))}


@lru_cache(maxsize=200_000)
def first_name_in_email(local: str | None, last_name: str | None) -> str | None:
    """The first name an e-mail's local part spells next to the surname, when it is at least
    three letters, or its initial when it is one: ``donald.hughes``, ``hughes_donald`` and
    ``donaldhughes42`` give Donald Hughes's first name, ``dhughes`` its initial (which agrees
    with Donald and conflicts with his wife Arminda), ``info`` and ``mrhughes`` nothing.

    >>> first_name_in_email("donald.hughes42", "hughes"), first_name_in_email("dhughes", "hughes")
    ('donald', 'd')
    """
    if not local or not last_name:
        return None
    letters = re.sub(r"[^a-z]", "", local)
    surname = last_name.replace(" ", "")
    if letters.endswith(surname):
        first = letters[: -len(surname)]
    elif letters.startswith(surname):
        first = letters[len(surname) :]
    else:
        return None
    return first if len(first) >= 3 or len(first) == 1 else None


def _readings(left: Mapping[str, Any], right: Mapping[str, Any]) -> list[tuple[Any, Any]]:
    """The two records as written, and with one side's first and last name exchanged when its
    first name is the other's last name, or one typo from it ("Khna, Bess" for Bessie Khan):
    a swapped record's first name is its surname, and its surname its first name."""
    out: list[tuple[Any, Any]] = [(left, right)]
    for a, b in ((left, right), (right, left)):
        first, last, other_last = a.get("first_name"), a.get("last_name"), b.get("last_name")
        if first and last and other_last and _same_or_one_typo(first, other_last):
            out.append(({"first_name": last, "first_name_keys": nickname_keys(last)}, b))
    return out


def _surname_only(record: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    """Whether ``record`` has no last name and its first name is ``other``'s last name (or one
    typo from it): a surname written in the first field ("Cooper" against Fred Cooper) is no
    first name to disagree with."""
    first, other_last = record.get("first_name"), other.get("last_name")
    if record.get("last_name") or not first or not other_last:
        return False
    return _same_or_one_typo(first, other_last)


def _begins_with_initial(a: str, b: str) -> bool:
    """Whether one first name opens with a lone initial that begins the other: "g w t" and
    "h nicholson" are George and Henry written short, as "g" alone is (the initial level)."""
    return any(len(x) > 1 and len(x.split()[0]) == 1 and x[0] == y[0] for x, y in ((a, b), (b, a)))


def _initial_of_nickname(record: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    """Whether ``record``'s first name is one letter that begins a name ``other``'s first name
    is a nickname of: "r" (``rsmith@...``) and Bob, whose key is Robert."""
    first = record["first_name"]
    if len(first) != 1:
        return False
    return any(k.startswith(first) for k in (other.get("first_name_keys") or ()))


def _same_or_one_typo(a: str, b: str) -> bool:
    return a == b or (min(len(a), len(b)) >= 4 and DamerauLevenshtein.distance(a, b) <= 1)


def personal_identifiers(record: Mapping[str, Any]) -> set[str]:
    """A prepared record's e-mail address and mobile number: what one person has and a
    household does not share (its surname, address and landline it does).

    >>> sorted(personal_identifiers({"email": "ann@example.com", "phone": "+447911123456"}))
    ['+447911123456', 'ann@example.com']
    >>> personal_identifiers({"phone": "+441134960000"})
    set()
    """
    out = set()
    if record.get("email"):
        out.add(record["email"])
    phone = record.get("phone")
    if phone and is_mobile(phone):
        out.add(phone)
    return out


def is_household(left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
    """Two different people (first names conflict) with the same last name and the same address
    or phone.

    >>> a = {"first_name": "john", "first_name_keys": [], "last_name": "lee", "address": "1 a st"}
    >>> is_household(a, {**a, "first_name": "mary"}), is_household(a, a)
    (True, False)
    """
    # The home first: it is compared in a moment, the first names are weighed level by level.
    return _shares_home(left, right) and names_conflict(left, right)


def household_or_nothing(left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
    """Whether two records can say "this household" and never which of its people: one has no
    first name (its own or its e-mail's) and they share no e-mail or mobile.

    All such a pair can agree on is a surname and a home (address, postcode, town, landline),
    which housemates share, and a housemate need not be a customer to have placed the order.
    On the demo a nameless order from a family mailbox ("thesmiths@") was the queued
    customer's in three pairs of six and a housemate's in the other three, whether or not the
    housemate was a customer too: a reviewer has nothing to decide by, so such pairs are
    never queued.

    >>> fred = {"first_name": "fred", "last_name": "smith", "address": "1 a st",
    ...         "email": "fred@example.com"}
    >>> family = {"last_name": "smith", "address": "1 a st", "email": "thesmiths@example.com"}
    >>> household_or_nothing(fred, family), household_or_nothing(family, {**family, "email": None})
    (True, True)
    >>> household_or_nothing(fred, {**family, "email": "fred@example.com"})
    False
    """
    if has_first_name(left) and has_first_name(right):
        return False
    return personal_identifiers(left).isdisjoint(personal_identifiers(right))


def household_pairs(
    records: PreparedRecords, row: Callable[[int], Mapping[str, Any]] | None = None
) -> list[tuple[int, int]]:
    """The pairs of rows of ``records`` that are a household (``is_household``), whatever they
    would score: the records are grouped by last name and address, and by last name and phone,
    and the pairs within a group whose first names conflict are kept.

    A group with more than ``MAX_NAMES_AT_HOME`` first names is no household (a care home, a
    company's address, a placeholder surname) and is passed over, as a crowded blocking key is.
    ``row`` reads one record's fields (default ``records.row``).

    >>> from cornerstore.identity.resolution.records import prepare_records
    >>> rows = [{"first_name": f, "last_name": "lee", "address": "1 high st"}
    ...         for f in ("john", "mary", "jon")]
    >>> household_pairs(prepare_records(rows, ["a", "b", "c"], ["first_name", "last_name",
    ...                                                          "address"]))
    [(0, 1), (1, 2)]
    """
    read = row or records.row
    columns = records.columns
    found: set[tuple[int, int]] = set()
    for place in ("address", "phone"):
        values = columns.get(place)
        if values is None:
            continue
        for group in _homes(columns["last_name"], values):
            if len({columns["first_name"][i] for i in group}) > MAX_NAMES_AT_HOME:
                continue
            rows = [(i, read(i)) for i in group]
            for x, (i, left) in enumerate(rows):
                for j, right in rows[x + 1 :]:
                    if (i, j) not in found and is_household(left, right):
                        found.add((i, j))
    return sorted(found)


def _homes(last_names: Sequence[Any], places: Sequence[Any]) -> Iterator[list[int]]:
    """The groups of two rows or more that share a last name and a place (both present), each
    in row order.

    Grouped by a hash of the two, sorted in numpy, and only the rows whose hash recurs are
    grouped by the values themselves: a dict keyed by every record's (surname, address) took
    about 200 bytes a record, gigabytes at ten million customers, where most homes hold one.
    """
    rows = _rows_holding([last_names, places])
    hashes = _hashes(rows, lambda i: (last_names[i], places[i]))
    order = np.argsort(hashes, kind="stable")
    hashes, rows = hashes[order], rows[order]
    recurs = np.zeros(len(rows), dtype=bool)
    same = hashes[1:] == hashes[:-1]
    recurs[1:] |= same
    recurs[:-1] |= same
    groups: dict[tuple[Any, Any], list[int]] = {}
    for i in np.sort(rows[recurs]).tolist():
        groups.setdefault((last_names[i], places[i]), []).append(i)
    return (group for group in groups.values() if len(group) > 1)


def _rows_holding(columns: Sequence[Sequence[Any]]) -> Any:
    """The rows (a numpy array, in order) where every one of ``columns`` holds a value."""
    first, *rest = columns
    return np.fromiter(
        (i for i, value in enumerate(first)
         if value is not None and all(c[i] is not None for c in rest)),
        dtype=np.int64,
    )  # fmt: skip


def _hashes(rows: Any, key: Callable[[int], tuple[Any, ...]]) -> Any:
    """Python's hash of ``key(row)`` for each of ``rows``, as a numpy array in their order."""
    return np.fromiter((hash(key(i)) for i in rows.tolist()), dtype=np.int64, count=len(rows))


#: The fields that say where a record's home is, each group one key with the last name: an
#: address only in its town or postcode (the same street runs through many towns), or a phone.
HOME_KEYS = (("address", "city"), ("address", "postcode"), ("phone",))


def home_keys(record: Mapping[str, Any]) -> set[tuple[Any, ...]]:
    """The keys of ``HOME_KEYS`` a prepared record holds (its last name not among them).

    >>> sorted(home_keys({"address": "1 high st", "city": "leeds", "phone": "+441134960000"}))
    [(0, '1 high st', 'leeds'), (2, '+441134960000')]
    """
    return {
        (kind, *(record[f] for f in fields))
        for kind, fields in enumerate(HOME_KEYS)
        if all(record.get(f) is not None for f in fields)
    }


def one_at_home(records: PreparedRecords) -> list[tuple[int, int]]:
    """The pairs of rows that hold the same first name at one home: one person's records,
    however their pairs scored.

    A home is the last name with every address (in its town or postcode) and phone its records
    hold together, joined through any record that holds two of them: a housemate's order
    carrying the family's landline and their street says that landline rings at that street.
    At one home a first name names one person, as first names that disagree name two
    (``is_household``). So "Aaron Nowak, 0131 557 9688" with a Leeds address, and "Aaron
    Nowak, 137 Mill Lane, Edinburgh", are one man when a housemate's record holds both that
    landline and that street, though the two share nothing but the name and score as
    namesakes do (he moved and gave his old landline). Only the first name exactly as typed
    says so: a nickname may be a housemate's (Abbe for Abigail beside Abbigale), and a home
    with more than ``MAX_NAMES_AT_HOME`` first names is no home (``household_pairs``). Each
    row is paired with the first of its name at its home.

    >>> from cornerstore.identity.resolution.records import prepare_records
    >>> rows = [
    ...     {"first_name": "aaron", "last_name": "nowak", "phone": "+441315579688",
    ...      "address": "1 low st", "city": "leeds"},
    ...     {"first_name": "mary", "last_name": "nowak", "phone": "+441315579688",
    ...      "address": "137 mill lane", "city": "edinburgh"},
    ...     {"first_name": "aaron", "last_name": "nowak", "address": "137 mill lane",
    ...      "city": "edinburgh"},
    ... ]
    >>> fields = ["first_name", "last_name", "phone", "address", "city"]
    >>> one_at_home(prepare_records(rows, ["a", "m", "b"], fields, default_region="GB"))
    [(0, 2)]
    """
    columns = records.columns
    first = columns["first_name"]
    out: list[tuple[int, int]] = []
    for home in _homes_joined(records):
        named = [i for i in home if first[i]]
        if len({first[i] for i in named}) > MAX_NAMES_AT_HOME:
            continue
        seen: dict[Any, int] = {}
        for i in named:
            earlier = seen.setdefault(first[i], i)
            if earlier != i:
                out.append((earlier, i))
    return out


def one_person_per_owner(variants: PreparedRecords, owner: Sequence[int]) -> list[tuple[int, int]]:
    """``one_person`` of every record of stored customers (``variants``, each row that of
    customer ``owner[row]``) as pairs of customers, each once, lower first: a customer's old
    address and phones are homes of theirs too.

    >>> from cornerstore.identity.resolution.records import prepare_records
    >>> rows = [
    ...     {"first_name": "david", "last_name": "hussain", "address": "10 cavendish ave",
    ...      "city": "london"},
    ...     {"first_name": "david", "last_name": "hussain", "address": "37 chapel pl",
    ...      "city": "london"},
    ...     {"first_name": "david", "last_name": "hussain", "address": "37 chapel pl",
    ...      "city": "london"},
    ... ]
    >>> fields = ["first_name", "last_name", "address", "city"]
    >>> one_person_per_owner(prepare_records(rows, ["a", "b", "c"], fields), [0, 0, 1])
    [(0, 1)]
    """
    seen: set[tuple[int, int]] = set()
    out: list[tuple[int, int]] = []
    for a, b in one_person(variants):
        low, high = sorted((owner[a], owner[b]))
        if low != high and (low, high) not in seen:
            seen.add((low, high))
            out.append((low, high))
    return out


#: An e-mail address or mobile number held by more records than this is nobody's own (a
#: made-up address a till types for customers who gave none), as a blocking key that crowded
#: blocks on nothing (``blocking``).
MAX_HOLDERS = 500


def one_behind_identifier(records: PreparedRecords) -> list[tuple[int, int]]:
    """The pairs of rows that share an e-mail address or a mobile number and whose first names
    agree: one person's records, however their pairs scored.

    A mailbox or a mobile is one person's, as a first name at one home is: a customer who moved
    and married keeps the address (``eleazer.dunwood@...`` as Eleazer Dunwood in Bristol and
    as Eleazer Walker in Manchester), and the model, which counts a shared e-mail as at most
    99 to 1 (a file's e-mails may be shared), scores the move and the new surname against it.
    An identifier whose records hold first names that conflict is shared (a family's mailbox,
    a made-up address) and joins nobody; nor does one held by more than ``MAX_HOLDERS``
    records, or by a record without a first name (its own or its e-mail's). Each row is
    paired with the first holder of its identifier.

    >>> from cornerstore.identity.resolution.records import prepare_records
    >>> rows = [
    ...     {"first_name": "eleazer", "last_name": "dunwood", "email": "ed@example.com",
    ...      "city": "bristol"},
    ...     {"first_name": "eleazer", "last_name": "walker", "email": "ed@example.com",
    ...      "city": "manchester"},
    ...     {"first_name": "ann", "last_name": "lee", "email": "lees@example.com"},
    ...     {"first_name": "tom", "last_name": "lee", "email": "lees@example.com"},
    ... ]
    >>> fields = ["first_name", "last_name", "email", "city"]
    >>> one_behind_identifier(prepare_records(rows, ["a", "b", "c", "d"], fields))
    [(0, 1)]
    """
    columns = records.columns
    out: list[tuple[int, int]] = []
    for column, personal in (("email", None), ("phone", is_mobile)):
        values = columns.get(column)
        if values is None:
            continue
        holders: dict[str, list[int]] = {}
        for i, value in enumerate(values):
            if value is not None and (personal is None or personal(value)):
                holders.setdefault(value, []).append(i)
        for group in holders.values():
            if 1 < len(group) <= MAX_HOLDERS and one_holder([records.row(i) for i in group]):
                out.extend((group[0], i) for i in group[1:])
    return out


def one_holder(rows: Sequence[Mapping[str, Any]]) -> bool:
    """Whether records sharing one identifier read as one person's: every one holds a first
    name (its own or its e-mail's) and no two hold first names that conflict, the shared
    identifier aside (it would excuse every conflict). A record without one may be a
    housemate's order from the family's mailbox ("theleemings@"), which only a reviewer can
    place.

    >>> ann = {"first_name": "ann", "first_name_keys": ["ann"], "email": "lees@example.com"}
    >>> tom = {**ann, "first_name": "tom", "first_name_keys": ["tom"]}
    >>> one_holder([ann, ann]), one_holder([ann, tom]), one_holder([ann, {"last_name": "lee"}])
    (True, False, False)
    """
    if not all(has_first_name(row) for row in rows):
        return False
    named = [{k: v for k, v in row.items() if k not in ("email", "phone")} for row in rows]
    return not any(names_conflict(a, b) for k, a in enumerate(named) for b in named[k + 1 :])


def one_person(records: PreparedRecords) -> list[tuple[int, int]]:
    """The pairs of rows that are one person whatever they scored: one first name at one home
    (``one_at_home``), one e-mail address or mobile number (``one_behind_identifier``)."""
    return one_at_home(records) + one_behind_identifier(records)


def _homes_joined(records: PreparedRecords) -> list[list[int]]:
    """The homes of ``one_at_home`` of two rows or more, each in row order: rows linked when
    they share a last name with an address and town, an address and postcode, or a phone, and
    through any row holding two of those.

    Keys are hashed and sorted in numpy, neighbours in that order whose keys are equal are
    linked, and the homes are the connected components of those links (scipy): a dict of every
    record's keys, or a Python union-find over every record, took hundreds of bytes a record,
    where most homes hold one. Two homes whose keys' hashes collide are never linked, since the
    keys themselves are compared; at worst such a collision leaves a home split.
    """
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    columns = records.columns
    last = columns["last_name"]

    def home_of(kind: int, i: int) -> tuple[Any, ...]:
        return (kind, last[i], *(columns[f][i] for f in HOME_KEYS[kind]))

    rows_of, kinds_of, hashes_of = [], [], []
    for kind, fields in enumerate(HOME_KEYS):
        if any(f not in columns for f in fields):
            continue
        rows = _rows_holding([last, *(columns[f] for f in fields)])
        rows_of.append(rows)
        kinds_of.append(np.full(len(rows), kind, dtype=np.int64))
        hashes_of.append(_hashes(rows, partial(home_of, kind)))
    if not rows_of:
        return []
    rows, kinds = np.concatenate(rows_of), np.concatenate(kinds_of)
    hashes = np.concatenate(hashes_of)
    order = np.argsort(hashes, kind="stable")
    rows, kinds, hashes = rows[order], kinds[order], hashes[order]

    def key(j: int) -> tuple[Any, ...]:
        return home_of(int(kinds[j]), int(rows[j]))

    same = np.array(
        [j for j in np.flatnonzero(hashes[1:] == hashes[:-1]).tolist() if key(j) == key(j + 1)],
        dtype=np.int64,
    )
    if not len(same):
        return []
    size = len(records)
    links = coo_array(
        (np.ones(len(same), dtype=np.int8), (rows[same], rows[same + 1])), shape=(size, size)
    )
    _count, home = connected_components(links, directed=False)
    linked = np.unique(np.concatenate((rows[same], rows[same + 1])))
    homes: dict[int, list[int]] = {}
    for i, h in zip(linked.tolist(), home[linked].tolist(), strict=True):
        homes.setdefault(h, []).append(i)
    return list(homes.values())


class _Names:
    """The name fields clustering reads, one row dict a record (built when first needed), and
    whether two records' first names conflict, worked out once a pair: a merge checks every
    pair across two clusters, and the same pairs come back as the clusters grow."""

    _cols = (
        "first_name",
        "first_name_keys",
        "last_name",
        "email",
        "email_local",
        "address",
        "phone",
    )

    def __init__(self, records: PreparedRecords, refuse: bool = True) -> None:
        self.refuse = refuse
        self.columns = {c: records.columns[c] for c in self._cols}
        self._rows: dict[int, dict[str, Any]] = {}
        self._conflicts: dict[tuple[int, int], bool] = {}
        # has_first_name's rule, read off the columns: no row dict for each of a million records.
        self.named = [
            name is not None or first_name_in_email(local, last) is not None
            for name, local, last in zip(
                records.columns["first_name"],
                records.columns["email_local"],
                records.columns["last_name"],
                strict=True,
            )
        ]

    def __getitem__(self, i: int) -> dict[str, Any]:
        row = self._rows.get(i)
        if row is None:
            row = self._rows[i] = {c: values[i] for c, values in self.columns.items()}
        return row

    def conflict(self, x: int, y: int) -> bool:
        """``names_conflict`` of rows ``x`` and ``y`` (a record without a first name, its own
        or its e-mail's, conflicts with none; none conflict when the rule is lifted)."""
        if not (self.refuse and self.named[x] and self.named[y]):
            return False
        key = (x, y) if x < y else (y, x)
        known = self._conflicts.get(key)
        if known is None:
            known = self._conflicts[key] = names_conflict(self[x], self[y])
        return known

    def personal(self, group: list[int]) -> set[str]:
        """``personal_identifiers`` of the records of ``group``."""
        return set().union(*(personal_identifiers(self[x]) for x in group))

    def groups_conflict(self, group_a: list[int], group_b: list[int]) -> bool:
        """Whether a record of each group has first names that conflict, unless both are one
        typo from the first name of a third record of the two (``typos_of_one``)."""
        named_b = [y for y in group_b if self.named[y]]
        if not named_b:
            return False
        for x in group_a:
            if not self.named[x]:
                continue
            for y in named_b:
                if self.conflict(x, y) and not self.typos_of_one(x, y, group_a, group_b):
                    return True
        return False

    def typos_of_one(self, x: int, y: int, group_a: list[int], group_b: list[int]) -> bool:
        """Whether the first names of rows ``x`` and ``y`` are each one typo (an edit or a
        transposition) from the first name of another record of the two groups, all of at least
        ``TYPO_WITNESS_LETTERS`` letters.

        A name typed wrong twice, two ways ("Xnathe" and "Xantne" for Xanthe, a name the
        nickname list does not know), is two typos from itself: alone the two conflict, but a
        record spelling the name that both slipped from says they are one. On the messy set at
        100k this refused 101 joins of one person's records, and 3 of two people's."""
        first = self.columns["first_name"]
        a, b = first[x], first[y]
        if not a or not b or min(len(a), len(b)) < TYPO_WITNESS_LETTERS:
            return False
        if DamerauLevenshtein.distance(a, b, score_cutoff=2) > 2:
            return False
        for z in (*group_a, *group_b):
            name = first[z]
            if (
                z not in (x, y)
                and name
                and len(name) >= TYPO_WITNESS_LETTERS
                and DamerauLevenshtein.distance(name, a, score_cutoff=1) <= 1
                and DamerauLevenshtein.distance(name, b, score_cutoff=1) <= 1
            ):
                return True
        return False


def _dense_size(
    left: Sequence[int], right: Sequence[int], weights: Sequence[float], min_weight: float
) -> int:
    """The cluster size past which joins must be dense: ``DENSE_SIZE``, or twice the median
    number of matching pairs a linked record has, where the file's people hold many records.

    A file whose people hold ten records each (a parish register) links each record to most of
    its person's others; a chain of namesakes links each record to one or two. The median degree
    tells the two apart from the pairs themselves.
    """
    degree: dict[int, int] = {}
    for a, b, w in zip(left, right, weights, strict=True):
        if w >= min_weight:
            degree[a] = degree.get(a, 0) + 1
            degree[b] = degree.get(b, 0) + 1
    if not degree:
        return DENSE_SIZE
    median = sorted(degree.values())[len(degree) // 2]
    return max(DENSE_SIZE, DENSE_DEGREES * median)


def cluster_pairs(
    records: PreparedRecords,
    left: Sequence[int],
    right: Sequence[int],
    weights: Sequence[float],
    min_weight: float,
    comparisons: Sequence[Comparison] = (),
    *,
    refuse_name_conflicts: bool = True,
    one_person_pairs: Sequence[tuple[int, int]] | None = None,
) -> Clusters:
    """Merge pairs at or above ``min_weight``, strongest first, refusing incompatible clusters,
    weak bridges (``BRIDGE_MARGIN``) and sparse joins of large clusters (``DENSE_SIZE``).

    Every row gets a label (its smallest row position in the cluster); households come from
    the records (``household_pairs``), whatever their pairs scored, and relate two clusters.
    Then rows that are one person whatever they scored are joined (``one_person_pairs``; by
    default ``one_person`` of the records: one first name at one home, one e-mail or mobile).
    ``refuse_name_conflicts=False`` lifts the first-name rule, for a file that shows no
    households (``households.household_evidence``).
    """
    names = _Names(records, refuse_name_conflicts)
    parent = list(range(len(records)))
    dense_size = _dense_size(left, right, weights, min_weight)
    members: dict[int, list[int]] = {}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    order = sorted(range(len(weights)), key=lambda k: -weights[k])
    refused = ambiguous = bridges = sparse = 0
    # Whether a cluster (by its root) has a member with a first name.
    named = list(names.named)
    # Every given pair, whatever its weight, strongest first: links for ``torn`` (those at or
    # above min_weight) and support for a weak bridge (all of them).
    links: dict[int, list[tuple[int, float]]] = {}
    for k in order:
        links.setdefault(left[k], []).append((right[k], weights[k]))
        links.setdefault(right[k], []).append((left[k], weights[k]))

    def torn(nameless: list[int], root: int, weight: float) -> bool:
        """Whether the nameless group links almost as strongly to a cluster that cannot join
        ``root``'s: the first name it lacks would have said which of two people it is. An
        e-mail or mobile it shares with ``root``'s cluster and not with the other says it
        too: a household shares a surname, an address and a landline, not those."""
        group = members.get(root, [root])
        seen = {root, find(nameless[0])}
        own = names.personal(nameless)
        shared = own & names.personal(group)
        for x in nameless:
            for y, w in links.get(x, ()):
                if w < max(weight - AMBIGUITY_MARGIN, min_weight):
                    break  # links are strongest first
                other = find(y)
                if other in seen:
                    continue
                seen.add(other)
                rival = members.get(other, [other])
                if shared and own.isdisjoint(names.personal(rival)):
                    continue
                if names.groups_conflict(rival, group):
                    return True
        return False

    def supported(group_a: list[int], group_b: list[int], root_b: int) -> bool:
        """Whether scored pairs across the two clusters link them through two records on each
        side: pairs that all pass through one record are that record's word alone. A record
        with its names swapped ("Smith Daniel") links weakly to every Daniel Smith of a town,
        two records of each; counted as pairs, it joined seven people into one cluster of 16
        at a million messy records."""
        ours: set[int] = set()
        theirs: set[int] = set()
        for x in group_a:
            for y, _w in links.get(x, ()):
                if find(y) == root_b:
                    ours.add(x)
                    theirs.add(y)
                    if len(ours) >= 2 and len(theirs) >= 2:
                        return True
        return False

    def linked_throughout(group_b: list[int], root_a: int) -> bool:
        """Whether every record of ``group_b`` has a scored pair with ``root_a``'s cluster."""
        return all(any(find(y) == root_a for y, _w in links.get(x, ())) for x in group_b)

    for k in order:
        a, b = left[k], right[k]
        if weights[k] < min_weight:
            continue
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        group_a = members.get(ra, [ra])
        group_b = members.get(rb, [rb])
        if names.groups_conflict(group_a, group_b):
            refused += 1
            continue
        if (not named[ra] and named[rb] and torn(group_a, rb, weights[k])) or (
            not named[rb] and named[ra] and torn(group_b, ra, weights[k])
        ):
            ambiguous += 1
            continue
        if len(group_a) < len(group_b):
            ra, rb, group_a, group_b = rb, ra, group_b, group_a
        if (
            len(group_b) >= 2
            and weights[k] < min_weight + BRIDGE_MARGIN
            and not supported(group_b, group_a, ra)
        ):
            bridges += 1
            continue
        if len(group_a) + len(group_b) > dense_size and not linked_throughout(group_b, ra):
            sparse += 1
            continue
        parent[rb] = ra
        named[ra] = named[ra] or named[rb]
        members[ra] = group_a + group_b
        members.pop(rb, None)
    joined: list[tuple[int, int]] = []
    for a, b in one_person(records) if one_person_pairs is None else one_person_pairs:
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        group_a, group_b = members.get(ra, [ra]), members.get(rb, [rb])
        if names.groups_conflict(group_a, group_b):
            refused += 1
            continue
        if len(group_a) < len(group_b):
            ra, rb, group_a, group_b = rb, ra, group_b, group_a
        parent[rb] = ra
        members[ra] = group_a + group_b
        members.pop(rb, None)
        joined.append((a, b))
    roots = [find(i) for i in range(len(records))]
    smallest: dict[int, int] = {}
    for i, root in enumerate(roots):
        smallest.setdefault(root, i)
    labels = [smallest[root] for root in roots]
    relations = sorted(
        {
            (min(labels[a], labels[b]), max(labels[a], labels[b]))
            for a, b in household_pairs(records, names.__getitem__)
            if labels[a] != labels[b]
        }
    )
    return Clusters(
        labels=labels,
        households=relations,
        refused_merges=refused,
        ambiguous=ambiguous,
        weak_bridges=bridges,
        sparse_joins=sparse,
        joined_by_rule=joined,
    )
