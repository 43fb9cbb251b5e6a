"""The candidate scan of ASCII text by Hyperscan, when it is installed (a dependency on x86-64
and macOS, where its wheels exist).

:func:`~cornerstore.privacy.detect.strings_with_candidates` searches a batch's strings, joined
by line breaks, for what may start a sensitive value: a number where one can start, a national
insurance or IBAN start, a context word. The regex engine needs four searches for it; Hyperscan
matches all of them in one pass of compiled automata (measured on intake's traffic, about a
quarter of the regex scan's CPU). Its expressions are the branches of
:data:`~cornerstore.privacy.detect._CANDIDATE_NUMBER` with their look-behinds written as a
character before the match, and the words of :data:`~cornerstore.privacy.detect._ANY_WORD`
matched without case, which on ASCII text is what searching the lower-cased text finds: the
lines it reports are those the non-ASCII path of ``strings_with_candidates`` reports, never
fewer (tests/privacy/test_compiled_scan.py compares them).

Hyperscan reports every end of every match, where the regex scan jumps to the next line after
a hit: on text made of long digit runs that is a call a character, so past a bound the scan
stops and the caller falls back to the regular expressions. Without Hyperscan (Linux on ARM,
say), or on a processor it does not run on, the regular expressions do all the work.
"""

from __future__ import annotations

import bisect
import itertools
import re
import threading
from collections.abc import Callable, Sequence
from typing import Any

# A character that no number continues from (ASCII): not a word character, not "+./-".
_NOT_JOINED = rb"[^0-9A-Za-z_+./\-]"
_EXPRESSIONS = (
    # A run of nine digits where a number can start (_CANDIDATE_NUMBER's first branch).
    _NOT_JOINED + rb"\d(?:[ \-]?\d){8}",
    # An IBAN's start: two letters and two digits not glued to a word (its second branch).
    rb"[^0-9A-Za-z_\-][A-Za-z]{2}\d\d[ \-]?[A-Za-z0-9]{4}",
    # A national insurance number's start (its third branch).
    rb"[A-Z]{2} ?\d\d ?\d ?\d",
)
# Matches allowed a string before the scan gives up and the regular expressions take over.
_MATCHES_PER_STRING = 4
_MATCHES_AT_LEAST = 256


class CompiledScan:
    """The candidate lines of ASCII text, by one Hyperscan pass. Thread-safe: each thread
    scans with scratch space of its own."""

    def __init__(self, hyperscan: Any, words: Sequence[str]) -> None:
        ascii_words = [w for w in words if w.isascii()]  # the others cannot match ASCII text
        expressions = [*_EXPRESSIONS, *(re.escape(w).encode("ascii") for w in ascii_words)]
        flags = [0] * len(_EXPRESSIONS) + [hyperscan.HS_FLAG_CASELESS] * len(ascii_words)
        self._hyperscan = hyperscan
        self._database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._database.compile(
            expressions=expressions, ids=list(range(len(expressions))), flags=flags
        )
        self._scratch = hyperscan.Scratch(self._database)
        self._local = threading.local()

    def lines(self, strings: Sequence[str], text: str) -> set[int] | None:
        """The indexes of ``strings`` in which a candidate matches, given their ``text`` (ASCII,
        a line break before each string); ``None`` when there were too many matches to count
        them cheaply (the caller then scans by regular expressions)."""
        ends: list[int] = []
        bound = max(_MATCHES_AT_LEAST, _MATCHES_PER_STRING * len(strings))
        add = ends.append

        def matched(_id: int, _from: int, to: int, _flags: int, _context: object) -> bool:
            add(to)
            return len(ends) > bound  # True stops the scan

        try:
            self._database.scan(
                text.encode("ascii"), match_event_handler=matched, scratch=self._thread_scratch()
            )
        except self._hyperscan.ScanTerminated:
            return None
        if not ends:
            return set()
        # No expression matches a line break, so a match's last character is on its line.
        starts = list(itertools.accumulate((len(s) + 1 for s in strings), initial=1))
        return {bisect.bisect_right(starts, end - 1) - 1 for end in ends}

    def _thread_scratch(self) -> Any:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = self._scratch.clone()
        return scratch


def compiled_scan(words: Sequence[str]) -> Callable[[Sequence[str], str], set[int] | None] | None:
    """The Hyperscan candidate scan for ``words``, or ``None`` when Hyperscan is not installed
    or does not run on this machine."""
    try:
        import hyperscan
    except ImportError:
        return None
    try:
        return CompiledScan(hyperscan, words).lines
    except hyperscan.HyperscanError:  # e.g. a processor without the instructions it needs
        return None
