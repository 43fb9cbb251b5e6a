"""Hyperscan's candidate scan (``privacy/compiled_scan.py``) reports, for ASCII text, exactly the
lines the regular expressions of the candidate scan report (``_CANDIDATE_NUMBER`` and the words
of ``_ANY_WORD`` in the lower-cased text): the firewall dismisses the same strings with it or
without it, so it decides the same. Past its bound of matches it gives way to the regular
expressions; without Hyperscan they do all the work.
"""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cornerstore.privacy import compiled_scan, detect
from tests import factories
from tests.privacy.test_candidate_scan import GLUE, VALUES, WORDS

hyperscan = pytest.importorskip("hyperscan")

SCAN = compiled_scan.CompiledScan(hyperscan, detect._ANY_WORD_LIST)


def joined(strings: Sequence[str]) -> str:
    return "\n" + "\n".join(strings)


def lines_by_regex(strings: Sequence[str]) -> set[int]:
    """The candidate lines by the regular expressions, without the shape scans' extra hits."""
    return detect._candidates(list(range(len(strings))), strings, joined(strings), False)


ascii_pieces = st.sampled_from(
    [*VALUES, *WORDS, *(w.upper() for w in WORDS), *(w.title() for w in WORDS), *GLUE, "\n"]
).filter(str.isascii)
ascii_texts = st.lists(ascii_pieces, min_size=1, max_size=8).map("".join)


@settings(max_examples=500, derandomize=True)
@given(st.lists(ascii_texts, min_size=1, max_size=12))
@example(["GB82WEST12345698765432", "x-AB123456C", "ss#221.85.5328", "+441234567890"])
@example(["Kontonummer", "ab\n123456789", "12-34-56", "AB 12 34 56 C"])
def test_hyperscan_reports_the_lines_the_regular_expressions_report(strings: list[str]) -> None:
    assert SCAN.lines(strings, joined(strings)) == lines_by_regex(strings)


def shop_traffic(messages: int, seed: int = 7) -> list[dict[str, Any]]:
    """Orders and sign-ups of a small shop, ids and times like a web client's, a few with a
    phone, an account page or a card number in a note."""
    rng = random.Random(seed)
    agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0"
    notes = ["", "call 07700 900123", "/account", "card 4111 1111 1111 1111", "sort 12-34-56"]
    traffic = []
    for i in range(messages):
        user = f"u{rng.randrange(500):07d}"
        context = {"userAgent": agent, "ip": f"81.{rng.randrange(256)}.{rng.randrange(256)}.7"}
        if i % 10 == 0:
            message = factories.identify(user, email=f"{user}@example.com", phone="07700 900123")
        else:
            message = factories.track(
                "Order Completed",
                user,
                f"anon-{user}-{rng.getrandbits(32):08x}",
                f"2025-03-01T08:{i % 60:02d}:00.000Z",
                context,
                order_id=f"o-{rng.getrandbits(40):010x}",
                total=rng.randrange(1, 500) * 1.5,
                note=rng.choice(notes),
            )
        traffic.append(message)
    return traffic


def test_on_a_shops_traffic_hyperscan_reports_what_the_regular_expressions_report() -> None:
    traffic = shop_traffic(1_000)
    batches = [
        list(dict.fromkeys(s for m in traffic[i : i + 100] for s in _strings(m)))
        for i in range(0, len(traffic), 100)
    ]

    found = [SCAN.lines(b, joined(b)) for b in batches]

    assert found == [lines_by_regex(b) for b in batches]
    assert all(found)  # every batch has candidates: the comparison is not of empty sets


def test_text_of_many_matches_gives_way_to_the_regular_expressions() -> None:
    # Every digit starts a run of nine: a match each, where the regex scan stops at the first.
    strings = ["1 " * 3_000, "order 7", "card 4111 1111 1111 1111"]

    assert SCAN.lines(strings, joined(strings)) is None
    assert detect.strings_with_candidates(strings) == {0, 2}


def test_the_ascii_strings_of_a_batch_with_other_text_are_scanned_by_hyperscan_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scanned: list[list[str]] = []

    def spying(strings: Sequence[str], text: str) -> set[int] | None:
        scanned.append(list(strings))
        return SCAN.lines(strings, text)

    monkeypatch.setattr(detect, "_compiled_scan", lambda: spying)
    strings = ["Zoë 4111 1111 1111 1111", "card 4111 1111 1111 1111", "Mozilla/5.0", "PIN 12"]

    found = detect.strings_with_candidates(strings)

    assert (found, scanned) == ({0, 1, 3}, [["card 4111 1111 1111 1111", "Mozilla/5.0", "PIN 12"]])


def test_threads_scanning_at_once_each_get_the_whole_answer() -> None:
    strings = [
        f"ref {i} card 4111 1111 1111 1111" if i % 7 == 0 else f"sku-{i}" for i in range(500)
    ]
    expected = lines_by_regex(strings)
    answers: list[set[int] | None] = []

    def scan() -> None:
        for _ in range(50):
            answers.append(SCAN.lines(strings, joined(strings)))

    threads = [threading.Thread(target=scan) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == [expected] * 200


def test_without_hyperscan_there_is_no_compiled_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "hyperscan", None)  # import hyperscan raises ImportError

    assert compiled_scan.compiled_scan(detect._ANY_WORD_LIST) is None


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []
