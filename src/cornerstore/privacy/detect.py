"""Find payment cards, IBANs, bank accounts, national IDs and dates of birth in text and fields.

Regular expressions find candidates and python-stdnum's checksums confirm them, rather than a
named-entity model such as Presidio or spaCy, for three reasons:

- speed: intake scans every message, and a regex pass over ordinary text runs at tens of MB/s
  where a language model manages a few hundred KB/s;
- no model download: ``import cornerstore`` stays light and works offline;
- checksums: Luhn, the IBAN mod-97 and the SSN/SIN/ABA rules reject most random digit runs, so
  order, invoice and tracking numbers are left alone; a statistical tagger cannot tell them apart.

Numbers that need a checksum alone to be believed are reported only after a context word: an SSN
unless written 123-45-6789, a Canadian SIN (written like a nine-digit phone number, 512 345 678),
a routing number, and a bank account number ("account number 12345678"). A number inside a
longer run of letters, digits or dashes is never reported. Dates count only next to a birthday
phrase (:mod:`cornerstore.privacy.dates`), passwords, PINs and security answers only when a
secret word states them (:mod:`cornerstore.privacy.stated_secrets`); IBANs and account numbers
are found by :mod:`cornerstore.privacy.bank`.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from stdnum import luhn
from stdnum.ca import sin
from stdnum.us import itin, rtn, ssn

from cornerstore.json_input import MAX_JSON_DEPTH, TooDeep
from cornerstore.privacy import dates, stated_secrets
from cornerstore.privacy.bank import (
    ACCOUNT_WORDS,
    IBAN_AFTER_FIRST_DIGIT,
    SIX_DIGITS,
    find_account_numbers,
    find_ibans,
)
from cornerstore.privacy.dates import find_birth_dates, lower_same_length
from cornerstore.privacy.keywords import keyword_pattern, word_starts_of
from cornerstore.privacy.stated_secrets import find_stated_secrets, may_state_secret

PAYMENT_CARD = "payment_card"
IBAN = "iban"
BANK_ACCOUNT = "bank_account"
NATIONAL_ID = "national_id"
SECRET = "secret"
BIRTH_DATE = "birth_date"

LABELS = {
    PAYMENT_CARD: "[removed: payment card]",
    IBAN: "[removed: IBAN]",
    BANK_ACCOUNT: "[removed: bank account]",
    NATIONAL_ID: "[removed: national ID]",
    SECRET: "[removed: secret]",
    BIRTH_DATE: "[removed: birth date]",
}


@dataclass(frozen=True)
class Finding:
    """A sensitive value at ``text[start:end]``; the value itself is never kept."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class FieldFinding:
    """A sensitive value found at ``path`` (``traits.address.note``, ``items[2].comment``), and
    what was done: the field ``dropped``, or the value ``redacted`` inside its text."""

    kind: str
    path: str
    action: str = "dropped"


