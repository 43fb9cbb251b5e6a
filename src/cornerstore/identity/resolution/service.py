"""Identity resolution on the stored profiles: learn a model from them, resolve them (merge,
queue for review, or leave), place customers one at a time as they arrive, review the grey
zone, explain a pair.

:class:`IdentityResolution` is the one object API, CLI and console call; each job lives in a
module of its own: :mod:`.learning`, :mod:`.resolving`, :mod:`.placing` (with
:mod:`.arrivals`, the worker that places what intake stored), :mod:`.review` and
:mod:`.explain`. The stored profiles are read into the same records the file mode reads
(:mod:`.stored_profiles`), so files and the store are matched by the same normalisers, model
and clustering. Every merge goes through :class:`cornerstore.identity.merge.Merges`:
recorded, reversible, and under the same safeguards as stitching. Staff decisions are
remembered: a rejected pair (or a merge staff undid) is never merged or queued again, and an
accepted or pending pair is not queued twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from cornerstore.access.audit import AuditTrail
from cornerstore.access.caller import Caller
from cornerstore.access.policy import Policy
from cornerstore.identity.merge import Merges
from cornerstore.identity.model import ReviewRecord, StoredModel
from cornerstore.identity.resolution.arrivals import ArrivalQueue
from cornerstore.identity.resolution.explain import Explainer, ProfileExplanation
from cornerstore.identity.resolution.learning import TRAINING_SAMPLE, Learning, Progress
from cornerstore.identity.resolution.model import IdentityModel
from cornerstore.identity.resolution.placing import Placed, Placer
from cornerstore.identity.resolution.resolving import BatchResolution, Resolved
from cornerstore.identity.resolution.review import Review, ReviewPage, ReviewQueue
from cornerstore.identity.resolution.splink_engine import Engine
from cornerstore.identity.resolution.stored_profiles import active_model
from cornerstore.profiles.lookup import CustomerLookup
from cornerstore.profiles.model import MergeRecord
from cornerstore.profiles.service import Profiles
from cornerstore.settings import Settings
from cornerstore.storage.database import Store


class IdentityResolution:
    """Learn, resolve, place, review and explain on the stored profiles, for staff with the
    merges section.

    Used like this::

        resolution = services.identity
        resolution.train(owner)
        StoredModel(id=1, version=1, ...)
        resolution.resolve(owner)
        Resolved(profiles=5000, pairs_scored=812, merged=301, refused=0, queued=24, ...)
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        policy: Policy,
        audit: AuditTrail,
        lookup: CustomerLookup,
        profiles: Profiles,
        merges: Merges,
    ) -> None:
        self.store = store
        self.settings = settings
        self.policy = policy
        self.audit = audit
        self.lookup = lookup
        self.profiles = profiles
        self.merges = merges
        parts = (store, settings, profiles, audit, policy, lookup, merges)
        self._learning = Learning(*parts)
        self._placer = Placer(*parts)
        self._arrivals = ArrivalQueue(self._placer.arrived)
        self._resolution = BatchResolution(*parts, forget_customers=self._placer.forget)
        self._reviews = ReviewQueue(*parts)
        self._explainer = Explainer(*parts)

    def active_model(self) -> IdentityModel:
        """The model resolution uses; NotFound before one was learned."""
        return active_model(self.store)

    def train(
        self,
        caller: Caller,
        now: datetime | None = None,
        *,
        seed: int = 0,
        engine: Engine = "duckdb",
        progress: Progress | None = None,
        calibrate_on_decisions: bool = True,
        sample: int = TRAINING_SAMPLE,
    ) -> StoredModel:
        """Train a model on the stored person profiles (a random sample of ``sample`` of a
        larger store) and make it the active one (see :meth:`.learning.Learning.train`), once
        the customers already stored are placed."""
        self._arrivals.drain()
        return self._learning.train(
            caller,
            now,
            seed=seed,
            engine=engine,
            progress=progress,
            calibrate_on_decisions=calibrate_on_decisions,
            sample=sample,
        )

    def resolve(
        self, caller: Caller, *, engine: Engine = "duckdb", progress: Progress | None = None
    ) -> Resolved:
        """Merge, queue and leave every stored person customer (see
        :meth:`.resolving.BatchResolution.resolve`), once the customers already stored are
        placed."""
        self._arrivals.drain()
        return self._resolution.resolve(caller, engine=engine, progress=progress)

    def place(self, caller: Caller, ref: str) -> Placed:
        """Place one customer now (see :meth:`.placing.Placer.place`)."""
        return self._placer.place(caller, ref)

    def arrived(self, customer_ids: Iterable[str]) -> list[Placed]:
        """Place customers intake stored, now and on this thread (see
        :meth:`.placing.Placer.arrived`)."""
        return self._placer.arrived(customer_ids)

    def place_later(self, customer_ids: Iterable[str]) -> None:
        """Hand customers intake just stored to the placement worker; returns at once."""
        if self.settings.identity.place_arrivals:
            self._arrivals.put(customer_ids)

    def merge_changed(self, merge: MergeRecord) -> None:
        """Keep placement's copy of the stored customers true to a merge made or undone in this
        process (:class:`~cornerstore.identity.merge.Merges` tells of each; see
        :meth:`.placing.Placer.merge_changed`)."""
        self._placer.merge_changed(merge)

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until the customers handed to :meth:`place_later` so far are placed; False
        when ``timeout`` (seconds) ran out first."""
        return self._arrivals.drain(timeout)

    def review_page(
        self, caller: Caller, limit: int = 20, after: str | None = None, before: str | None = None
    ) -> ReviewPage:
        """A page of the pending pairs, strongest first, with how many wait and the cursors of
        the pages beside it (see :meth:`.review.ReviewQueue.page`)."""
        return self._reviews.page(caller, limit, after, before)

    def waiting(self, caller: Caller) -> int:
        """How many pairs wait for a decision."""
        return self._reviews.waiting(caller)

    def pending(self, caller: Caller, limit: int = 20) -> list[Review]:
        """The first pending pairs, strongest first (see :meth:`.review.ReviewQueue.pending`)."""
        return self._reviews.pending(caller, limit)

    def recent_merges(self, caller: Caller, limit: int = 20) -> list[MergeRecord]:
        """The latest merges, newest first (see :meth:`.review.ReviewQueue.recent_merges`)."""
        return self._reviews.recent_merges(caller, limit)

    def decide(self, caller: Caller, review_id: int, accept: bool) -> ReviewRecord:
        """Accept or reject a queued pair (see :meth:`.review.ReviewQueue.decide`)."""
        return self._reviews.decide(caller, review_id, accept)

    def explain(self, caller: Caller, a: str, b: str) -> ProfileExplanation:
        """Each field's match weight for two stored customers, on the pair of their variants
        resolve scores best (see :meth:`.explain.Explainer.explain`)."""
        return self._explainer.explain(caller, a, b)
