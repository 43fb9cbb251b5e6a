"""The demo's clock: UK local time, working days, opening hours and half months.

Times are UTC milliseconds (ints are much cheaper than datetimes for a few million messages). The
British Summer Time rule is coded here so the output does not depend on the machine's time-zone
database.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import random
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from cornerstore.demo.cast import DAY_MS

HOUR_MS = 3_600_000
MINUTE_MS = 60_000


@dataclass(frozen=True)
class Hours:
    """Local hours of the day with how likely each is (drawn by bisecting cumulative weights)."""

    hours: tuple[int, ...]
    cumulative: tuple[float, ...]

    @classmethod
    def of(cls, first: int, weights: tuple[float, ...]) -> Hours:
        return cls(tuple(range(first, first + len(weights))), tuple(itertools.accumulate(weights)))

    def draw(self, rng: random.Random) -> int:
        return self.hours[bisect.bisect(self.cumulative, rng.random() * self.cumulative[-1])]


# When the tills ring, people browse, vans knock and the desk answers (UK local hours).
STORE_HOURS = Hours.of(8, (2, 4, 5, 6, 8, 8, 6, 5, 5, 7, 6, 3))
WEB_HOURS = Hours.of(
    0, (1, 0.5, 0.3, 0.2, 0.2, 0.3, 1, 2, 3, 3, 3, 4, 5, 5, 4, 4, 4, 5, 6, 8, 9, 8, 6, 3)
)
CARRIER_HOURS = Hours.of(8, (3, 5, 6, 6, 6, 5, 5, 5, 4, 4, 3, 2, 1))
DESK_HOURS = Hours.of(9, (6, 8, 7, 5, 6, 6, 5, 4, 3))
DISPATCH_HOURS = Hours.of(14, (2, 3, 3, 2, 1))
STORE_WEEKDAYS = (1.0, 1.0, 1.0, 1.0, 1.1, 1.4, 0.6)  # Monday first; Sunday trading is short


def epoch_ms(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)


@functools.lru_cache(maxsize=4096)
def _day_text(day: int) -> str:
    return time.strftime("%Y-%m-%dT", time.gmtime(day * 86_400))


def iso(ms: int) -> str:
    """UTC milliseconds as the ISO-8601 text Segment clients send.

    >>> iso(1_700_000_000_123)
    '2023-11-14T22:13:20.123Z'
    """
    day, rest = divmod(ms, DAY_MS)
    seconds, millis = divmod(rest, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{_day_text(day)}{hour:02d}:{minute:02d}:{second:02d}.{millis:03d}Z"


def _last_sunday_1am_utc(year: int, month: int) -> int:
    last = date(year, month + 1, 1) - timedelta(days=1)
    last -= timedelta(days=(last.weekday() - 6) % 7)
    return epoch_ms(datetime(last.year, last.month, last.day, 1, tzinfo=UTC))


def uk_offset(ms: int) -> int:
    """Milliseconds UK local time is ahead of UTC at ``ms`` (British Summer Time or not).

    The rule (last Sundays of March and October, 01:00 UTC) is coded here so the output does not
    depend on the machine's time-zone database.
    """
    # Changes alternate start, end, start, ...: an odd count before ``ms`` means summer time.
    return HOUR_MS if bisect.bisect_right(_BST_CHANGES, ms) % 2 else 0


_BST_CHANGES = tuple(
    _last_sunday_1am_utc(year, month) for year in range(1971, 2200) for month in (3, 10)
)


def local_iso(ms: int) -> str:
    """UK local time with its offset, as a delivery driver's handset records it."""
    offset = uk_offset(ms)
    seconds = (ms + offset) // 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + (
        "+01:00" if offset else "+00:00"
    )


def weekday(ms: int) -> int:
    """Monday 0 .. Sunday 6 of the UK local day holding ``ms`` (1970-01-01 was a Thursday)."""
    return ((ms + uk_offset(ms)) // DAY_MS + 3) % 7


def at_hour(rng: random.Random, ms: int, hours: Hours) -> int:
    """A moment on the UK local day holding ``ms``, at an hour drawn from ``hours``."""
    offset = uk_offset(ms)
    day = (ms + offset) // DAY_MS * DAY_MS
    hour = hours.draw(rng)
    return day + hour * HOUR_MS + int(rng.random() * HOUR_MS) - offset


def next_day(ms: int) -> int:
    """The same time on the next working day (carriers and the warehouse rest on Sundays)."""
    ms += DAY_MS
    while weekday(ms) == 6:
        ms += DAY_MS
    return ms


def half_months(start: int, end: int) -> list[tuple[int, int, int]]:
    """(first ms, end ms, month of year) of each half month (1st-15th, 16th-end) in [start, end).

    Half months, not months, because a period's messages are held in memory until it is sorted.
    """
    out = []
    day = datetime.fromtimestamp(start / 1000, UTC)
    month = datetime(day.year, day.month, 1, tzinfo=UTC)
    while epoch_ms(month) < end:
        following = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)
        for a, b in ((month, month.replace(day=16)), (month.replace(day=16), following)):
            if epoch_ms(a) < end and epoch_ms(b) > start:
                out.append((max(start, epoch_ms(a)), min(end, epoch_ms(b)), month.month))
        month = following
    return out
