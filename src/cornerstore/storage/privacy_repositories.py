"""Repositories of privacy records: firewall events, consent history, the suppression list,
erasure across every table, and event retention.

Like :mod:`cornerstore.storage.repositories` they work inside one transaction of a
:class:`~cornerstore.storage.unit_of_work.UnitOfWork` and return plain values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update

from cornerstore.storage import tables as t
from cornerstore.storage.batches import bulk_insert
from cornerstore.storage.repositories import Repository

# SQL engines cap bound parameters; large id lists are sent in slices.
_SLICE = 500


def _slices(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[i : i + _SLICE] for i in range(0, len(values), _SLICE)]


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """One consent answer as stored: a profile's grant or withdrawal of a purpose."""

    customer_id: str
    purpose: str
    granted: bool
    at: datetime
    touchpoint: str
    source: str
    message_id: str | None


@dataclass(frozen=True, slots=True)
class PrivacyEventRecord:
    """What the firewall removed: never the value."""

    at: datetime
    entrance: str
    source: str
    kind: str
    field: str
    action: str
    message_id: str | None


class PrivacyEventRepository(Repository):
    def add_many(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            bulk_insert(self.conn, t.privacy_events, rows)

    def recent(self, limit: int = 100, kind: str | None = None) -> list[PrivacyEventRecord]:
        p = t.privacy_events
        query = select(
            p.c.at, p.c.entrance, p.c.source, p.c.kind, p.c.field, p.c.action, p.c.message_id
        ).order_by(p.c.id.desc())
        if kind:
            query = query.where(p.c.kind == kind)
        return [PrivacyEventRecord(*row) for row in self.conn.execute(query.limit(limit))]

    def counts(self) -> dict[tuple[str, str], int]:
        """Removals by (kind, action)."""
        p = t.privacy_events
        query = select(p.c.kind, p.c.action, func.count()).group_by(p.c.kind, p.c.action)
        return {(kind, action): n for kind, action, n in self.conn.execute(query)}


class ConsentRepository(Repository):
    def add_many(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            bulk_insert(self.conn, t.consents, rows)

    def of_customers(self, customer_ids: Sequence[str]) -> list[ConsentRecord]:
        """Every consent answer of these profiles, oldest first."""
        c = t.consents
        out: list[ConsentRecord] = []
        for part in _slices(list(customer_ids)):
            query = select(*_CONSENT_COLUMNS).where(c.c.customer_id.in_(part))
            out += [_consent(row) for row in self.conn.execute(query)]
        out.sort(key=lambda r: r.at)
        return out

    def of_roots(self, root_ids: Sequence[str], purpose: str) -> dict[str, list[ConsentRecord]]:
        """Every answer for ``purpose`` given by a profile merged into one of these roots (or
        by the root itself), by root id; roots without an answer are left out."""
        k, c = t.consents, t.customers
        wanted = set(root_ids)
        # Many roots (every customer, for learning): one pass over the purpose's answers reads
        # less than hundreds of IN lists.
        parts: list[Sequence[Any] | None] = (
            [*_slices(list(wanted))] if len(wanted) <= 4 * _SLICE else [None]
        )
        found: dict[str, list[ConsentRecord]] = {}
        for part in parts:
            query = (
                select(c.c.root_id, *_CONSENT_COLUMNS)
                .join(c, c.c.id == k.c.customer_id)
                .where(k.c.purpose == purpose)
            )
            if part is not None:
                query = query.where(c.c.root_id.in_(part))
            for root, *answer in self.conn.execute(query):
                if root in wanted:
                    found.setdefault(root, []).append(_consent(answer))
        return found


_CONSENT_COLUMNS = tuple(
    t.consents.c[name]
    for name in ("customer_id", "purpose", "granted", "at", "touchpoint", "source", "message_id")
)


def _consent(row: Sequence[Any]) -> ConsentRecord:
    customer_id, purpose, granted, at, touchpoint, source, message_id = row
    return ConsentRecord(customer_id, purpose, bool(granted), at, touchpoint, source, message_id)


class SuppressionRepository(Repository):
    def add_many(self, digests: Sequence[str], at: datetime) -> None:
        rows = [{"digest": d, "erased_at": at} for d in sorted(set(digests))]
        if rows:
            self.conn.execute(self._insert_ignore(t.suppressions), rows)

    def present(self, digests: Sequence[str]) -> set[str]:
        s = t.suppressions
        found: set[str] = set()
        for part in _slices(list(dict.fromkeys(digests))):
            found.update(
                self.conn.execute(select(s.c.digest).where(s.c.digest.in_(part))).scalars()
            )
        return found

    def count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(t.suppressions)).scalar_one())

    def any(self) -> bool:
        return self.conn.execute(select(t.suppressions.c.digest).limit(1)).first() is not None


