"""Finding customers by name: full names in either order, a part, a nickname or a typo, ranked.

Every profile row is indexed by the words of its current names (first, middle, last and full
name, folded as :func:`~cornerstore.identity.names.normalise_name` folds them), kept up to date
as intake stores name traits. A query is cut into words the same way; a row is found when every
query word matches one of its words:

* exactly ("hill" is "hill"),
* as a nickname (the identity nickname list: "bob" finds "robert"),
* as the beginning of a word, for search as you type ("jo" and "joanne h" find Joanne Hill;
  a query of one letter alone finds nobody),
* or with one typo (an edit or a transposition, words of four letters or more: "joane").

Hits are ranked: the exact full name first (every word, in any order, and no other), then rows
whose words include every query word exactly, then the rest by how far they are from the query.
Punctuation is not part of a name, so "%" and "_" match nothing, as in "Hill, Joanne".
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cornerstore.identity.names import name_variants, normalise_name
from cornerstore.profiles.model import NameMatch, TraitObservation
from cornerstore.spec import NAME_TRAITS

if TYPE_CHECKING:
    from cornerstore.storage.unit_of_work import UnitOfWork

# Words longer than this are not names; a row keeps at most this many words.
MAX_WORD = 64
MAX_WORDS = 12
# A word shorter than this is matched exactly or as a beginning, never as a typo: one letter
# turns Jim into Tim.
TYPO_FROM = 4

# How a stored word matches a query word, and how far that is from it.
EXACT, NICKNAME, BEGINNING, TYPO = "exact", "nickname", "beginning", "typo"
DISTANCE = {EXACT: 0, NICKNAME: 1, BEGINNING: 2, TYPO: 3}
# Stored words looked up for one query word at most (the closest): "h" begins hundreds.
MAX_CANDIDATES = 1000
ROWS_PER_CUSTOMER = 4

# What a name hit says it matched.
BY_NAME, BY_NICKNAME, BY_SIMILAR_NAME = "name", "nickname", "similar name"


def words_of(text: str) -> list[str]:
    """The name words of a free text, in order, each once.

    >>> words_of("Hill, Joanne"), words_of("O'Brien  o'brien"), words_of("__%")
    (['hill', 'joanne'], ['obrien'], [])
    """
    folded = normalise_name(text) or ""
    return list(dict.fromkeys(w for w in folded.split() if len(w) <= MAX_WORD))


def name_words(names: Mapping[str, Any]) -> tuple[str, ...]:
    """The words a profile row is found by, from its current name traits: sorted, each once.

    Values that are not text (a number sent as a name) are not names.

    >>> name_words({"first_name": "Jean-Luc", "last_name": "Picard", "name": "J. L. Picard"})
    ('j', 'jean', 'l', 'luc', 'picard')
    """
    words: set[str] = set()
    for trait in NAME_TRAITS:
        value = names.get(trait)
        if isinstance(value, str):
            words.update(words_of(value))
    return tuple(sorted(words)[:MAX_WORDS])


def looks_like_a_name(query: str) -> bool:
    """False for what is an e-mail, a phone number or a profile id rather than a name.

    >>> looks_like_a_name("Ann Lee"), looks_like_a_name("ann@example.com")
    (True, False)
    >>> looks_like_a_name("07700 900123"), looks_like_a_name("cus_01HX")
    (False, False)
    """
    text = query.strip()
    return not (
        "@" in text or any(ch.isdigit() for ch in text) or text.startswith(("cus_", "acc_"))
    )


def word_ranges(word: str) -> list[tuple[str, str]]:
    """The ranges of stored words that may match ``word`` beyond nicknames: the words it begins,
    and from four letters the words that share its first two letters or
    its first and third ("jaonne" or "jxoanne" for "joanne"). Another typo in the first two
    letters is not forgiven: it would mean reading every word with the same first letter.

    >>> word_ranges("hil"), word_ranges("joane"), word_ranges("j")
    ([('hil', 'him')], [('jo', 'jp'), ('ja', 'jb')], [('j', 'k')])
    """
    starts = [word] if len(word) < TYPO_FROM else list({word[:2]: 0, word[0] + word[2]: 0})
    return [(start, start[:-1] + chr(ord(start[-1]) + 1)) for start in starts]


def candidates(word: str, stored: Iterable[str] = ()) -> dict[str, str]:
    """The words that match a query word, each with how: the word itself, its nicknames, and
    among ``stored`` the words it begins and the words one typo away.

    >>> candidates("bob")["bob"], candidates("bob")["robert"]
    ('exact', 'nickname')
    >>> candidates("joane", ["joanne", "joan", "jones", "joanna"])
    {'joane': 'exact', 'joanne': 'typo', 'joan': 'typo'}
    """
    from rapidfuzz.distance import DamerauLevenshtein

    found = {word: EXACT}
    for variant in sorted(name_variants(word) - {word}):
        found[variant] = NICKNAME
    for other in stored:
        if other in found:
            continue
        if other.startswith(word):
            found[other] = BEGINNING
        elif (
            len(word) >= TYPO_FROM
            and len(other) >= TYPO_FROM
            and DamerauLevenshtein.distance(word, other, score_cutoff=1) <= 1
        ):
            found[other] = TYPO
    return found


@dataclass(frozen=True, slots=True)
class NameHit:
    """A customer found by name, with how it matched."""

    root_id: str
    matched: str


def matched_as(worst: int) -> str:
    """What a hit says it matched, from the largest distance of a query word to its match.

    >>> matched_as(DISTANCE[EXACT]), matched_as(DISTANCE[NICKNAME]), matched_as(DISTANCE[TYPO])
    ('name', 'nickname', 'similar name')
    """
    if worst == DISTANCE[EXACT]:
        return BY_NAME
    return BY_NICKNAME if worst == DISTANCE[NICKNAME] else BY_SIMILAR_NAME


def best_per_customer(rows: Iterable[NameMatch], limit: int) -> list[NameHit]:
    """One hit per customer, from rows best first: a customer ranks by its best row.

    >>> rows = [NameMatch("c1", "p1", "hill joanne", 0, 0),
    ...         NameMatch("c2", "p2", "hill joanna", 2, 2),
    ...         NameMatch("c1", "p3", "hill jo", 1, 1)]
    >>> best_per_customer(rows, 5)
    [NameHit(root_id='c1', matched='name'), NameHit(root_id='c2', matched='similar name')]
    """
    hits: dict[str, NameHit] = {}
    for row in rows:
        if row.root_id not in hits:
            hits[row.root_id] = NameHit(row.root_id, matched_as(row.worst))
            if len(hits) == limit:
                break
    return list(hits.values())


def find_by_name(uow: UnitOfWork, text: str, limit: int) -> list[NameHit]:
    """The customers named like ``text``, best first, at most ``limit``.

    Exact words and nicknames are looked up first, through the index of name words; stored
    words that a query word begins or is one typo from are read (a range or two of the index
    per query word, :func:`word_ranges`) only when exact matches do not fill the list. The
    database matches and ranks the rows, and returns only the best few.
    """
    query = words_of(text)[:MAX_WORDS]
    if sum(len(w) for w in query) < 2:
        return []
    wanted = [candidates(w) for w in query]
    hits = _best(uow, query, wanted, limit)
    if sum(1 for h in hits if h.matched == BY_NAME) >= limit:
        return hits
    wider = []
    for word in query:
        stored = [w for span in word_ranges(word) for w in uow.search.name_words_between(*span)]
        wider.append(candidates(word, stored))
    return _best(uow, query, wider, limit)


def _best(
    uow: UnitOfWork, query: Sequence[str], wanted: Sequence[Mapping[str, str]], limit: int
) -> list[NameHit]:
    pairs, exact_key = _pairs(wanted), " ".join(sorted(query))
    # A customer of several profile rows may hold several of the best rows: read more rows
    # until ``limit`` customers are found or there are no more.
    size = limit * ROWS_PER_CUSTOMER
    while True:
        found = uow.search.rows_matching(pairs, len(query), exact_key, size)
        hits = best_per_customer(found, limit)
        if len(hits) == limit or len(found) < size:
            return hits
        size *= 4


def _pairs(wanted: Sequence[Mapping[str, str]]) -> list[tuple[str, int, int]]:
    """(stored word, which query word, distance) for every candidate, the closest
    ``MAX_CANDIDATES`` of each query word."""
    out = []
    for index, want in enumerate(wanted):
        closest = sorted(want.items(), key=lambda item: (DISTANCE[item[1]], item[0]))
        out += [(word, index, DISTANCE[how]) for word, how in closest[:MAX_CANDIDATES]]
    return out


def index_added_names(
    uow: UnitOfWork, added: Sequence[TraitObservation], new: Collection[str] = ()
) -> None:
    """Index the profile rows whose words change with ``added``, name observations about to
    be stored (call it before they are); the rest keep the words they have.

    Most identify messages repeat the name a customer is known by: their rows' words are
    worked out from what is stored plus what is added, in memory, and only a row whose words
    differ is re-indexed (one read of the stored names for the whole batch). Rows in ``new``
    were created in this transaction and are indexed whatever they hold.
    """
    from cornerstore.profiles.service import current_traits  # the service imports this module

    by_row: dict[str, list[TraitObservation]] = {}
    for obs in added:
        if obs.name in NAME_TRAITS:
            by_row.setdefault(obs.customer_id, []).append(obs)
    stored: dict[str, list[TraitObservation]] = {cid: [] for cid in by_row if cid not in new}
    if stored:
        # Oldest first, as stored; the added ones come after, as they will once inserted.
        for obs in uow.traits.of_customers(list(stored), names=NAME_TRAITS):
            stored[obs.customer_id].append(obs)

    def words(observations: list[TraitObservation]) -> tuple[str, ...]:
        return name_words({name: t.value for name, t in current_traits(observations).items()})

    changed: dict[str, tuple[str, ...]] = {}
    for cid, observations in by_row.items():
        before = stored.get(cid, [])
        after = words(before + observations)
        if cid in new or after != words(before):
            changed[cid] = after
    if changed:
        uow.search.replace_name_words(changed, new)
