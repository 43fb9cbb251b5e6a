"""The firewall's shared passes find what a pass per detector finds: one pass over the context
words of all word lists, one over the digits for runs and IBAN starts; and the quick test for
secret words never turns away text that states a secret."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from cornerstore.privacy import bank, dates, stated_secrets
from cornerstore.privacy.bank import find_ibans
from cornerstore.privacy.dates import lower_same_length
from cornerstore.privacy.detect import _NINO, _NINO_BAD_PREFIXES, _NUMBER_STARTS, find
from cornerstore.privacy.keywords import word_starts, word_starts_of

WORD_LISTS = (stated_secrets.KEYWORDS, bank.ACCOUNT_WORDS, dates.KEYWORDS)
ALL_WORDS = [w for words in WORD_LISTS for w in words]

# Text made of the context words themselves, in any case, glued to each other or to letters,
# digits and separators: where one pass over all lists could differ from a pass per list.
GLUE = [" ", ":", "=", "#", "-", "/", ".", "\n", "x", "re", "4921", "12345678", '"', "is", "my"]
pieces = st.sampled_from(
    [*ALL_WORDS, *(w.upper() for w in ALL_WORDS), *(w.title() for w in ALL_WORDS), *GLUE]
)
texts = st.lists(pieces, max_size=12).map("".join)


def starts_per_list(lower: str) -> list[list[int]]:
    return [
        word_starts(lower, stated_secrets.KEYWORDS),
        word_starts(lower, bank.ACCOUNT_WORDS),
        word_starts(lower, dates.KEYWORDS, inside=dates.KEYWORDS_INSIDE),
    ]


def test_one_pass_finds_each_lists_words_where_they_start_a_word() -> None:
    lower = "my pin is 4921, bank account 12345678, date of birth: rebirth, dob"

    assert word_starts_of(lower, WORD_LISTS, dates.KEYWORDS_INSIDE) == [
        [3],
        [16, 21],
        [47, 56, 63],
    ]


@given(texts)
def test_one_pass_over_all_word_lists_finds_what_a_pass_per_list_finds(text: str) -> None:
    lower = lower_same_length(text)

    assert word_starts_of(lower, WORD_LISTS, dates.KEYWORDS_INSIDE) == starts_per_list(lower)


def test_no_context_word_starts_a_word_inside_another_lists_word() -> None:
    inside_another = [
        (word, other)
        for i, words in enumerate(WORD_LISTS)
        for word in words
        for j, others in enumerate(WORD_LISTS)
        if i != j
        for other in others
        if any(
            other.startswith(word, at) and not other[at - 1].isalpha()
            for at in range(1, len(other))
        )
    ]

    assert inside_another == []


@given(texts)
def test_text_turned_away_by_the_quick_secret_test_states_no_secret(text: str) -> None:
    if not stated_secrets.may_state_secret(text):
        assert stated_secrets.find_stated_secrets(text, lower_same_length(text)) == []


@given(texts)
def test_the_quick_secret_test_keeps_every_text_find_reports_a_secret_in(text: str) -> None:
    if any(f.kind == "secret" for f in find(text)):
        assert stated_secrets.may_state_secret(text)


# IBANs in several forms, and what may hide one: digit runs, letters glued to digits.
iban_pieces = st.sampled_from(
    [
        "GB82 WEST 1234 5698 7654 32", "gb82-west-1234-5698-7654-32", "DE89370400440532013000",
        "GB82", "WEST", "1234", "5698", "DE89", "4111 1111 1111 1111", "x", "AB", " ", "-", "\n",
        "EUR", "7", "12", "XX00",
    ]
)  # fmt: skip


@given(st.lists(iban_pieces, max_size=10).map("".join))
# An IBAN start inside the match of a look-alike before it is not tried again.
@example("XX00 GB82 WEST 1234 5698 7654 32")
def test_ibans_found_from_the_shared_pass_over_digits_are_those_found_alone(text: str) -> None:
    starts = [m.start() for m in _NUMBER_STARTS.finditer(text) if m["run"] is None]

    assert find_ibans(text, starts) == find_ibans(text)


def test_a_card_after_an_iban_is_found_as_well() -> None:
    text = "IBAN GB82 WEST 1234 5698 7654 32, card 4111 1111 1111 1111"

    assert [(f.kind, text[f.start : f.end]) for f in find(text)] == [
        ("iban", "GB82 WEST 1234 5698 7654 32"),
        ("payment_card", "4111 1111 1111 1111"),
    ]


# NINOs with and without spaces, look-alikes, and what may glue to them; no IBAN country and no
# context word, so nothing else is found.
nino_pieces = st.sampled_from(
    [
        "AB 12 34 56 C", "AB123456C", "CE 123 456 A", "ZZ 12 34 56 A", "AB", "CE", "x", "C", " ",
        "-", "12", "123", "\n", "(",
    ]
)  # fmt: skip


@given(st.lists(nino_pieces, max_size=10).map("".join))
def test_ninos_found_from_the_shared_pass_over_digits_are_those_a_pass_of_their_own_finds(
    text: str,
) -> None:
    alone = [m.span() for m in _NINO.finditer(text) if m[0][:2] not in _NINO_BAD_PREFIXES]

    assert [(f.start, f.end) for f in find(text) if f.kind == "national_id"] == alone


def test_every_sort_code_with_its_account_is_found_in_any_case() -> None:
    text = "Sort code 12-34-56 12345678; resort code 4; SORT-CODE 65 43 21, account no. 87654321"

    assert [(f.kind, text[f.start : f.end]) for f in find(text)] == [
        ("bank_account", "12-34-56 12345678"),
        ("bank_account", "65 43 21, account no. 87654321"),
    ]
