"""Recorded, reversible merges: join two profiles by hand, or undo any merge exactly.

Merging never rewrites a profile's own rows (see :mod:`cornerstore.storage.tables`), so undoing a
merge only points the absorbed profiles back at their own root.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from cornerstore.access.caller import Caller, require_staff
from cornerstore.errors import Conflict, InvalidInput, NotFound, Refused
from cornerstore.identity.stitching import Stitcher
from cornerstore.profiles.model import MergeRecord
from cornerstore.settings import Settings
from cornerstore.storage.database import Store

log = logging.getLogger(__name__)


def merge_profiles(
    store: Store, settings: Settings, caller: Caller, a: str, b: str, reason: str = "manual"
) -> MergeRecord:
    """Merge the profiles ``a`` and ``b`` under the same safeguards as stitching."""
    require_staff(caller)
    now = datetime.now(UTC)
    with store.unit_of_work(write=True) as uow:
        roots = []
        for field, ref in (("customer", a), ("other", b)):
            row = uow.customers.get(ref)
            if row is None:
                raise NotFound(f"{field}: no such customer (give a profile id)")
            roots.append(row[2])
        if roots[0] == roots[1]:
            raise Conflict("these profiles are already one customer")
        stitcher = Stitcher(uow, settings.identity, caller.actor)
        survivor = stitcher.try_merge(
            roots[0], roots[1], reason=reason, evidence=[], at=now, mid=None
        )
        if not stitcher.merges:
            raise Refused(stitcher.refusals[-1]["reason"])
        stitcher.flush()
        uow.audit.add(
            at=now,
            actor=caller.actor,
            action="merge",
            customer_id=survivor,
            via=caller.via,
            detail=f"{roots[0]} + {roots[1]}",
        )
        record = uow.merges.active_with_loser(stitcher.merges[0].loser_id)
        assert record is not None
        return record


def unmerge(store: Store, caller: Caller, ref: str | int) -> MergeRecord:
    """Undo a merge, given its id or the id of the profile it absorbed.

    Both profiles come back with their own identifiers, traits and events; later merges that
    carried the absorbed profile along forget it, so undoing them cannot re-join it.
    """
    require_staff(caller)
    now = datetime.now(UTC)
    with store.unit_of_work(write=True) as uow:
        if isinstance(ref, int) or str(ref).isdigit():
            record = uow.merges.get(int(ref))
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
        moved = set(record.members)
        uow.customers.set_root(record.members, record.loser_id)
        for later in uow.merges.active_after(record.id):
            kept = [m for m in later.members if m not in moved]
            if kept != later.members:
                uow.merges.set_members(later.id, kept)
        uow.merges.mark_undone(record.id, now, caller.actor)
        uow.audit.add(
            at=now,
            actor=caller.actor,
            action="unmerge",
            customer_id=record.loser_id,
            via=caller.via,
            detail=f"merge {record.id} from {record.winner_id}",
        )
        log.info(
            "identity: undid merge %s (%s out of %s)", record.id, record.loser_id, record.winner_id
        )
        undone = uow.merges.get(record.id)
        assert undone is not None
        return undone
