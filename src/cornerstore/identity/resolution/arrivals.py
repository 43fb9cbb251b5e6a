"""The customers intake stored, placed after the commit on a worker thread of their own.

Intake acknowledges a batch once it is committed; the customers of the batch who gained a name,
e-mail, phone or address are handed over here and placed in the order they arrived, so no
request waits for the scoring of another's customers. The worker starts when customers are
handed over and ends once none were handed over for :data:`LINGER` seconds (a busy intake hands
over a batch every few milliseconds, and starting a thread for each cost more CPU than placing
its customers); it is not a daemon, so a command that stored customers exits only after they
are placed. A placement the store could not serve for now (busy, a race lost to another writer,
a lost connection) is tried again a few times; one that still fails is logged with its cause
(the database's error code, no values) and the batch stays stored: the next
``identity resolve`` picks its customers up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from cornerstore.errors import Unavailable

log = logging.getLogger(__name__)

# A placement that fails with Unavailable (busy, lost race, lost connection) is tried this many
# times in all, waiting 0.2, 0.4, 0.8... s between tries.
PLACING_ATTEMPTS = 5
FIRST_WAIT = 0.2
# How long the worker waits for the next hand-over before it ends (seconds).
LINGER = 0.25


class ArrivalQueue:
    """Hands customers to ``place`` on one worker thread, those waiting placed together.

    Examples
    --------
    >>> placed = []
    >>> queue = ArrivalQueue(placed.extend)
    >>> queue.put(["cus_1", "cus_2"])
    >>> queue.put(["cus_2", "cus_3"])
    >>> queue.drain(timeout=10)
    True
    >>> sorted(set(placed))
    ['cus_1', 'cus_2', 'cus_3']
    """

    def __init__(self, place: Callable[[list[str]], object]) -> None:
        self._place = place
        self._changed = threading.Condition()
        self._waiting: dict[str, None] = {}  # insertion-ordered, each customer once
        self._handed = 0  # hand-overs so far
        self._done = 0  # hand-overs placed (or failed) so far
        self._worker: threading.Thread | None = None

    def put(self, customer_ids: Iterable[str]) -> None:
        """Hand customers over for placing; returns at once."""
        with self._changed:
            self._waiting.update(dict.fromkeys(customer_ids))
            self._handed += 1
            # A worker that is not alive belongs to the process this one was forked from.
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="placement")
                self._worker.start()
            else:
                self._changed.notify_all()

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every customer handed over before this call is placed; False when
        ``timeout`` (seconds) ran out first. Customers handed over meanwhile are not waited
        for, so a steady stream of arrivals cannot hold the caller."""
        with self._changed:
            target = self._handed
            return self._changed.wait_for(lambda: self._done >= target, timeout)

    def _work(self) -> None:
        while True:
            with self._changed:
                if not self._waiting:
                    self._changed.wait_for(lambda: self._waiting, LINGER)
                if not self._waiting:
                    self._worker = None
                    return
                ids, self._waiting = list(self._waiting), {}
                handed = self._handed
            try:
                self._place_patiently(ids)
            except Exception as exc:  # the customers are stored; `identity resolve` places them
                log.warning("identity: placing %s arrivals failed (%s)", len(ids), _describe(exc))
            with self._changed:
                self._done = handed
                self._changed.notify_all()

    def _place_patiently(self, ids: list[str]) -> None:
        """Place ``ids``, again after a short wait when the store was busy, lost a race to a
        concurrent writer (a merge by another process) or lost its connection: placing again
        is safe, customers already placed are not scored a second time."""
        for attempt in range(1, PLACING_ATTEMPTS + 1):
            try:
                self._place(ids)
                return
            except Unavailable:
                if attempt == PLACING_ATTEMPTS:
                    raise
                time.sleep(FIRST_WAIT * 2 ** (attempt - 1))


def _describe(exc: BaseException) -> str:
    """What failed, fit for a log without customer values: the exception's type, and the
    database's error code (PostgreSQL SQLSTATE, SQLite error name) when one caused it."""
    described = type(exc).__name__
    cause: BaseException | None = exc
    while cause is not None:
        orig = getattr(cause, "orig", None)
        code = getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorname", None)
        if code:
            return f"{described}, {type(orig).__name__} {code}"
        cause = cause.__cause__ or cause.__context__
    return described
