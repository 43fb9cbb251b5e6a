"""Placing one customer at a time: staff's ``identity place`` and the customers intake stores.

The stored customers are kept in memory (:class:`.placement.PlacementIndex`), built on the
first placement after a model was learned, kept current by this process's own placements and
merges, and rebuilt after ``placement_index_max_age_minutes`` to take in what other processes
changed. Before acting on a candidate the placement re-reads the candidates' records, so a merge,
unmerge or erasure made elsewhere is never acted on from a stale copy.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from cornerstore.access.caller import Caller, system_caller
from cornerstore.access.policy import CHANGE
from cornerstore.errors import Forbidden, InvalidInput, NotFound, Refused, Unavailable
from cornerstore.identity.resolution.clustering import (
    AMBIGUITY_MARGIN,
    HOME_KEYS,
    MAX_NAMES_AT_HOME,
    has_first_name,
    home_keys,
    household_or_nothing,
    names_conflict,
    one_holder,
    personal_identifiers,
)
from cornerstore.identity.resolution.jobs import ResolutionJob
from cornerstore.identity.resolution.model import IdentityModel
from cornerstore.identity.resolution.placement import PlacementIndex
from cornerstore.identity.resolution.scorer import Candidate
from cornerstore.identity.resolution.stored_profiles import (
    decided_with,
    read_profile_variants,
    review_row,
)
from cornerstore.profiles.model import MergeRecord
from cornerstore.storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

_PLACEMENT_ACTOR = "identity:placement"


@dataclass(frozen=True)
class Placed:
    """Where one customer went: ``merged`` into ``other_id``, ``queued`` for review with it,
    ``refused`` by the merge safeguards, or ``left`` on its own (``other_id`` then the best
    candidate below the review probability, if any, or the best above it when the two have
    nothing personal in common to review; households, conflicting first names and rejected
    pairs are never named)."""

    customer_id: str
    decision: Literal["merged", "queued", "refused", "left"]
    other_id: str | None
    match_probability: float | None
    candidates: int


@dataclass(eq=False)
class Placer(ResolutionJob):
    """Score one customer against the stored ones in-process and merge, queue or leave it."""

    # The stored customers placement compares with, kept between calls; every use of it holds
    # the lock (staff placements, intake's arrivals and merges touch it).
    _index: PlacementIndex | None = field(default=None, init=False)
    _index_lock: threading.RLock = field(default_factory=threading.RLock, init=False)

    def place(self, caller: Caller, ref: str) -> Placed:
        """Score one customer against all the others in-process (the active model's weights on
        the candidates of the blocking indexes) and merge it into the best one at or above the
        match probability, queue the pair for review above the review probability, or leave
        it. Households are recorded as relations, never merged; conflicting first names and
        pairs kept apart by a decision are passed over.
        """
        self.policy.require(caller, "merges", CHANGE)
        with self.store.unit_of_work() as uow:
            root = self.lookup.find_root(uow, ref, caller)
        with self._index_lock:
            with self.store.unit_of_work() as uow:
                index, _ = self._current_index(uow)
                if index is None:
                    raise NotFound(
                        "identity model: none learned yet (run `cornerstore identity learn`)"
                    )
                self._refresh(uow, index, [root])
            if root not in index:
                raise InvalidInput(f"{ref}: not a person customer")
            placed = self._place_indexed(caller, index, root)
        detail = f"{placed.decision} {placed.other_id or ''}".strip()
        self.audit.record(caller, "identity_place", placed.customer_id, detail, ["merges"])
        return placed

    def arrived(self, customer_ids: Iterable[str]) -> list[Placed]:
        """Place the customers intake stored with matching traits (a name, e-mail, phone or
        address), as :meth:`place` does, once a model was learned.

        Only customers whose matching values are new or changed are scored, so a customer
        who identifies again with the same details costs a lookup, nothing more. Merges are
        made by ``identity:placement`` with reason ``resolve``: recorded and reversible.
        """
        if not self.settings.identity.place_arrivals:
            return []
        ids = list(customer_ids)
        with self._index_lock:
            with self.store.unit_of_work() as uow:
                index, built = self._current_index(uow)
                if index is None:
                    return []
                # A new copy holds the arrivals already: each is placed, changed or not.
                roots = self._refresh(uow, index, ids, everything=built)
            return self._place_all(index, roots)

    def forget(self) -> None:
        """Drop the copy of the stored customers: the next placement reads them afresh."""
        with self._index_lock:
            self._index = None

    def _place_all(self, index: PlacementIndex, roots: Sequence[str]) -> list[Placed]:
        caller = system_caller(via="intake", actor=_PLACEMENT_ACTOR)
        placed: list[Placed] = []
        for i, root in enumerate(roots):
            if root in index:
                try:
                    placed.append(self._place_indexed(caller, index, root))
                except NotFound:
                    index.drop(root)  # erased meanwhile
                except Unavailable:
                    # Not placed: dropped from the index, the next call reads and places them.
                    for unplaced in roots[i:]:
                        index.drop(unplaced)
                    raise
        return placed

    def _current_index(self, uow: UnitOfWork) -> tuple[PlacementIndex | None, bool]:
        """The placement index for the active model, built now when missing, for an older
        model, or older than the configured age; and whether it was built just now."""
        active = uow.identity.active_model_id()
        if active is None:
            self._index = None
            return None, False
        index = self._index
        if index is not None and index.model_id == active and self._fresh(index):
            return index, False
        return self._build_index(uow), True

    def _fresh(self, index: PlacementIndex | None) -> bool:
        """Whether an index is younger than the configured age."""
        max_age = 60.0 * self.settings.identity.placement_index_max_age_minutes
        return index is not None and index.age() <= max_age

    def _build_index(self, uow: UnitOfWork) -> PlacementIndex:
        """A new index of every stored person customer for the active model, kept for the next
        placements (called once the active model is known to exist)."""
        stored = uow.identity.active_model()
        assert stored is not None
        profiles = read_profile_variants(uow, self.settings.default_phone_region)
        self._index = PlacementIndex.build(
            stored.id, IdentityModel.from_json(stored.model), profiles
        )
        log.info("identity: placement index built on %s customers", len(profiles.customers))
        return self._index

    def _refresh(
        self,
        uow: UnitOfWork,
        index: PlacementIndex,
        refs: Sequence[str],
        *,
        everything: bool = False,
    ) -> list[str]:
        """Re-read these profiles' customers into the index (dropping those merged away or
        erased); returns the person customers whose matching values are new or changed (all of
        them when ``everything``)."""
        root_of = uow.customers.roots_of(list(refs))
        for ref in refs:
            if root_of.get(ref) != ref:
                index.drop(ref)
        roots = sorted(set(root_of.values()))
        profiles = read_profile_variants(uow, self.settings.default_phone_region, roots)
        found = profiles.customers.columns["unique_id"]
        for root in set(roots) - set(found):
            index.drop(root)  # an account, or erased
        changed = []
        for root, variants in zip(found, profiles.grouped(), strict=True):
            if everything or not index.same_records(root, variants):
                index.put(root, variants)
                changed.append(root)
        return changed

    def _place_indexed(self, caller: Caller, index: PlacementIndex, root: str) -> Placed:
        """Decide for one indexed customer and act: merge, queue, or leave; record households."""
        model = index.model
        record = index.record(root)

        def above_review(scored: list[Candidate]) -> list[Candidate]:
            return [c for c in scored if c.match_probability >= model.review_probability]

        scored = index.score(root)
        considered = above_review(scored)
        # Housemates share a surname and a home but rarely score above the review probability:
        # every candidate is looked at for them, whatever it scored.
        households = index.households(record, scored)
        with self.store.unit_of_work() as uow:
            decided = decided_with(uow, root)
            if households:
                known = {
                    other
                    for r in uow.identity.relations_involving([root])
                    if r.kind == "household"
                    for other in (r.customer_id, r.other_id)
                }
                households = [h for h in households if h not in known]
            if considered:
                # The index may be behind merges, unmerges and erasures made elsewhere: decide
                # on the candidates' records as they are now.
                refs = [c.unique_id for c in considered]
                changed = self._refresh(uow, index, refs)
                if changed or any(ref not in index for ref in refs):
                    scored = index.score(root)
                    considered = above_review(scored)
        best: Candidate | None = None
        for candidate in considered:
            row = index.scorer.row(candidate.position)
            # A household's members conflict too.
            if decided.get(candidate.unique_id) == "rejected" or names_conflict(record, row):
                continue
            if best is None:
                best = candidate
        if households:
            with self.store.unit_of_work(write=True) as uow:
                uow.identity.add_relations(
                    [(root, h) for h in households], "household", "placement", datetime.now(UTC)
                )
        if best is None or best.match_probability < model.match_probability:
            home = self._at_home(index, record, scored, decided) or self._behind_identifier(
                index, record, scored, decided
            )
            if home is not None:
                return self._merge_into(caller, root, home, len(scored))
        if best is None:
            below = next(
                (
                    c
                    for c in scored[len(considered) :]
                    if decided.get(c.unique_id) != "rejected"
                    and not names_conflict(record, index.scorer.row(c.position))
                ),
                None,
            )
            return Placed(
                root,
                "left",
                below.unique_id if below else None,
                below.match_probability if below else None,
                len(scored),
            )
        placed = Placed(root, "merged", best.unique_id, best.match_probability, len(scored))
        torn = self._torn(index, record, best, considered, decided)
        if torn:
            # Without a first name it could be either of two people: a reviewer says which,
            # when an e-mail or mobile gives them something to go by.
            if self._queue(index, root, record, [best, *torn], decided):
                return replace(placed, decision="queued")
            return replace(placed, decision="left")
        if best.match_probability >= model.match_probability:
            return self._merge_into(caller, root, best, len(scored))
        if self._queue(index, root, record, [best], decided):
            return replace(placed, decision="queued")
        return replace(placed, decision="left")

    def _merge_into(self, caller: Caller, root: str, into: Candidate, scored: int) -> Placed:
        """Merge customer ``root`` into ``into``'s: merged, or refused (and logged) when the
        merge is refused or not allowed."""
        placed = Placed(root, "merged", into.unique_id, into.match_probability, scored)
        try:
            self.merges.merge(caller, root, into.unique_id, reason="resolve")
        except (Refused, Forbidden) as exc:
            log.info("identity: placing %s was refused: %s", root, exc)
            return replace(placed, decision="refused")
        return placed

    @staticmethod
    def _at_home(
        index: PlacementIndex,
        record: Mapping[str, Any],
        scored: list[Candidate],
        decided: Mapping[str, str],
    ) -> Candidate | None:
        """The candidate holding the record's first name, exactly, at its home, whatever it
        scored (``clustering.one_at_home``): the home is the record's address and phones with
        those of every candidate of its last name holding one of them (a housemate's order
        with the family's landline and street). None when no candidate, or more than one, holds
        it, or the home has more than ``MAX_NAMES_AT_HOME`` first names."""
        first, last = record.get("first_name"), record.get("last_name")
        own = home_keys(record)
        if not first or not last or not own:
            return None
        surnames, firsts = index.scorer.columns["last_name"], index.scorer.columns["first_name"]
        namesakes = [c for c in scored if surnames[c.position] == last]
        if not any(firsts[c.position] == first for c in namesakes):
            return None  # the commonest answer, read off the columns without a row built
        # Only the fields of a home, read off the columns: a whole row for each of hundreds
        # of candidates of a common surname is most of a placement's CPU.
        fields = {f: index.scorer.columns[f] for f in {f for key in HOME_KEYS for f in key}}
        keys = [home_keys({f: v[c.position] for f, v in fields.items()}) for c in namesakes]
        home = set(own).union(*(k for k in keys if not k.isdisjoint(own)))
        at_home = [c for c, k in zip(namesakes, keys, strict=True) if k & home]
        if len({firsts[c.position] for c in at_home}) > MAX_NAMES_AT_HOME:
            return None
        same = {
            c.unique_id: c
            for c in at_home
            if firsts[c.position] == first
            and decided.get(c.unique_id) != "rejected"
            and not names_conflict(record, index.scorer.row(c.position))
        }
        return next(iter(same.values())) if len(same) == 1 else None

    @staticmethod
    def _behind_identifier(
        index: PlacementIndex,
        record: Mapping[str, Any],
        scored: list[Candidate],
        decided: Mapping[str, str],
    ) -> Candidate | None:
        """The one candidate sharing the record's e-mail address or mobile number when their
        first names agree, whatever it scored (``clustering.one_behind_identifier``): None when
        no candidate, or more than one, holds them, or the holders' first names conflict (a
        shared mailbox)."""
        own = personal_identifiers(record)
        if not own:
            return None
        emails, phones = index.scorer.columns["email"], index.scorer.columns["phone"]
        found: dict[str, Candidate] = {}
        for identifier in own:
            holders = [
                c
                for c in scored
                if identifier in (emails[c.position], phones[c.position])
                and decided.get(c.unique_id) != "rejected"
            ]
            rows = [index.scorer.row(c.position) for c in holders]
            if holders and one_holder([record, *rows]):
                found.update((c.unique_id, c) for c in holders)
        return next(iter(found.values())) if len(found) == 1 else None

    @staticmethod
    def _torn(
        index: PlacementIndex,
        record: Mapping[str, Any],
        best: Candidate,
        considered: list[Candidate],
        decided: Mapping[str, str],
    ) -> list[Candidate]:
        """Other candidates a record without a first name fits almost as well as ``best``
        (within ``AMBIGUITY_MARGIN`` bits) who cannot be ``best``'s person: a household's
        members, one of whom the record is. Empty when the record has a first name; a
        candidate is passed over when the record shares an e-mail or mobile with ``best`` and
        none with it, as clustering does."""
        if has_first_name(record):
            return []
        best_row = index.scorer.row(best.position)
        own = personal_identifiers(record)
        shared = own & personal_identifiers(best_row)
        torn = []
        for c in considered:
            if (
                c is best
                or c.match_weight < best.match_weight - AMBIGUITY_MARGIN
                or decided.get(c.unique_id) == "rejected"
            ):
                continue
            row = index.scorer.row(c.position)
            if shared and own.isdisjoint(personal_identifiers(row)):
                continue
            if names_conflict(best_row, row):
                torn.append(c)
        return torn

    def _queue(
        self,
        index: PlacementIndex,
        root: str,
        record: Mapping[str, Any],
        candidates: list[Candidate],
        decided: Mapping[str, str],
    ) -> bool:
        """Queue the customer's pairs with ``candidates`` not decided or queued before, and
        say whether one is queued now or was before. A pair that can only say "this
        household" (``household_or_nothing``) is not: nobody can decide it."""
        now = datetime.now(UTC)
        reviewable = [
            c for c in candidates if not household_or_nothing(record, index.scorer.row(c.position))
        ]
        rows = [
            review_row(
                index.scorer,
                (root, record),
                (c.unique_id, index.scorer.row(c.position)),
                c.match_probability,
                c.match_weight,
                now,
            )
            for c in reviewable
            if decided.get(c.unique_id) is None
        ]
        if rows:
            with self.store.unit_of_work(write=True) as uow:
                uow.identity.add_reviews(rows)
        return any(decided.get(c.unique_id) in (None, "pending") for c in reviewable)

    def merge_changed(self, merge: MergeRecord) -> None:
        """Keep the placement index true to a merge made or undone in this process: the
        absorbed customer goes or comes back, the surviving one is read again."""
        with self._index_lock:
            index = self._index
            if index is None:
                return
            with self.store.unit_of_work() as uow:
                self._refresh(uow, index, [merge.winner_id, merge.loser_id])
