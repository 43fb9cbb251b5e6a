"""Group commit: concurrent writers (intake batches, audit entries) share one transaction.

A database commit costs the same for 1 row as for 1,000 (on SQLite it is the WAL write and, at
checkpoints, an fsync), so when several HTTP requests arrive together, the first becomes the
leader and writes every waiting batch in one transaction; the others wait for that commit. Each
caller still returns only after its own messages are durable, and each batch still lands whole
or not at all: if a shared transaction fails, the leader writes the batches one by one so a
single bad batch cannot fail the others.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

J = TypeVar("J")


@dataclass
class _Ticket(Generic[J]):
    job: J
    size: int
    done: bool = False
    error: BaseException | None = None
    event: threading.Event = field(default_factory=threading.Event)


class GroupCommitter(Generic[J]):
    """Runs ``write(jobs)`` for jobs submitted from many threads, several at a time.

    ``max_size`` bounds the summed ``size`` of the jobs written together.
    """

    def __init__(self, write: Callable[[Sequence[J]], None], max_size: int = 5000) -> None:
        self._write = write
        self._max_size = max_size
        self._lock = threading.Lock()
        self._pending: list[_Ticket[J]] = []
        self._leader_active = False

    def submit(self, job: J, size: int) -> None:
        """Write ``job`` (alone or with others); return when it is committed, or raise its error."""
        ticket = _Ticket(job, size)
        with self._lock:
            self._pending.append(ticket)
            lead = not self._leader_active
            if lead:
                self._leader_active = True
        if not lead:
            ticket.event.wait()
            if not ticket.done:
                # The leader left before reaching this ticket: lead the next round ourselves.
                return self._lead_until_done(ticket)
            if ticket.error is not None:
                raise ticket.error
            return None
        return self._lead_until_done(ticket)

    def _lead_until_done(self, ticket: _Ticket[J]) -> None:
        try:
            while True:
                with self._lock:
                    group = self._take()
                    if not group:
                        self._leader_active = False
                        break
                self._run(group)
                if ticket.done:
                    # Hand leadership to a waiting caller rather than serving others forever.
                    with self._lock:
                        waiting = list(self._pending)
                        self._leader_active = bool(waiting)
                    if waiting:
                        waiting[0].event.set()
                    break
        except BaseException:
            with self._lock:
                self._leader_active = False
                waiting = list(self._pending)
            if waiting:
                waiting[0].event.set()
            raise
        if ticket.error is not None:
            raise ticket.error

    def _take(self) -> list[_Ticket[J]]:
        group: list[_Ticket[J]] = []
        total = 0
        while self._pending and (not group or total + self._pending[0].size <= self._max_size):
            t = self._pending.pop(0)
            group.append(t)
            total += t.size
        return group

    def _run(self, group: list[_Ticket[J]]) -> None:
        try:
            self._write([t.job for t in group])
        except Exception as exc:
            if len(group) == 1:
                group[0].error = exc
            else:
                for t in group:
                    try:
                        self._write([t.job])
                    except Exception as single:
                        t.error = single
        for t in group:
            t.done = True
            t.event.set()
