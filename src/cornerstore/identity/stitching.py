"""Deterministic identity stitching: same identifier, same profile; with the safeguards wrong merges
call for.

A message's identifiers are taken in priority order (userId before e-mail before phone before
external ids before anonymousId). The first known one decides the profile; the others join it,
merge their profiles into it, or are refused when that would break a limit (one userId per profile,
caps on identifiers and merges). Everything happens in memory for a whole batch and is written by
the caller in bulk; merges of rows already stored are applied at once so later messages see them.

Several writers stitch at once (serve processes and their workers, import, identity resolution,
the CLI), so a merge locks the rows of both roots first and re-reads them: a root another writer
merged away since the batch read it is followed to its current root, whose members move too.
Without this, two merges at once (W absorbing X while X absorbs Y) leave Y pointing at X, a root
no more. The batch's identifiers are locked before they are looked up, so writers about the same
new identifier queue instead of both storing it; see
:meth:`~cornerstore.storage.repositories.CustomerRepository.lock`.

A client-side source (a write key public in the shop's pages or app) is trusted less: its
messages join profiles only through the device ids they carry (userId, anonymousId), never
through a claimed e-mail, phone or external id; see :meth:`Stitcher.place` and
docs/identity.md.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from cornerstore.identity.known import KnownIdentifiers
from cornerstore.identity.normalise import is_landline, is_nobodys_own, kind_family
from cornerstore.settings import IdentityRules
from cornerstore.storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (kind, normalised value)
# The ids a browser or app sends by itself: the signed-in customer's userId and the device's
# anonymousId. Everything else a client-side message carries is a claim.
DEVICE_KINDS = frozenset({"user_id", "anonymous_id"})


def new_profile_id(kind: str = "person") -> str:
    """A random, unguessable profile id: ``cus_`` for people, ``acc_`` for accounts."""
    return ("acc_" if kind == "account" else "cus_") + secrets.token_hex(8)


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a message belongs and whose traits it may change.

    ``trusted``: its traits may be stored as the target's. ``claimed``: other customers whose
    e-mail, phone or external id a client-side message claimed without being signed in as
    them; its traits are only unverified observations of theirs.
    """

    target: str
    trusted: bool = True
    claimed: tuple[str, ...] = ()


@dataclass
class PendingMerge:
    winner_id: str
    loser_id: str
    members: list[str]
    reason: str
    evidence: list[dict[str, str]]
    message_id: str | None
    created_at: datetime
    created_by: str


