"""The customer profile in one statement: everything ``GET /v1/customers/{id}`` shows of a root
profile and its merged profile rows, read in one round trip.

A profile read is the API's most frequent staff request. Read part by part it took eight
statements (members, identifiers and traits, events, accounts, household, merges, consents),
each a round trip to the database and a query built, compiled and its rows typed by
SQLAlchemy; most of the request's CPU went there. Here one ``UNION ALL`` of uniform rows
(a part tag, eight text columns, one integer, two timestamps) holds every part, written once
as plain SQL that SQLite and PostgreSQL both run, and executed as a ``text()`` statement
whose compiled form SQLAlchemy caches. Under read committed a single statement also sees one
snapshot, where separate statements could each see a different one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import BigInteger, Connection, String, text

from cornerstore.privacy.model import ConsentRecord
from cornerstore.profiles.model import (
    EventGroup,
    Identifier,
    MergeRecord,
    ProfileFacts,
    ProfileRow,
    TraitObservation,
)
from cornerstore.storage.tables import UTCDateTime

# The merges come first: every column of that branch has its type, so PostgreSQL resolves the
# NULLs of the later branches against it. Profile rows are joined to merges and relations (not
# tested with IN) so that PostgreSQL looks each one up by index: an OR of two IN (subquery)
# tests scans the table. A merge or relation between two rows of the same customer is then
# read twice, and an account reached through two rows too; the decoding below keeps one of
# each (DISTINCT in a branch would make PostgreSQL type its NULLs as text before the UNION).
_STATEMENT = """
WITH m AS (SELECT id, kind, created_at, root_id FROM customers WHERE root_id = {root})
SELECT 'g' AS part, g.winner_id AS s1, g.loser_id AS s2, g.members AS s3, g.reason AS s4,
       g.evidence AS s5, g.message_id AS s6, g.created_by AS s7, g.undone_by AS s8,
       g.id AS n1, g.created_at AS d1, g.undone_at AS d2
  FROM m JOIN merges g ON g.winner_id = m.id OR g.loser_id = m.id
UNION ALL
SELECT 'c', id, kind, root_id, NULL, NULL, NULL, NULL, NULL, NULL, created_at, NULL FROM m
UNION ALL
SELECT 'i', kind, value, source, touchpoint, customer_id, NULL, NULL, NULL, id, first_seen_at,
       NULL
  FROM identifiers WHERE customer_id IN (SELECT id FROM m)
UNION ALL
SELECT 't', name, value, source, touchpoint, customer_id, message_id, NULL, NULL, id,
       observed_at, NULL
  FROM traits WHERE customer_id IN (SELECT id FROM m)
UNION ALL
SELECT 'u', name, value, source, touchpoint, customer_id, message_id, NULL, NULL, id,
       observed_at, NULL
  FROM unverified_traits WHERE customer_id IN (SELECT id FROM m)
UNION ALL
SELECT 'e', touchpoint, type, NULL, NULL, NULL, NULL, NULL, NULL, COUNT(*), MIN(occurred_at),
       MAX(occurred_at)
  FROM events WHERE customer_id IN (SELECT id FROM m) GROUP BY touchpoint, type
UNION ALL
SELECT 'k', customer_id, purpose, touchpoint, source, message_id, NULL, NULL, NULL,
       CASE WHEN granted THEN 1 ELSE 0 END, at, NULL
  FROM consents WHERE customer_id IN (SELECT id FROM m)
UNION ALL
SELECT 'a', c.root_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM account_members am JOIN customers c ON c.id = am.account_id
 WHERE am.customer_id IN (SELECT id FROM m)
UNION ALL
SELECT 'b', c.root_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM account_members am JOIN customers c ON c.id = am.customer_id
 WHERE am.account_id IN (SELECT id FROM m)
UNION ALL
SELECT 'h', c.root_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM m JOIN customer_relations r ON r.customer_id = m.id OR r.other_id = m.id
  JOIN customers c
    ON c.id = CASE WHEN r.customer_id = m.id THEN r.other_id ELSE r.customer_id END
 WHERE r.kind = 'household'