# Every kind contains a digit, so text without one is skipped at C speed.
_DIGIT = re.compile(r"\d")
# What every number finding needs somewhere: nine digits with at most single spaces or dashes
# between (cards, SSN, SIN, routing numbers), an IBAN start (two letters starting a word, two
# digits, four letters or digits: not "ce76e9f4" inside an id), a NINO start (two capitals, six
# digits: "NT 10.0" in a user agent is not one), or a birthday / sort-code word. Most strings in
# a message (names, ids, URLs, user agents, small numbers) have none of these and are passed in
# two regex searches: one whose every branch starts at a digit, and one whose every branch
# starts with a letter written out, so that the regex engine skips to digits, and to the
# letters b, d and s, instead of trying every branch at every character (a quarter faster than
# one alternation of both; benchmarks/bench_firewall_scan.py).
_CANDIDATE_NUMBER = re.compile(
    r"\d(?:(?<![\w+./-]\d)(?:[ -]?\d){8}"
    r"|\d(?<=[A-Za-z]{2}\d\d)(?<![\w-][A-Za-z]{2}\d\d)[ -]?[A-Za-z0-9]{4}"
    r"|(?:(?<=[A-Z]{2}\d)|(?<=[A-Z]{2} \d))\d ?\d ?\d)"
)
# The words in lower, capitalised and upper case: a quarter faster than (?i:...).
_DOB = r"(?:[oO][bB]|\.? ?[oO]\.? ?[bB])"
_CANDIDATE_PHRASE = re.compile(
    r"b(?:irth|orn)|B(?:irth|orn|IRTH|ORN)|d" + _DOB + "|D" + _DOB + r"|s(?:ort|ORT)|S(?:ort|ORT)"
)
# Rarer context words, looked for in the lower-cased text only when the pattern above found
# nothing (with the other context words of find, _CONTEXT_WORD): an alternation of them in the
# patterns above, case-insensitive, would slow every scan threefold.
_CANDIDATE_WORDS = (
    "nino", "insurance", "ni no", "ni number", "geburt", "geboren", "nacimiento", "naissance",
    "n\u00e9", "nascita", "geboorte",
    # Context words of numbers written with dots (SSN 221.85.5328, SIN 130.692.544).
    "ssn", "social", "itin", "tax", "sin", "nas", "routing", "aba", "rtn", "transit",
)  # fmt: skip
# Whole values of these shapes are never sensitive: UUIDs (message ids) and ISO-8601 times.
_SAFE_SHAPE = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d{1,9})?)?(?:Z|[+-]\d\d:?\d\d)?)?"
)
# Runs of digit groups joined by single spaces or dashes. The first digit comes first so the
# regex engine can skip quickly to digits; the lookbehind then rejects digits that continue a
# word, a dash-joined code, a decimal or a phone number (+44 ...). Possessive quantifiers stop
# backtracking from reporting the back half of a longer run.
# The same pass over the digits finds where an IBAN or a NINO may start (a digit after two
# letters, which no run has; a NINO's digits may also be a run after "AB "): a scan of long text
# for digits costs as much as all that is done at them. Neither kind of start lies inside the
# other's match.
_NUMBER_STARTS = re.compile(
    r"\d(?:(?<![\w+./-]\d)(?P<run>\d*+(?:[ -]\d++)*+)|(?=" + IBAN_AFTER_FIRST_DIGIT + "))"
)
# After a run: its last group continues into a word, a code or a decimal.
_GLUED = re.compile(r"[\w-]|\.\d")
_GROUP = re.compile(r"\d+")
# UK National Insurance number: no D, F, I, Q, U, V in the prefix and no O second.
# The six digits come in pairs, in threes (AB 123 456 C) or together.
_NINO_DIGITS = r"(?:\d{2} ?\d{2} ?\d{2}|\d{3} \d{3})"
_NINO = re.compile(
    r"[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z](?<![\w-][A-Z]{2}) ?" + _NINO_DIGITS + r" ?[A-D](?![\w-])"
)
_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})
_SORT_CODE = re.compile(
    r"sort[ -]?code\W{0,5}(?P<sc>\d{2}([- ]?)\d{2}\2\d{2})[ ,;:]{1,3}"
    r"(?:(?:account|acct|a/c)(?: ?(?:number|no\.?|#))?\W{0,3})?(?P<acct>\d{8})(?![\w-])",
    re.IGNORECASE,
)
_CONTEXT_BEFORE = 30
_SSN_WORDS = ("ssn", "ss#", "social security", "itin", "taxpayer", "tax id")
_SSN_CONTEXT = re.compile(r"\b(?:" + "|".join(map(re.escape, _SSN_WORDS)) + ")")
# An address number ("Suite 680-36-4022", "Apt 123 45 6789") is never an SSN.
_ADDRESS_CONTEXT = re.compile(
    r"\b(?:suite|ste|apt|apartment|unit|flat|room|floor|building|bldg|box|po|no)\W{0,3}$"
)
_SIN_WORDS = ("sin", "social insurance", "nas")
_SIN_CONTEXT = re.compile(r"\b(?:" + "|".join(_SIN_WORDS) + r")\b")
_ROUTING_WORDS = ("routing", "aba", "rtn", "transit")
_ROUTING_CONTEXT = re.compile(r"\b(?:" + "|".join(_ROUTING_WORDS) + r")\b")
_MAX_GROUPS = 6
_CONTEXT_WORDS = (stated_secrets.KEYWORDS, ACCOUNT_WORDS, dates.KEYWORDS)
_INSIDE = dates.KEYWORDS_INSIDE


def _card_issuer_fits(digits: str) -> bool:
    """Whether the number starts with a card issuer's prefix and has a length it issues."""
    n = len(digits)
    two, three, four = int(digits[:2]), int(digits[:3]), int(digits[:4])
    # 13-digit Visa and Maestro are no longer issued and would catch EAN-13 barcodes (400...,
    # 50...), so they are not accepted.
    if digits[0] == "4":  # Visa
        return n in (16, 19)
    if 51 <= two <= 55 or 2221 <= four <= 2720:  # Mastercard
        return n == 16
    if two in (34, 37):  # American Express
        return n == 15
    if four == 6011 or two == 65 or 644 <= three <= 649 or 3528 <= four <= 3589:  # Discover, JCB
        return 16 <= n <= 19
    if two in (36, 38, 39) or 300 <= three <= 305:  # Diners Club
        return 14 <= n <= 19
    if two == 62:  # UnionPay
        return 16 <= n <= 19
    if two == 50 or 56 <= two <= 69:  # Maestro
        return 16 <= n <= 19
    return False


