"""The audit trail: who read or changed which sections of which customer, when, from where, why.

Reads are audited before their answer is returned. Without a journal, entries from concurrent
readers are written to the database together (group commit) and the read waits for that commit.
With a journal (``cornerstore serve`` keeps one, see :mod:`cornerstore.access.audit_journal`),
the read waits only for its entry to be fsynced to a local file, and a writer thread stores the
entries in the database in batches; a crash loses none, because the next process to start
stores what the dead one had not. The trail is append-only: nothing updates an entry, and only
retention (:meth:`AuditTrail.prune`, run by the owner on the server) deletes old ones.
"""

from __future__ import annotations

import atexit
import io
import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cornerstore.access.audit_journal import Journal, orphaned_entries
from cornerstore.access.caller import Caller
from cornerstore.access.model import AuditEntry
from cornerstore.access.policy import Policy
from cornerstore.errors import InvalidInput
from cornerstore.group_commit import GroupCommitter
from cornerstore.plural import counted
from cornerstore.spreadsheet_csv import spreadsheet_writer
from cornerstore.storage.database import Store
from cornerstore.storage.unit_of_work import UnitOfWork

MAX_PAGE = 10_000
# Entries the writer thread stores in one transaction at the most.
WRITER_BATCH = 2000

log = logging.getLogger(__name__)

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
    writer = spreadsheet_writer(buffer)
    writer.writerow(AUDIT_FIELDS)
    for entry in entries:
        row = asdict(entry)
        writer.writerow([_joined(row[name]) for name in AUDIT_FIELDS])
    return buffer.getvalue()


def _joined(value: Any) -> Any:
    # Sections are a list; one cell holds them space-separated.
    return " ".join(value) if isinstance(value, list) else value


class AuditTrail:
    """Append-only record of customer reads and changes."""

    def __init__(
        self,
        store: Store,
        policy: Policy,
        journal: Path | None = None,
        flush_seconds: float = 0.2,
    ) -> None:
        self.store = store
        self.policy = policy
        self.journal_folder = journal
        self.flush_seconds = flush_seconds
        # A job is the entries of one call, written in one transaction (a page's reads).
        self._committer: GroupCommitter[list[dict[str, Any]]] = GroupCommitter(
            self._write_jobs, max_size=WRITER_BATCH
        )
        self._journal: Journal | None = None
        self._queue: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        self._writer: threading.Thread | None = None
        self._closing = False
        # Set by flush(), cleared by the writer when it takes the queue: a flush asked for
        # before the writer reached its wait is not lost (a notify alone would be).
        self._flush_asked = False

    def start(self) -> int:
        """Store the entries of journals whose process died (a crash) and start the writer
        thread; the number of entries recovered. Without a journal, nothing to do."""
        if self.journal_folder is None:
            return 0
        recovered = 0
        for path, entries in orphaned_entries(self.journal_folder):
            stored = 0
            for low in range(0, len(entries), WRITER_BATCH):
                with self.store.unit_of_work(write=True) as uow:
                    missing = uow.audit.not_stored(entries[low : low + WRITER_BATCH])
                    uow.audit.add_many(missing)
                stored += len(missing)
            log.info("audit journal %s recovered: %d entries stored", path.name, stored)
            recovered += stored
        with self._changed:
            if self._writer is None:
                self._journal = Journal(self.journal_folder)
                self._closing = False
                self._writer = threading.Thread(
                    target=self._store_queued, name="audit-writer", daemon=True
                )
                self._writer.start()
                # A command-line process ends without a server's shutdown: store its entries then.
                atexit.register(self.close)
        return recovered

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every entry this process recorded is in the database."""
        with self._changed:
            self._flush_asked = True
            self._changed.notify_all()
            self._changed.wait_for(lambda: not self._queue or self._writer is None, timeout)

    def close(self) -> None:
        """Store what is queued, stop the writer and remove this process's journal."""
        with self._changed:
            writer, self._closing = self._writer, True
            self._changed.notify_all()
        if writer is not None:
            writer.join(timeout=60)
        with self._changed:
            if self._journal is not None:
                self._journal.close(remove=not self._queue)
            self._journal, self._writer = None, None

    def record(
        self,
        caller: Caller,
        action: str,
        customer_id: str | None,
        detail: str | None = None,
        sections: Iterable[str] = (),
    ) -> None:
        """Write one entry; returns once it is committed (raises if it could not be)."""
        self._committer.submit([entry_fields(caller, action, customer_id, detail, sections)], 1)

    def record_many(
        self,
        caller: Caller,
        action: str,
        reads: Iterable[tuple[str | None, Iterable[str]]],
        detail: str | None = None,
    ) -> None:
        """Write one ``action`` entry per ``(customer_id, sections)`` of ``reads``, all in one
        transaction (a page that shows many customers); returns once they are committed."""
        at = datetime.now(UTC)
        entries = [entry_fields(caller, action, c, detail, sections, at) for c, sections in reads]
        if entries:
            self._committer.submit(entries, len(entries))

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

    def _write_jobs(self, jobs: Sequence[list[dict[str, Any]]]) -> None:
        entries = [entry for job in jobs for entry in job]
        if self.journal_folder is None:
            self._write(entries)
        else:
            self._write_ahead(entries)

    def _write(self, entries: Sequence[dict[str, Any]]) -> None:
        with self.store.unit_of_work(write=True) as uow:
            uow.audit.add_many(list(entries))

    def _write_ahead(self, entries: Sequence[dict[str, Any]]) -> None:
        """Append ``entries`` to the journal (fsynced) and queue them for the database."""
        if self._writer is None:
            self.start()
        with self._changed:
            assert self._journal is not None
            self._journal.append(entries)
            self._queue.extend(entries)
            if len(self._queue) >= WRITER_BATCH:
                self._changed.notify_all()

    def _store_queued(self) -> None:
        """The writer thread: every ``flush_seconds`` (or when asked), the queued entries go
        to the database; once the queue is empty, the journal is emptied too."""
        failures = 0
        while True:
            with self._changed:
                if not self._closing and (
                    failures or (len(self._queue) < WRITER_BATCH and not self._flush_asked)
                ):
                    self._changed.wait(self.flush_seconds * min(2**failures, 100))
                self._flush_asked = False
                batch = self._queue[:WRITER_BATCH]
                if not batch and self._closing:
                    return
            if not batch:
                continue
            try:
                self._write(batch)
            except Exception as exc:
                # Kept in the queue and the journal; the next round tries again, later.
                failures += 1
                log.warning("audit entries not stored yet (%s); retrying", type(exc).__name__)
                if self._closing and failures > 5:
                    return
                continue
            failures = 0
            with self._changed:
                del self._queue[: len(batch)]
                if not self._queue and self._journal is not None:
                    self._journal.empty()
                self._changed.notify_all()

    def for_customer(self, customer_id: str) -> list[AuditEntry]:
        """Every entry about one customer, oldest first (no check: library use on the server)."""
        self.flush()
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
        self.flush()
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
        self.record(
            caller, "read_audit", customer_id, counted(len(entries), "entry", "entries"), ["audit"]
        )
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
                uow,
                caller,
                "prune_audit",
                None,
                f"{counted(removed, 'entry', 'entries')} before {before.isoformat()}",
            )
        return removed


def _utc(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at
