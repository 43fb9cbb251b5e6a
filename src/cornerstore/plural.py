"""Counts in words: "1 row", "2 rows", "1 person", "3 people"; the one home for the plural of a
count that staff or customers read (CLI lines, API messages, console pages, audit details)."""

from __future__ import annotations


def counted(
    n: int | float, singular: str, plural: str | None = None, *, grouped: bool = False
) -> str:
    """``n`` and the noun (or phrase) that agrees with it: ``singular`` for exactly one,
    ``plural`` (``singular`` + "s" unless given) otherwise; ``grouped`` writes thousands with
    commas.

    >>> counted(1, "row"), counted(0, "row"), counted(2, "row has", "rows have")
    ('1 row', '0 rows', '2 rows have')
    >>> counted(1, "person", "people"), counted(12345, "customer", grouped=True)
    ('1 person', '12,345 customers')
    """
    number = f"{n:,}" if grouped else f"{n}"
    return f"{number} {singular if n == 1 else plural or singular + 's'}"