def _is_card(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and _card_issuer_fits(digits) and luhn.is_valid(digits)


def _nine_digit_kind(
    digits: str, shape: tuple[int, ...], seps: set[str], context: str
) -> str | None:
    """Kind of a nine-digit number written as ``shape`` groups joined by ``seps``, given the
    words before it.

    Only an SSN or ITIN in its own form (123-45-6789) stands without a context word, and not
    after an address word. A SIN is written like a nine-digit phone number (512 345 678), so it
    needs "SIN" or "social insurance" before it, as routing numbers need "routing".
    """
    if (
        shape == (3, 2, 4)
        and seps == {"-"}
        and (ssn.is_valid(digits) or itin.is_valid(digits))
        and not _ADDRESS_CONTEXT.search(context)
    ):
        return NATIONAL_ID
    # Behind a context word, any grouping of the nine digits: "SSN 221-855328", "routing
    # 0210-0002-1".
    if _SSN_CONTEXT.search(context) and (ssn.is_valid(digits) or itin.is_valid(digits)):
        return NATIONAL_ID
    if _SIN_CONTEXT.search(context) and sin.is_valid(digits):
        return NATIONAL_ID
    if _ROUTING_CONTEXT.search(context) and rtn.is_valid(digits):
        return BANK_ACCOUNT
    return None


def _stands_apart(text: str, groups: list[tuple[int, int]], i: int, j: int, seps: set[str]) -> bool:
    """Whether digit groups ``groups[i:j]`` are a number of their own within a longer run.

    Not when a dash joins them to a neighbour (``12345-4111...`` is one code), nor when they are
    the middle of a longer number grouped the same way (USPS ``9400 1000 ...``): a group of the
    same length on either side continues them. A number after a differently grouped one stands
    apart (``order 12345 4111 1111 1111 1111``). A number at the front may be followed by more
    groups after a space: a card and its expiry or CVV.
    """
    before = text[groups[i - 1][1]] if i > 0 else None
    after = text[groups[j - 1][1]] if j < len(groups) else None
    if "-" in (before, after):
        return False

    def size(k: int) -> int:
        return groups[k][1] - groups[k][0]

    if before in seps and size(i - 1) == size(i):
        return False
    return i == 0 or after not in seps or size(j) != size(j - 1)


def _scan_run(text: str, lower: str, start: int, end: int) -> list[Finding]:
    """Findings in one run of digit groups, longest first from each group on."""
    groups = [m.span() for m in _GROUP.finditer(text, start, end)]
    # A last group glued to what follows is part of another token; the groups before it may
    # still be a number (a card, a space, then "0A").
    usable = len(groups) - 1 if _GLUED.match(text, end) else len(groups)
    # Digits before each group: only nine digits or a card's 13 to 19 can be a number.
    before = [0, *itertools.accumulate(b - a for a, b in groups)]
    found: list[Finding] = []
    i = 0
    while i < usable:
        for j in range(min(usable, i + _MAX_GROUPS), i, -1):
            count = before[j] - before[i]
            if count != 9 and not 13 <= count <= 19:
                continue
            part = groups[i:j]
            seps = {text[a[1]] for a in part[:-1]}
            if len(seps) > 1 or not _stands_apart(text, groups, i, j, seps):
                continue
            digits = "".join(text[a:b] for a, b in part)
            if _is_card(digits):
                kind: str | None = PAYMENT_CARD
            elif len(digits) == 9:
                context = lower[max(0, part[0][0] - _CONTEXT_BEFORE) : part[0][0]]
                kind = _nine_digit_kind(digits, tuple(b - a for a, b in part), seps, context)
            else:
                kind = None
            if kind:
                found.append(Finding(kind, part[0][0], part[-1][1]))
                i = j
                break
        else:
            i += 1
    return found


# Behind a context word: numbers written with dots, and NINOs in lower case.
# The first digit comes first so the engine skips quickly to digits (as in _NUMBER_STARTS).
_DOTTED = re.compile(r"\d(?<![\w.]\d)\d\d\.\d{2,3}\.\d{3,4}(?![\w.]|\.\d)")
# Found with str.find (a regex scan of long text for them costs more than all else).
_NINO_WORDS = ("nino", "ni no", "ni number", "ni#", "national insurance")
# Every word after which find reports a number (sort codes, birth dates, dotted and lower-case
# national numbers): what text is tested for, lower-cased, where the few capitalisations in
# _CANDIDATE_PHRASE are not enough. A word may be glued to its number ("Geboren1985-03-12",
# "ninoab123456c"), so text of one token is tested too.
_CONTEXT_WORDS_OF_NUMBERS = tuple(
    dict.fromkeys(
        (
            "sort",
            *dates.KEYWORDS,
            *_NINO_WORDS,
            *_SSN_WORDS,
            *_SIN_WORDS,
            *_ROUTING_WORDS,
            *_CANDIDATE_WORDS,
        )
    )
)
# One pass each, grouped by first letter (keywords.keyword_pattern): faster than a str.find per
# word on the short strings of a message.
_CONTEXT_WORD = keyword_pattern(_CONTEXT_WORDS_OF_NUMBERS)
_ACCOUNT_WORD = keyword_pattern(ACCOUNT_WORDS)
# Any word a detector or the candidate scan looks for, a secret's included.
_ANY_WORD_LIST = tuple(
    dict.fromkeys((*_CONTEXT_WORDS_OF_NUMBERS, *ACCOUNT_WORDS, *stated_secrets.KEYWORDS))
)
_ANY_WORD = keyword_pattern(_ANY_WORD_LIST)
# Up to a few characters of punctuation ("NI no.: ") between the word and the number.
_NINO_IN_WINDOW = re.compile(r"(?<![\w-])[A-Z]{2} ?" + _NINO_DIGITS + r" ?[A-D](?![\w-])")
_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _dotted(text: str, lower: str, start: int) -> list[Finding]:
    """A number written with dots (221.85.5328) at ``start``, believed after a context word."""
    m = _DOTTED.match(text, start)
    if m is None:
        return []
    digits = m.group().replace(".", "")
    context = lower[max(0, start - _CONTEXT_BEFORE) : start]
    kind = _nine_digit_kind(digits, (9,), set(), context) if len(digits) == 9 else None
    return [Finding(kind, *m.span())] if kind else []


def _with_context(text: str, lower: str) -> list[Finding]:
    """National Insurance numbers in lower case, believed after a context word."""
    found = []
    for word in _NINO_WORDS:
        at = lower.find(word)
        while at != -1:
            end = at + len(word)
            if at == 0 or not lower[at - 1].isalnum():
                window = text[end : end + 24].translate(_UPPER)
                nino = _NINO_IN_WINDOW.search(window)
                if nino and _NINO.fullmatch(nino.group()) and _is_nino(nino.group()):
                    start = end + nino.start()
                    found.append(Finding(NATIONAL_ID, start, start + len(nino.group())))
            at = lower.find(word, end)
    return found


def _nino_at(text: str, start: int) -> list[Finding]:
    """A National Insurance number at ``start`` (its digits after the two letters there)."""
    m = _NINO.match(text, start) if start >= 0 else None
    return [Finding(NATIONAL_ID, *m.span())] if m and _is_nino(m[0]) else []


def _sort_codes(text: str, lower: str) -> list[Finding]:
    """Sort codes with their account numbers, tried only where "sort" is: a case-insensitive
    regex scan of long text costs more than all the rest of :func:`find`."""
    found = []
    at = lower.find("sort")
    while at != -1:
        m = _SORT_CODE.match(text, at)
        if m:
            found.append(Finding(BANK_ACCOUNT, m.start("sc"), m.end("acct")))
        at = lower.find("sort", m.end() if m else at + 1)
    return found


def _is_nino(value: str) -> bool:
    compact = value.replace(" ", "")
    return compact[:2] not in _NINO_BAD_PREFIXES


def _plainly_ordinary(text: str) -> bool:
    """True when ``text``, which has a digit, cannot hold anything :func:`find` reports (the
    common case). Callers test for a digit first, inline: every kind has one, and that C-speed
    scan alone dismisses most text."""
    if _CANDIDATE_NUMBER.search(text) is not None or _CANDIDATE_PHRASE.search(text) is not None:
        return False
    if _SAFE_SHAPE.fullmatch(text):
        return True
    folded = text.lower()
    if _CONTEXT_WORD.search(folded) is not None:
        return False
    # A bank account number after its name has six digits or more.
    return SIX_DIGITS.search(text) is None or _ACCOUNT_WORD.search(folded) is None


def _all_plainly_ordinary(strings: list[str]) -> bool:
    """True when none of ``strings`` can hold anything :func:`find` reports: the candidate scan
    run once over them all, a line each, instead of string by string.

    A string stands in the joined text as it is, after a line break where it had no character
    before it, which every look-behind of the patterns treats alike (a line break is no letter,
    digit or joining sign); a match across two lines, or a word found in a string without a
    digit, only sends the strings down the slower path one by one. UUIDs and ISO times, which
    :func:`find` passes whole, are left out: a UUID may start like an IBAN.
    """
    text = "\n".join([s for s in strings if _SAFE_SHAPE.fullmatch(s) is None])
    return (
        _CANDIDATE_NUMBER.search(text) is None
        and _CANDIDATE_PHRASE.search(text) is None
        and _ANY_WORD.search(text.lower()) is None
    )


# The candidate scan of ASCII text at a fraction of its cost: the text's shape, each character
# replaced by its class with bytes.translate, is searched for patterns that start with a fixed
# string, which the regex engine finds as fast as str.find, where the patterns of
# _CANDIDATE_NUMBER are tried at every digit. Each matches wherever _CANDIDATE_NUMBER's branch
# does (a character the branch's look-behind refuses before a number becomes a space, as does
# every character that is no letter, digit or joining sign; tests/privacy/test_message_scan.py
# checks it), and a little more.
def _shape_table(classes: dict[str, str]) -> bytes:
    table = bytearray(b" " * 256)
    for members, shape in classes.items():
        for c in members:
            table[ord(c)] = ord(shape)
    return bytes(table)


# Digits 0, capitals A, other word characters a, "+./" a dot, "-" and " " themselves.
_SHAPE = _shape_table(
    {
        string.digits: "0",
        string.ascii_uppercase: "A",
        string.ascii_lowercase + "_": "a",
        "+./": ".",
        "-": "-",
        " ": " ",
    }
)
# For IBAN starts: letters a, digits 0, "_" and "-" themselves (they glue a word), " " a space.
_IBAN_SHAPE = _shape_table(
    {string.digits: "0", string.ascii_letters: "a", "_": "_", "-": "-", " ": " "}
)
# (pattern, shape table, where the candidate's string is: the match's start plus this).
_SHAPE_SCANS = (
    (re.compile(rb" 0(?:[ -]?0){8}"), _SHAPE, 1),  # a run of nine digits
    (re.compile(rb"AA ?00 ?0 ?0"), _SHAPE, 0),  # a NINO's start
    (re.compile(rb" aa00[ -]?[a0]{4}"), _IBAN_SHAPE, 1),  # an IBAN's start
)


def strings_with_candidates(strings: Sequence[str]) -> set[int]:
    """Return the indexes of ``strings`` that pass the candidate scan: :func:`find` finds
    nothing in the others.

    The strings are searched joined by line breaks, one search per pattern and string holding
    a candidate: no pattern matches across a line break, and at a line's start each sees what it
    sees at the start of the string alone. ASCII text, the common case, is searched by its shape
    (``_SHAPE_SCANS``) for numbers.

    Examples
    --------
    >>> sorted(strings_with_candidates(["Mozilla/5.0", "card 4111 1111 1111 1111", "PIN: 12"]))
    [1, 2]
    """
    # A line break before each string, so that every number's start has a character before it.
    text = "\n" + "\n".join(strings)
    if text.isascii():
        return _ascii_candidates(list(range(len(strings))), strings, text)
    found: set[int] = set()
    for is_ascii in (True, False):
        group = [i for i, s in enumerate(strings) if s.isascii() is is_ascii]
        if group:
            texts = [strings[i] for i in group]
            group_text = "\n" + "\n".join(texts)
            if is_ascii:
                found |= _ascii_candidates(group, texts, group_text)
            else:
                found |= _candidates(group, texts, group_text, False)
    return found


def _ascii_candidates(indexes: list[int], strings: Sequence[str], text: str) -> set[int]:
    """:func:`_candidates` of ASCII ``strings``: by Hyperscan when it is installed and the
    text does not match too often for it, otherwise by the regular expressions."""
    compiled = _compiled_scan()
    lines = None if compiled is None else compiled(strings, text)
    if lines is None:
        return _candidates(indexes, strings, text, True)
    return {indexes[line] for line in lines}


@functools.cache
def _compiled_scan() -> Callable[[Sequence[str], str], set[int] | None] | None:
    """Hyperscan's candidate scan of ASCII text (:mod:`cornerstore.privacy.compiled_scan`),
    built at first use; ``None`` without Hyperscan."""
    from cornerstore.privacy.compiled_scan import compiled_scan

    return compiled_scan(_ANY_WORD_LIST)


def _candidates(indexes: list[int], strings: Sequence[str], text: str, is_ascii: bool) -> set[int]:
    """:func:`strings_with_candidates` of ``strings`` (at ``indexes`` of the caller's), given
    their ``text``, a line break before each."""
    lower = text.lower()
    if len(lower) != len(text):  # a letter whose lower case is longer (İ) shifts the offsets
        return set(indexes)
    lines = _Lines(text, strings)
    if is_ascii:
        data = text.encode("ascii")
        shapes = {table: data.translate(table) for table in (_SHAPE, _IBAN_SHAPE)}
        for pattern, table, shift in _SHAPE_SCANS:
            lines.matching(pattern, shapes[table], shift)
    else:
        lines.matching(_CANDIDATE_NUMBER, text, 0)
    # _CANDIDATE_PHRASE is left out: its words serve to report something only as context
    # words, all of which _ANY_WORD holds; it is there to dismiss single strings early.
    lines.matching(_ANY_WORD, lower, 0)
    return {indexes[line] for line in lines.hits}


class _Lines:
    """The lines of a text of strings, each after a line break, where patterns match."""

    def __init__(self, text: str, strings: Sequence[str]) -> None:
        self.hits: set[int] = set()
        self._text = text
        # Where each line starts, worked out only when a string holds a line break itself;
        # otherwise the line breaks before a position are counted.
        self._starts: list[int] | None = None
        if text.count("\n") != len(strings):
            lengths = (len(s) + 1 for s in strings)
            self._starts = [*itertools.accumulate(lengths, initial=1)]

    def matching(self, pattern: re.Pattern[Any], subject: Any, shift: int) -> None:
        """Add the lines where ``pattern`` matches ``subject`` (the text or its shape, of the
        same length); a match's line is where its start plus ``shift`` is."""
        at = counted = breaks = 0
        while (m := pattern.search(subject, at)) is not None:
            position = m.start() + shift
            if self._starts is None:
                breaks += self._text.count("\n", counted, position)
                counted = position
                line = breaks - 1
                end = self._text.find("\n", position)
                next_start = len(self._text) + 1 if end == -1 else end + 1
            else:
                line = bisect.bisect_right(self._starts, position) - 1
                next_start = self._starts[line + 1]
            self.hits.add(line)
            at = next_start - shift  # on to the next line: one candidate is enough


def find(text: str) -> list[Finding]:
    """Return the sensitive values in ``text``, ordered by position and not overlapping.

    Examples
    --------
    >>> find("card 4111 1111 1111 1111, order 1234567890123")
    [Finding(kind='payment_card', start=5, end=24)]
    """
    # The digit test first and inline: it alone dismisses most text, at C speed.
    if _DIGIT.search(text) is None or _plainly_ordinary(text) or _SAFE_SHAPE.fullmatch(text):
        # Only a stated secret can be here; most text has no secret word and is passed quickly.
        if not may_state_secret(text):
            return []
        spans = find_stated_secrets(text, lower_same_length(text))
        return [Finding(SECRET, a, b) for a, b in spans]
    return _find_everything(text)


def _find_everything(text: str) -> list[Finding]:
    """What :func:`find` returns, every detector run: the slow path, for text the candidate
    scan (:func:`_plainly_ordinary`) could not dismiss."""
    lower = lower_same_length(text)
    # Where the context words of secrets, bank accounts and birth dates start: one pass for all.
    secret_starts, account_starts, birth_starts = word_starts_of(lower, _CONTEXT_WORDS, _INSIDE)
    found = [Finding(SECRET, a, b) for a, b in find_stated_secrets(text, lower, secret_starts)]
    # Before the runs: a number after "bank account" is one, even when it passes as a card (of
    # findings with the same span, the first is kept).
    found += [
        Finding(BANK_ACCOUNT, a, b) for a, b in find_account_numbers(text, lower, account_starts)
    ]
    lettered_starts = []
    for m in _NUMBER_STARTS.finditer(text):
        if m["run"] is None:
            lettered_starts.append(m.start())
            continue
        if text.startswith(" ", m.start() - 1):
            found += _nino_at(text, m.start() - 3)
        length = m.end() - m.start()
        if length >= 9:
            found += _scan_run(text, lower, m.start(), m.end())
        elif length == 3 and text.startswith(".", m.end()):
            found += _dotted(text, lower, m.start())
    found += [Finding(IBAN, a, b) for a, b in find_ibans(text, lettered_starts)]
    for start in lettered_starts:
        found += _nino_at(text, start - 2)
    found += _sort_codes(text, lower)
    found += [Finding(BIRTH_DATE, a, b) for a, b in find_birth_dates(text, lower, birth_starts)]
    found += _with_context(text, lower)
    return _without_overlaps(found)


def _without_overlaps(found: list[Finding]) -> list[Finding]:
    """Keep the earliest, then longest, of findings that share characters."""
    kept: list[Finding] = []
    for f in sorted(found, key=lambda f: (f.start, -f.end)):
        if not kept or f.start >= kept[-1].end:
            kept.append(f)
    return kept


def redact(text: str, findings: list[Finding]) -> str:
    """Replace each finding's span by a label such as ``[removed: payment card]``.

    Examples
    --------
    >>> text = "IBAN GB82 WEST 1234 5698 7654 32 please"
    >>> redact(text, find(text))
    'IBAN [removed: IBAN] please'
    """
    parts: list[str] = []
    position = 0
    for f in sorted(findings, key=lambda f: f.start):
        if f.start < position:
            continue
        parts += [text[position : f.start], LABELS[f.kind]]
        position = f.end
    parts.append(text[position:])
    return "".join(parts)


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[^a-z0-9]+")

_SECRET_WORDS = frozenset(
    {"password", "passwd", "pwd", "passphrase", "secret", "cvv", "cvv2", "cvc", "cvc2", "csc"}
)
_SECRET_NAMES = frozenset(
    {
        "pin", "pin_number", "card_pin", "atm_pin", "apikey", "api_key", "private_key",
        "secret_key", "access_key", "security_code", "card_security_code", "security_answer",
        "security_question_answer", "otp", "one_time_password",
    }
)  # fmt: skip
# "token" decides only as the last word: ``access_token`` and ``token`` are credentials, while
# ``token_count``, ``token_type`` or ``max_tokens`` are harmless bookkeeping.
_SECRET_LAST_WORDS = frozenset({"token", "apikey"})
# Spec fields whose names read as a secret but are not one: ``context.device.token`` is the
# device's push-notification token (https://segment.com/docs/connections/spec/common/#context).
# Only the exact path is excused; its value is still scanned like any other.
SPEC_FIELDS_NOT_SECRET = frozenset({"context.device.token"})
_BIRTH_WORDS = frozenset({"birthday", "birthdate", "dob", "dateofbirth"})
_BIRTH_NAMES = frozenset({"birth_date", "birth_day", "date_of_birth"})
_CARD_NAMES = frozenset(
    {
        "pan", "card_number", "card_no", "card_num", "cardnumber", "cc_number", "cc_num",
        "cc_no", "ccnumber", "credit_card", "creditcard", "credit_card_number", "debit_card",
        "debit_card_number", "primary_account_number",
    }
)  # fmt: skip
_NATIONAL_ID_WORDS = frozenset({"ssn", "nino", "itin", "sin"})
_NATIONAL_ID_NAMES = frozenset(
    {
        "social_security_number", "social_security_no", "national_insurance_number",
        "national_insurance_no", "ni_number", "social_insurance_number", "national_id",
        "national_id_number", "passport", "passport_number", "passport_no", "tax_id", "taxpayer_id",
        "tax_number", "tin",
    }
)  # fmt: skip
_BANK_NAMES = frozenset(
    {
        "account_number", "account_no", "acct_number", "acct_no", "bank_account",
        "bank_account_number", "routing_number", "aba", "aba_number", "sort_code", "sortcode",
    }
)  # fmt: skip


def _words(name: str) -> list[str]:
    return [w for w in _SEPARATORS.split(_CAMEL.sub("_", name).lower()) if w]


@functools.lru_cache(maxsize=8192)
def sensitive_field(name: str) -> str | None:
    """Return the kind of value a field called ``name`` holds, or None when it is ordinary.

    camelCase, snake_case, kebab-case and spaces are read alike. A name matches when it is one of
    the known names or contains a telling word (``user_password``, ``customer_ssn``); ``pin_code``
    (a postal code in India) and ``token_count`` are left alone.

    Examples
    --------
    >>> sensitive_field("dateOfBirth"), sensitive_field("pin_code"), sensitive_field("apiToken")
    ('birth_date', None, 'secret')
    """
    words = _words(name)
    if not words:
        return None
    joined = "_".join(words)
    tails = {"_".join(words[i:]) for i in range(len(words))}
    if _SECRET_WORDS & set(words) or tails & _SECRET_NAMES or words[-1] in _SECRET_LAST_WORDS:
        return SECRET
    if _BIRTH_WORDS & set(words) or any(n in joined for n in _BIRTH_NAMES):
        return BIRTH_DATE
    if tails & _CARD_NAMES:
        return PAYMENT_CARD
    if "iban" in words:
        return IBAN
    if _NATIONAL_ID_WORDS & set(words) or tails & _NATIONAL_ID_NAMES:
        return NATIONAL_ID
    if tails & _BANK_NAMES:
        return BANK_ACCOUNT
    return None


def _number_text(value: int | float) -> str | None:
    if isinstance(value, int):
        return str(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e20 else None


def _scan_value(
    value: Any,
    path: str,
    out: list[FieldFinding],
    drop: frozenset[str],
    depth: int,
    ordinary: set[str],
    pending: list[str] | None,
) -> tuple[bool, Any]:
    """Return ``(keep, new_value)`` for one value, adding what was found to ``out``.

    ``depth`` is how many objects and lists ``value`` sits in, itself included when it is one.
    ``ordinary`` holds strings known to hold nothing. Strings not in it are added to
    ``pending`` and kept, for the caller to judge them together, or scanned here when
    ``pending`` is None.
    """
    if isinstance(value, dict | list) and depth > MAX_JSON_DEPTH:
        raise TooDeep()
    if isinstance(value, dict):
        return True, _scan_dict(value, path, out, drop, depth, ordinary, pending)
    if isinstance(value, list):
        kept = []
        for i, item in enumerate(value):
            keep, new = _scan_value(item, f"{path}[{i}]", out, drop, depth + 1, ordinary, pending)
            if keep:
                kept.append(new)
        return True, kept
    if isinstance(value, str):
        if value in ordinary:
            return True, value
        if pending is not None:
            pending.append(value)
            return True, value
        findings = find(value)
        if not findings:
            ordinary.add(value)
            return True, value
        kinds = list(dict.fromkeys(f.kind for f in findings))
        stripped = value.strip()
        lead = len(value) - len(value.lstrip())
        whole = findings[0].start == lead and findings[0].end == lead + len(stripped)
        if whole or drop.intersection(kinds):
            out.extend(FieldFinding(kind, path, "dropped") for kind in kinds)
            return False, None
        out.extend(FieldFinding(kind, path, "redacted") for kind in kinds)
        return True, redact(value, findings)
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = _number_text(value)
        findings = find(text) if text else []
        for kind in dict.fromkeys(f.kind for f in findings):
            out.append(FieldFinding(kind, path))
        return not findings, value
    return True, value


# The path of a finding in a key of the message itself, which has no parent to name.
TOP_LEVEL = "(top level)"


def _kinds_in_key(name: str, ordinary: set[str]) -> list[str]:
    """The kinds :func:`find` finds in the key ``name``, as for a string value; a key holding
    nothing is added to ``ordinary``, so each distinct key is judged once a batch."""
    if (_DIGIT.search(name) is None or _plainly_ordinary(name)) and not may_state_secret(name):
        ordinary.add(name)
        return []
    findings = find(name)
    if not findings:
        ordinary.add(name)
    return list(dict.fromkeys(f.kind for f in findings))


def _scan_dict(
    obj: dict[Any, Any],
    prefix: str,
    out: list[FieldFinding],
    drop: frozenset[str],
    depth: int,
    ordinary: set[str],
    pending: list[str] | None,
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in obj.items():
        name = key if type(key) is str else str(key)
        # A key is judged like a value first ({"4111 1111 1111 1111": true}): the entry goes
        # and the finding names the parent, so the key's text is nowhere in it.
        if name not in ordinary:
            if pending is not None:
                pending.append(name)
            elif key_kinds := _kinds_in_key(name, ordinary):
                out.extend(FieldFinding(kind, prefix or TOP_LEVEL) for kind in key_kinds)
                continue
        kind = sensitive_field(name)
        if kind is not None:
            path = f"{prefix}.{name}" if prefix else name
            if not (kind == SECRET and path in SPEC_FIELDS_NOT_SECRET):
                out.append(FieldFinding(kind, path))
                continue
        # Fast paths for the common leaves: intake runs this on every message.
        value_type = type(value)
        if value_type is str:
            # The same user agent, library, page and product names come in most messages of a
            # batch: each distinct string is scanned once.
            if value in ordinary:
                result[name] = value
                continue
            if pending is not None:
                pending.append(value)
                result[name] = value
                continue
            if (_DIGIT.search(value) is None or _plainly_ordinary(value)) and not may_state_secret(
                value
            ):
                ordinary.add(value)
                result[name] = value
                continue
        # Numbers of eight digits or fewer hold nothing :func:`find` reports, and a float that
        # is not a whole number is never scanned (:func:`_number_text`).
        if (
            (value_type is int and -100_000_000 < value < 100_000_000)
            or value is None
            or value_type is bool
            or (value_type is float and (not value.is_integer() or -1e8 < value < 1e8))
        ):
            result[name] = value
            continue
        path = f"{prefix}.{name}" if prefix else name
        if value_type is dict:  # straight down, skipping _scan_value's type tests
            if depth + 1 > MAX_JSON_DEPTH:
                raise TooDeep()
            result[name] = _scan_dict(value, path, out, drop, depth + 1, ordinary, pending)
            continue
        keep, new = _scan_value(value, path, out, drop, depth + 1, ordinary, pending)
        if keep:
            result[name] = new
    return result


def scan_mapping(
    obj: dict[Any, Any], drop: frozenset[str] = frozenset(), ordinary: set[str] | None = None
) -> tuple[dict[str, Any], list[FieldFinding]]:
    """Return a copy of ``obj`` without sensitive values, and where each one was found.

    A field whose name is sensitive is dropped, whatever its value. Strings are scanned: one that
    is entirely a sensitive value is dropped, one that contains some is redacted, unless a kind
    found in it is in ``drop`` (then the whole field goes). Numbers are scanned as their decimal
    text and dropped when they match. A key is judged as a string value is: one that holds a
    sensitive value (``{"4111 1111 1111 1111": true}``) is dropped with its value, the finding
    naming the parent (:data:`TOP_LEVEL` at the top), never the key. ``obj`` is not changed. A
    value nested deeper than :data:`~cornerstore.json_input.MAX_JSON_DEPTH` raises
    :class:`~cornerstore.json_input.TooDeep`: every walk over customer JSON starts here.

    ``ordinary`` is a set of strings known to hold nothing, shared by the calls for one batch
    of messages: each string found to hold nothing is added to it and not scanned again. It
    lives no longer than the batch, so no customer text is kept beyond it.

    Examples
    --------
    >>> scan_mapping({"password": "x", "note": "card 4111111111111111 thanks"})
    ({'note': 'card [removed: payment card] thanks'}, [FieldFinding(kind='secret', \
path='password', action='dropped'), FieldFinding(kind='payment_card', path='note', \
action='redacted')])
    """
    ordinary = set() if ordinary is None else ordinary
    # First the names and numbers, the strings gathered and judged together: most messages
    # hold nothing in any string. Should any string hold a candidate, all are scanned one by
    # one, in a second walk.
    pending: list[str] = []
    found: list[FieldFinding] = []
    result = _scan_dict(obj, "", found, drop, 1, ordinary, pending)
    if not pending or _all_plainly_ordinary(pending):
        ordinary.update(pending)
        return result, found
    found = []
    return _scan_dict(obj, "", found, drop, 1, ordinary, None), found
