"""Recorded, reversible merges: join two customers by hand or on a reviewer's word, or undo any
merge exactly.

Merging never rewrites a profile's own rows (see :mod:`cornerstore.storage.tables`), so undoing a
merge only points the absorbed profiles back at their own root.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal

from cornerstore.access.audit import AuditTrail, entry_fields
from cornerstore.access.caller import Caller
from cornerstore.access.policy import CHANGE, Policy
from cornerstore.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Refused,
    WriteConflict,
)
from cornerstore.identity.stitching import Stitcher
from cornerstore.profiles.lookup import CustomerLookup
from cornerstore.profiles.model import MergeRecord, TraitObservation
from cornerstore.settings import Settings
from cornerstore.storage.database import Store
from cornerstore.storage.retry import IMPORT, REQUEST, retry_conflicts
from cornerstore.storage.unit_of_work import UnitOfWork

# The trait naming the branch (store) a customer belongs to.
BRANCH_TRAIT = "branch"

log = logging.getLogger(__name__)

#: Merges :meth:`Merges.merge_batch` writes in one transaction. One commit a merge held
#: ``identity resolve`` to about 2,500 merges a minute on PostgreSQL; a batch holds its
#: customers' rows locked for about a second, which a concurrent writer about them waits out.
MERGES_PER_TRANSACTION = 500

#: What became of one pair of :meth:`Merges.merge_batch`: merged now, one customer already
#: (through an earlier pair or another writer), or refused (a safeguard of stitching, the
#: caller's branch, or a profile that is gone).
MergeOutcome = Literal["merged", "one", "refused"]


class Merges:
    """Merge two customers by hand, on a reviewer's word or by identity resolution, and undo
    any merge exactly; each merge made or undone is recorded, audited and passed to
    ``on_change`` (identity placement keeps its copy of the stored customers true with it).

    Examples
    --------
    >>> from cornerstore.access.caller import system_caller
    >>> from cornerstore.intake.service import Source
    >>> from cornerstore.services import Services
    >>> from cornerstore.storage import open_store
    >>> services = Services.build(
    ...     Settings(default_phone_region="GB"), open_store("sqlite://", upgrade=True)
    ... )
    >>> _ = services.intake.ingest(
    ...     [
    ...         {"type": "identify", "userId": "web-1", "traits": {"email": "ann@example.com"}},
    ...         {"type": "identify", "anonymousId": "till-7", "traits": {"phone": "07700 900555"}},
    ...     ],
    ...     source=Source("till", "store"),
    ... )
    >>> owner = system_caller()
    >>> record = services.merges.merge(owner, "ann@example.com", "07700 900555")
    >>> record.reason, services.merges.unmerge(owner, record.id).undone_at is not None
    ('manual', True)
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        policy: Policy,
        audit: AuditTrail,
        lookup: CustomerLookup,
        on_change: Callable[[MergeRecord], None],
    ) -> None:
        self.store = store
        self.settings = settings
        self.policy = policy
        self.audit = audit
        self.lookup = lookup
        self.on_change = on_change

    def merge(self, caller: Caller, a: str, b: str, reason: str = "manual") -> MergeRecord:
        """Merge the customers ``a`` and ``b`` (profile ids, or identifiers the caller's role
        may read) under the same safeguards as stitching.

        The caller's role must be allowed to change merges; a staff member limited to a branch
        may merge only customers of that branch (or of none). Tried again for a while when
        concurrent writers hold the same customers."""
        self.policy.require(caller, "merges", CHANGE)
        record = retry_conflicts(partial(self._merge_once, caller, a, b, reason), REQUEST, "merge")
        self.on_change(record)
        return record

    def _merge_once(self, caller: Caller, a: str, b: str, reason: str) -> MergeRecord:
        now = datetime.now(UTC)
        with self.store.unit_of_work(write=True) as uow:
            roots = [
                self.lookup.find_root(uow, ref, caller, field)
                for field, ref in (("customer", a), ("other", b))
            ]
            if roots[0] == roots[1]:
                raise Conflict("these profiles are already one customer")
            self._require_branches(uow, caller, roots)
            stitcher = Stitcher(uow, self.settings.identity, caller.actor)
            survivor = stitcher.try_merge(
                roots[0], roots[1], reason=reason, evidence=[], at=now, mid=None
            )
            if not stitcher.merges and not stitcher.refusals:
                # Another writer joined them after they were read above.
                raise Conflict("these profiles are already one customer")
            if not stitcher.merges:
                raise Refused(stitcher.refusals[-1]["reason"])
            stitcher.flush()
            detail = f"{roots[0]} + {roots[1]}"
            self.audit.record_in(uow, caller, "merge", survivor, detail, ["merges"], now)
            record = uow.merges.active_with_loser(stitcher.merges[0].loser_id)
            assert record is not None
            return record

    def merge_batch(
        self, caller: Caller, pairs: Sequence[tuple[str, str]], reason: str = "resolve"
    ) -> list[MergeOutcome]:
        """Merge pairs of customers (profile ids) in order, in one transaction, under the same
        safeguards, locks and audit as :meth:`merge`; stop after the first pair that is
        refused. The outcome of each pair tried, in order: a caller deciding the next pairs
        from what was merged (identity resolution) sees every refusal before going on.

        The batch's customers and their members are locked in one call before anything moves,
        without waiting (:meth:`Stitcher.lock_roots`): a batch holds many customers, and one
        that waited could close a cycle with another writer, so it is never part of a
        deadlock. The batch is one unit of work, tried again whole when a concurrent writer
        held or moved one of its customers."""
        self.policy.require(caller, "merges", CHANGE)
        if not pairs:
            return []
        outcomes, records = retry_conflicts(
            partial(self._merge_batch_once, caller, pairs, reason), IMPORT, "merge batch"
        )
        for record in records:
            self.on_change(record)
        return outcomes

    def _merge_batch_once(
        self, caller: Caller, pairs: Sequence[tuple[str, str]], reason: str
    ) -> tuple[list[MergeOutcome], list[MergeRecord]]:
        with self.store.unit_of_work(write=True) as uow:
            profiles = sorted({p for two in pairs for p in two})
            # Every customer the batch merges is locked below before anything moves, so the
            # moves are written together at the end (``Stitcher.defer_moves``).
            stitcher = Stitcher(uow, self.settings.identity, caller.actor, defer_moves=True)
            roots = set(uow.customers.roots_of(profiles).values())
            if not stitcher.lock_roots(roots):
                raise WriteConflict("merge batch: another writer merged these customers first")
            # Read again under the locks: every profile's root must be one locked (a profile
            # erased meanwhile is gone, and its pairs refused).
            current = uow.customers.roots_of(profiles)
            if not set(current.values()) <= roots:
                raise WriteConflict("merge batch: another writer moved these customers first")
            outcomes: list[MergeOutcome] = []
            audit: list[dict[str, Any]] = []
            for a, b in pairs:
                outcome = self._merge_in_batch(stitcher, caller, current, (a, b), reason, audit)
                outcomes.append(outcome)
                if outcome == "refused":
                    break
            # As with one merge refused (an error that rolls its unit of work back), a refused
            # pair leaves no refusal row.
            stitcher.refusals.clear()
            stitcher.flush()
            uow.audit.add_many(audit)
            by_loser = uow.merges.active_with_losers([m.loser_id for m in stitcher.merges])
            return outcomes, [by_loser[m.loser_id] for m in stitcher.merges]

    def _merge_in_batch(
        self,
        stitcher: Stitcher,
        caller: Caller,
        current: dict[str, str],
        profiles: tuple[str, str],
        reason: str,
        audit: list[dict[str, Any]],
    ) -> MergeOutcome:
        """Merge one pair of a batch inside the batch's unit of work (``stitcher.uow``), its
        audit row added to ``audit``."""
        a, b = profiles
        if a not in current or b not in current:
            log.info("identity: did not merge %s and %s: a profile is gone", a, b)
            return "refused"
        # The roots as they are now: earlier pairs of the batch may have merged them.
        ra, rb = (stitcher.root.get(current[x], current[x]) for x in (a, b))
        if ra == rb:
            return "one"
        try:
            self._require_branches(stitcher.uow, caller, [ra, rb])
        except Forbidden as exc:
            log.info("identity: did not merge %s and %s: %s", a, b, exc)
            return "refused"
        merges, refusals = len(stitcher.merges), len(stitcher.refusals)
        now = datetime.now(UTC)
        survivor = stitcher.try_merge(ra, rb, reason=reason, evidence=[], at=now, mid=None)
        if len(stitcher.merges) > merges:
            detail = f"{ra} + {rb}"
            audit.append(entry_fields(caller, "merge", survivor, detail, ["merges"], now))
            return "merged"
        if len(stitcher.refusals) > refusals:
            log.info("identity: did not merge %s and %s: %s", a, b, stitcher.refusals[-1]["reason"])
            return "refused"
        return "one"

    def unmerge(self, caller: Caller, ref: str | int) -> MergeRecord:
        """Undo a merge, given its id or the id of the profile it absorbed.

        Both profiles come back with their own identifiers, traits and events; later merges
        that carried the absorbed profile along forget it, so undoing them cannot re-join it.
        """
        self.policy.require(caller, "merges", CHANGE)
        now = datetime.now(UTC)
        with self.store.unit_of_work(write=True) as uow:
            if isinstance(ref, int) or (str(ref).isascii() and str(ref).isdigit()):
                merge_id = int(ref)
                # Past a signed 64-bit integer no row has the id: the database cannot look it up.
                record = uow.merges.get(merge_id) if 0 < merge_id < 2**63 else None
                if record is None:
                    raise NotFound("merge: no such merge")
            else:
                if uow.customers.get(str(ref)) is None:
                    raise NotFound("customer: no such customer (give a profile or merge id)")
                record = uow.merges.active_with_loser(str(ref))
                if record is None:
                    raise InvalidInput("customer: was not merged into another profile")
            if record.undone_at is not None:
                raise Conflict(f"merge {record.id}: was already undone")
            self._require_branches(uow, caller, [record.winner_id, record.loser_id])
            # Locked like a merge's, so no merge moves these members while they move back.
            uow.customers.lock([record.winner_id, record.loser_id])
            moved = set(record.members)
            uow.customers.set_root(record.members, record.loser_id)
            for later in uow.merges.active_after(record.id):
                kept = [m for m in later.members if m not in moved]
                if kept != later.members:
                    uow.merges.set_members(later.id, kept)
            uow.merges.mark_undone(record.id, now, caller.actor)
            detail = f"merge {record.id} from {record.winner_id}"
            self.audit.record_in(uow, caller, "unmerge", record.loser_id, detail, ["merges"], now)
            log.info(
                "identity: undid merge %s (%s out of %s)",
                record.id,
                record.loser_id,
                record.winner_id,
            )
            undone = uow.merges.get(record.id)
            assert undone is not None
        self.on_change(undone)
        return undone

    def _require_branches(self, uow: UnitOfWork, caller: Caller, roots: list[str]) -> None:
        if caller.branch is None:
            return
        for root in roots:
            self.policy.require_branch(caller, home_branch(uow, root))


def home_branch(uow: UnitOfWork, root: str) -> str | None:
    """The branch a customer belongs to: the latest value of their ``branch`` trait, if any."""
    latest: TraitObservation | None = None
    for obs in uow.traits.of_customers(uow.customers.members(root)):
        if obs.name == BRANCH_TRAIT and (latest is None or obs.observed_at >= latest.observed_at):
            latest = obs
    return str(latest.value) if latest is not None and latest.value not in (None, "") else None
