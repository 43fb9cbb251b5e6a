"""Repositories of privacy records: firewall events, consent history, the suppression list,
erasure across every table that names a customer (read from the schema), and event retention.

Like :mod:`cornerstore.storage.repositories` they work inside one transaction of a
:class:`~cornerstore.storage.unit_of_work.UnitOfWork` and return the records of
:mod:`cornerstore.privacy.model`, counts and sets of ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, MetaData, Table, delete, func, or_, select, update

from cornerstore.privacy.model import ConsentRecord, ErasedCounts, PrivacyEventRecord
from cornerstore.storage import tables as t
from cornerstore.storage.batches import bulk_insert
from cornerstore.storage.repositories import Repository

# SQL engines cap bound parameters; large id lists are sent in slices.
_SLICE = 500


def _slices(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[i : i + _SLICE] for i in range(0, len(values), _SLICE)]


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
        # Asked by every intake batch until the list holds a digest: plain SQL, which skips
        # the compiling and result processing of a Core select.
        return self.conn.exec_driver_sql("SELECT 1 FROM suppressions LIMIT 1").first() is not None


@dataclass(frozen=True, slots=True)
class TableErasure:
    """What erasure does to one table: delete the rows whose ``delete`` columns or ``listed``
    JSON lists name an erased profile, and set its ``detach`` columns naming one to null."""

    table: Table
    delete: tuple[Column[Any], ...] = ()
    detach: tuple[Column[Any], ...] = ()
    listed: tuple[Column[Any], ...] = ()


_RULES = (t.DELETE_ROW, t.DETACH, t.LISTED, t.KEEP)


def erasure_rule(column: Column[Any]) -> str | None:
    """What erasing a customer does to ``column``, or None when it does not name customers.

    The rule in the column's ``info`` when it has one; otherwise the customer's own id and every
    foreign key to it delete their rows.

    Examples
    --------
    >>> [erasure_rule(t.events.c[name]) for name in ("customer_id", "account_id", "name")]
    ['delete', 'detach', None]
    """
    rule = column.info.get(t.ON_ERASURE)
    if rule is not None:
        if rule not in _RULES:
            raise ValueError(f"{column}: erasure rule must be one of {', '.join(_RULES)}")
        return str(rule)
    own_id = column.table.name == t.customers.name and column.name == "id"
    if own_id or any(fk.target_fullname == "customers.id" for fk in column.foreign_keys):
        return t.DELETE_ROW
    return None


def erasure_plan(metadata: MetaData = t.metadata) -> list[TableErasure]:
    """Every table with a column naming customers that erasure changes, in the order it does:
    tables before those they refer to, the customers themselves last.

    Examples
    --------
    >>> last = erasure_plan()[-1]
    >>> (last.table.name, [column.name for column in last.delete])
    ('customers', ['id', 'root_id'])
    """
    plan: list[TableErasure] = []
    for table in reversed(metadata.sorted_tables):
        columns: dict[str | None, list[Column[Any]]] = {}
        for column in table.columns:
            columns.setdefault(erasure_rule(column), []).append(column)
        step = TableErasure(
            table,
            delete=tuple(columns.get(t.DELETE_ROW, ())),
            detach=tuple(columns.get(t.DETACH, ())),
            listed=tuple(columns.get(t.LISTED, ())),
        )
        if step.delete or step.detach or step.listed:
            plan.append(step)
    plan.sort(key=lambda step: step.table.name == t.customers.name)
    return plan


_PLAN = erasure_plan()


class ErasureRepository(Repository):
    # Every table erasure changes: scrubbed afterwards so no copy of the rows stays readable.
    tables: tuple[str, ...] = tuple(step.table.name for step in _PLAN)

    def erase(self, customer_ids: Sequence[str]) -> ErasedCounts:
        """Delete these profiles and every row that names them, as :func:`erasure_plan` says."""
        ids = list(customer_ids)
        # A claim about the person came in a message filed with its sender's profile; the
        # message holds what it claimed about them, so it goes too (before the claims).
        u = t.unverified_traits
        claimed = 0
        for part in _slices(ids):
            claims = select(u.c.message_id).where(u.c.customer_id.in_(part))
            claimed += self._delete(t.events, t.events.c.message_id.in_(claims))
        deleted = {step.table.name: self._erase_from(step, ids) for step in _PLAN}
        return ErasedCounts(
            profiles=deleted["customers"],
            identifiers=deleted["identifiers"],
            traits=deleted["traits"] + deleted["unverified_traits"],
            events=claimed + deleted["events"],
            consents=deleted["consents"],
            merges=deleted["merges"],
        )

    def _erase_from(self, step: TableErasure, ids: list[str]) -> int:
        """Apply one table's step; the number of its rows deleted."""
        table, deleted = step.table, 0
        for part in _slices(ids):
            for column in step.detach:
                self.conn.execute(update(table).where(column.in_(part)).values({column.name: None}))
            if step.delete:
                deleted += self._delete(table, or_(*(column.in_(part) for column in step.delete)))
        # A JSON list of ids: each id is matched as a quoted string.
        for column in step.listed:
            for cid in ids:
                deleted += self._delete(table, column.like(f'%"{cid}"%'))
        return deleted

    def _delete(self, table: Table, condition: Any) -> int:
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
