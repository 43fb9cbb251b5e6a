"""Whether a file shows households: the evidence the first-name rule of clustering stands on.

Clustering refuses to join records whose first names disagree outright (see
:mod:`.clustering`): at one address, John Lee and Mary Lee are two people, however much else
they share. That rule is right where the file holds households, and wrong where a person's
records carry first names that have nothing to do with each other: FEBRL's duplicates replace
the first name with another one from a list (Sara Burnell against "Els Burnell", same street,
town and postcode), and the rule kept a fifth of the true pairs of FEBRL3 apart.

The two look alike pair by pair; the file as a whole tells them apart. A household is two people
who each have records of their own, so at some addresses both first names come back: John Lee
on two records and Mary Lee on two. A replaced first name is a one-off. In the simulated census
and surveys (pseudopeople) a fifth of the pairs of different first names at one surname and
address have both names recurring, in cornerstore's messy customers 7%; in FEBRL3 and FEBRL4
none of 127 and 155.

Recurring names are seen only where household members have records of their own twice. A
shop's family members mostly have one profile each: then no name recurs, and the file looks
like FEBRL, though every pair of different first names at one address is two people. What
still tells them apart is how a person's records read at their address: in a file of
duplicates, a duplicate keeps its first name far more often than it has it replaced, so names
recurring at an address (``repeats``) outnumber the pairs of different ones (FEBRL3: 127 pairs
against 506 recurring names; FEBRL4: 155 against 1,078). Where the pairs of different first
names outnumber the names that recur at one surname and address, they are not one person's
records: they are households. The scale benchmark's shop (``benchmarks/scale_data.py``:
families of two or three, one person in ten with a second profile) gives 42,295 pairs against
6,388 recurring names in a random sample of 250,000 of its 1M customers, and 4,430 against 649
in one of 10M, and no pair with both names recurring in either: the rule was lifted there,
and its families merged.

So the rule is lifted only when a file gives enough such pairs (``MIN_PAIRS``), at most
``RECURRING_SHARE`` of them have both names recurring, and they are no more than the names
recurring there. A file with too few, or with no address or phone to see households by, keeps
the rule: wrongly merging two people shows one customer's history to another, wrongly keeping
one apart only leaves a duplicate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cornerstore.identity.resolution.clustering import names_conflict
from cornerstore.identity.resolution.records import PreparedRecords

#: The fewest pairs of different first names at one surname and address a file must give before
#: it can show that it holds no households.
MIN_PAIRS = 20
#: A file whose pairs of different first names at one surname and address have both names
#: recurring (each on two records or more there) at most this often holds no households.
RECURRING_SHARE = 0.01
#: More different first names than this at one surname and address is no household (a care
#: home, a company's address, a placeholder name) and says nothing either way.
MAX_NAMES_AT_ONE_PLACE = 12
#: The places a household shares, in order: the first the records carry is used.
_PLACES = ("address", "phone")


@dataclass(frozen=True)
class HouseholdEvidence:
    """Pairs of different first names sharing a surname and a place, and how many of them have
    both names on two records or more there."""

    pairs: int
    recurring: int
    #: First names on two records or more at one surname and address (each counted once there).
    repeats: int = 0

    @property
    def shows_households(self) -> bool:
        """Whether the file holds households, or gives too little to tell (then assumed)."""
        return (
            self.pairs < MIN_PAIRS
            or self.recurring > RECURRING_SHARE * self.pairs
            or self.pairs > self.repeats
        )


def household_evidence(records: PreparedRecords) -> HouseholdEvidence:
    """Count, at each surname and address (or phone, without addresses), the pairs of first
    names that conflict (``names_conflict``), those whose two names each recur there, and the
    names that recur there.

    >>> from cornerstore.identity.resolution.records import prepare_records
    >>> rows = [{"first_name": f, "last_name": "lee", "address": "1 high st"}
    ...         for f in ("john", "john", "mary", "mary", "ann")]
    >>> records = prepare_records(rows, [str(i) for i in range(5)],
    ...                           ["first_name", "last_name", "address"])
    >>> household_evidence(records)
    HouseholdEvidence(pairs=3, recurring=1, repeats=2)
    """
    columns = records.columns
    place = next((c for c in _PLACES if any(v is not None for v in columns.get(c, ()))), None)
    if place is None:
        return HouseholdEvidence(0, 0)
    names: dict[tuple[Any, Any], Counter[str]] = {}
    first_row: dict[tuple[Any, Any, str], int] = {}
    for i, (first, last, where) in enumerate(
        zip(columns["first_name"], columns["last_name"], columns[place], strict=True)
    ):
        if first is None or last is None or where is None:
            continue
        names.setdefault((last, where), Counter())[first] += 1
        first_row.setdefault((last, where, first), i)
    pairs = recurring = repeats = 0
    for (last, where), counts in names.items():
        if len(counts) > MAX_NAMES_AT_ONE_PLACE:
            continue
        repeats += sum(1 for n in counts.values() if n >= 2)
        if len(counts) < 2:
            continue
        rows = [_name_fields(columns, first_row[(last, where, f)]) for f in counts]
        for x, y in _pairs_of(len(rows)):
            if names_conflict(rows[x], rows[y]):
                pairs += 1
                both = min(counts[rows[x]["first_name"]], counts[rows[y]["first_name"]])
                recurring += both >= 2
    return HouseholdEvidence(pairs, recurring, repeats)


def _name_fields(columns: dict[str, list[Any]], i: int) -> dict[str, Any]:
    return {c: columns[c][i] for c in ("first_name", "first_name_keys", "last_name")}


def _pairs_of(n: int) -> Sequence[tuple[int, int]]:
    return [(x, y) for x in range(n) for y in range(x + 1, n)]