@dataclass(frozen=True, slots=True)
class ErasedCounts:
    profiles: int
    identifiers: int
    traits: int
    events: int
    consents: int
    merges: int


class ErasureRepository(Repository):
    def erase(self, customer_ids: Sequence[str]) -> ErasedCounts:
        """Delete these profiles and everything that refers to them, children first."""
        ids = list(customer_ids)
        n = {"identifiers": 0, "traits": 0, "events": 0, "consents": 0, "merges": 0}
        profiles = 0
        for part in _slices(ids):
            n["consents"] += self._delete(t.consents, t.consents.c.customer_id.in_(part))
            self._delete(t.scores, t.scores.c.customer_id.in_(part))
            self._delete(t.segment_members, t.segment_members.c.customer_id.in_(part))
            n["traits"] += self._delete(t.traits, t.traits.c.customer_id.in_(part))
            # A claim about the person came in a message filed with its sender's profile; the
            # message holds what it claimed about them, so it goes too.
            u = t.unverified_traits
            claims = select(u.c.message_id).where(u.c.customer_id.in_(part))
            n["events"] += self._delete(t.events, t.events.c.message_id.in_(claims))
            n["traits"] += self._delete(u, u.c.customer_id.in_(part))
            self._delete(t.name_words, t.name_words.c.customer_id.in_(part))
            n["identifiers"] += self._delete(t.identifiers, t.identifiers.c.customer_id.in_(part))
            n["events"] += self._delete(t.events, t.events.c.customer_id.in_(part))
            # An erased account leaves its members' events in place, no longer filed under it.
            self.conn.execute(
                update(t.events).where(t.events.c.account_id.in_(part)).values(account_id=None)
            )
            m = t.account_members
            self._delete(m, or_(m.c.customer_id.in_(part), m.c.account_id.in_(part)))
            g = t.merges
            n["merges"] += self._delete(g, or_(g.c.winner_id.in_(part), g.c.loser_id.in_(part)))
            # Review pairs keep both sides' matching values; relations name the other person.
            v = t.identity_reviews
            self._delete(v, or_(v.c.left_id.in_(part), v.c.right_id.in_(part)))
            h = t.customer_relations
            self._delete(h, or_(h.c.customer_id.in_(part), h.c.other_id.in_(part)))
        # Refusals name their profiles in a JSON list: match each id as a quoted string.
        r = t.merge_refusals
        for cid in ids:
            self._delete(r, r.c.profiles.like(f'%"{cid}"%'))
        # Profiles whose root is being erased last: other rows point at them.
        for part in _slices(ids):
            profiles += self._delete(t.customers, t.customers.c.id.in_(part))
        return ErasedCounts(profiles, **n)

    def _delete(self, table: t.Table, condition: Any) -> int:
        return int(self.conn.execute(delete(table).where(condition)).rowcount or 0)


class RetentionRepository(Repository):
    def count_older(self, event_type: str, cutoff: datetime) -> int:
        e = t.events
        query = select(func.count()).where(e.c.type == event_type, e.c.occurred_at < cutoff)
        return int(self.conn.execute(query).scalar_one())

    def delete_older(self, event_type: str, cutoff: datetime) -> int:
        e = t.events
        result = self.conn.execute(
            delete(e).where(e.c.type == event_type, e.c.occurred_at < cutoff)
        )
        return int(result.rowcount or 0)
