"""The review queue: pairs in the grey zone shown to staff side by side, and their decisions
(accepting merges the two, rejecting remembers they are two people).
"""

from __future__ import annotations

import base64
import contextlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from cornerstore.access.caller import Caller
from cornerstore.access.policy import CHANGE, READ, Policy
from cornerstore.errors import Conflict, InvalidInput, NotFound
from cornerstore.identity.merge import home_branch
from cornerstore.identity.model import ReviewRecord
from cornerstore.identity.resolution.jobs import ResolutionJob
from cornerstore.identity.resolution.model import IdentityModel
from cornerstore.identity.resolution.records import PreparedRecords, taken_column
from cornerstore.identity.resolution.scorer import FieldWeight, Scorer
from cornerstore.identity.resolution.stored_profiles import (
    ProfileVariants,
    field_dict,
    read_profile_variants,
)
from cornerstore.plural import counted
from cornerstore.profiles.model import MergeRecord, Profile
from cornerstore.storage.unit_of_work import UnitOfWork

# Merges read at most to find a branch's latest ones.
_BRANCH_SCAN = 5_000
#: The most pairs one page of the queue holds.
MOST_PER_PAGE = 100
# The largest id a row can have (a signed 64-bit integer).
_LARGEST_ID = 2**63 - 1


@dataclass(frozen=True)
class Review:
    """A queued pair for a reviewer: both profiles as the reviewer's role may see them, and each
    field's match weight (values hidden where the role may not read them)."""

    id: int
    left: Profile
    right: Profile
    match_probability: float
    match_weight: float
    fields: list[FieldWeight]
    status: str
    created_at: datetime
    #: Evidence against: fields on which another pair of the two customers' variants (an older
    #: address, a second e-mail) disagrees, at its most negative weight; ``fields`` shows only
    #: the pair of variants that agree best.
    against: list[FieldWeight] = field(default_factory=list)


def masked_fields(
    policy: Policy, caller: Caller, fields: Iterable[Mapping[str, Any]]
) -> list[FieldWeight]:
    """Each field's weight, its values hidden where the caller's role may not read them."""
    visible = policy.visible_sections(caller)
    out = []
    for f in fields:
        shown = policy.section_of(f["field"]) in visible
        out.append(
            FieldWeight(
                f["field"],
                f["level"],
                f["left"] if shown else None,
                f["right"] if shown else None,
                float(f["weight"]),
            )
        )
    return out


@dataclass(frozen=True)
class Place:
    """A place in the queue's order (match weight descending, then id): a cursor names one.

    >>> Place.of_cursor(Place(2.5, 41).cursor(), "after")
    Place(match_weight=2.5, id=41)
    """

    match_weight: float
    id: int

    def cursor(self) -> str:
        """The place as an opaque cursor (URL-safe text)."""
        raw = f"{self.match_weight!r}/{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def of_cursor(cls, cursor: str, what: str) -> Place:
        """The place a cursor names; InvalidInput naming ``what`` (the parameter) for any text
        that is not a cursor of this queue (never the text itself)."""
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            weight_text, id_text = base64.urlsafe_b64decode(padded).decode("ascii").split("/")
            weight, row_id = float(weight_text), int(id_text)
        except (ValueError, UnicodeDecodeError):
            raise InvalidInput(f"{what}: not a cursor of the review queue") from None
        if math.isnan(weight) or not 1 <= row_id <= _LARGEST_ID:
            raise InvalidInput(f"{what}: not a cursor of the review queue")
        return cls(weight, row_id)

    @classmethod
    def of(cls, record: ReviewRecord) -> Place:
        return cls(record.match_weight, record.id)

    @property
    def key(self) -> tuple[float, int]:
        return (self.match_weight, self.id)


@dataclass(frozen=True)
class ReviewPage:
    """One page of the pending pairs, strongest first, with how many wait in all.

    ``ahead`` pairs come before the page; ``next_after`` is the cursor of the next page (pass
    it as ``after``), ``previous_before`` that of the page before (pass it as ``before``);
    each is None where there is no such page."""

    reviews: list[Review]
    waiting: int
    ahead: int
    next_after: str | None
    previous_before: str | None


