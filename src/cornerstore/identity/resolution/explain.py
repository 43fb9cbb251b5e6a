"""Explaining a pair of stored customers: each field's match weight under the active model,
the prior and the total, values hidden where the caller's role may not read them.
"""

from __future__ import annotations

from cornerstore.access.caller import Caller
from cornerstore.access.policy import READ
from cornerstore.errors import InvalidInput
from cornerstore.identity.resolution.jobs import ResolutionJob
from cornerstore.identity.resolution.model import probability_of, weight_of
from cornerstore.identity.resolution.review import masked_fields
from cornerstore.identity.resolution.scorer import Explanation, Scorer
from cornerstore.identity.resolution.stored_profiles import active_model, field_dict, read_profiles


class Explainer(ResolutionJob):
    """Explain why two stored customers match or not, for staff who may read the merges."""

    def explain(self, caller: Caller, a: str, b: str) -> Explanation:
        """Each field's match weight for two stored customers under the active model (term
        frequencies from all stored profiles), the prior and the total."""
        self.policy.require(caller, "merges", READ)
        model = active_model(self.store)
        with self.store.unit_of_work() as uow:
            roots = [self.lookup.find_root(uow, ref, caller) for ref in (a, b)]
            records = read_profiles(uow, self.settings.default_phone_region)
        if roots[0] == roots[1]:
            raise InvalidInput("these profiles are already one customer")
        position = {uid: i for i, uid in enumerate(records.columns["unique_id"])}
        for ref, root in zip((a, b), roots, strict=True):
            if root not in position:
                raise InvalidInput(f"{ref}: not a person customer")
        scorer = Scorer(model, records, indexed=False)
        left, right = records.row(position[roots[0]]), records.row(position[roots[1]])
        weights = scorer.explain(left, right)
        prior = weight_of(model.prior(len(records) - 1))
        total = prior + sum(f.weight for f in weights)
        self.audit.record(caller, "identity_explain", roots[0], roots[1], ["merges"])
        return Explanation(
            roots[0],
            roots[1],
            prior,
            masked_fields(self.policy, caller, [field_dict(f) for f in weights]),
            total,
            probability_of(total),
        )