"""


_COLUMNS: dict[str, Any] = {
    "part": String(),
    **{f"s{i}": String() for i in range(1, 9)},
    "n1": BigInteger(),
    "d1": UTCDateTime(),
    "d2": UTCDateTime(),
}
# The customer of a root profile; and the customer any of its profile rows (merged ones too)
# belongs to now, which finds the root in the same statement.
BY_ROOT = text(_STATEMENT.format(root=":root")).columns(**_COLUMNS)
BY_PROFILE = text(
    _STATEMENT.format(root="(SELECT root_id FROM customers WHERE id = :profile)")
).columns(**_COLUMNS)


# A customer's profile facts and the consent answers of its profile rows (oldest first).
ProfileRead = tuple[ProfileFacts, list[ConsentRecord]]


def read_profile(conn: Connection, root_id: str) -> ProfileRead | None:
    """Everything stored about the customer whose root profile is ``root_id``, in one
    statement; None when ``root_id`` is not a root profile (unknown, or merged away)."""
    return facts_of(conn.execute(BY_ROOT, {"root": root_id}).all())


def read_profile_of(conn: Connection, profile_id: str) -> ProfileRead | None:
    """Everything stored about the customer the profile row ``profile_id`` belongs to now
    (itself its root, or merged into one), in one statement; None for an unknown id."""
    return facts_of(conn.execute(BY_PROFILE, {"profile": profile_id}).all())


def facts_of(rows: Sequence[Sequence[Any]]) -> ProfileRead | None:
    """The profile facts and consent answers of the rows of :data:`BY_ROOT` or
    :data:`BY_PROFILE`."""
    root_id = next((row[3] for row in rows if row[0] == "c"), None)
    root: ProfileRow | None = None
    members: list[str] = []
    identifiers: list[tuple[Any, int, Identifier]] = []
    observed: list[tuple[Any, int, TraitObservation]] = []
    claims: list[tuple[Any, int, TraitObservation]] = []
    events: list[EventGroup] = []
    consents: list[ConsentRecord] = []
    accounts: set[str] = set()
    account_members: set[str] = set()
    household: set[str] = set()
    merges: dict[int, MergeRecord] = {}
    for part, s1, s2, s3, s4, s5, s6, s7, s8, n1, d1, d2 in rows:
        if part == "t" or part == "u":
            kept = observed if part == "t" else claims
            kept.append((d1, n1, TraitObservation(s1, orjson.loads(s2), s4, s3, d1, s6, s5)))
        elif part == "i":
            identifiers.append((d1, n1, Identifier(s1, s2, s3, s4, d1, s5)))
        elif part == "c":
            members.append(s1)
            if s1 == root_id:
                root = ProfileRow(s1, s2, root_id, d1)
        elif part == "e":
            events.append(EventGroup(s1, s2, int(n1), d1, d2))
        elif part == "k":
            consents.append(ConsentRecord(s1, s2, bool(n1), d1, s3, s4, s5))
        elif part == "g":
            merges[int(n1)] = MergeRecord(
                id=int(n1),
                winner_id=s1,
                loser_id=s2,
                members=orjson.loads(s3),
                reason=s4,
                evidence=orjson.loads(s5),
                message_id=s6,
                created_at=d1,
                created_by=s7,
                undone_at=d2,
                undone_by=s8,
            )
        elif part == "a":
            accounts.add(s1)
        elif part == "b":
            account_members.add(s1)
        elif part == "h":
            household.add(s1)
    if root is None:
        return None
    # Oldest first, ties by row id: the order the part-by-part reads gave.
    for found in (identifiers, observed, claims):
        found.sort(key=lambda item: (item[0], item[1]))
    consents.sort(key=lambda c: c.at)
    facts = ProfileFacts(
        row=root,
        members=sorted(members, key=lambda i: (i != root_id, i)),
        identifiers=[i for _, _, i in identifiers],
        observed=[o for _, _, o in observed],
        claims=[c for _, _, c in claims],
        events=events,
        accounts=sorted(accounts),
        account_members=sorted(account_members),
        household=sorted(household - {root_id}),
        merges=[merges[k] for k in sorted(merges)],
    )
    return facts, consents
