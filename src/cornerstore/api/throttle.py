"""Per-write-key token buckets. Throttled clients get 429 with Retry-After and retry later,
so nothing is lost (a 4xx other than 429 would make them drop the batch)."""

from __future__ import annotations

import math
import threading
import time

from cornerstore.errors import Throttled


class Throttle:
    """Allow ``rate`` messages a second per key with bursts up to ``burst``."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._buckets: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: int, n: int) -> None:
        """Spend ``n`` tokens of ``key``'s bucket or raise :class:`Throttled` with the wait.

        A batch larger than the burst passes once the bucket is full and leaves it in debt;
        otherwise it could never pass and its client would retry it forever.
        """
        if self.rate <= 0:
            return
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            needed = min(float(n), self.burst)
            if tokens < needed:
                self._buckets[key] = (tokens, now)
                wait = math.ceil((needed - tokens) / self.rate)
                raise Throttled(
                    f"over the intake rate of {self.rate:g} messages a second for this write key",
                    retry_after=max(1, wait),
                )
            self._buckets[key] = (tokens - n, now)
