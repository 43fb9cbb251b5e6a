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
    """Every known name -> the formal names it stands for (a formal name stands for itself)."""
    table: dict[str, set[str]] = {}
    text = files("cornerstore.identity").joinpath("data/nicknames.csv").read_text("utf-8")
    for row in csv.DictReader(text.splitlines()):
        formal, nickname = row["name1"].strip().lower(), row["name2"].strip().lower()
        table.setdefault(formal, set()).add(formal)
        table.setdefault(nickname, set()).add(formal)
    return {name: frozenset(formals) for name, formals in table.items()}


@lru_cache(maxsize=200_000)
def nickname_keys(first_name: str | None) -> tuple[str, ...]:
    """The formal names a first name may stand for, sorted; empty when the list does not know it.

    Two first names are nickname-equivalent when their keys share a name.

    >>> "robert" in nickname_keys("Bob"), "margaret" in nickname_keys("peggy")
    (True, True)
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
