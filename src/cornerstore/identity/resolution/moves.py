"""Whether a file shows moves: the evidence for counting another address, postcode and town
as one event.

A customer who moved has another address, another postcode and another town at once, and the
model's comparisons, independent by assumption, counted that three times (-9.5 bits on the
messy customers, as much as a stranger's other e-mail). Where a file's records differ in those
fields for other reasons (FEBRL corrupts each field of a duplicate on its own), the three are
three pieces of evidence and counting them once lost precision: FEBRL3's pair F1 fell from
0.987 to 0.976.

The records that share an e-mail address or a phone number are mostly one person's, so they
tell the two apart: where their addresses are other ones, are their postcodes other ones too?
After a move they nearly always are (in the messy customers 97%); after a typo in the address
they seldom are. A file shows moves when at least ``MIN_PAIRS`` such pairs have another
address and ``MOVED_SHARE`` of them another postcode as well. A file with no e-mail and no
phone, or too few pairs, counts the three as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from cornerstore.identity.resolution.comparisons import ANOTHER_ADDRESS, ANOTHER_POSTCODE
from cornerstore.identity.resolution.records import PreparedRecords

#: The fewest pairs sharing an e-mail or a phone with another address a file must give.
MIN_PAIRS = 20
#: The share of those with another postcode too at which the file shows moves.
MOVED_SHARE = 0.5
#: Pairs read at most (one person's records come in small groups; a shared office number
#: makes a large one, and says nothing about moves).
MAX_PAIRS = 50_000
_LARGEST_GROUP = 10


@dataclass(frozen=True)
class MoveEvidence:
    """Pairs of records sharing an e-mail or a phone whose addresses are other ones
    (``other_address``), and how many of those have another postcode too (``other_postcode``)."""

    other_address: int
    other_postcode: int

    @property
    def shows_moves(self) -> bool:
        """Whether another address comes with another postcode often enough to be one move."""
        if self.other_address < MIN_PAIRS:
            return False
        return self.other_postcode >= MOVED_SHARE * self.other_address


def move_evidence(records: PreparedRecords) -> MoveEvidence:
    """Count, among pairs of records that share an e-mail or a phone and both have an address
    and a postcode, those whose addresses are other ones and, of those, whose postcodes are too.

    >>> from cornerstore.identity.resolution.records import prepare_records
    >>> rows = [{"email": f"p{k}@example.com", "address": a, "postcode": p}
    ...         for k in range(20) for a, p in (("1 High St", "YO1 1AA"), ("9 Low Rd", "LS1 1BB"))]
    >>> move_evidence(prepare_records(rows, range(40), ["email", "address", "postcode"]))
    MoveEvidence(other_address=20, other_postcode=20)
    """
    columns = records.columns
    groups: dict[tuple[str, str], list[int]] = {}
    for column in ("email", "phone"):
        for i, value in enumerate(columns[column]):
            if value is not None and columns["address"][i] and columns["postcode"][i]:
                groups.setdefault((column, value), []).append(i)
    other_address = other_postcode = 0
    seen: set[tuple[int, int]] = set()  # a pair sharing an e-mail and a phone counts once
    for members in groups.values():
        if not 2 <= len(members) <= _LARGEST_GROUP:
            continue
        for x, y in combinations(members, 2):
            if len(seen) >= MAX_PAIRS:
                return MoveEvidence(other_address, other_postcode)
            if (x, y) in seen:
                continue
            seen.add((x, y))
            left, right = records.row(x), records.row(y)
            if ANOTHER_ADDRESS.holds(left, right):
                other_address += 1
                other_postcode += ANOTHER_POSTCODE.holds(left, right)
    return MoveEvidence(other_address, other_postcode)
