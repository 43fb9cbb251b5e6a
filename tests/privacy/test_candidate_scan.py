"""The quick candidate scan that dismisses most text before the detectors run never dismisses
text in which a detector finds something: whatever :func:`find` passes as plainly ordinary,
running every detector on it finds nothing but what the secret check looks for itself.

One trade-off is the firewall's by design (see ``detect._plainly_ordinary``): a context word
and the number it introduces are apart, so a single token with no space or colon and no nine
digits ("Geboren1985-03-12") is an id or a code, not a statement.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from cornerstore.privacy import bank, dates, detect
from cornerstore.privacy.detect import SECRET, _find_everything, _plainly_ordinary, find

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
def test_text_the_candidate_scan_dismisses_holds_nothing_a_detector_reports(text: str) -> None:
    apart = " " in text or ":" in text or detect._NINE_DIGITS.search(text) is not None
    if not apart or detect._DIGIT.search(text) is None or not _plainly_ordinary(text):
        return

    assert reported_beyond_secrets(text) == []


def test_ids_with_nine_digits_inside_are_dismissed_without_the_detectors() -> None:
    ids = ["anon-u-0000539-281c17f8", "o-123456789ab", "sku-1234-5678-9"]

    assert [_plainly_ordinary(i) for i in ids] == [True, True, True]
    assert [find(i) for i in ids] == [[], [], []]


def test_a_number_behind_its_context_word_is_found_next_to_a_glued_run() -> None:
    text = "ss#221.85.5328 ref-123456789"

    assert [(f.kind, text[f.start : f.end]) for f in find(text)] == [("national_id", "221.85.5328")]
