"""The firewall over a batch of messages: what :func:`~cornerstore.privacy.detect.scan_mapping`
does to each message, at a fraction of its cost for the traffic intake sees.

Most messages of analytics traffic hold nothing sensitive, and most of their strings (user
agents, page URLs, product names, ids, times) come again and again within a batch. So the batch
is judged as a whole first:

1. one walk over each message gathers its strings (and the decimal text of its large numbers)
   without copying anything, and checks its keys, each distinct key once: as a field name
   (``password``) and as text that may itself be a sensitive value (a card number used as a
   key);
2. the distinct strings of the whole batch, joined by line breaks, pass the candidate scan
   once (:func:`~cornerstore.privacy.detect.strings_with_candidates`: a few searches by the
   regex engine, in C, ASCII text by its shape); each hit is mapped back to its string, and only
   those strings are given to :func:`~cornerstore.privacy.detect.find`;
3. a message with no sensitive key and no string in which ``find`` found something is
   returned as it came; the others, few, go through ``scan_mapping``, which names the paths
   and removes the values.

Nothing is skipped by field: a national ID in a user agent is still found. The result is the
same as ``scan_mapping`` message by message (tests/privacy/test_message_scan.py compares them);
the strings seen live no longer than the call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from cornerstore.json_input import MAX_JSON_DEPTH, TooDeep
from cornerstore.privacy.detect import (
    SECRET,
    SPEC_FIELDS_NOT_SECRET,
    FieldFinding,
    find,
    scan_mapping,
    sensitive_field,
    strings_with_candidates,
)

# Numbers in this range hold nothing find reports (eight digits at most), as in scan_mapping.
_SMALL = 100_000_000


class ScannedMessage(NamedTuple):
    """One message after the firewall.

    ``message`` is what :func:`~cornerstore.privacy.detect.scan_mapping` returns for it, except
    that a message in which nothing was found is the very object given, not a copy; ``None``
    when it is nested too deep (``too_deep``). ``found`` says what was removed and where.
    """

    message: Any
    found: list[FieldFinding]
    too_deep: bool = False


def scan_messages(
    messages: Sequence[Any], drop: frozenset[str] = frozenset()
) -> list[ScannedMessage]:
    """Pass each of ``messages`` through the firewall; one result per message, in order.

    A message that is not an object is returned as it is, with nothing found (validation
    refuses it). ``drop`` is the kinds that drop a whole field rather than redact it, as for
    :func:`~cornerstore.privacy.detect.scan_mapping`. A clean message is not copied: callers
    must not change what they are given back.

    Examples
    --------
    >>> batch = [{"type": "track", "properties": {"note": "card 4111111111111111"}},
    ...          {"type": "page", "name": "Home"}]
    >>> [(s.message, s.found) for s in scan_messages(batch)]  # doctest: +NORMALIZE_WHITESPACE
    [({'type': 'track', 'properties': {'note': 'card [removed: payment card]'}},
      [FieldFinding(kind='payment_card', path='properties.note', action='redacted')]),
     ({'type': 'page', 'name': 'Home'}, [])]
    """
    clean_names: set[str] = set()
    strings: list[str] = []
    add = strings.append
    # For each message: where its strings end in ``strings``, or -1 when it is walked in full.
    ends: list[int] = []
    for message in messages:
        mark = len(strings)
        if type(message) is dict and _gather(message, add, clean_names, None, 1):
            ends.append(len(strings))
        else:
            del strings[mark:]
            ends.append(-1)
    distinct = set(strings)
    holding = _strings_holding_findings(distinct)
    if not holding and -1 not in ends:  # the common case: nothing anywhere
        return [ScannedMessage(message, []) for message in messages]
    ordinary: set[str] | None = None  # the strings that hold nothing, for scan_mapping
    results: list[ScannedMessage] = []
    start = 0
    for message, end in zip(messages, ends, strict=True):
        if end >= 0 and (not holding or holding.isdisjoint(strings[start:end])):
            results.append(ScannedMessage(message, []))
        elif isinstance(message, dict):
            if ordinary is None:
                ordinary = distinct - holding
            try:
                cleaned, found = scan_mapping(message, drop, ordinary)
            except TooDeep:
                results.append(ScannedMessage(None, [], too_deep=True))
            else:
                results.append(ScannedMessage(cleaned, found))
        else:
            results.append(ScannedMessage(message, []))
        start = end if end >= 0 else start
    return results


# Where a value sits, built only when a field name needs it: the parent's place and the name
# under which the value sits there ("[]" for a list item), or None at the top.
_Place = tuple[Any, str] | None


def _gather(
    obj: dict[Any, Any],
    add: Callable[[str], object],
    clean_names: set[str],
    place: _Place,
    depth: int,
) -> bool:
    """Give the strings of ``obj`` and the text of its large numbers to ``add``; False when it
    needs :func:`scan_mapping`'s walk: a sensitive field name, a key in which
    :func:`~cornerstore.privacy.detect.find` finds something, nesting too deep, a key that is
    not a string or a value of a type JSON has not (scan_mapping's rules for them stand).
    Each distinct key is judged once a batch: ``clean_names`` holds those that passed."""
    if depth > MAX_JSON_DEPTH:
        return False
    if not clean_names.issuperset(obj):
        for name in obj:
            if name in clean_names:
                continue
            if type(name) is not str or find(name):
                return False
            kind = sensitive_field(name)
            if kind is None:
                clean_names.add(name)
            elif not (kind == SECRET and _path(place, name) in SPEC_FIELDS_NOT_SECRET):
                return False
    for name, value in obj.items():
        value_type = type(value)
        if value_type is str:
            add(value)
        elif value_type is dict:
            if not _gather(value, add, clean_names, (place, name), depth + 1):
                return False
        elif value_type is list:
            if not _gather_list(value, add, clean_names, (place, name), depth + 1):
                return False
        elif value_type is float:
            if -_SMALL < value < _SMALL or not value.is_integer():
                continue
            if abs(value) < 1e20:  # scan_mapping leaves larger ones alone
                add(str(int(value)))
        elif value_type is int:
            if not -_SMALL < value < _SMALL:
                add(str(value))
        elif value is not None and value_type is not bool:
            return False
    return True


def _gather_list(
    items: list[Any],
    add: Callable[[str], object],
    clean_names: set[str],
    place: _Place,
    depth: int,
) -> bool:
    """:func:`_gather` for a list."""
    if depth > MAX_JSON_DEPTH:
        return False
    # An item's index only matters for a spec field excused by its path, none of which is
    # inside a list: "[]" stands for every index.
    inside = (place, "[]")
    for value in items:
        value_type = type(value)
        if value_type is str:
            add(value)
        elif value_type is dict:
            if not _gather(value, add, clean_names, inside, depth + 1):
                return False
        elif value_type is list:
            if not _gather_list(value, add, clean_names, inside, depth + 1):
                return False
        elif value is not None and value_type is not bool and not _plain_scalar(value, add):
            return False
    return True


def _plain_scalar(value: Any, add: Callable[[str], object]) -> bool:
    """Whether ``value`` is a JSON number; a number of nine digits or more is judged by its
    decimal text, as scan_mapping does, so that text is given to ``add``."""
    value_type = type(value)
    if value_type is int:
        if not -_SMALL < value < _SMALL:
            add(str(value))
        return True
    if value_type is float:
        if value.is_integer() and not -_SMALL < value < _SMALL:
            if abs(value) >= 1e20:  # scan_mapping leaves these alone
                return True
            add(str(int(value)))
        return True
    return False


def _path(place: _Place, name: str) -> str:
    """The path of field ``name`` at ``place``, as scan_mapping writes it."""
    names = [name]
    while place is not None:
        place, parent = place
        names.append(parent)
    path = ""
    for part in reversed(names):
        path = part if not path else path + part if part == "[]" else f"{path}.{part}"
    return path


def _strings_holding_findings(strings: set[str]) -> set[str]:
    """The strings in which :func:`~cornerstore.privacy.detect.find` finds something: it judges
    only those that pass the candidate scan, run over them all at once."""
    ordered = list(strings)
    return {ordered[i] for i in strings_with_candidates(ordered) if find(ordered[i])}
