"""Cluster scored pairs into people without chaining, and find households.

Plain connected components joins A-B and B-C into one person even when A and C are plainly two
people; on large data such chains glue thousands of records together. Here pairs are merged
strongest first, and two clusters are joined only when every pair of records across them is
compatible: no two members may carry first names that disagree outright (not equal, not a
nickname of each other, not a near spelling, not swapped with the last name). This is the
cannot-link idea of constrained clustering (Wagstaff et al., "Constrained K-means clustering
with background knowledge", ICML 2001) applied to agglomerative merging.

A refused pair that shares a last name and an address or a phone is a household: two people
living together. Households are reported as relations between clusters, never merged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cornerstore.identity.names import mistyped_variant
from cornerstore.identity.resolution.comparisons import Comparison, first_name_comparison
from cornerstore.identity.resolution.records import PreparedRecords

_FIRST = first_name_comparison()
# Levels at which two first names may be one person's: all but the last ("else").
_COMPATIBLE = frozenset(range(1, len(_FIRST.levels) - 1))


@dataclass
class Clusters:
    """Cluster labels per row, households between clusters, and how clustering went."""

    labels: list[int]
    households: list[tuple[int, int]] = field(default_factory=list)
    refused_merges: int = 0

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
    swapped with the last name, or one typo away from one of the other's nicknames.

    The same e-mail address outweighs a first name typed wrong twice ("Bige" for "Abijah"):
    a household, by definition, has different first names *and* different e-mails.

    >>> names_conflict({"first_name": "john", "first_name_keys": ["john"]},
    ...                {"first_name": "mary", "first_name_keys": ["mary"]})
    True
    >>> names_conflict({"first_name": "bob", "first_name_keys": ["robert"]},
    ...                {"first_name": "robert", "first_name_keys": ["robert"]})
    False
    """
    if not left.get("first_name") or not right.get("first_name"):
        return False
    email = left.get("email")
    if email and email == right.get("email"):
        return False
    if _FIRST.level_of(left, right) in _COMPATIBLE:
        return False
    return not mistyped_variant(left["first_name"], right["first_name"])


def is_household(left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
    """Two different people (first names conflict) with the same last name and the same address
    or phone.

    >>> a = {"first_name": "john", "first_name_keys": [], "last_name": "lee", "address": "1 a st"}
    >>> is_household(a, {**a, "first_name": "mary"}), is_household(a, a)
    (True, False)
    """
    if not names_conflict(left, right):
        return False
    last_l, last_r = left.get("last_name"), right.get("last_name")
    if not last_l or last_l != last_r:
        return False
    return any(left.get(c) and left.get(c) == right.get(c) for c in ("address", "phone"))


class _Rows:
    """Lazy read-only row views: clustering reads only names, address and phone."""

    _cols = ("first_name", "first_name_keys", "last_name", "email", "address", "phone")

    def __init__(self, records: PreparedRecords) -> None:
        self.columns = {c: records.columns[c] for c in self._cols}

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {c: values[i] for c, values in self.columns.items()}


def cluster_pairs(
    records: PreparedRecords,
    left: Sequence[int],
    right: Sequence[int],
    weights: Sequence[float],
    min_weight: float,
    comparisons: Sequence[Comparison] = (),
) -> Clusters:
    """Merge pairs at or above ``min_weight``, strongest first, refusing incompatible clusters.

    Every row gets a label (its smallest row position in the cluster); households
    come from all given pairs, whatever their weight.
    """
    rows = _Rows(records)
    parent = list(range(len(records)))
    members: dict[int, list[int]] = {}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    order = sorted(range(len(weights)), key=lambda k: -weights[k])
    refused = 0
    households: set[tuple[int, int]] = set()
    for k in order:
        a, b = left[k], right[k]
        if weights[k] < min_weight:
            ra, rb = find(a), find(b)
            if ra != rb and is_household(rows[a], rows[b]):
                households.add((min(a, b), max(a, b)))
            continue
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        group_a = members.get(ra, [ra])
        group_b = members.get(rb, [rb])
        if any(names_conflict(rows[x], rows[y]) for x in group_a for y in group_b):
            refused += 1
            if is_household(rows[a], rows[b]):
                households.add((min(a, b), max(a, b)))
            continue
        if len(group_a) < len(group_b):
            ra, rb, group_a, group_b = rb, ra, group_b, group_a
        parent[rb] = ra
        members[ra] = group_a + group_b
        members.pop(rb, None)
    roots = [find(i) for i in range(len(records))]
    smallest: dict[int, int] = {}
    for i, root in enumerate(roots):
        smallest.setdefault(root, i)
    labels = [smallest[root] for root in roots]
    relations = sorted(
        {(min(labels[a], labels[b]), max(labels[a], labels[b])) for a, b in households}
        - {(x, x) for x in set(labels)}
    )
    return Clusters(labels=labels, households=relations, refused_merges=refused)
