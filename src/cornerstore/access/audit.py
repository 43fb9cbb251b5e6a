"""The audit trail: who read or changed which customer, when, through which entrance.

Reads are audited before their answer is returned; entries from concurrent readers are written
together (group commit), so auditing every read does not serialise readers behind one write each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cornerstore.access.caller import Caller
from cornerstore.group_commit import GroupCommitter
from cornerstore.storage.database import Store


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    customer_id: str | None
    via: str
    detail: str | None


class AuditTrail:
    """Append-only record of customer reads and changes."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._committer: GroupCommitter[AuditEntry] = GroupCommitter(self._write, max_size=2000)

    def record(
        self, caller: Caller, action: str, customer_id: str | None, detail: str | None = None
    ) -> None:
        """Write one entry; returns once it is committed (raises if it could not be)."""
        if caller.remote:
            detail = f"{detail} from {caller.remote}" if detail else f"from {caller.remote}"
        entry = AuditEntry(datetime.now(UTC), caller.actor, action, customer_id, caller.via, detail)
        self._committer.submit(entry, 1)

    def _write(self, entries: Sequence[AuditEntry]) -> None:
        with self.store.unit_of_work(write=True) as uow:
            uow.audit.add_many(
                [
                    {
                        "at": e.at,
                        "actor": e.actor,
                        "action": e.action,
                        "customer_id": e.customer_id,
                        "via": e.via,
                        "detail": e.detail,
                    }
                    for e in entries
                ]
            )

    def for_customer(self, customer_id: str) -> list[AuditEntry]:
        with self.store.unit_of_work() as uow:
            return [
                AuditEntry(at, actor, action, customer_id, via, detail)
                for at, actor, action, via, detail in uow.audit.for_customer(customer_id)
            ]
