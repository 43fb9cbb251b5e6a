"""Blocking keys too crowded to tell anybody apart: capped, on every path that makes pairs.

A key that very many records share exactly (the shop's own address typed for every walk-in,
"noemail@shop", a default phone number) says nothing about who is who, and its block makes
pairs as the square of its size: 20,000 walk-ins at the till's address are 200 million candidate
pairs from one rule. A key held by more records than its rule's cap (``block_cap``) is not used
by that rule; the records holding it still meet through every other rule.

Splink sees the caps through one integer column, ``crowded``: bit ``rule_bit(rule)`` is set on a
record whose key of that rule is crowded, and the SQL of each rule with a crowded key
(``capped_rule_sql``) asks for the bit clear on both sides. Rules without one keep their plain
SQL: on 100,000 stored customers the bit tests alone raised DuckDB's peak while scoring from
660 MB to 1,026 MB. The in-process scorer counts its own blocks (``Scorer.candidates``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cornerstore.identity.resolution.comparisons import (
    BLOCKING_RULES,
    WIDE_BLOCKING_RULES,
    blocking_rule_sql,
)
from cornerstore.plural import counted

log = logging.getLogger(__name__)

Rule = tuple[str, ...]

#: Records one key of a rule naming a contact point (an e-mail, a phone, an address, a
#: postcode) may hold. On 100,000 messy customers the largest such block holds 28 records, but
#: a care home, a barracks or a student hall is one address for hundreds of people: in the
#: pseudopeople town (20,245 records) one address holds 349 records and 268 true pairs. A
#: block of 500 makes 124,750 pairs.
MAX_CONTACT_BLOCK = 500
#: Records one key of a rule made of names and places alone (a full name, a surname and a town)
#: may hold: common names are shared by many people. On 100,000 messy customers the largest
#: full-name block holds 227 records and the largest surname-and-postcode-area block 352; a
#: block of 1,000 makes 499,500 pairs (about 2 s of scoring a core).
MAX_NAME_BLOCK = 1_000
#: The columns that name a contact point.
CONTACT_COLUMNS = frozenset(
    {"email", "email_local", "phone", "address", "house_number", "street", "postcode"}
)

#: Every rule a model may block on for predictions, in a fixed order: a rule's bit in the
#: ``crowded`` column is its position here. ``swap`` uses the full name's bit: its pairs are
#: full names crossed over, and junk such as "Customer Customer" crosses over with itself.
PREDICTION_RULES: tuple[Rule, ...] = tuple(
    dict.fromkeys(r for r in BLOCKING_RULES + WIDE_BLOCKING_RULES if r != ("swap",))
)
_SWAP_KEY: Rule = ("first_name", "last_name")


def block_cap(rule: Rule) -> int:
    """The most records one key of ``rule`` may hold and still block.

    >>> block_cap(("address", "city")), block_cap(("first_name", "last_name"))
    (500, 1000)
    """
    return MAX_CONTACT_BLOCK if CONTACT_COLUMNS & set(rule) else MAX_NAME_BLOCK


def rule_bit(rule: Rule) -> int:
    """The bit of ``rule`` in the ``crowded`` column.

    >>> rule_bit(("email",)), rule_bit(("phone",))
    (1, 2)
    """
    return 1 << PREDICTION_RULES.index(_SWAP_KEY if rule == ("swap",) else rule)


def capped_rule_sql(rule: Rule) -> str:
    """A blocking rule as Splink SQL over ``l`` and ``r``, its crowded keys left out.

    >>> capped_rule_sql(("email",))
    'l.email = r.email AND (l.crowded & 1) = 0 AND (r.crowded & 1) = 0'
    """
    bit = rule_bit(rule)
    return f"{blocking_rule_sql(rule)} AND (l.crowded & {bit}) = 0 AND (r.crowded & {bit}) = 0"


@dataclass
class CrowdedKeys:
    """Which records hold a crowded key of which rule (``flags``, one bit a rule), and how
    many keys and records each rule left out (counts only: the values are never kept)."""

    flags: list[int]
    keys: dict[Rule, int] = field(default_factory=dict)
    records: dict[Rule, int] = field(default_factory=dict)
    #: Candidate pairs each rule makes among all the records (as in a dedupe), without its
    #: crowded keys; a pair two rules find is counted under each.
    pairs: dict[Rule, int] = field(default_factory=dict)

    def pairs_of(self, rules: Iterable[Rule]) -> int:
        """Candidate pairs the ``rules`` make, as counted (an upper bound of those scored:
        Splink scores a pair two rules find once)."""
        return sum(self.pairs.get(r, 0) for r in rules)

    @property
    def keys_left_out(self) -> int:
        return sum(self.keys.values())

    @property
    def records_left_out(self) -> int:
        """Records holding at least one crowded key."""
        return sum(1 for f in self.flags if f)

    def of_rules(self, rules: Iterable[Rule]) -> CrowdedKeys:
        """What the ``rules`` a model blocks on leave out (the others' keys are not used).

        >>> crowded = CrowdedKeys([1, 2, 0], {("email",): 1, ("phone",): 1}, {("email",): 1})
        >>> crowded.of_rules([("email",)]).flags
        [1, 0, 0]
        """
        rules = list(rules)
        wanted = [r for r in rules if r in self.keys]
        mask = sum(rule_bit(r) for r in wanted)
        return CrowdedKeys(
            [f & mask for f in self.flags],
            {r: self.keys[r] for r in wanted},
            {r: self.records[r] for r in wanted if r in self.records},
            {r: n for r, n in self.pairs.items() if r in rules},
        )

    def describe(self) -> str:
        """One line for the operator: counts by rule, never a value.

        >>> CrowdedKeys([1, 1, 0], {("email",): 1}, {("email",): 2}).describe()
        'left out of blocking: 1 key shared by too many records (2 records; email, over 500: 1)'
        """
        if not self.keys:
            return "left out of blocking: no key"
        rules = "; ".join(
            f"{' + '.join(rule)}, over {block_cap(rule):,}: {n:,}" for rule, n in self.keys.items()
        )
        keys = counted(self.keys_left_out, "key", grouped=True)
        return (
            f"left out of blocking: {keys} shared by too many records "
            f"({counted(self.records_left_out, 'record', grouped=True)}; {rules})"
        )


def crowded_keys(table: Any) -> CrowdedKeys:
    """Find the keys of every ``PREDICTION_RULES`` rule held by more records than its cap, in a
    pyarrow table of prepared records (``PreparedRecords.to_arrow``).

    Counted in Arrow (a group-by a rule, without copying the table), as a million records
    would take tens of seconds counted in Python; only the records of a crowded key are then
    looked at one by one. A key with a missing part blocks nothing and is not counted.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = table.num_rows
    flags = [0] * n
    found = CrowdedKeys(flags)
    for rule in PREDICTION_RULES:
        cap = block_cap(rule)
        cols = list(rule)
        if any(c not in table.column_names for c in cols):
            continue
        counts = table.group_by(cols, use_threads=False).aggregate([([], "count_all")])
        found.pairs[rule] = pairs_within(counts, cols, cap)
        if n <= cap:
            continue
        big = counts.filter(pc.greater(counts["count_all"], cap))
        crowded = {
            key for key in zip(*(big[c].to_pylist() for c in cols), strict=True) if None not in key
        }
        if not crowded:
            continue
        bit = rule_bit(rule)
        held = 0
        keys = zip(*(table[c].to_pylist() for c in cols), strict=True)
        for i, key in enumerate(keys):
            if key in crowded:
                flags[i] |= bit
                held += 1
        found.keys[rule] = len(crowded)
        found.records[rule] = held
    # The group-bys' hash tables go back to the system, not into Arrow's pool for later.
    pa.default_memory_pool().release_unused()
    if found.keys:
        log.info("identity: %s", found.describe())
    return found


def pairs_within(counts: Any, cols: list[str], cap: int | None = None) -> int:
    """Candidate pairs within the keys of ``counts`` (a pyarrow group-by of prepared records
    by ``cols``, with ``count_all``) that block: no part missing, and at most ``cap``
    records when given.
    """
    import pyarrow.compute as pc

    usable = pc.is_valid(counts[cols[0]])
    for c in cols[1:]:
        usable = pc.and_(usable, pc.is_valid(counts[c]))
    if cap is not None:
        usable = pc.and_(usable, pc.less_equal(counts["count_all"], cap))
    n = pc.filter(counts["count_all"], usable).cast("int64")
    return int(pc.sum(pc.divide(pc.multiply(n, pc.subtract(n, 1)), 2)).as_py() or 0)


def with_crowded_column(table: Any) -> tuple[Any, CrowdedKeys]:
    """A pyarrow table of prepared records with the ``crowded`` column the capped rules read
    (``capped_rule_sql``) when a key is crowded (else as it was), and what it leaves out."""
    import pyarrow as pa

    crowded = crowded_keys(table)
    if not crowded.keys:
        return table, crowded
    return table.append_column("crowded", pa.array(crowded.flags, pa.int64())), crowded
