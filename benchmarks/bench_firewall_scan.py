"""The firewall's candidate scan: what dismisses most strings of a message before the detectors
run, measured on the string values of ``--messages`` Segment messages of a small shop's traffic
(``benchmarks.workload``), the strings intake scans.

Rows, each the time per string, all on the same strings in the same run:

- *every detector*: :func:`~cornerstore.privacy.detect._find_everything` on each string with a
  digit, no candidate scan at all: what the scan saves;
- *find*: the firewall as intake runs it (the digit test, the candidate scan, the detectors on
  what is left);
- *find, broad runs*: find of the previous release, whose candidate regex took any nine digits
  as a candidate, also inside an id such as ``anon-u-0000539-281c17f8``, so every such id ran
  every detector; *candidate regex, broad runs* is that regex alone;
- *candidate: one alternation*: today's candidates (a nine-digit run only where a number can
  start) in one alternation, as the previous release wrote it;
- *candidate: numbers, phrases*: today's scan, two searches whose branches start alike (all at
  a digit, all at a written letter), so the regex engine skips to where a branch can start;
- *charset-led regex*: the alternation behind one leading character class, another way to let
  the engine skip (it does not help: digits and capitals are everywhere in user agents);
- *secret words: regex* against *secret words: pyahocorasick*: the secret-word test on the
  lower-cased string, one regex of the words grouped by first letter against an Aho-Corasick
  automaton of the same words (measured when ``pyahocorasick`` is installed; the ``bench``
  extra);
- *candidates of a batch, joined*: :func:`~cornerstore.privacy.detect.strings_with_candidates`
  over the distinct strings of each batch of ``--batch`` messages, per string, every string at
  once: by *regular expressions* (ASCII text searched by its shape) and, when Hyperscan is
  installed, by *Hyperscan* (one pass of all the candidate patterns,
  :mod:`cornerstore.privacy.compiled_scan`).

A second table is the firewall per message, as intake runs it on batches of ``--batch``
messages, in CPU time: ``scan_mapping`` message by message with a set of clean strings shared by
the batch (how intake called it before), against ``scan_messages`` over the whole batch (the
batch entry point, which judges each distinct string of the batch once and hands clean messages
back untouched), with the regular expressions and, when it is installed, with Hyperscan. All find
the same (tests/privacy/test_message_scan.py, tests/privacy/test_compiled_scan.py).

    python -m benchmarks.bench_firewall_scan
    python -m benchmarks.bench_firewall_scan --messages 20000 --repeat 5

Times are the process's CPU time (``time.process_time``), best of ``--repeat`` passes: the
machine may be shared.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from benchmarks import workload
from benchmarks.common import console, machine, print_table, write_result
from cornerstore.privacy import detect, stated_secrets
from cornerstore.privacy.dates import lower_same_length
from cornerstore.privacy.detect import (
    _CANDIDATE_NUMBER,
    _CANDIDATE_PHRASE,
    _DIGIT,
    _find_everything,
    find,
    scan_mapping,
    strings_with_candidates,
)
from cornerstore.privacy.message_scan import scan_messages

_WORDS = r"|[bB](?:irth|orn)|BIRTH|BORN|[dD](?:[oO][bB]|\.? ?[oO]\.? ?[bB])|[sS](?:ort|ORT)"
# The candidate regex of the previous release: any nine digits, glued to a word or not.
BROAD_CANDIDATE = re.compile(
    r"\d(?:[ -]?\d){8}|\d\d(?<=[A-Za-z]{2}\d\d)(?<![\w-][A-Za-z]{2}\d\d)[ -]?[A-Za-z0-9]{4}"
    r"|[A-Z]{2} ?\d\d ?\d ?\d" + _WORDS
)
# Today's candidates in one alternation, as the previous release wrote it.
ONE_ALTERNATION = re.compile(
    r"\d(?<![\w+./-]\d)(?:[ -]?\d){8}"
    r"|\d\d(?<=[A-Za-z]{2}\d\d)(?<![\w-][A-Za-z]{2}\d\d)[ -]?[A-Za-z0-9]{4}"
    r"|[A-Z]{2} ?\d\d ?\d ?\d" + _WORDS
)


def candidate(text: str) -> bool:
    """Today's candidate scan: a search for numbers, then one for phrases."""
    return _CANDIDATE_NUMBER.search(text) is not None or _CANDIDATE_PHRASE.search(text) is not None


