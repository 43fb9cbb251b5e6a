"""Which consent answer is the current one: the one rule every service that must ask before a
use applies (consent, learning, prefill, export), without importing any of them.

The newest answer for a purpose is the current one. Answers given at the same moment (two
categories of one message, or two messages stamped alike) cannot be ordered by time; of those,
the withdrawal wins, as it does within one message, so the answer never depends on the order
the answers were read in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cornerstore.privacy.model import ConsentRecord


def latest_answers(history: Iterable[ConsentRecord]) -> dict[str, ConsentRecord]:
    """The current answer per purpose in ``history`` (any order); purposes never answered are
    left out.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> noon = datetime(2026, 5, 1, 12, tzinfo=UTC)
    >>> def answer(granted, at):
    ...     return ConsentRecord("c1", "profiling", granted, at, "web", "shop", None)
    >>> later = noon.replace(hour=13)
    >>> latest_answers([answer(False, noon), answer(True, later)])["profiling"].granted
    True
    >>> latest_answers([answer(False, noon), answer(True, noon)])["profiling"].granted
    False
    """
    latest: dict[str, ConsentRecord] = {}
    for record in history:
        known = latest.get(record.purpose)
        if known is None or _supersedes(record, known):
            latest[record.purpose] = record
    return latest


def granted(history: Iterable[ConsentRecord], purpose: str, defaults: Mapping[str, bool]) -> bool:
    """The current answer for ``purpose`` in ``history`` (any order), else the default.

    >>> granted([], "profiling", {"profiling": True})
    True
    """
    latest = latest_answers(r for r in history if r.purpose == purpose).get(purpose)
    return latest.granted if latest is not None else defaults.get(purpose, False)


def _supersedes(record: ConsentRecord, known: ConsentRecord) -> bool:
    if record.at != known.at:
        return record.at > known.at
    return known.granted and not record.granted
