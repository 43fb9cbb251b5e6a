"""One-shot notices for the page that follows a change (post, redirect, get).

An owner's change answers with a redirect, so reloading the page never sends the form again;
what the change has to say (a secret it issued, shown exactly once) waits here for the next
page of the same session. Notices live in this process's memory only, keyed by a digest of the
session cookie: never in a URL, a cookie, the database or a log. The first page that takes a
notice removes it; one not taken within a few minutes is dropped.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# A notice waits this long for the page after the redirect.
TTL_SECONDS = 300.0
# At most this many notices waiting at once (the oldest go first).
MAX_WAITING = 10_000


@dataclass(frozen=True, slots=True)
class Notice:
    """What a change tells the next page: a line of news, and a secret shown once."""

    message: str = ""
    secret: str = ""
    secret_label: str = ""
    secret_note: str = ""


class Flashes:
    """Notices waiting for the next page of a session, each taken once.

    Examples
    --------
    >>> flashes = Flashes()
    >>> flashes.put("session-cookie", Notice(message="pat is disabled."))
    >>> flashes.take("session-cookie").message, flashes.take("session-cookie")
    ('pat is disabled.', None)
    """

    def __init__(
        self, ttl_seconds: float = TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl_seconds
        self._now = clock
        self._waiting: dict[str, tuple[float, Notice]] = {}
        self._lock = threading.Lock()

    def put(self, session_id: str, notice: Notice) -> None:
        """Keep ``notice`` for the next page of the session (replacing one not yet shown)."""
        now = self._now()
        with self._lock:
            for key in [k for k, (at, _) in self._waiting.items() if now - at > self.ttl]:
                del self._waiting[key]
            while len(self._waiting) >= MAX_WAITING:
                del self._waiting[next(iter(self._waiting))]
            self._waiting.pop(_key(session_id), None)
            self._waiting[_key(session_id)] = (now, notice)

    def take(self, session_id: str) -> Notice | None:
        """The session's waiting notice, removed; None when there is none (or it expired)."""
        with self._lock:
            found = self._waiting.pop(_key(session_id), None)
        if found is None or self._now() - found[0] > self.ttl:
            return None
        return found[1]


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()