@dataclass
class Stitcher:
    """Resolves the profiles of one batch's messages inside one unit of work."""

    uow: UnitOfWork
    rules: IdentityRules
    actor: str
    owner: dict[Key, str] = field(default_factory=dict)  # identifier -> profile row
    root: dict[str, str] = field(default_factory=dict)  # profile row -> its current root
    new_profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    new_identifiers: list[dict[str, Any]] = field(default_factory=list)
    merges: list[PendingMerge] = field(default_factory=list)
    refusals: list[dict[str, Any]] = field(default_factory=list)
    _counts: dict[str, dict[str, int]] = field(default_factory=dict)
    _sizes: dict[str, int] = field(default_factory=dict)
    _created_at: dict[str, datetime] = field(default_factory=dict)
    _kinds: dict[str, str] = field(default_factory=dict)  # stored profile -> its kind
    # Stored profile rows locked by this transaction: their roots cannot change under it.
    _locked: set[str] = field(default_factory=set)
    #: Write the merges' moved rows in one statement at ``flush`` instead of one a merge, and
    #: take each loser's members from what ``lock_roots`` read: for a batch of merges of
    #: customers all locked by ``lock_roots`` and nothing else read from the store meanwhile
    #: (``Merges.merge_batch``). A batch of messages reads roots between its merges, so it
    #: writes each move at once.
    defer_moves: bool = False
    _members: dict[str, list[str]] = field(default_factory=dict)  # locked root -> stored members
    _moves: dict[str, str] = field(default_factory=dict)  # profile row -> its new root, unwritten

    def __post_init__(self) -> None:
        self._priority = {kind: i for i, kind in enumerate(self.rules.priority)}
        # Each kind's place in the priority order, worked out once (a batch sorts every
        # message's identifiers).
        self._rank: dict[str, int] = {}

    # -- looking up -------------------------------------------------------------------------
    def prefetch(self, keys: Sequence[Key], known: KnownIdentifiers | None = None) -> None:
        """Lock every identifier the batch mentions, then load their owners and roots in one
        query; those ``known`` holds (checked in this transaction) are taken from it."""
        self.uow.identifiers.lock_keys(keys)
        if known is not None and known.owners:
            owners, roots = known.owners, known.roots
            missing = []
            for key in keys:
                customer_id = owners.get(key)
                if customer_id is None:
                    missing.append(key)
                    continue
                root_id = roots[customer_id]
                self.owner[key] = customer_id
                self.root[customer_id] = root_id
                self.root.setdefault(root_id, root_id)
            keys = missing
        for key, (customer_id, root_id) in self.uow.identifiers.lookup(keys).items():
            self.owner[key] = customer_id
            self.root[customer_id] = root_id
            # Identifiers attached during this batch are owned by the root itself.
            self.root.setdefault(root_id, root_id)

    def prefetch_counts(self, roots: Sequence[str]) -> None:
        """Load the identifier counts of several clusters in one query (for those about to grow)."""
        wanted = [r for r in dict.fromkeys(roots) if r not in self._counts]
        if wanted:
            self._counts.update(self._stored_counts(wanted))

    def _stored_counts(self, roots: Sequence[str]) -> dict[str, dict[str, int]]:
        """Per root, how many identifiers of each family its stored cluster holds."""
        found: dict[str, dict[str, int]] = {}
        for root, by_kind in self.uow.identifiers.kind_counts(roots).items():
            counts = found[root] = {}
            for kind, n in by_kind.items():
                fam = kind_family(kind)
                counts[fam] = counts.get(fam, 0) + n
        return found

    def lock_merging(self, messages: Iterable[Sequence[Key]]) -> None:
        """Lock, in one ordered call, the roots of every message whose identifiers belong to
        more than one customer (the merges this batch is about to make), so two batches
        merging overlapping customers queue one behind the other instead of deadlocking."""
        merging: set[str] = set()
        for keys in messages:
            known = {root for key in keys if (root := self.root_of(key)) is not None}
            if len(known) > 1:
                merging |= known
        self._lock(merging)

    def lock_roots(self, roots: Collection[str]) -> bool:
        """Lock the customers ``roots`` and all their members before merging many of them (a
        batch of identity resolution's merges); False, holding the ones locked, when one of
        them is a root no longer (the caller starts again from a fresh read).

        Rows are taken only while they are roots, and never waited for: a row another
        writer holds fails the unit of work at once (a
        :class:`~cornerstore.errors.WriteConflict`, tried again whole). A batch holds many
        customers while it merges; one that waited would close a cycle with a writer moving
        members of a customer it had locked a moment before (seen on PostgreSQL with a
        server's intake), so it never waits and is never part of a deadlock. Their kinds,
        ages, identifier counts and sizes are read once for all."""
        customers = self.uow.customers
        wanted = set(roots) - self._locked
        if customers.lock_for_merging(wanted, roots=True, wait=False) != wanted:
            return False
        members = customers.members_of_roots(sorted(wanted))
        others = {m for ms in members.values() for m in ms} - wanted
        customers.lock_for_merging(others, roots=False, wait=False)
        self._locked |= wanted | others
        self._members.update(members)
        self._reload_facts(sorted(wanted), members)
        for cid, row in customers.get_many(wanted - set(self._kinds)).items():
            self._kinds[cid] = row.kind
            self._created_at.setdefault(cid, row.created_at)
        return True

    def _lock(self, roots: Iterable[str]) -> None:
        """Lock the stored rows of ``roots`` and bring the batch's view of them up to date.

        A root another writer merged away since the batch read it is followed to its current
        root (locked in turn), and the batch's profiles and pending rows follow it; the
        cluster facts of the roots are read again, since their clusters may have grown."""
        wanted = {r for r in roots if r not in self._locked and r not in self.new_profiles}
        current: set[str] = set()
        while wanted:
            # Waiting only for rows above every row held keeps all waits in one order, so no
            # two writers wait on each other; a row below is taken only if free at once, else
            # the unit of work fails and is tried again from the start.
            in_order = min(wanted) > max(self._locked, default="")
            found = self.uow.customers.lock(wanted, wait=in_order)
            self._locked |= wanted
            for cid, root in found.items():
                if root != cid:
                    self._follow(cid, root)
            current |= {root for root in found.values()}
            wanted = {root for root in found.values() if root not in self._locked}
        current = {self.root.get(r, r) for r in current}
        if current:
            self._reload_facts(sorted(current))

    def _follow(self, stale: str, root: str) -> None:
        """Another writer merged ``stale`` into ``root``: what the batch placed on ``stale``
        belongs to ``root`` now."""
        log.info("identity: %s was merged into %s meanwhile; following it", stale, root)
        for cid, r in self.root.items():
            if r == stale:
                self.root[cid] = root
        self.root[stale] = root
        self.root.setdefault(root, root)
        for row in self.new_profiles.values():
            if row["root_id"] == stale:
                row["root_id"] = root
        for facts in (self._counts, self._sizes):
            facts.pop(stale, None)

    def _reload_facts(self, roots: list[str], stored: dict[str, list[str]] | None = None) -> None:
        """Identifier counts and sizes of these clusters: what is stored, read under lock
        (``stored``: their members, when just read), plus what this batch added and has not
        written yet."""
        wanted = set(roots)
        self._counts.update(self._stored_counts(roots))
        for row in self.new_identifiers:
            root = self.root.get(row["customer_id"], row["customer_id"])
            if root in wanted:
                fam = kind_family(row["kind"])
                self._counts[root][fam] = self._counts[root].get(fam, 0) + 1
        if stored is None:
            stored = self.uow.customers.members_of_roots(roots)
        for root in roots:
            self._sizes[root] = len(stored.get(root, []))
        for row in self.new_profiles.values():
            if row["root_id"] in wanted:
                self._sizes[row["root_id"]] += 1

    def root_of(self, key: Key) -> str | None:
        owner = self.owner.get(key)
        return None if owner is None else self.root[owner]

    def _shared_line(self, phone: str) -> bool:
        if not self.rules.stitch_on_landlines and is_landline(phone):
            return True
        return is_nobodys_own(phone)

    def sort_keys(self, keys: list[Key]) -> list[Key]:
        rank = self._rank
        for kind, _ in keys:
            if kind not in rank:
                rank[kind] = self._priority.get(kind_family(kind), len(self._priority))
        return sorted(keys, key=lambda k: rank[k[0]])

    # -- cluster facts, loaded lazily (most messages never need them) ------------------------
    def _cluster_counts(self, root: str) -> dict[str, int]:
        if root not in self._counts:
            self._counts.update(self._stored_counts([root]))
        return self._counts[root]

    def _cluster_size(self, root: str) -> int:
        if root not in self._sizes:
            self._sizes[root] = len(self.uow.customers.members_of_roots([root]).get(root, []))
        return self._sizes[root]

    def _created(self, root: str) -> datetime | None:
        if root in self.new_profiles:
            return None
        if root not in self._created_at:
            row = self.uow.customers.get(root)
            assert row is not None
            self._created_at[root] = row[3]
        return self._created_at[root]

    # -- changing ---------------------------------------------------------------------------
    def create(self, kind: str, at: datetime, message_id: str) -> str:
        cid = new_profile_id(kind)
        self.new_profiles[cid] = {
            "id": cid,
            "kind": kind,
            "root_id": cid,
            "created_at": at,
            "message_id": message_id,
        }
        self.root[cid] = cid
        self._counts[cid] = {}
        self._sizes[cid] = 1
        return cid

    def kind_of(self, root: str) -> str:
        if root in self.new_profiles:
            return str(self.new_profiles[root]["kind"])
        if root in self._kinds:
            return self._kinds[root]
        row = self.uow.customers.get(root)
        assert row is not None
        return row[1]

    def _limit_problem(self, counts: dict[str, int], adding: dict[str, int]) -> str | None:
        total = sum(counts.values()) + sum(adding.values())
        for fam, n in adding.items():
            limit = self.rules.max_per_kind.get(fam)
            if limit is not None and counts.get(fam, 0) + n > limit:
                return f"a profile may hold at most {limit} {fam} identifier(s)"
        if total > self.rules.max_identifiers_per_profile:
            return (
                f"a profile may hold at most {self.rules.max_identifiers_per_profile} identifiers"
            )
        return None

    def can_attach(self, root: str, keys: Sequence[Key]) -> str | None:
        """None when ``keys`` may join ``root``'s profile, else the reason they may not."""
        adding: dict[str, int] = {}
        for kind, _ in keys:
            fam = kind_family(kind)
            adding[fam] = adding.get(fam, 0) + 1
        return self._limit_problem(self._cluster_counts(root), adding)

    def attach(
        self, root: str, keys: Sequence[Key], source: str, touchpoint: str, at: datetime, mid: str
    ) -> None:
        keys = [k for k in keys if k not in self.owner]
        if not keys:
            return
        counts = self._cluster_counts(root)
        for kind, value in keys:
            self.owner[(kind, value)] = root
            fam = kind_family(kind)
            counts[fam] = counts.get(fam, 0) + 1
            self.new_identifiers.append(
                {
                    "customer_id": root,
                    "kind": kind,
                    "value": value,
                    "source": source,
                    "touchpoint": touchpoint,
                    "first_seen_at": at,
                    "message_id": mid,
                }
            )

    def refuse(self, reason: str, profiles: list[str], at: datetime, mid: str | None) -> None:
        log.info("identity: refused for message %s: %s", mid, reason)
        self.refusals.append(
            {"created_at": at, "message_id": mid, "reason": reason, "profiles": profiles}
        )

    def try_merge(
        self,
        a: str,
        b: str,
        *,
        reason: str,
        evidence: list[Key],
        at: datetime,
        mid: str | None,
    ) -> str:
        """Merge the profiles rooted at ``a`` and ``b`` if the safeguards allow; return the root
        the message should use (the survivor, or ``a`` when refused).

        Both roots are locked first and followed to their current roots, so the merge joins
        the customers as they are now, whatever other writers merged meanwhile."""
        if a == b:
            return a
        self._lock((a, b))
        a, b = self.root.get(a, a), self.root.get(b, b)
        if a == b:
            return a
        if self.kind_of(a) != self.kind_of(b):
            self.refuse("a person and an account are never merged", [a, b], at, mid)
            return a
        problem = self._limit_problem(self._cluster_counts(a), self._cluster_counts(b))
        size = self._cluster_size(a) + self._cluster_size(b)
        if problem is None and size > self.rules.max_merges_per_profile + 1:
            problem = f"a profile may absorb at most {self.rules.max_merges_per_profile} others"
        if problem:
            self.refuse(f"merge refused: {problem}", [a, b], at, mid)
            return a
        # The older profile survives so staff keep seeing the id they know.
        ca, cb = self._created(a), self._created(b)
        if (ca is None and cb is not None) or (ca and cb and (cb, b) < (ca, a)):
            a, b = b, a
        self._merge(a, b, reason=reason, evidence=evidence, at=at, mid=mid)
        return a

    def _merge(
        self,
        winner: str,
        loser: str,
        *,
        reason: str,
        evidence: list[Key],
        at: datetime,
        mid: str | None,
    ) -> None:
        if self.defer_moves and loser in self._members and winner in self._members:
            stored = self._members.pop(loser)
            self._members[winner] += stored
            self._moves.update(dict.fromkeys(stored, winner))
        else:
            # Moves still unwritten would hide members from the read below.
            self.uow.customers.set_roots(self._moves)
            self._moves = {}
            stored = self.uow.customers.members_of_roots([loser]).get(loser, [])
            if stored:
                self.uow.customers.set_root(stored, winner)
            self._members.pop(loser, None)
            if winner in self._members:
                self._members[winner] += stored
        pending = [cid for cid, row in self.new_profiles.items() if row["root_id"] == loser]
        members = sorted(set(stored) | set(pending), key=lambda m: (m != loser, m))
        for cid in pending:
            self.new_profiles[cid]["root_id"] = winner
        for cid, r in self.root.items():
            if r == loser:
                self.root[cid] = winner
        for cid in members:
            self.root[cid] = winner
        counts = self._cluster_counts(winner)
        for fam, n in self._cluster_counts(loser).items():
            counts[fam] = counts.get(fam, 0) + n
        self._sizes[winner] = self._cluster_size(winner) + self._cluster_size(loser)
        self.merges.append(
            PendingMerge(
                winner_id=winner,
                loser_id=loser,
                members=members,
                reason=reason,
                evidence=[{"kind": k, "value": v} for k, v in evidence],
                message_id=mid,
                created_at=at,
                created_by=self.actor,
            )
        )
        log.info("identity: merged %s into %s (%s)", loser, winner, reason)

    # -- the decision for one message ---------------------------------------------------------
    def resolve(
        self,
        keys: list[Key],
        *,
        kind: str,
        source: str,
        touchpoint: str,
        at: datetime,
        mid: str,
        reason: str = "stitch",
    ) -> str:
        """The root profile this message belongs to, stitching its identifiers together."""
        known = self.one_known_root(keys)
        if known is not None:
            return known
        keys = self.sort_keys(list(dict.fromkeys(keys)))
        target: str | None = None
        unplaced: list[Key] = []
        for key in keys:
            r = self.root_of(key)
            if r is not None and r != target and key[0] == "phone" and self._shared_line(key[1]):
                # A landline is shared by a household: it never decides whose message this is.
                # Identity resolution weighs it together with the names. A phone already on the
                # message's profile decides nothing either way, so its line type is not asked
                # (phonenumbers' number_type is the dearest step of a returning customer's
                # identify).
                continue
            if r is None:
                if target is None:
                    unplaced.append(key)
                else:
                    problem = self.can_attach(target, [key])
                    if problem:
                        self.refuse(f"identifier not added: {problem}", [target], at, mid)
                    else:
                        self.attach(target, [key], source, touchpoint, at, mid)
                continue
            if target is None:
                problem = self.can_attach(r, unplaced) if unplaced else None
                if problem is None:
                    target = r
                    self.attach(r, unplaced, source, touchpoint, at, mid)
                else:
                    # e.g. a second userId on a shared device: the new person gets a profile.
                    target = self.create(kind, at, mid)
                    self.attach(target, unplaced, source, touchpoint, at, mid)
                    target = self.try_merge(
                        target, r, reason=reason, evidence=[unplaced[0], key], at=at, mid=mid
                    )
                unplaced = []
            elif r != target:
                target = self.try_merge(
                    target, r, reason=reason, evidence=[keys[0], key], at=at, mid=mid
                )
        if target is None:
            target = self.create(kind, at, mid)
            self.attach(target, unplaced, source, touchpoint, at, mid)
        return target

    def one_known_root(self, keys: Sequence[Key]) -> str | None:
        """The root every one of ``keys`` already belongs to, when they all belong to one and
        one of them is not a phone; else None.

        Most messages are of a returning customer whose identifiers are all known: for them
        :meth:`resolve` would decide on that root and change nothing (no identifier to attach,
        no profile to merge), so it is returned without sorting the keys. A phone alone is
        left to :meth:`resolve`, since a landline decides nothing."""
        owner, root = self.owner, self.root
        found: str | None = None
        decisive = False
        for key in keys:
            cid = owner.get(key)
            if cid is None:
                return None
            r = root[cid]
            if found is None:
                found = r
            elif r != found:
                return None
            if key[0] != "phone":
                decisive = True
        return found if decisive else None

    def place(
        self,
        keys: list[Key],
        *,
        client_side: bool,
        kind: str,
        source: str,
        touchpoint: str,
        at: datetime,
        mid: str,
        reason: str = "stitch",
    ) -> Placement:
        """Where a message belongs: :meth:`resolve` for a trusted source; for a client-side
        one, the profile of its device ids, which its claims may not change.

        A client-side message is signed in when its userId is already known. Its device ids
        decide the profile (stitching and merging as usual: anonymous browsing joins the
        account on sign-in). Its traits are trusted when it is signed in, or when its profile
        held nothing but anonymous ids before (a visitor nobody has named yet). Its other
        identifiers (e-mail, phone, external ids) never join or merge an existing customer:
        when one belongs to another customer, nothing is attached, the claim is recorded as a
        refusal for review, and the message's traits become unverified observations of that
        customer (of its own customer when signed in). Free identifiers are attached only
        where its traits are trusted.
        """
        resolve = partial(
            self.resolve,
            kind=kind,
            source=source,
            touchpoint=touchpoint,
            at=at,
            mid=mid,
            reason=reason,
        )
        if not client_side:
            return Placement(resolve(keys))
        keys = list(dict.fromkeys(keys))
        device = [k for k in keys if k[0] in DEVICE_KINDS]
        claims = [k for k in keys if k[0] not in DEVICE_KINDS]
        signed_in = any(k[0] == "user_id" and self.root_of(k) is not None for k in device)
        named = {} if signed_in else {r: self._named(r) for k in device if (r := self.root_of(k))}
        target = resolve(device) if device else self.create(kind, at, mid)
        trusted = signed_in or not named.get(target, False)
        # A landline is shared by a household: giving one claims nobody (as in resolve).
        claimed = sorted(
            {
                r
                for k in claims
                if (r := self.root_of(k))
                and r != target
                and not (k[0] == "phone" and self._shared_line(k[1]))
            }
        )
        if claimed:
            self.refuse(
                "a client-side source may not join customers by e-mail, phone or external id",
                [target, *claimed],
                at,
                mid,
            )
            # Signed in, the traits describe the customer signed in, but next to another
            # customer's contact detail they are not to be trusted (nor matched on) either.
            return Placement(target, trusted=False, claimed=() if signed_in else tuple(claimed))
        if trusted:
            free = [k for k in claims if self.root_of(k) is None]
            for key in free:
                problem = self.can_attach(target, [key])
                if problem:
                    self.refuse(f"identifier not added: {problem}", [target], at, mid)
                else:
                    self.attach(target, [key], source, touchpoint, at, mid)
        return Placement(target, trusted=trusted)

    def _named(self, root: str) -> bool:
        """Whether the profile holds more than anonymous ids: a userId, e-mail, phone or
        external id that someone gave it, and so details worth protecting."""
        return any(n for fam, n in self._cluster_counts(root).items() if fam != "anonymous_id")

    # -- writing ------------------------------------------------------------------------------
    def flush(self) -> None:
        """Write new profiles, identifiers, merges and refusals (events are the caller's)."""
        self.uow.customers.add_many(list(self.new_profiles.values()))
        self.uow.customers.set_roots(self._moves)
        self._moves = {}
        self.uow.identifiers.add_many(self.new_identifiers)
        self.uow.merges.add_many([asdict(m) for m in self.merges])
        self.uow.merges.add_refusals(self.refusals)
