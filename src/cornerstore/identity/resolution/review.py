"""The review queue: pairs in the grey zone shown to staff side by side, and their decisions
(accepting merges the two, rejecting remembers they are two people).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
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
from cornerstore.identity.resolution.scorer import FieldWeight, Scorer
from cornerstore.identity.resolution.stored_profiles import field_dict, read_profile_variants
from cornerstore.profiles.model import MergeRecord, Profile
from cornerstore.storage.unit_of_work import UnitOfWork

# Merges read at most to find a branch's latest ones.
_BRANCH_SCAN = 5_000


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


@dataclass(eq=False)
class ReviewQueue(ResolutionJob):
    """List the pending pairs and decide them, for staff with the merges section (an accepted
    pair is merged through :class:`~cornerstore.identity.merge.Merges`, which tells placement)."""

    def pending(self, caller: Caller, limit: int = 20) -> list[Review]:
        """Pending pairs, strongest first, with both profiles as the caller's role may see them
        (every profile shown is audited as read)."""
        self.policy.require(caller, "merges", READ)
        limit = max(1, min(limit, 100))
        with self.store.unit_of_work() as uow:
            records = uow.identity.pending(limit)
            stored = uow.identity.active_model() if records else None
            model = IdentityModel.from_json(stored.model) if stored else None
            against = [self._against(uow, model, r) if model else [] for r in records]
        return [
            replace(self._review(caller, r), against=masked_fields(self.policy, caller, a))
            for r, a in zip(records, against, strict=True)
        ]

    def _against(
        self, uow: UnitOfWork, model: IdentityModel, record: ReviewRecord
    ) -> list[dict[str, Any]]:
        """The evidence against one person in a queued pair: for each field, the most negative
        weight any pair of the two customers' variants gives it, unless the pair shown
        (``record.fields``) has those very values. Term frequencies adjust only levels that
        agree, so a disagreeing level weighs here what it weighed when the pair was scored.
        """
        root_of = uow.customers.roots_of([record.left_id, record.right_id])
        left, right = root_of.get(record.left_id), root_of.get(record.right_id)
        if left is None or right is None or left == right:
            return []
        profiles = read_profile_variants(uow, self.settings.default_phone_region, [left, right])
        ids = profiles.customers.columns["unique_id"]
        if len(ids) < 2:
            return []
        side = {ids.index(left): 0, ids.index(right): 1}
        rows: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], [])
        for variant, owner in enumerate(profiles.owner):
            rows[side[owner]].append(profiles.variants.row(variant))
        scorer = Scorer(model, profiles.variants, indexed=False)
        shown = {(f["field"], str(f["left"]), str(f["right"])) for f in record.fields}
        worst: dict[str, FieldWeight] = {}
        for a in rows[0]:
            for b in rows[1]:
                for f in scorer.explain(a, b):
                    if f.weight >= 0 or (f.field, str(f.left), str(f.right)) in shown:
                        continue
                    if f.field not in worst or f.weight < worst[f.field].weight:
                        worst[f.field] = f
        return [field_dict(f) for f in sorted(worst.values(), key=lambda f: f.weight)]

    def _review(self, caller: Caller, record: ReviewRecord) -> Review:
        return Review(
            id=record.id,
            left=self.profiles.get(caller, record.left_id),
            right=self.profiles.get(caller, record.right_id),
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
        self.audit.record(caller, "read_merges", None, f"{len(found)} merges", ["merges"])
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
