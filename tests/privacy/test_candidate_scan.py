"""The quick candidate scan that dismisses most text before the detectors run never dismisses
text in which a detector finds something: whatever :func:`find` passes as plainly ordinary,
running every detector on it finds nothing but what the secret check looks for itself, even
when a context word is glued to its number ("Geboren1985-03-12"). The strings of a message are
judged together (``detect._all_plainly_ordinary``) and, within a batch, each distinct string
once: what that finds is what scanning each string alone finds.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cornerstore.privacy import bank, dates, detect, stated_secrets
from cornerstore.privacy.detect import (
    SECRET,
    FieldFinding,
    _find_everything,
    _plainly_ordinary,
    find,
    scan_mapping,
)

# Sensitive values in their usual spellings, and the look-alikes around them in intake traffic:
# ids, codes and numbers glued to letters, dashes and dots.
VALUES = [
    "4111 1111 1111 1111", "4111111111111111", "4111-1111-1111-1111", "378282246310005",
    "221-85-5328", "221 85 5328", "221855328", "221.85.5328", "130 692 544", "130.692.544",
    "021000021", "0210-0002-1", "GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432",
    "DE89370400440532013000", "AB123456C", "ab 12 34 56 c", "12-34-56", "12345678",
    "1985-03-12", "12/03/1985", "12.03.1985", "12 03 1985", "0000539-281c17f8", "123456789",
]  # fmt: skip
WORDS = [
    *bank.ACCOUNT_WORDS, *dates.KEYWORDS, *detect._NINO_WORDS, *detect._SSN_WORDS,
    *detect._SIN_WORDS, *detect._ROUTING_WORDS, "sort code", "account number", "bank account",
    "kontonummer", "date of birth", "card", "order", "anon-u-",
]  # fmt: skip
GLUE = [" ", "", ":", ": ", "#", "-", ".", "/", "+", "x", "u-", "_", "no.", "is "]
pieces = st.sampled_from(
    [*VALUES, *WORDS, *(w.upper() for w in WORDS), *(w.title() for w in WORDS), *GLUE]
)
texts = st.lists(pieces, min_size=1, max_size=8).map("".join)


def reported_beyond_secrets(text: str) -> list[str]:
    return [f.kind for f in _find_everything(text) if f.kind != SECRET]


@settings(max_examples=3000, derandomize=True)
@given(texts)
@example("ss#221.85.5328-ref123456789")
@example("kontonummer123456789")
@example("acct.no.123456789")
@example("NI#ab123456c/x123456789")
@example("bIrThDaY:12-03-1985/x123456789")
@example("Geboren1985-03-12")
@example("ninoab123456c")
@example("acct#12345678")
def test_text_the_candidate_scan_dismisses_holds_nothing_a_detector_reports(text: str) -> None:
    if detect._DIGIT.search(text) is None or not _plainly_ordinary(text):
        return

    assert reported_beyond_secrets(text) == []


def test_ids_with_nine_digits_inside_are_dismissed_without_the_detectors() -> None:
    ids = ["anon-u-0000539-281c17f8", "o-123456789ab", "sku-1234-5678-9"]

    assert [_plainly_ordinary(i) for i in ids] == [True, True, True]
    assert [find(i) for i in ids] == [[], [], []]


def test_a_number_behind_its_context_word_is_found_next_to_a_glued_run() -> None:
    text = "ss#221.85.5328 ref-123456789"

    assert [(f.kind, text[f.start : f.end]) for f in find(text)] == [("national_id", "221.85.5328")]


@pytest.mark.parametrize(
    "text",
    [
        "Geboren1985-03-12",
        "GEBOREN12.03.1985",
        "bIrThDaY1985-03-12",
        "n\u00e91985-03-12",
        "nacimiento12/03/1985",
        "Geburtsdatum19850312",
    ],
)
def test_a_birthday_glued_to_its_date_is_found(text: str) -> None:
    assert [f.kind for f in find(text)] == ["birth_date"]


# Messages of a batch: the strings above in a few fields beside the ordinary strings of a shop's
# traffic, some repeated across messages, and secrets stated in words.
STRINGS = st.sampled_from(
    [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "analytics.js", "/p/sku-0001",
        "2025-03-01T08:00:00.037Z", "81.23.45.6", "lib-000000123", "Ada.Smith.3@gmail.com",
        "6f1c2a9e-47b0-4c1e-9d3a-0b5e8f7a6c21", "ab12cdef-0000-4000-8000-000000000000",
        "my PIN is 4921", "pwd=Winter#77", "shipping", "o-00ab3f9c21", "07700 900123",
        *stated_secrets.KEYWORDS,
    ]
)  # fmt: skip
values = st.one_of(texts, STRINGS, st.integers(), st.floats(allow_nan=False))
messages = st.dictionaries(
    st.sampled_from(
        ["note", "userAgent", "url", "ip", "comment", "id", "n", "4111 1111 1111 1111", "AB123456C"]
    ),
    st.one_of(values, st.lists(values, max_size=3), st.dictionaries(st.just("x"), values)),
    max_size=6,
)


def scanned_string_by_string(message: dict[str, Any]) -> tuple[dict[str, Any], list[FieldFinding]]:
    """What scan_mapping returns when every string is scanned on its own."""
    found: list[FieldFinding] = []
    return detect._scan_dict(message, "", found, frozenset(), 1, set(), None), found


@settings(max_examples=1500, derandomize=True)
@given(st.lists(messages, min_size=1, max_size=6))
def test_a_batch_scanned_together_finds_what_each_string_alone_finds(
    batch: list[dict[str, Any]],
) -> None:
    ordinary: set[str] = set()

    together = [scan_mapping(message, ordinary=ordinary) for message in batch]

    assert together == [scanned_string_by_string(message) for message in batch]