@dataclass(eq=False)
class ReviewQueue(ResolutionJob):
    """List the pending pairs and decide them, for staff with the merges section (an accepted
    pair is merged through :class:`~cornerstore.identity.merge.Merges`, which tells placement)."""

    def page(
        self, caller: Caller, limit: int = 20, after: str | None = None, before: str | None = None
    ) -> ReviewPage:
        """A page of the pending pairs, strongest first: the first ``limit``, those after the
        cursor ``after`` or those before the cursor ``before`` (a page's ``next_after`` and
        ``previous_before``). Cursors name places in the order (match weight, id), so a page
        does not shift while staff decide pairs ahead of it. Both profiles of a pair are shown
        as the caller's role may see them, each audited as read; the evidence against of the
        whole page is read at once. Used like this::

            page = queue.page(support, limit=20)
            later = queue.page(support, limit=20, after=page.next_after)
        """
        self.policy.require(caller, "merges", READ)
        if not 1 <= limit <= MOST_PER_PAGE:
            raise InvalidInput(f"limit: must be between 1 and {MOST_PER_PAGE}")
        if after is not None and before is not None:
            raise InvalidInput("before: give after or before, not both")
        start = Place.of_cursor(after, "after") if after is not None else None
        end = Place.of_cursor(before, "before") if before is not None else None
        with self.store.unit_of_work() as uow:
            records, more = self._records(uow, limit, start, end)
            first = Place.of(records[0]) if records else self._just_after(start)
            waiting = uow.identity.count_pending()
            ahead = uow.identity.count_pending(first.key) if first else 0
            if not more and records:
                more = bool(uow.identity.pending(1, after=Place.of(records[-1]).key))
            stored = uow.identity.active_model() if records else None
            model = IdentityModel.from_json(stored.model) if stored else None
            against = self._against(uow, model, records) if model else [[] for _ in records]
        # Every profile on the page read, and its reads audited in one transaction.
        profiles = self.profiles.get_many(
            caller, [x for r in records for x in (r.left_id, r.right_id)]
        )
        reviews = [
            replace(
                self._review(caller, r, profiles[2 * i], profiles[2 * i + 1]),
                against=masked_fields(self.policy, caller, a),
            )
            for i, (r, a) in enumerate(zip(records, against, strict=True))
        ]
        return ReviewPage(
            reviews,
            waiting,
            ahead,
            Place.of(records[-1]).cursor() if more and records else None,
            first.cursor() if first and ahead else None,
        )

    def _records(
        self, uow: UnitOfWork, limit: int, start: Place | None, end: Place | None
    ) -> tuple[list[ReviewRecord], bool]:
        """The page's pairs, and whether pairs follow them (known when read forwards)."""
        if end is not None:
            found = uow.identity.pending(limit + 1, before=end.key)
            if len(found) > limit:
                return found[1:], False
            # Fewer than a page before it: the first page, full.
            start = None
        found = uow.identity.pending(limit + 1, after=start.key if start else None)
        return found[:limit], len(found) > limit

    @staticmethod
    def _just_after(place: Place | None) -> Place | None:
        """The place right after ``place`` (a page after it found nothing: the page before
        this empty one ends with ``place``'s pair itself)."""
        if place is None or place.id >= _LARGEST_ID:
            return None
        return Place(place.match_weight, place.id + 1)

    def waiting(self, caller: Caller) -> int:
        """How many pairs wait for a decision."""
        self.policy.require(caller, "merges", READ)
        with self.store.unit_of_work() as uow:
            return uow.identity.count_pending()

    def pending(self, caller: Caller, limit: int = 20) -> list[Review]:
        """The first ``limit`` pending pairs (at most 100), strongest first (see :meth:`page`)."""
        return self.page(caller, max(1, min(limit, MOST_PER_PAGE))).reviews

    def _against(
        self, uow: UnitOfWork, model: IdentityModel, records: Sequence[ReviewRecord]
    ) -> list[list[dict[str, Any]]]:
        """The evidence against one person in each queued pair, with one read of the variants
        of every customer on the page (see :func:`evidence_against`)."""
        ids = sorted({x for r in records for x in (r.left_id, r.right_id)})
        root_of = uow.customers.roots_of(ids)
        roots = sorted(set(root_of.values()))
        profiles = read_profile_variants(uow, self.settings.default_phone_region, roots)
        variants_of = _variants_by_customer(profiles)
        out: list[list[dict[str, Any]]] = []
        for record in records:
            left, right = root_of.get(record.left_id), root_of.get(record.right_id)
            if left is None or right is None or left == right:
                out.append([])  # merged meanwhile, or gone
            elif left not in variants_of or right not in variants_of:
                out.append([])  # no longer a person customer
            else:
                both = variants_of[left] + variants_of[right]
                pair = _taken(profiles.variants, both)
                out.append(evidence_against(model, pair, len(variants_of[left]), record.fields))
        return out

    def _review(
        self, caller: Caller, record: ReviewRecord, left: Profile, right: Profile
    ) -> Review:
        return Review(
            id=record.id,
            left=left,
            right=right,
            match_probability=record.match_probability,
            match_weight=record.match_weight,
            fields=masked_fields(self.policy, caller, record.fields),
            status=record.status,
            created_at=record.created_at,
        )

    def recent_merges(self, caller: Caller, limit: int = 20) -> list[MergeRecord]:
        """The latest merges, newest first, undone ones included (an audited read of the merges
        section). A staff member limited to a branch sees only the merges they may change (as
        :meth:`~cornerstore.identity.merge.Merges.unmerge` checks): both customers of their
        branch, or of none."""
        self.policy.require(caller, "merges", READ)
        if not 1 <= limit <= 200:
            raise InvalidInput("limit: must be between 1 and 200")
        with self.store.unit_of_work() as uow:
            found = self._of_branch(uow, caller, limit)
        self.audit.record(caller, "read_merges", None, counted(len(found), "merge"), ["merges"])
        return found

    def _of_branch(self, uow: UnitOfWork, caller: Caller, limit: int) -> list[MergeRecord]:
        if caller.branch is None:
            return uow.merges.recent(limit)
        branch_of: dict[str, str | None] = {}

        def ours(customer_id: str) -> bool:
            if customer_id not in branch_of:
                row = uow.customers.get(customer_id)
                branch_of[customer_id] = home_branch(uow, row.root_id) if row else None
            return branch_of[customer_id] in (None, caller.branch)

        # Read further back until ``limit`` of the branch's merges are found (or a bound).
        size = limit
        while True:
            recent = uow.merges.recent(size)
            found = [m for m in recent if ours(m.winner_id) and ours(m.loser_id)]
            if len(found) >= limit or len(recent) < size or size >= _BRANCH_SCAN:
                return found[:limit]
            size *= 4

    def decide(self, caller: Caller, review_id: int, accept: bool) -> ReviewRecord:
        """Accept (merge the two through Merges) or reject (remember they are two
        people) a queued pair. A refused merge leaves the pair pending and raises Refused."""
        self.policy.require(caller, "merges", CHANGE)
        with self.store.unit_of_work() as uow:
            record = uow.identity.get_review(review_id)
        if record is None:
            raise NotFound("review: no such review")
        if record.status != "pending":
            raise Conflict(f"review {review_id}: already {record.status}")
        if accept:
            # Merged meanwhile: the reviewer agrees with what happened.
            with contextlib.suppress(Conflict):
                self.merges.merge(caller, record.left_id, record.right_id, "review")
        status = "accepted" if accept else "rejected"
        now = datetime.now(UTC)
        with self.store.unit_of_work(write=True) as uow:
            uow.identity.decide(review_id, status, caller.actor, now)
        if not accept:
            self.audit.record(
                caller, "identity_reject", record.left_id, f"{record.right_id}", ["merges"]
            )
        return replace(record, status=status, decided_by=caller.actor, decided_at=now)


