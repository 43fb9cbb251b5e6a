"""The customers intake stored, placed after the commit on a worker thread of their own.

Intake acknowledges a batch once it is committed; the customers of the batch who gained a name,
e-mail, phone or address are handed over here and placed in the order they arrived, so no
request waits for the scoring of another's customers. The worker starts when customers are
handed over and ends when none are left: it is not a daemon, so a command that stored customers
exits only after they are placed. A placement that fails is logged and the batch stays stored;
the next ``identity resolve`` picks its customers up.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)


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
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="placement")
                self._worker.start()

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
                    self._worker = None
                    return
                ids, self._waiting = list(self._waiting), {}
                handed = self._handed
            try:
                self._place(ids)
            except Exception as exc:  # the customers are stored; `identity resolve` places them
                log.warning(
                    "identity: placing %s arrivals failed (%s)", len(ids), type(exc).__name__
                )
            with self._changed:
                self._done = handed
                self._changed.notify_all()
