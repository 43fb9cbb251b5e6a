"""Dates of birth in free text: a date counts only when a birthday phrase introduces it.

A plain date ("delivered on 12 March 1985") is ordinary business data; "my birthday is
12 March 1985", "DOB: 1985-03-12" or "12 March 1985 is my birthday" is a date of birth. After a
label ("Date of birth:", "DOB?") the date may come a few words later, in the same sentence or
the next: "Date of birth: I think it is 12/03/1985". Only the date is reported, not the phrase,
so redaction keeps the sentence readable.
"""

from __future__ import annotations

import re

from cornerstore.privacy.keywords import word_starts

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9,
    "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12,
    "december": 12,
}  # fmt: skip
_MONTH = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_ORD = r"(?:st|nd|rd|th)?"

# The phrases that make a following date a birthday, matched where a keyword was found in the
# lower-cased text ("date of birth" is found at its "birth").
_CONTEXT = (
    r"(?:birth[\s_-]?(?:days?|date)?|d\.?\s?o\.?\s?b(?![a-z])\.?|born"
    # German, Spanish, French, Italian, Dutch: Geburtsdatum, geboren, fecha de nacimiento,
    # nacido, date de naissance, né le, data di nascita, geboortedatum.
    r"|geburts(?:datum|tag)|geboren|nacimiento|nacid[oa]|naissance|n\u00e9e?|nascita"
    r"|geboortedatum)"
)
# Where a phrase can start (keywords.word_starts); "birth" may start inside a word.
KEYWORDS_INSIDE = ("birth",)
KEYWORDS = (
    "birth", "born", "dob", "d.o.b", "d. o. b", "d o b", "geburts", "geboren", "nacimiento",
    "nacid", "naissance", "n\u00e9", "nascita", "geboorte",
)  # fmt: skip
# Between phrase and date: a few filler words and punctuation, never a digit or a new sentence.
_GAP = (
    r"(?:[\s:=,'\u2019\-\u2013(]|['\u2019]s\b"
    r"|\bis\b|\bwas\b|\bon\b|\bthe\b|\bof\b|\bmy\b|\bfalls\b"
    r"|\ble\b|\bel\b|\bam\b|\bil\b|\bden\b|\bop\b){0,8}"
)
_DATE = (
    r"(?P<date>"
    r"(?P<iy>\d{4})[-/.](?P<im>\d{1,2})[-/.](?P<id>\d{1,2})(?:t\d\d:\d\d(?::\d\d)?)?"
    r"|(?P<na>\d{1,2})(?P<sep>[-/.])(?P<nb>\d{1,2})(?:(?P=sep)(?P<ny>\d{4}|\d{2}))?"
    r"|(?P<cy>(?:19|20)\d\d)(?P<cm>[01]\d)(?P<cd>[0-3]\d)"
    rf"|(?P<dd>\d{{1,2}}){_ORD}[\s-]+(?:of\s+)?(?P<dm>{_MONTH}),?(?:[\s-]+(?P<dy>\d{{4}}))?"
    rf"|(?P<mm>{_MONTH})\s+(?P<md>\d{{1,2}}){_ORD}(?:,?\s+(?P<my>\d{{4}}))?"
    r")(?![\w/.-]\d|\d)"
)
_BIRTHDAY = re.compile(_CONTEXT + _GAP + _DATE)
# A label, then a few words without digits before the date: in the same clause after a colon
# ("Date of birth: I think it is ..."), in the next sentence after a question or a full stop
# ("What's your DOB? It's ..."). "Birthday" counts as a label only before a colon: "It was my
# birthday. Delivered 12/03/2024" has no date of birth.
_LABEL = (
    r"(?:birth[\s_-]?date|birth|d\.?\s?o\.?\s?b(?![a-z])\.?|geburtsdatum|nacimiento|naissance"
    r"|nascita|geboortedatum)"
)
_LABELLED = re.compile(
    r"(?:" + _LABEL + r"\s*[:?.]|birth[\s_-]?days?\s*:)"
    r"(?P<gap>[^\d\n]{0,60}?)(?<![\w/.-])" + _DATE
)
# In the gap: a sentence's end, or words saying the birth date is not given or
# the date that follows is another event's ("DOB: N/A, ordered 12/03/2024").
_NOT_THE_BIRTH_DATE = re.compile(
    r"[.!?;]\s|\b(?:n/a|unknown|none|not given|order|deliver|ship|dispatch|purchas|bought|paid"
    r"|expir|sent|arriv|return|refund|invoice)"
)
# A date right before "is my birthday", "was her date of birth", "ist mein Geburtstag".
_DATE_BEFORE = re.compile(
    r"(?<![\w/.-])" + _DATE + r"\s+(?:is|was|ist|war)\s+(?:my|his|her|their|our|the|mein|sein|ihr)"
    r"\s+(?:date\s+of\s+)?$"
)
_BEFORE_WINDOW = 40


def _plausible(day: int, month: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= 31


def _month(name: str) -> int:
    return _MONTHS[name.lower().rstrip(".")]


def _is_date(m: re.Match[str]) -> bool:
    if m["iy"]:
        return _plausible(int(m["id"]), int(m["im"]))
    if m["cy"]:
        return _plausible(int(m["cd"]), int(m["cm"]))
    if m["na"]:
        a, b = int(m["na"]), int(m["nb"])
        # Day-first and month-first are both written; either reading makes it a date.
        return _plausible(a, b) or _plausible(b, a)
    if m["dd"]:
        return _plausible(int(m["dd"]), _month(m["dm"]))
    return _plausible(int(m["md"]), _month(m["mm"]))


def lower_same_length(text: str) -> str:
    """``text.lower()``, except characters whose lower case is longer (İ) stay, so offsets hold."""
    lower = text.lower()
    if len(lower) == len(text):
        return lower
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def find_birth_dates(
    text: str, lower: str | None = None, starts: list[int] | None = None
) -> list[tuple[int, int]]:
    """Return ``(start, end)`` spans of dates introduced by a birthday phrase.

    ``lower`` is ``lower_same_length(text)`` and ``starts`` where :data:`KEYWORDS` start a word
    in it (``keywords.word_starts``), when the caller has them already.

    Examples
    --------
    >>> find_birth_dates("DOB: 1985-03-12, delivered 2024-01-02")
    [(5, 15)]
    """
    lower = lower_same_length(text) if lower is None else lower
    spans: list[tuple[int, int]] = []
    # "dob", "born", "n\u00e9" must start a word: not "adobe", "stubborn", "men\u00e9"; "birth"
    # may follow "date of " or end "birthdate".
    if starts is None:
        starts = word_starts(lower, KEYWORDS, inside=KEYWORDS_INSIDE)
    for start in starts:
        # A phrase introduces one date: the one before it ("... is my birthday") or after it.
        m = (
            _DATE_BEFORE.search(lower, max(0, start - _BEFORE_WINDOW), start)
            or _BIRTHDAY.match(lower, start)
            or _labelled(lower, start)
        )
        if m and _is_date(m) and (not spans or m.start("date") >= spans[-1][1]):
            spans.append(m.span("date"))
    return spans


def _labelled(lower: str, start: int) -> re.Match[str] | None:
    """A date a few words after a label at ``start``, when nothing between says it is not one."""
    m = _LABELLED.match(lower, start)
    return None if m is None or _NOT_THE_BIRTH_DATE.search(m["gap"]) else m