# The alternatives behind one leading character class.
CHARSET_LED = re.compile(
    r"[\dA-Zbds](?:(?<=\d)(?<![\w+./-]\d)(?:[ -]?\d){8}"
    r"|(?<=\d)\d(?<=[A-Za-z]{2}\d\d)(?<![\w-][A-Za-z]{2}\d\d)[ -]?[A-Za-z0-9]{4}"
    r"|(?<=[A-Z])[A-Z] ?\d\d ?\d ?\d|(?<=[bB])(?:irth|orn)|(?<=B)(?:IRTH|ORN)"
    r"|(?<=[dD])(?:[oO][bB]|\.? ?[oO]\.? ?[bB])|(?<=[sS])(?:ort|ORT))"
)


def strings_of(messages: list[dict[str, Any]]) -> list[str]:
    """Every string value in ``messages``, in order."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            found.append(value)

    for message in messages:
        walk(message)
    return found


def _plainly_ordinary_broad(text: str) -> bool:
    """``detect._plainly_ordinary`` of the previous release, with the broad candidate regex."""
    if BROAD_CANDIDATE.search(text) is not None:
        return False
    if " " not in text and ":" not in text:
        return True
    if detect._SAFE_SHAPE.fullmatch(text):
        return True
    folded = text.lower()
    if any(word in folded for word in detect._CANDIDATE_WORDS):
        return False
    if detect.SIX_DIGITS.search(text) is None:
        return True
    return not any(word in folded for word in detect.ACCOUNT_WORDS)


def find_broad(text: str) -> list[detect.Finding]:
    """:func:`find` of the previous release: every id with nine digits ran every detector."""
    if (
        _DIGIT.search(text) is None
        or _plainly_ordinary_broad(text)
        or detect._SAFE_SHAPE.fullmatch(text)
    ):
        if not stated_secrets.may_state_secret(text):
            return []
        spans = stated_secrets.find_stated_secrets(text, lower_same_length(text))
        return [detect.Finding(detect.SECRET, a, b) for a, b in spans]
    return _find_everything(text)


def _keyword_automaton() -> Callable[[str], bool] | None:
    try:
        import ahocorasick
    except ImportError:
        return None
    automaton = ahocorasick.Automaton()
    for word in stated_secrets.KEYWORDS:
        automaton.add_word(word, word)
    automaton.make_automaton()

    def has_keyword(lower: str) -> bool:
        return next(automaton.iter(lower), None) is not None

    return has_keyword


@contextlib.contextmanager
def _regular_expressions_only(on: bool) -> Iterator[None]:
    """While ``on``, the candidate scan runs without Hyperscan (its regular expressions)."""
    if not on:
        yield
        return
    saved = detect._compiled_scan
    detect._compiled_scan = lambda: None  # type: ignore[assignment]
    try:
        yield
    finally:
        detect._compiled_scan = saved  # type: ignore[assignment]


def ns_per_string(check: Callable[[str], object], strings: list[str], repeat: int) -> float:
    """CPU time, best of ``repeat`` passes: the machine is shared, and the fastest pass is the
    least disturbed one."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for text in strings:
            check(text)
        best = min(best, time.process_time() - start)
    return best / len(strings) * 1e9


