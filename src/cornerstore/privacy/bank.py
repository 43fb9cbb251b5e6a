"""IBANs and bank account numbers in free text.

An IBAN counts when its check digits (mod 97) and its country's length and format hold, in any
case, compact or in groups of four joined by spaces or dashes, whatever word follows it. An
account number counts after the words that name one ("bank account", "account number",
"Kontonummer" ...); after "account" alone it is more likely a shop's customer number.
"""

from __future__ import annotations

import functools
import re

from stdnum import iban, numdb

from cornerstore.privacy.keywords import word_starts

# An IBAN in any case, compact or in groups of four joined by spaces or dashes. The last group
# may run into the next word ("... 7034 EUR"): the country's length decides where it ends.
# The match starts at the first check digit, so the regex engine skips quickly to digits; the
# country code is the two letters before it.
# What follows the first digit of an IBAN's start: the two letters before it start a word.
IBAN_AFTER_FIRST_DIGIT = r"(?<=[A-Za-z]{2}\d)(?<![\w-][A-Za-z]{2}\d)\d"
_IBAN = re.compile(
    r"\d" + IBAN_AFTER_FIRST_DIGIT + r"(?:[A-Za-z0-9]{11,30}(?![\w-])"
    r"|([ -])[A-Za-z0-9]{4}(?:\1[A-Za-z0-9]{4}){1,7}(?:\1[A-Za-z0-9]{1,4})?)"
)
_IBAN_FORMATS = numdb.get("iban")
_BBAN_LENGTHS = re.compile(r"(\d+)!")
# A bank account number after the words that name one, in English, German, French, Spanish,
# Dutch and Polish, matched where one of ACCOUNT_WORDS starts a word.
_BANK_ACCOUNT = re.compile(
    r"(?:bank[ -]?account(?:[ -]?(?:number|no\.?|nr\.?|#))?"
    r"|(?:account|acct\.?|a/c)[ -]?(?:number|no\.?|nr\.?|#)|kontonummer|konto[ -]?nr\.?"
    r"|num[\u00e9e]ro de compte(?: bancaire)?|n[\u00fau]mero de (?:la )?cuenta(?: bancaria)?"
    r"|rekeningnummer|numer konta(?: bankowego)?)"
    r"\W{0,4}(?:(?:is|was|ist|est|es|jest)\W{1,3})?"
    r"(?P<acct>\d(?:[ -]?\d){5,16})(?![\w-]|[.,]\d)",
    re.IGNORECASE,
)
# What text holding an account number has: six digits, and one of these words.
SIX_DIGITS = re.compile(r"\d(?:[ -]?\d){5}")
ACCOUNT_WORDS = (
    "bank", "account", "acct", "a/c", "konto", "num\u00e9ro", "numero", "n\u00famero", "rekening",
    "numer",
)  # fmt: skip


@functools.cache
def _iban_length(country: str) -> int | None:
    """The length of the country's IBANs, or None when it has none."""
    bban = _IBAN_FORMATS.info(country)[0][1].get("bban") if country.isalpha() else None
    return 4 + sum(int(n) for n in _BBAN_LENGTHS.findall(bban)) if bban else None


def find_ibans(text: str, starts: list[int] | None = None) -> list[tuple[int, int]]:
    """Return ``(start, end)`` spans of IBANs valid by mod 97 and their country's length and
    format.

    ``starts`` are the digits where one may start (``\\d`` then :data:`IBAN_AFTER_FIRST_DIGIT`
    match), in order, when the caller has found them in its own pass over the digits.

    The bank need not be known: python-stdnum's bank tables of a few countries are incomplete,
    so its country check is skipped.

    Examples
    --------
    >>> find_ibans("IBAN gb82-west-1234-5698-7654-32 BIC NWBKGB2L")
    [(5, 32)]
    """
    found: list[tuple[int, int]] = []
    for m in _IBAN.finditer(text) if starts is None else _matches_from(text, starts):
        start = m.start() - 2
        length = _iban_length(text[start : m.start()].upper())
        if length is None:
            continue
        if m[1] is None:  # compact: the whole word is the IBAN
            end = m.end() if m.end() - start == length else None
        else:  # grouped: it ends where the country's length is reached, at a group's end
            end = _end_after_characters(text, start, m.end(), length)
        if end is not None and iban.is_valid(text[start:end], check_country=False):
            found.append((start, end))
    return found


def _matches_from(text: str, starts: list[int]) -> list[re.Match[str]]:
    """What ``_IBAN.finditer(text)`` finds, trying only at ``starts``: each match from the first
    start after the previous match's end."""
    matches: list[re.Match[str]] = []
    end = 0
    for start in starts:
        if start >= end and (m := _IBAN.match(text, start)) is not None:
            matches.append(m)
            end = m.end()
    return matches


def _end_after_characters(text: str, start: int, end: int, count: int) -> int | None:
    """Where ``count`` letters and digits from ``start`` end, if a separator or the text's end
    follows them there (never inside a group)."""
    seen = 0
    for at in range(start, end):
        if text[at].isalnum():
            seen += 1
            if seen == count:
                after = text[at + 1 : at + 2]
                return at + 1 if not after.isalnum() else None
    return None


def find_account_numbers(
    text: str, lower: str, starts: list[int] | None = None
) -> list[tuple[int, int]]:
    """Return ``(start, end)`` spans of account numbers after "bank account", "account number"
    and their like; ``lower`` is ``text`` lower-cased with the same length, ``starts`` where
    :data:`ACCOUNT_WORDS` start a word in it, when the caller has them.

    Examples
    --------
    >>> text = "bank account 12345678, account 55512"
    >>> find_account_numbers(text, text.lower())
    [(13, 21)]
    """
    found: list[tuple[int, int]] = []
    for start in word_starts(lower, ACCOUNT_WORDS) if starts is None else starts:
        m = _BANK_ACCOUNT.match(text, start)
        if m and (not found or m.start("acct") >= found[-1][1]):
            found.append(m.span("acct"))
    return found