def _variants_by_customer(profiles: ProfileVariants) -> dict[str, list[int]]:
    """Each customer's variants: positions in ``profiles.variants``, in their order."""
    ids = profiles.customers.columns["unique_id"]
    out: dict[str, list[int]] = {}
    for variant, owner in enumerate(profiles.owner):
        out.setdefault(ids[owner], []).append(variant)
    return out


def _taken(records: PreparedRecords, positions: list[int]) -> PreparedRecords:
    """The records at ``positions``, in that order."""
    columns = {name: taken_column(values, positions) for name, values in records.columns.items()}
    return PreparedRecords(columns=columns, fields=records.fields)


def evidence_against(
    model: IdentityModel,
    variants: PreparedRecords,
    lefts: int,
    shown: Iterable[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """The evidence against one person in a queued pair: for each field, the most negative
    weight any pair of the two customers' variants gives it, unless the pair shown (``shown``,
    the review's fields) has those very values. ``variants`` holds the left customer's
    variants (the first ``lefts``) then the right one's, and nobody else's: term frequencies
    are counted among them, as they were when the pair was scored alone. They adjust only
    levels that agree, so a disagreeing level weighs here what it weighed when the pair was
    scored.
    """
    scorer = Scorer(model, variants, indexed=False)
    rows = [variants.row(i) for i in range(len(variants))]
    seen = {(f["field"], str(f["left"]), str(f["right"])) for f in shown}
    worst: dict[str, FieldWeight] = {}
    for a in rows[:lefts]:
        for b in rows[lefts:]:
            for f in scorer.explain(a, b):
                if f.weight >= 0 or (f.field, str(f.left), str(f.right)) in seen:
                    continue
                if f.field not in worst or f.weight < worst[f.field].weight:
                    worst[f.field] = f
    return [field_dict(f) for f in sorted(worst.values(), key=lambda f: f.weight)]
