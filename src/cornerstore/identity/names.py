"""Normalise people's names for matching: parts, titles, nicknames and diminutives.

nameparser splits a full name into title, first, middle, last and suffix ("Dr. Robert J. Smith
Jr."); the nickname list shipped in ``data/nicknames.csv`` (see ``data/README.md`` for its source
and licence) tells that Bob, Rob and Bobby are Robert. Results are cached: the same names arrive
again and again.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files

_NOT_LETTERS = re.compile(r"[^a-z' -]+")
_NOT_LETTERS_OR_DIGITS = re.compile(r"[^a-z0-9#' -]+")
_SPACES = re.compile(r"[\s-]+")


@dataclass(frozen=True)
class NameParts:
    """A person's name in matching form: lower case, accents and punctuation removed.

    ``title`` and ``suffix`` are kept apart so that "Mrs" or "Jr" never count as a name.
    """

    first: str | None
    middle: str | None
    last: str | None
    title: str | None = None
    suffix: str | None = None


def fold(text: str, keep_digits: bool = False) -> str:
    """Lower case, accents removed, punctuation (and digits, unless kept) dropped, runs of spaces
    and hyphens made one space.

    >>> fold("  Zoë O'Brien-Smith ")
    "zoe o'brien smith"
    >>> fold("Flat 3/12 Rue Émile", keep_digits=True)
    'flat 3 12 rue emile'
    """
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    dropped = _NOT_LETTERS_OR_DIGITS if keep_digits else _NOT_LETTERS
    return _SPACES.sub(" ", dropped.sub(" ", ascii_text)).strip()


@lru_cache(maxsize=200_000)
def normalise_name(text: str | None) -> str | None:
    """One name part (a first or a last name) in matching form; None when nothing is left.

    Apostrophes are dropped too, so O'Brien and OBrien compare equal.

    >>> normalise_name(" O'Brien "), normalise_name("Jean-Luc"), normalise_name("  ")
    ('obrien', 'jean luc', None)
    """
    if text is None:
        return None
    value = " ".join(fold(text).replace("'", "").split())
    return value or None


_ORDINAL = re.compile(r"^\d+(st|nd|rd|th)$")


@lru_cache(maxsize=1)
def _titles() -> frozenset[str]:
    """nameparser's titles (sir, dr, professor, lord, ...), less those the nickname list knows
    as given names (king, nanny, ...), and the article that opens a style ("The Earl of ...",
    "The Rev."): no first name either."""
    from nameparser.config import CONSTANTS

    return frozenset(t for t in CONSTANTS.titles if t not in _nickname_table()) | {"the"}


@lru_cache(maxsize=200_000)
def normalise_first_name(text: str | None) -> str | None:
    """A first name in matching form, without the titles and ordinals that stand before or in
    place of it ("Sir George" is george; "sir" or "1st" alone is no first name, not a
    conflicting one).

    >>> normalise_first_name("Sir George"), normalise_first_name("1st"), normalise_first_name("The")
    ('george', None, None)
    >>> normalise_first_name("King"), normalise_first_name("A.")
    ('king', 'a')
    """
    if text is None or _ORDINAL.match(fold(text, keep_digits=True).replace(" ", "")):
        return None
    words = (normalise_name(text) or "").split()
    titles = _titles()
    while words and words[0] in titles:
        words.pop(0)
    return " ".join(words) or None


@lru_cache(maxsize=200_000)
def parse_name(full_name: str) -> NameParts:
    """Split a full name into parts with nameparser, then normalise each part.

    >>> parse_name("Dr. Robert J. Smith Jr.")
    NameParts(first='robert', middle='j', last='smith', title='dr', suffix='jr')
    >>> parse_name("Smith, Ann").first
    'ann'
    """
    from nameparser import HumanName  # imported here: only full names need the parser

    parsed = HumanName(full_name)
    return NameParts(
        first=normalise_name(parsed.first),
        middle=normalise_name(parsed.middle),
        last=normalise_name(parsed.last),
        title=normalise_name(parsed.title.replace(".", "")),
        suffix=normalise_name(parsed.suffix.replace(".", "")),
    )


@cache
def _nickname_table() -> dict[str, frozenset[str]]:
    """Every known name -> the names it is keyed by: for each related pair in the list, the
    longer of the two (the later in the alphabet when they are as long).

    The list relates names both ways and loosely ("bill" is listed with both "robert" and
    "william"); keying a pair by its longer name keeps Bob and Rob together (both are listed
    with Robert) without joining Robert and William through Bill.
    """
    table: dict[str, set[str]] = {}
    data = files("cornerstore.identity").joinpath("data")
    lines = [
        line
        for name in ("nicknames.csv", "nicknames_more.csv")
        for line in data.joinpath(name).read_text("utf-8").splitlines()[1:]
    ]
    for row in csv.DictReader(lines, fieldnames=["name1", "relationship", "name2"]):
        a, b = row["name1"].strip().lower(), row["name2"].strip().lower()
        key = max(a, b, key=lambda name: (len(name), name))
        table.setdefault(a, set()).add(key)
        table.setdefault(b, set()).add(key)
    return {name: frozenset(keys) for name, keys in table.items()}


@lru_cache(maxsize=200_000)
def nickname_keys(first_name: str | None) -> tuple[str, ...]:
    """The longer names a first name is listed with, sorted; empty when the list does not know it.

    Two first names are nickname-equivalent when their keys share a name.

    >>> "robert" in nickname_keys("Bob"), "margaret" in nickname_keys("peggy")
    (True, True)
    >>> set(nickname_keys("robert")) & set(nickname_keys("william"))
    set()
    >>> nickname_keys("Xanthe")
    ()
    """
    name = normalise_name(first_name)
    if name is None:
        return ()
    return tuple(sorted(_nickname_table().get(name, ())))


def same_person_name(a: str | None, b: str | None) -> bool:
    """True when two first names are equal or one is a known nickname of the other.

    >>> same_person_name("Bill", "William"), same_person_name("Bill", "Margaret")
    (True, False)
    """
    na, nb = normalise_name(a), normalise_name(b)
    if na is None or nb is None:
        return False
    return na == nb or bool(set(nickname_keys(na)) & set(nickname_keys(nb)))


@cache
def _names_by_key() -> dict[str, frozenset[str]]:
    """Each key of the nickname table -> every name keyed by it."""
    out: dict[str, set[str]] = {}
    for name, keys in _nickname_table().items():
        for key in keys:
            out.setdefault(key, set()).add(name)
    return {key: frozenset(names) for key, names in out.items()}


@lru_cache(maxsize=200_000)
def name_variants(first_name: str) -> frozenset[str]:
    """A normalised first name and every name nickname-equivalent to it.

    >>> {"margaret", "peggy", "maggie"} <= name_variants("peggy")
    True
    """
    by_key = _names_by_key()
    return frozenset({first_name}).union(*(by_key[k] for k in nickname_keys(first_name)))


@lru_cache(maxsize=500_000)
def mistyped_variant(a: str, b: str) -> bool:
    """True when one normalised first name is one typo (an edit or a transposition) away from
    the other or from one of its nicknames: "Mragie" for Margie, a nickname of Margaret.

    A name of fewer than four letters is read only as two neighbouring letters typed the wrong
    way round ("Rdo" for Rod, a nickname of Roger): one other letter turns Jim into Tim, while a
    transposition keeps every letter. A name the nickname list knows is read as itself, not as
    a typo of another name's nickname: Elena is one letter from Lena, a nickname of Catherine,
    but Elena is a name of its own, as Ina is beside Ian.

    >>> mistyped_variant("mragie", "margaret"), mistyped_variant("tim", "james")
    (True, False)
    >>> mistyped_variant("rdo", "roger"), mistyped_variant("elena", "catherine")
    (True, False)
    """
    from rapidfuzz.distance import DamerauLevenshtein

    known = _nickname_table()
    for typed, other in ((a, b), (b, a)):
        if len(typed) < 3 or typed in known:
            continue
        for variant in name_variants(other):
            if len(typed) < 4:
                if _transposed(typed, variant):
                    return True
            elif len(variant) >= 4 and DamerauLevenshtein.distance(typed, variant) <= 1:
                return True
    return False


def _transposed(a: str, b: str) -> bool:
    """Whether ``a`` is ``b`` with two neighbouring letters exchanged.

    >>> _transposed("rdo", "rod"), _transposed("tim", "jim")
    (True, False)
    """
    if len(a) != len(b) or a == b:
        return False
    diff = [k for k in range(len(a)) if a[k] != b[k]]
    if len(diff) != 2 or diff[1] != diff[0] + 1:
        return False
    i, j = diff
    return a[i] == b[j] and a[j] == b[i]


@cache
def _known_by_deletion() -> dict[str, frozenset[str]]:
    """Every known name of four letters or more, and each string one deletion from it -> those
    names: two strings one edit or transposition apart share an entry (a symmetric-delete index)."""
    out: dict[str, set[str]] = {}
    for name in _nickname_table():
        if len(name) < 4:
            continue
        out.setdefault(name, set()).add(name)
        for k in range(len(name)):
            out.setdefault(name[:k] + name[k + 1 :], set()).add(name)
    return {key: frozenset(names) for key, names in out.items()}


@lru_cache(maxsize=200_000)
def _known_within_one_typo(typed: str) -> frozenset[str]:
    """The known names (four letters or more) one typo from a first name the list does not know."""
    from rapidfuzz.distance import DamerauLevenshtein

    index = _known_by_deletion()
    found: set[str] = set()
    for key in (typed, *(typed[:k] + typed[k + 1 :] for k in range(len(typed)))):
        found.update(index.get(key, ()))
    return frozenset(n for n in found if DamerauLevenshtein.distance(typed, n) <= 1)


@lru_cache(maxsize=500_000)
def mistyped_both(a: str, b: str) -> bool:
    """True when two normalised first names the nickname list does not know are each one typo
    from one name, or from two names nickname-equivalent to each other: "Thomts" and "Thonas"
    for Thomas, "Willaim" and "Boll" for William and Bill. ``mistyped_variant`` reads one
    name typed wrong; this reads both.

    Names of fewer than four letters must be exact, and a name the list knows is itself.

    >>> mistyped_both("thomts", "thonas"), mistyped_both("willaim", "boll")
    (True, True)
    >>> mistyped_both("thomts", "jamse"), mistyped_both("thomas", "thonas")
    (False, False)
    """
    known = _nickname_table()
    if min(len(a), len(b)) < 4 or a in known or b in known:
        return False
    near_a, near_b = _known_within_one_typo(a), _known_within_one_typo(b)
    if not near_a or not near_b:
        return False
    if not near_a.isdisjoint(near_b):
        return True
    keys_a = {k for n in near_a for k in known[n]}
    return any(not keys_a.isdisjoint(known[n]) for n in near_b)
