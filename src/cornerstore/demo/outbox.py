"""What the departments send: Spec messages, stamped, numbered and filed in time order.

Messages wait in the :class:`Outbox` under their half month until that half month is over, then
leave sorted by time; so only a few weeks of messages are held in memory at a time.
"""

from __future__ import annotations

import bisect
import random
import time
from dataclasses import dataclass
from typing import Any

from cornerstore.demo.cast import Person
from cornerstore.demo.clock import iso

# Write-key name of each department -> the touchpoint its messages come from.
SOURCES: dict[str, str] = {
    "till": "store",
    "web-shop": "web",
    "support-desk": "support",
    "billing": "billing",
    "shipping": "shipping",
    "surveys": "survey",
}


@dataclass(frozen=True)
class DemoMessage:
    """A Spec message as a department sends it, with the person it really is about.

    ``person`` is the ground truth for measuring identity resolution; it never enters the message.
    """

    source: str
    touchpoint: str
    message: dict[str, Any]
    person: str


def random_uuid(rng: random.Random) -> str:
    """A version-4 UUID drawn from ``rng`` (reproducible, unlike :func:`uuid.uuid4`).

    >>> random_uuid(random.Random(1))[14], random_uuid(random.Random(1))[19] in "89ab"
    ('4', True)
    """
    # Set the version (4) and variant (10xx) bits as uuid.UUID(version=4) does, in one step.
    bits = rng.getrandbits(128) & _UUID_CLEAR | _UUID_SET
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_SET = (0x4000 << 64) | (0x8000 << 48)


def track(
    ids: dict[str, str],
    event: str,
    properties: dict[str, Any],
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A track message; ``context`` is copied so messages never share a mutable part."""
    message: dict[str, Any] = {"type": "track", **ids, "event": event, "properties": properties}
    if context:
        message["context"] = {k: dict(v) if isinstance(v, dict) else v for k, v in context.items()}
    return message


def loyalty_card_ids(p: Person) -> list[dict[str, str]]:
    """The ``context.externalIds`` entry of the person's loyalty card."""
    return [
        {
            "id": str(p.loyalty_card),
            "type": "loyalty_card",
            "collection": "users",
            "encoding": "none",
        }
    ]


def some_email(p: Person, rng: random.Random) -> str:
    """The person's address as this form or system happens to spell it."""
    assert p.email is not None
    if p.email_variants and rng.random() < 0.3:
        return rng.choice(p.email_variants)
    return p.email


class Outbox:
    """Stamps each department's messages and files them under their half month.

    ``periods`` are (first ms, end ms, month of year) of the half months in [start, end).
    """

    def __init__(self, start: int, end: int, periods: list[tuple[int, int, int]]) -> None:
        self.start = start
        self.end = end
        self.period_starts = [p[0] for p in periods]
        self.buckets: dict[int, list[tuple[int, int, DemoMessage]]] = {}
        self.seq = 0
        self.counters: dict[str, int] = {}
        self.floor = start  # start of the period being lived

    def send(
        self, p: Person, rng: random.Random, source: str, ms: int, message: dict[str, Any]
    ) -> int:
        """Stamp ``message`` and file it under its period; returns ``ms`` for chaining."""
        if ms < self.end:
            # Nothing may land in a period already yielded; follow-ups always come later anyway.
            ms = max(ms, self.floor)
            message["messageId"] = random_uuid(rng)
            message["timestamp"] = iso(ms)
            number = bisect.bisect_right(self.period_starts, ms) - 1
            self.seq += 1
            demo = DemoMessage(source, SOURCES[source], message, p.pid)
            self.buckets.setdefault(number, []).append((ms, self.seq, demo))
        return ms

    def next_id(self, prefix: str, ms: int, width: int = 5) -> str:
        """Running numbers per prefix and month, as shop systems print them (W2511-00042)."""
        stamp = time.strftime("%y%m", time.gmtime(ms // 1000))
        key = prefix + stamp
        self.counters[key] = n = self.counters.get(key, 0) + 1
        return f"{prefix}{stamp}-{n:0{width}d}"

    def collect(self, number: int) -> list[DemoMessage]:
        """The messages of half month ``number`` in time order; they leave the outbox."""
        bucket = self.buckets.pop(number, [])
        bucket.sort(key=lambda entry: (entry[0], entry[1]))
        return [message for _, _, message in bucket]
