"""Explaining a pair of stored customers as ``identity resolve`` scores them: the best-scoring
pair of their variants (one record per moment each was observed, see
:func:`.stored_profiles.read_profile_variants`), each field's level and match weight under the
active model, the prior and the total, values hidden where the caller's role may not read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cornerstore.access.caller import Caller
from cornerstore.access.policy import READ
from cornerstore.errors import InvalidInput
from cornerstore.identity.resolution.jobs import ResolutionJob
from cornerstore.identity.resolution.model import probability_of, weight_of
from cornerstore.identity.resolution.review import masked_fields
from cornerstore.identity.resolution.scorer import Explanation, Scorer
from cornerstore.identity.resolution.stored_profiles import (
    ProfileVariants,
    active_model,
    field_dict,
    read_profile_variants,
)


@dataclass(frozen=True)
class ScoredVariant:
    """Which of a customer's records a pair was scored on: its ``current`` record (the latest
    value of each trait), or its values as ``observed_at`` one earlier moment."""

    current: bool
    observed_at: datetime | None


@dataclass
class ProfileExplanation(Explanation):
    """Why two stored customers score as they do in ``identity resolve``: the explanation of
    their best-scoring pair of variants, which variants those are, and whether resolve compares
    the two at all (``compared``: some pair of their variants shares a blocking key)."""

    left_variant: ScoredVariant
    right_variant: ScoredVariant
    compared: bool


class Explainer(ResolutionJob):
    """Explain why two stored customers match or not, for staff who may read the merges."""

    def explain(self, caller: Caller, a: str, b: str) -> ProfileExplanation:
        """Each field's level and match weight for two stored customers, as resolve scores them.

        Resolve scores every candidate pair of the two customers' variants and keeps the best;
        so does this, with the active model, term frequencies and the prior of all stored
        variants. When no pair of variants shares a blocking key resolve never compares the
        two (``compared`` is False); the best pair is shown all the same.

        Used like this::

            services.identity.explain(owner, "bob@example.com", "rob@example.com").left_variant
            ScoredVariant(current=False, observed_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC))
        """
        self.policy.require(caller, "merges", READ)
        model = active_model(self.store)
        with self.store.unit_of_work() as uow:
            roots = [
                self.lookup.find_root(uow, ref, caller, field)
                for ref, field in ((a, "first customer"), (b, "second customer"))
            ]
            profiles = read_profile_variants(uow, self.settings.default_phone_region)
        if roots[0] == roots[1]:
            raise InvalidInput("these profiles are already one customer")
        position = {uid: i for i, uid in enumerate(profiles.customers.columns["unique_id"])}
        for which, root in zip(("first", "second"), roots, strict=True):
            if root not in position:
                raise InvalidInput(f"{which} customer: not a person customer")
        left, right = (_variants_of(profiles, position[root]) for root in roots)
        # The blocking indexes tell which variant pairs resolve scores at all.
        scorer = Scorer(model, profiles.variants)
        blocked = {(i, j) for i in left for j in scorer.candidates(scorer.row(i)) if j in right}
        scored = {(i, j): scorer.explain(scorer.row(i), scorer.row(j)) for i in left for j in right}
        best = max(
            blocked or scored,
            key=lambda ij: (sum(f.weight for f in scored[ij]), -ij[0], -ij[1]),
        )
        weights = scored[best]
        prior = weight_of(model.prior(len(profiles.variants) - 1))
        total = prior + sum(f.weight for f in weights)
        self.audit.record(caller, "identity_explain", roots[0], roots[1], ["merges"])
        return ProfileExplanation(
            roots[0],
            roots[1],
            prior,
            masked_fields(self.policy, caller, [field_dict(f) for f in weights]),
            total,
            probability_of(total),
            _shown(profiles, best[0]),
            _shown(profiles, best[1]),
            bool(blocked),
        )


def _variants_of(profiles: ProfileVariants, customer: int) -> list[int]:
    return [i for i, owner in enumerate(profiles.owner) if owner == customer]


def _shown(profiles: ProfileVariants, variant: int) -> ScoredVariant:
    at = profiles.observed[variant]
    return ScoredVariant(current=at is None, observed_at=at)
