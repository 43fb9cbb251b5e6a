"""The audit trail: who read or changed which sections of which customer, when, from where, why.

Reads are audited before their answer is returned; entries from concurrent readers are written
together (group commit), so auditing every read does not serialise readers behind one write each.
The trail is append-only: nothing updates an entry, and only retention (:meth:`AuditTrail.prune`,
run by the owner on the server) deletes old ones.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import asdict, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from cornerstore.access.caller import Caller
from cornerstore.access.model import AuditEntry
from cornerstore.access.policy import Policy
from cornerstore.errors import InvalidInput
from cornerstore.group_commit import GroupCommitter
from cornerstore.storage.database import Store
from cornerstore.storage.unit_of_work import UnitOfWork

MAX_PAGE = 10_000

AUDIT_FIELDS = tuple(f.name for f in fields(AuditEntry))


def entry_fields(
    caller: Caller,
    action: str,
    customer_id: str | None,
    detail: str | None,
    sections: Iterable[str],
    at: datetime | None = None,
) -> dict[str, Any]:
    """The columns of one audit row for ``caller``."""
    return {
        "at": at or datetime.now(UTC),
        "actor": caller.actor,
        "action": action,
        "customer_id": customer_id,
        "via": caller.via,
        "detail": detail,
        "sections": ",".join(sorted(set(sections))) or None,
        "remote": (caller.remote or "")[:64] or None,
        "branch": caller.branch,
        "reason": caller.reason,
    }


def to_csv(entries: Sequence[AuditEntry]) -> str:
    """The entries as CSV with a header row; cells that a spreadsheet would run as a formula
    are prefixed with a quote.

    >>> at = datetime(2024, 1, 1, tzinfo=UTC)
    >>> print(to_csv([AuditEntry(at, "ann", "read_profile", "cus_1", "api", None, ["name"])]))
    ... # doctest: +NORMALIZE_WHITESPACE
    at,actor,action,customer_id,via,detail,sections,remote,branch,reason,id
    2024-01-01T00:00:00+00:00,ann,read_profile,cus_1,api,,name,,,,
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(AUDIT_FIELDS)
    for entry in entries:
        row = asdict(entry)
        writer.writerow([_cell(row[name]) for name in AUDIT_FIELDS])
    return buffer.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return " ".join(value)
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class AuditTrail:
    """Append-only record of customer reads and changes."""

    def __init__(self, store: Store, policy: Policy) -> None:
        self.store = store
        self.policy = policy
        self._committer: GroupCommitter[dict[str, Any]] = GroupCommitter(self._write, max_size=2000)

    def record(
        self,
        caller: Caller,
        action: str,
        customer_id: str | None,
        detail: str | None = None,
        sections: Iterable[str] = (),
    ) -> None:
        """Write one entry; returns once it is committed (raises if it could not be)."""
        self._committer.submit(entry_fields(caller, action, customer_id, detail, sections), 1)

    def record_in(
        self,
        uow: UnitOfWork,
        caller: Caller,
        action: str,
        customer_id: str | None,
        detail: str | None = None,
        sections: Iterable[str] = (),
        at: datetime | None = None,
    ) -> None:
        """Write one entry inside ``uow``, the transaction of the change it records: both are
        committed, or neither (merges, unmerges, pruning the trail)."""
        uow.audit.add(**entry_fields(caller, action, customer_id, detail, sections, at))

    def _write(self, entries: Sequence[dict[str, Any]]) -> None:
        with self.store.unit_of_work(write=True) as uow:
            uow.audit.add_many(list(entries))

    def for_customer(self, customer_id: str) -> list[AuditEntry]:
        """Every entry about one customer, oldest first (no check: library use on the server)."""
        with self.store.unit_of_work() as uow:
            return uow.audit.find(customer_id=customer_id, limit=10**9)

    def find(
        self,
        caller: Caller,
        *,
        customer_id: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        branch: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after_id: int | None = None,
        limit: int = 1000,
    ) -> list[AuditEntry]:
        """Entries matching every filter, oldest first; the owner only. Reading the trail is
        itself recorded. Times without a zone are taken as UTC."""
        self.policy.require_staff_admin(caller)
        since, until = (_utc(t) for t in (since, until))
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit: must be between 1 and {MAX_PAGE}")
        with self.store.unit_of_work() as uow:
            entries = uow.audit.find(
                customer_id=customer_id,
                actor=actor,
                action=action,
                branch=branch,
                since=since,
                until=until,
                after_id=after_id,
                limit=limit,
            )
        self.record(caller, "read_audit", customer_id, f"{len(entries)} entries", ["audit"])
        return entries

    def prune(self, caller: Caller, older_than: timedelta, now: datetime | None = None) -> int:
        """Delete entries older than ``older_than`` (retention); the owner only. The pruning
        itself is recorded, so the trail shows that and when it was shortened."""
        self.policy.require_staff_admin(caller)
        if older_than <= timedelta(0):
            raise InvalidInput("older than: give a positive duration")
        before = (now or datetime.now(UTC)) - older_than
        with self.store.unit_of_work(write=True) as uow:
            removed = uow.audit.prune(before)
            self.record_in(
                uow, caller, "prune_audit", None, f"{removed} entries before {before.isoformat()}"
            )
        return removed


def _utc(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at