def cpu_seconds(work: Callable[[], object], repeat: int) -> float:
    """The least CPU time of ``repeat`` runs of ``work``."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return best


def message_by_message(batches: list[list[dict[str, Any]]]) -> None:
    """The firewall as intake ran it before the batch entry point."""
    for batch in batches:
        ordinary: set[str] = set()
        for message in batch:
            scan_mapping(message, frozenset(), ordinary)


def batch_at_once(batches: list[list[dict[str, Any]]]) -> None:
    for batch in batches:
        scan_messages(batch)


def distinct_strings(batches: list[list[dict[str, Any]]]) -> list[list[str]]:
    """The distinct strings of each batch, as the batch scan judges them."""
    return [list(dict.fromkeys(strings_of(batch))) for batch in batches]


def run(messages: int, repeat: int, batch: int = 100) -> dict[str, Any]:
    traffic = workload.traffic(messages, workload.people(2_000), run="scan")
    strings = strings_of(traffic)
    with_digit = [s for s in strings if _DIGIT.search(s)]
    lowered = [s.lower() for s in strings]
    digits, words = "strings with a digit", "all strings, lower-cased"
    scans: list[tuple[str, str, Callable[[str], object], list[str]]] = [
        ("every detector", digits, _find_everything, with_digit),
        ("find, broad runs", digits, find_broad, with_digit),
        ("find", digits, find, with_digit),
        ("find, broad runs (again)", digits, find_broad, with_digit),
        ("candidate regex, broad runs", digits, BROAD_CANDIDATE.search, with_digit),
        ("candidate: one alternation", digits, ONE_ALTERNATION.search, with_digit),
        ("candidate: numbers, phrases", digits, candidate, with_digit),
        ("charset-led regex", digits, CHARSET_LED.search, with_digit),
        ("secret words: regex", words, stated_secrets._KEYWORD.search, lowered),
    ]
    automaton = _keyword_automaton()
    if automaton is not None:
        scans.append(("secret words: pyahocorasick", words, automaton, lowered))
    rows = [(name, over, ns_per_string(scan, data, repeat)) for name, over, scan, data in scans]
    batches = workload.batches(traffic, batch)
    per_batch = distinct_strings(batches)
    compiled = detect._compiled_scan() is not None
    distinct = sum(map(len, per_batch))
    joined_ways = [("regular expressions", True)] + ([("Hyperscan", False)] if compiled else [])
    for way, regex_only in joined_ways:
        with _regular_expressions_only(regex_only):
            joined = cpu_seconds(lambda: [strings_with_candidates(b) for b in per_batch], repeat)
        rows.append(
            (
                f"candidates of a batch, joined: {way}",
                "distinct strings a batch",
                joined / distinct * 1e9,
            )
        )
    ways = [
        ("scan_mapping, message by message", message_by_message, True),
        ("scan_messages, a batch at once", batch_at_once, True),
    ]
    if compiled:
        ways.append(("scan_messages, a batch at once, Hyperscan", batch_at_once, False))
    per_message = []
    for name, way, regex_only in ways:
        with _regular_expressions_only(regex_only):
            seconds = cpu_seconds(functools.partial(way, batches), repeat)
        per_message.append((name, seconds / messages))
    broad = sum(1 for s in with_digit if BROAD_CANDIDATE.search(s))
    narrow = sum(1 for s in with_digit if candidate(s))
    return {
        "machine": machine(),
        "messages": messages,
        "strings": len(strings),
        "strings_with_digit": len(with_digit),
        "candidates_broad": broad,
        "candidates": narrow,
        "pyahocorasick": automaton is not None,
        "hyperscan": compiled,
        "rows": [{"scan": n, "over": o, "ns_per_string": round(t)} for n, o, t in rows],
        "batch": batch,
        "message_rows": [
            {
                "way": name,
                "us_per_message": round(seconds * 1e6, 2),
                "messages_per_cpu_second": round(1 / seconds),
                "cost_against_scan_mapping": round(seconds / per_message[0][1], 3),
            }
            for name, seconds in per_message
        ],
        "load_average": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=10_000, help="messages (%(default)s)")
    p.add_argument("--repeat", type=int, default=3, help="passes, best kept (%(default)s)")
    p.add_argument("--batch", type=int, default=100, help="messages a batch (%(default)s)")
    args = p.parse_args(argv)
    result = run(args.messages, args.repeat, args.batch)
    print_table(
        f"Firewall candidate scan: {result['strings']:,} strings of {args.messages:,} messages "
        f"({result['strings_with_digit']:,} with a digit; {result['candidates_broad']:,} pass the "
        f"broad scan, {result['candidates']:,} today's)",
        ["scan", "over", "ns/string"],
        [(r["scan"], r["over"], r["ns_per_string"]) for r in result["rows"]],
    )
    print_table(
        f"Firewall per message, batches of {args.batch} (CPU time; load average "
        f"{result['load_average']:.1f})",
        ["way", "µs/message", "messages/CPU-s", "cost against scan_mapping"],
        [
            (
                r["way"],
                r["us_per_message"],
                f"{r['messages_per_cpu_second']:,}",
                r["cost_against_scan_mapping"],
            )
            for r in result["message_rows"]
        ],
    )
    console.print(f"wrote {write_result('firewall_scan', result)}")
    return result


if __name__ == "__main__":
    main()
