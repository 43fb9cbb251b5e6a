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
from functools import lru_cache
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
    return list(_words(text))


@lru_cache(maxsize=50_000)
def _words(text: str) -> tuple[str, ...]:
    """:func:`words_of`, cached: intake indexes the names of every identify, and a shop's
    customers share a few thousand first and last names."""
    folded = normalise_name(text) or ""
    return tuple(dict.fromkeys(w for w in folded.split() if len(w) <= MAX_WORD))


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
            words.update(_words(value))
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
        # From four letters a stored word matches by beginning with the query word or by a
        # typo (a length within one): the index leaves out the others.
        near = word if len(word) >= TYPO_FROM else None
        stored = [
            w
            for low, high in word_ranges(word)
            for w in uow.search.name_words_between(low, high, near)
        ]
        wider.append(candidates(word, stored))
    return _best(uow, query, wider, limit)


def _best(
    uow: UnitOfWork, query: Sequence[str], wanted: Sequence[Mapping[str, str]], limit: int
) -> list[NameHit]:
    pairs, exact_key = _pairs(wanted), " ".join(sorted(query))
    if len(query) > 1:
        ranked = _led_rows(uow, query, pairs, exact_key)
        # Only the best rows are looked up for their customers, as many as it takes.
        size = limit * ROWS_PER_CUSTOMER
        while True:
            roots = uow.customers.roots_of([row[4] for row, _ in ranked[:size]])
            hits = best_per_customer(
                (
                    NameMatch(roots[row[4]], row[4], row[3], row[1], worst)
                    for row, worst in ranked[:size]
                    if row[4] in roots
                ),
                limit,
            )
            if len(hits) == limit or len(ranked) <= size:
                return hits
            size *= 4
    # A customer of several profile rows may hold several of the best rows: read more rows
    # until ``limit`` customers are found or there are no more.
    size = limit * ROWS_PER_CUSTOMER
    while True:
        found = uow.search.rows_matching(pairs, len(query), exact_key, size)
        hits = best_per_customer(found, limit)
        if len(hits) == limit or len(found) < size:
            return hits
        size *= 4


Rank = tuple[int, int, int, str, str]


def _led_rows(
    uow: UnitOfWork, query: Sequence[str], pairs: Sequence[tuple[str, int, int]], exact_key: str
) -> list[tuple[Rank, int]]:
    """Every row matching all the query words, best first, ranked as
    :meth:`~cornerstore.storage.repositories.SearchRepository.rows_matching` ranks them.

    The query word whose candidates have the fewest index entries leads: only its rows are
    read ("smith al" reads the rows of the "al..." words, not every Smith as well), and the
    other words are matched against each row's name key, which holds all its words. Each
    row comes as its rank (tier, distance, spaces, name key, row id) and its worst distance.
    """
    entries = uow.search.entries_per_word(pairs)
    if len(entries) < len(query):
        return []  # a query word that matches no stored word: nobody has them all
    lead = min(entries, key=lambda qi: (entries[qi], qi))
    distances: list[dict[str, int]] = [{} for _ in query]
    for word, qi, distance in pairs:
        distances[qi][word] = distance
    ranked: list[tuple[Rank, int]] = []
    for customer_id, name_key, lead_distance in uow.search.rows_with(
        [(word, distance) for word, qi, distance in pairs if qi == lead]
    ):
        words = name_key.split(" ")
        per_word = []
        for qi, known in enumerate(distances):
            if qi == lead:
                per_word.append(lead_distance)
                continue
            found = [known[w] for w in words if w in known]
            if not found:
                break
            per_word.append(min(found))
        else:
            total = sum(per_word)
            tier = (0 if name_key == exact_key else 1) if total == 0 else 2
            rank = (tier, total, len(words) - 1, name_key, customer_id)
            ranked.append((rank, max(per_word)))
    ranked.sort()
    return ranked


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
    worked out from the current names stored (the latest observation of each name trait, read
    for the whole batch at once) plus what is added, in memory, and only a row whose words
    differ is re-indexed. Rows in ``new`` were created in this transaction and are indexed
    whatever they hold.
    """
    from cornerstore.profiles.service import current_traits  # the service imports this module

    by_row: dict[str, list[TraitObservation]] = {}
    for obs in added:
        if obs.name in NAME_TRAITS:
            by_row.setdefault(obs.customer_id, []).append(obs)
    stored: dict[str, list[TraitObservation]] = {cid: [] for cid in by_row if cid not in new}
    if stored:
        # The latest stored observation of a trait is all current_traits keeps of the ones
        # stored; the added ones come after it, as they will once inserted.
        for obs in uow.traits.latest_of_customers(list(stored), names=NAME_TRAITS):
            stored[obs.customer_id].append(obs)

    def words(observations: list[TraitObservation]) -> tuple[str, ...]:
        return name_words({name: t.value for name, t in current_traits(observations).items()})

    changed: dict[str, tuple[str, ...]] = {}
    for cid, observations in by_row.items():
        before = stored.get(cid, [])
        if cid not in new and _repeats(before, observations):
            continue
        after = words(before + observations)
        if cid in new or after != words(before):
            changed[cid] = after
    if changed:
        uow.search.replace_name_words(changed, new)


def _repeats(latest: Sequence[TraitObservation], added: Sequence[TraitObservation]) -> bool:
    """Whether each added name observation holds the value of the latest stored one of its
    trait: then every name trait's current value stays what it was, whichever observation is
    the latest, and so do the row's words (most identify messages resend the name they hold).

    >>> from dataclasses import replace
    >>> from datetime import datetime, UTC
    >>> ann = TraitObservation("first_name", "Ann", "web", "shop", datetime.now(UTC), None)
    >>> _repeats([ann], [ann]), _repeats([ann], [replace(ann, value="Anne")]), _repeats([], [ann])
    (True, False, False)
    """
    values = {obs.name: obs.value for obs in latest}
    return all(obs.name in values and values[obs.name] == obs.value for obs in added)
