"""The current consent answer for one purpose from a customer's answers: shared by every service
that must ask before a use (consent, learning, prefill), without importing any of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cornerstore.storage.privacy_repositories import ConsentRecord


def granted(history: Sequence[ConsentRecord], purpose: str, defaults: Mapping[str, bool]) -> bool:
    """The newest answer for ``purpose`` in ``history`` (any order), else the default.

    >>> granted([], "profiling", {"profiling": True})
    True
    """
    latest: ConsentRecord | None = None
    for record in history:
        if record.purpose == purpose and (latest is None or record.at >= latest.at):
            latest = record
    return latest.granted if latest is not None else defaults.get(purpose, False)
