"""Normalise company names for B2B accounts: "ACME Widgets Ltd." and "Acme Widgets Limited" are one
account.

cleanco knows the legal-form suffixes of many countries (Ltd, GmbH, S.A., Inc, ...); it is used
instead of a hand-written list of them.
"""

from __future__ import annotations

from functools import lru_cache

from cornerstore.identity.names import fold

_NOISE = frozenset({"the", "and", "co", "company"})


@lru_cache(maxsize=100_000)
def normalise_company(name: str | None) -> str | None:
    """A company name without its legal form, punctuation, "the", "and" or "& Co".

    >>> normalise_company("The ACME Widgets Ltd."), normalise_company("Acme & Co Widgets Limited")
    ('acme widgets', 'acme widgets')
    """
    if name is None:
        return None
    from cleanco import basename  # imported here: only B2B accounts need it

    stripped = basename(basename(name.replace("&", " and ")))
    words = [w for w in fold(stripped).replace("'", "").split() if w not in _NOISE]
    return " ".join(words) or None
