"""Units of work tried again when a concurrent writer got in the way.

A unit of work that failed with :class:`~cornerstore.errors.WriteConflict` (another writer
stored the same key first or held the rows it needed) or, more generally,
:class:`~cornerstore.errors.Unavailable` (a SQLite file busy for the whole busy timeout) was
rolled back whole, so running it again is safe, and the new attempt reads what the other writer
stored. Waits double and are jittered, so writers that collided once do not collide again in
step.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from cornerstore.errors import Unavailable, WriteConflict

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Patience:
    """How long a write keeps trying: ``attempts`` in all, waiting ``first_wait`` seconds after
    the first failure, twice as long after each next one, never more than ``longest_wait``.
    With ``busy`` a busy database is tried again too, not only a lost race."""

    attempts: int
    first_wait: float
    longest_wait: float
    busy: bool = False

    def wait(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failure (between half and all of it)."""
        full = min(self.longest_wait, self.first_wait * 2 ** (failures - 1))
        return full * random.uniform(0.5, 1.0)


# Someone waits on a request: about a second of tries after lost races, then 503 with
# Retry-After. A busy database has already been waited for (the busy timeout): 503 at once.
REQUEST = Patience(attempts=7, first_wait=0.02, longest_wait=0.5)
# Nobody waits on an import row by row, but it must get through: minutes of tries.
IMPORT = Patience(attempts=40, first_wait=0.05, longest_wait=5.0, busy=True)


def retry_conflicts(write: Callable[[], T], patience: Patience, what: str) -> T:
    """Run ``write`` (one whole unit of work) until it does not fail with
    :class:`~cornerstore.errors.WriteConflict` (nor, when ``patience.busy``, with
    :class:`~cornerstore.errors.Unavailable`), as ``patience`` allows; the last failure is
    raised.

    Examples
    --------
    >>> retry_conflicts(lambda: 42, REQUEST, "example")
    42
    """
    failures = 0
    while True:
        try:
            return write()
        except Unavailable as exc:
            failures += 1
            lost_race = isinstance(exc, WriteConflict)
            if failures >= patience.attempts or not (lost_race or patience.busy):
                raise
            wait = patience.wait(failures)
            log.info("%s: a concurrent write was in the way; retry %d soon", what, failures)
            time.sleep(wait)
