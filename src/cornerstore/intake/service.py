"""The intake service: one code path for HTTP, the library, file imports and the demo.

A batch is validated message by message (bad ones are reported with their index and reason and
the good ones kept), deduplicated on messageId, stitched to profiles, and written in one
transaction with bulk inserts. Should the database refuse a value of it, the batch is written
again message by message, so only the messages it cannot hold are rejected.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from cornerstore.errors import CornerstoreError, InvalidInput, TooLarge, Unstorable
from cornerstore.group_commit import GroupCommitter
from cornerstore.identity.known import KnownIdentifiers
from cornerstore.identity.normalise import Normaliser
from cornerstore.identity.stitching import Key, Placement, Stitcher
from cornerstore.intake.batch_rows import BatchRows, consent_rows, event_row, trait_name, trait_rows
from cornerstore.intake.messages import Message, parse_message
from cornerstore.json_input import TOO_DEEP
from cornerstore.privacy.message_scan import scan_messages
from cornerstore.privacy.suppression import SUPPRESSION_KEY, suppression_digest
from cornerstore.settings import Settings
from cornerstore.spec import CASE_EVENTS, IDENTIFYING_TRAITS, MATCHING_TRAITS
from cornerstore.storage.database import Store
from cornerstore.storage.retry import IMPORT, REQUEST, Patience, retry_conflicts
from cornerstore.storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

_NO_IDENTIFIER = (
    "no usable identifier: userId and anonymousId are empty or blocked placeholder values"
)
_UNSTORABLE = "the database cannot store a value of this message"
_CORE_EXTERNAL = {"user_id": "user_id", "userid": "user_id", "email": "email", "phone": "phone"}
# The (userId, anonymousId) pairs whose identifiers intake keeps (about 300 bytes each); past
# it, it starts again empty.
_KEYS_OF_IDS_KEPT = 100_000


@dataclass(frozen=True, slots=True)
class Source:
    """Where messages come from: a write key, a file import, the demo or library code.

    ``client_side``: a write key public in the shop's pages or app; what its messages claim
    about existing customers stays unverified (see :meth:`Stitcher.place`)."""

    name: str
    touchpoint: str
    client_side: bool = False


@dataclass(frozen=True, slots=True)
class Rejection:
    """A message that was not stored: its index, why (naming the field, never the value), and
    the error a request holding nothing but such messages is answered with.

    Examples
    --------
    >>> rejection = Rejection(0, "batch[0]: message is 40000 bytes, over the limit", TooLarge)
    >>> (rejection.moved(3).index, rejection.error.code, rejection.error.status)
    (3, 'too_large', 413)
    """

    index: int
    reason: str
    error: type[CornerstoreError] = InvalidInput

    def moved(self, offset: int) -> Rejection:
        """The same rejection for a message ``offset`` places further on in a larger batch."""
        return replace(self, index=self.index + offset)


@dataclass(frozen=True, slots=True)
class Change:
    """A sensitive value the firewall removed: which message, which field, what kind, and
    whether the field was ``dropped``, the value ``redacted`` or the message ``rejected``
    (never the value)."""

    index: int
    field: str
    kind: str
    action: str = "dropped"


@dataclass(frozen=True, slots=True)
class CouponAnswer:
    """What became of the coupon a stored track event carried (its ``coupon`` property), so the
    till that sent it can tell the customer at once: ``redeemed``, or refused with ``reason``:
    ``used`` (redeemed already), ``not_theirs`` (issued to another customer), ``expired`` or
    ``unknown`` (no such code)."""

    index: int
    code: str
    redeemed: bool
    reason: str | None = None


@dataclass(slots=True)
class IntakeResult:
    """What happened to a batch."""

    received: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    profiles_created: int = 0
    merges: int = 0
    refused_merges: int = 0
    changed: list[Change] = field(default_factory=list)
    # Messages from people who were erased: dropped, so a replay cannot bring them back.
    suppressed: int = 0
    # Stored messages whose merge or new identifier a safeguard refused, with the reason.
    refused: list[Rejection] = field(default_factory=list)
    # The coupons of stored track events, redeemed or refused (see CouponAnswer).
    coupons: list[CouponAnswer] = field(default_factory=list)

    def add(self, other: IntakeResult, offset: int = 0) -> None:
        self.received += other.received
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.rejected.extend(r.moved(offset) for r in other.rejected)
        self.profiles_created += other.profiles_created
        self.merges += other.merges
        self.refused_merges += other.refused_merges
        self.changed.extend(
            Change(c.index + offset, c.field, c.kind, c.action) for c in other.changed
        )
        self.suppressed += other.suppressed
        self.refused.extend(r.moved(offset) for r in other.refused)
        self.coupons.extend(
            CouponAnswer(c.index + offset, c.code, c.redeemed, c.reason) for c in other.coupons
        )


@dataclass(slots=True)
class _Job:
    """One caller's validated batch on its way into a (possibly shared) transaction."""

    good: list[tuple[int, Message]]
    bad: list[Rejection]
    source: Source
    actor: str
    result: IntakeResult
    privacy_events: list[dict[str, Any]] = field(default_factory=list)
    # How rejections name a message: ``batch[3]``, or ``body`` / ``row`` when the type is implied.
    where: str = "batch"
    indexed: bool = True
    # Customers of this batch who gained a matching trait, in order, each once.
    matching: dict[str, None] = field(default_factory=dict)
    # Track events naming a case (Case Opened, Case Message, Case Resolved) stored by this
    # batch, with the profile each was stitched to, for ``on_case_events``.
    case_events: list[tuple[str, Message]] = field(default_factory=list)
    # Stored track events of this batch that carry a ``coupon`` property (their messageIds).
    coupons: list[str] = field(default_factory=list)
    # How long to keep trying when concurrent writers get in the way.
    patience: Patience = REQUEST

    def reset(self) -> None:
        r = self.result
        r.accepted = r.duplicates = r.profiles_created = r.merges = r.refused_merges = 0
        r.suppressed = 0
        r.rejected = list(self.bad)
        r.refused = []
        r.coupons = []
        self.matching = {}
        self.case_events = []
        self.coupons = []

    def label(self, index: int) -> str:
        return f"{self.where}[{index}]" if self.indexed else self.where


class Intake:
    """Takes Spec messages into the store.

    Examples
    --------
    >>> from cornerstore.storage import open_store
    >>> intake = Intake(open_store("sqlite://", upgrade=True), Settings())
    >>> result = intake.ingest(
    ...     [{"type": "identify", "userId": "u1", "traits": {"email": "a@b.co"}}],
    ...     source=Source("shop", "web"),
    ... )
    >>> result.accepted, result.profiles_created
    (1, 1)
    """

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.normaliser = Normaliser(
            settings.identity,
            settings.default_phone_region,
            settings.shop_emails,
            settings.shop_phones,
        )
        self._committer: GroupCommitter[_Job] = GroupCommitter(self._write)
        self._suppression_key: str | None = None
        # Erasures only ever add to the suppression list: once it holds a digest, no batch
        # needs to ask again whether it is empty.
        self._suppressions_exist = False
        # The identifiers the last batches stitched, while nothing else writes (SQLite).
        self._known = KnownIdentifiers()
        # The normalised identifiers of each (userId, anonymousId) pair of messages that carry
        # no others: the same customer's messages normalise the same ids again otherwise.
        self._keys_of_ids: dict[tuple[str | None, str | None], tuple[Key, ...]] = {}
        # Called after a batch is committed with its customers that gained matching traits
        # (identity resolution places them); its failure never fails intake.
        self.on_matching_traits: Callable[[list[str]], object] | None = None
        # Called after a batch is committed with its case events (profile, message) in order:
        # the contact centre turns them into cases; its failure never fails intake.
        self.on_case_events: Callable[[list[tuple[str, Message]]], object] | None = None
        self.case_event_names: frozenset[str] = frozenset(CASE_EVENTS)
        # Called after a batch is committed with the messageIds of its track events that carry
        # a ``coupon`` property (campaigns redeem them); answers (messageId, code, redeemed,
        # reason) for each, which the batch's answer carries; its failure never fails intake.
        self.on_coupons: (
            Callable[[list[str]], Iterable[tuple[str, str, bool, str | None]]] | None
        ) = None

    # -- validation -----------------------------------------------------------------------
    def parse(
        self,
        raw_messages: Sequence[Any],
        *,
        source: Source,
        received_at: datetime,
        batch_sent_at: datetime | None = None,
        implied_type: str | None = None,
        where: str = "batch",
        changes: list[Change] | None = None,
        refusals: list[Change] | None = None,
    ) -> tuple[list[tuple[int, Message]], list[Rejection]]:
        """Pass each message through the firewall and validate it.

        What the firewall removed is added to ``changes``; the sensitive values that made the
        policy refuse a whole message are added to ``refusals``.
        """
        limits = self.settings.intake
        changes = [] if changes is None else changes
        refusals = [] if refusals is None else refusals
        if len(raw_messages) > limits.max_batch_messages:
            raise TooLarge(
                f"{where}: {len(raw_messages)} messages, over the limit of "
                f"{limits.max_batch_messages} a batch"
            )
        good: list[tuple[int, Message]] = []
        bad: list[Rejection] = []
        reject = set(self.settings.privacy.reject)
        drop = frozenset(self.settings.privacy.drop)
        # The firewall, over the whole batch at once (most messages of a batch share their user
        # agent, library, page and product names): nothing sensitive goes further than this.
        # A clean message comes back as the very object given; nothing below changes it.
        scanned = scan_messages(raw_messages, drop)
        for index, (raw, scan) in enumerate(zip(raw_messages, scanned, strict=True)):
            label = f"{where}[{index}]" if implied_type is None else where
            if isinstance(raw, dict):
                if scan.too_deep:
                    bad.append(Rejection(index, f"{label}: {TOO_DEEP}"))
                    continue
                raw, found = scan.message, scan.found
                if found:  # rarely: most messages hold nothing sensitive
                    refused = [f for f in found if f.kind in reject]
                    if refused:
                        refusals.extend(Change(index, f.path, f.kind, "rejected") for f in refused)
                        first = refused[0]
                        bad.append(
                            Rejection(
                                index,
                                f"{label}.{first.path}: holds a {first.kind.replace('_', ' ')}; "
                                "the privacy policy refuses such messages",
                            )
                        )
                        continue
                    changes.extend(Change(index, f.path, f.kind, f.action) for f in found)
            try:
                msg = parse_message(
                    raw,
                    where=label,
                    received_at=received_at,
                    batch_sent_at=batch_sent_at,
                    default_touchpoint=source.touchpoint,
                    max_message_bytes=limits.max_message_bytes,
                    implied_type=implied_type,
                )
            except CornerstoreError as exc:
                bad.append(Rejection(index, exc.message, type(exc)))
                continue
            good.append((index, msg))
        return good, bad

    # -- identifiers of a message ------------------------------------------------------------
    def identifiers(self, msg: Message) -> list[Key]:
        """Every normalised person identifier the message carries."""
        context = msg.context
        if msg.type == "identify" or "traits" in context or "externalIds" in context:
            return self._identifiers(msg)
        # The rest (most traffic: a returning customer's track and page messages) carry only
        # their userId and anonymousId, whose identifiers are those the same pair had before.
        ids = (msg.user_id, msg.anonymous_id)
        keys = self._keys_of_ids.get(ids)
        if keys is None:
            if len(self._keys_of_ids) >= _KEYS_OF_IDS_KEPT:
                self._keys_of_ids.clear()
            keys = self._keys_of_ids[ids] = tuple(self._identifiers(msg))
        return list(keys)

    def _identifiers(self, msg: Message) -> list[Key]:
        n = self.normaliser
        keys: list[Key] = []
        if msg.user_id is not None:
            v = n.plain(msg.user_id)
            if v:
                keys.append(("user_id", v))
        if msg.anonymous_id is not None:
            v = n.plain(msg.anonymous_id)
            if v:
                keys.append(("anonymous_id", v))
        context_traits = msg.context.get("traits")
        sources = [msg.traits] if msg.type == "identify" else []
        if isinstance(context_traits, dict):
            sources.append(context_traits)
        for traits in sources:
            for field_name, kind in IDENTIFYING_TRAITS.items():
                raw = traits.get(field_name)
                if raw is not None:
                    v = n.identifier(kind, raw)
                    if v:
                        keys.append((kind, v))
        external = msg.context.get("externalIds")
        if isinstance(external, list):
            for item in external[:20]:
                if not isinstance(item, dict):
                    continue
                ext_type = str(item.get("type") or "").strip().lower()
                if not ext_type or len(ext_type) > 48:
                    continue
                kind = _CORE_EXTERNAL.get(ext_type, f"external:{ext_type}")
                v = n.identifier(kind, item.get("id"))
                if v:
                    keys.append((kind, v))
        return keys

    # -- the whole batch ---------------------------------------------------------------------
    def ingest(
        self,
        raw_messages: Sequence[Any],
        *,
        source: Source,
        actor: str | None = None,
        received_at: datetime | None = None,
        batch_sent_at: datetime | None = None,
        implied_type: str | None = None,
        where: str = "batch",
        entrance: str = "intake",
    ) -> IntakeResult:
        """Validate, deduplicate, stitch and store a batch of Spec messages.

        Invalid messages are reported in ``rejected`` with their index and reason; the valid ones
        are stored together in one transaction (message by message, should the database refuse a
        value of it, rejecting what it refuses). Stored messages whose merge or new identifier a
        safeguard refused are listed in ``refused``. Each sensitive value the firewall removed is
        recorded as a privacy event (kind, field, ``entrance``, time).
        """
        received_at = received_at or datetime.now(UTC)
        changes: list[Change] = []
        refusals: list[Change] = []
        good, bad = self.parse(
            raw_messages,
            source=source,
            received_at=received_at,
            batch_sent_at=batch_sent_at,
            implied_type=implied_type,
            where=where,
            changes=changes,
            refusals=refusals,
        )
        result = IntakeResult(received=len(raw_messages), rejected=bad, changed=changes)
        privacy_events = []
        if changes or refusals:
            ids = {index: msg.message_id for index, msg in good}
            privacy_events = [
                {
                    "at": received_at,
                    "entrance": entrance,
                    "source": source.name[:128],
                    "kind": c.kind,
                    "field": c.field[:512],
                    "action": c.action,
                    "message_id": ids.get(c.index),
                }
                for c in [*changes, *refusals]
            ]
        if good:
            job = _Job(good, list(bad), source, actor or f"source:{source.name}", result)
            job.privacy_events = privacy_events
            job.where, job.indexed = where, implied_type is None
            job.patience = IMPORT if entrance == "import" else REQUEST
            self._committer.submit(job, len(good))
            self._hand_over(job)
        elif privacy_events:
            with self.store.unit_of_work(write=True) as uow:
                uow.privacy_events.add_many(privacy_events)
        result.rejected.sort(key=lambda r: r.index)
        return result

    def _hand_over(self, job: _Job) -> None:
        """Give the committed batch's customers who gained a matching trait to
        ``on_matching_traits``, its case events to ``on_case_events`` and its coupon events to
        ``on_coupons``, outside the shared transaction, so no caller of the group waits for
        another's matching."""
        if job.case_events and self.on_case_events is not None:
            try:
                self.on_case_events(list(job.case_events))
            except Exception as exc:  # the events are stored; the cases can be replayed
                log.warning("intake: filing case events failed (%s)", type(exc).__name__)
        if job.coupons and self.on_coupons is not None:
            try:
                answers = list(self.on_coupons(list(job.coupons)))
            except Exception as exc:  # the events are stored; redeeming never fails intake
                log.warning("intake: redeeming coupons failed (%s)", type(exc).__name__)
            else:
                index_of = {msg.message_id: index for index, msg in job.good}
                job.result.coupons.extend(
                    CouponAnswer(index_of[message_id], code, redeemed, reason)
                    for message_id, code, redeemed, reason in answers
                    if message_id in index_of
                )
                job.result.coupons.sort(key=lambda c: c.index)
        if not job.matching or self.on_matching_traits is None:
            return
        try:
            self.on_matching_traits(list(job.matching))
        except Exception as exc:  # the batch is stored; placing it can wait for `resolve`
            log.warning("intake: placing new customers failed (%s)", type(exc).__name__)

    def _write(self, jobs: Sequence[_Job]) -> None:
        """Store several batches in one transaction; a batch the database refuses a value of is
        stored message by message, so only the messages it cannot hold are rejected."""
        try:
            self._store_retrying(jobs)
        except Unstorable as exc:
            if len(jobs) > 1:
                raise  # the group committer writes each batch alone
            log.warning(
                "intake: the database refused a value of a batch (%s); storing it message by "
                "message",
                type(exc.__cause__).__name__,
            )
            self._store_each_message(jobs[0])

    def _store_retrying(self, jobs: Sequence[_Job]) -> None:
        """Store the batches in one transaction, retrying while a concurrent writer wins (an
        import for minutes, a request about a second, then 503 with Retry-After)."""

        def attempt() -> None:
            # Each attempt looks the identifiers up again, so it stitches to what the
            # concurrent writer stored (the same new identifier or messageId, merged roots).
            for job in jobs:
                job.reset()
            self._store(jobs)

        patience = max((job.patience for job in jobs), key=lambda p: p.attempts)
        retry_conflicts(attempt, patience, "intake")

    def _store_each_message(self, job: _Job) -> None:
        """Store each message of ``job`` in its own transaction; reject those the database
        refuses by index (only on the rare batch the database refused as a whole)."""
        job.reset()
        if job.privacy_events:
            with self.store.unit_of_work(write=True) as uow:
                uow.privacy_events.add_many(job.privacy_events)
        for index, msg in job.good:
            single = _Job([(index, msg)], [], job.source, job.actor, IntakeResult())
            try:
                self._store_retrying([single])
            except Unstorable:
                job.result.rejected.append(Rejection(index, f"{job.label(index)}: {_UNSTORABLE}"))
                continue
            job.result.add(single.result)
            job.matching.update(single.matching)

    def _store(self, jobs: Sequence[_Job]) -> None:
        """Store the batches in one transaction; each job notes its customers that gained a
        matching trait (for ``on_matching_traits``)."""
        with self.store.unit_of_work(write=True) as uow:
            unchanged = self._known.check(uow)
            uow.privacy_events.add_many([row for job in jobs for row in job.privacy_events])
            seen = uow.events.existing_message_ids(
                [m.message_id for job in jobs for _, m in job.good]
            )
            batch, all_keys = self._new_messages(jobs, seen)
            batch = self._without_suppressed(uow, batch, unchanged)
            if not batch:
                return
            stitcher = self._stitcher(uow, batch, all_keys)
            rows = BatchRows()
            profiles, merges, refusals = stitcher.new_profiles, stitcher.merges, stitcher.refusals
            for job, msg, keys in batch:
                before = (len(profiles), len(merges), len(refusals))
                self._add_message(stitcher, rows, job, msg, keys)
                job.result.accepted += 1
                # Most messages are of returning customers and change none of these.
                if before != (len(profiles), len(merges), len(refusals)):
                    self._note_stitching(job, msg, stitcher, before)
            stitcher.flush()
            rows.write(uow, stitcher.new_profiles)
            mark = uow.write_mark()
        # Committed: the next batch may take these owners and roots instead of reading them.
        if stitcher.merges:
            self._known.forget()  # the roots of customers this batch never read changed too
        self._known.learn(stitcher.owner, stitcher.root, mark)

    @staticmethod
    def _note_stitching(
        job: _Job, msg: Message, stitcher: Stitcher, before: tuple[int, int, int]
    ) -> None:
        """Count the profiles, merges and refusals placing ``msg`` added (their counts were
        ``before``), and list its refusals by the message's index."""
        result = job.result
        result.profiles_created += len(stitcher.new_profiles) - before[0]
        result.merges += len(stitcher.merges) - before[1]
        result.refused_merges += len(stitcher.refusals) - before[2]
        index = next(i for i, m in job.good if m is msg)
        result.refused += [Rejection(index, r["reason"]) for r in stitcher.refusals[before[2] :]]

    def _stitcher(
        self, uow: UnitOfWork, batch: list[tuple[_Job, Message, list[Key]]], all_keys: list[Key]
    ) -> Stitcher:
        """A stitcher for the batch, with every identifier it mentions looked up at once and
        the counts of the profiles about to gain identifiers."""
        stitcher = Stitcher(uow, self.settings.identity, batch[0][0].actor)
        stitcher.prefetch(all_keys, self._known)
        # A trusted message whose identifiers all belong to one customer (most: returning
        # customers) merges nothing and adds no identifier: only the others are looked at.
        settled = stitcher.one_known_root
        others = [
            (job, keys) for job, _, keys in batch if job.source.client_side or not settled(keys)
        ]
        stitcher.lock_merging(keys for _, keys in others)
        growing = []
        for job, keys in others:
            known = [stitcher.root_of(k) for k in keys]
            # A client-side message not signed in asks what its profile holds already.
            if None in known or (
                job.source.client_side
                and not any(k[0] == "user_id" and r for k, r in zip(keys, known, strict=True))
            ):
                growing += [r for r in known if r is not None]
        stitcher.prefetch_counts(growing)
        return stitcher

    def _add_message(
        self, stitcher: Stitcher, rows: BatchRows, job: _Job, msg: Message, keys: list[Key]
    ) -> None:
        """Stitch one message to its profile and gather the rows it adds."""
        source = job.source
        stitcher.actor = job.actor
        # A returning customer of a trusted source, all of whose identifiers are known: placed
        # as resolve would place it (its first step), without assembling the full call.
        root = None if source.client_side else stitcher.one_known_root(keys)
        placement = (
            Placement(root)
            if root is not None
            else stitcher.place(
                keys,
                client_side=source.client_side,
                kind="person",
                source=source.name,
                touchpoint=msg.touchpoint,
                at=msg.timestamp,
                mid=msg.message_id,
                reason="alias" if msg.type == "alias" else "stitch",
            )
        )
        if msg.type == "alias":
            placement = self._alias(stitcher, msg, keys, source, placement)
        target = placement.target
        account_id: str | None = None
        if msg.type == "group":
            account_id = self._add_group(stitcher, rows, msg, source, target)
        elif msg.type == "identify":
            self._add_identify(rows, job, msg, placement)
        if "consentManagement" in msg.context or "consent" in msg.context:
            categories = self.settings.privacy.consent_categories
            rows.consents += consent_rows(msg, target, source.name, categories)
        rows.events.append(event_row(msg, target, account_id, source.name))
        if msg.type == "track" and msg.event in self.case_event_names:
            job.case_events.append((target, msg))
        if msg.type == "track" and "coupon" in msg.properties:
            job.coupons.append(msg.message_id)

    def _add_group(
        self, stitcher: Stitcher, rows: BatchRows, msg: Message, source: Source, target: str
    ) -> str | None:
        """Join the person to the message's account and gather the account's traits; returns
        the account (None when the group id is unusable)."""
        account_id = self._group(stitcher, msg, source)
        if account_id is None:
            return None
        rows.members.append(
            {
                "account_id": account_id,
                "customer_id": target,
                "since": msg.timestamp,
                "message_id": msg.message_id,
            }
        )
        traits = trait_rows(account_id, msg.traits, msg, source.name)
        # A client-side source describes only an account it just created.
        if source.client_side and account_id not in stitcher.new_profiles:
            rows.unverified += traits
        else:
            rows.traits += traits
        return account_id

    def _add_identify(self, rows: BatchRows, job: _Job, msg: Message, placement: Placement) -> None:
        """Gather an identify message's traits: unverified when the placement is a claim or
        untrusted, else the profile's own, noting a customer who gained a matching trait."""
        source, target = job.source, placement.target
        if placement.claimed or not placement.trusted:
            for claimed in placement.claimed or (target,):
                rows.unverified += trait_rows(claimed, msg.traits, msg, source.name)
            return
        rows.traits += trait_rows(target, msg.traits, msg, source.name)
        # Matching on arrival may merge: a public key's word does not start that (whoever
        # holds it could copy a customer's name and address).
        if (
            self.on_matching_traits is not None
            and not source.client_side
            and any(trait_name(k) in MATCHING_TRAITS for k in msg.traits)
        ):
            job.matching[target] = None

    def _without_suppressed(
        self, uow: UnitOfWork, batch: list[tuple[_Job, Message, list[Key]]], unchanged: bool
    ) -> list[tuple[_Job, Message, list[Key]]]:
        """Drop the messages that carry an identifier of an erased person. ``unchanged``: nothing
        was written since the last batch stored, so a list that batch found empty still is."""
        if not batch:
            return batch
        if not self._suppressions_exist:
            if unchanged or not uow.suppressions.any():
                return batch
            self._suppressions_exist = True
        if self._suppression_key is None:
            self._suppression_key = uow.installation_secrets.get_or_make(
                SUPPRESSION_KEY, datetime.now(UTC)
            )
        key = self._suppression_key
        digests = [[suppression_digest(key, kind, value) for kind, value in k] for _, _, k in batch]
        present = uow.suppressions.present([d for ds in digests for d in ds])
        if not present:
            return batch
        kept = []
        for item, ds in zip(batch, digests, strict=True):
            if present.isdisjoint(ds):
                kept.append(item)
            else:
                item[0].result.suppressed += 1
        return kept

    def _new_messages(
        self, jobs: Sequence[_Job], seen: set[str]
    ) -> tuple[list[tuple[_Job, Message, list[Key]]], list[Key]]:
        """The messages not stored before, each with its identifiers, and every identifier the
        batch mentions (alias and group ids included) for one lookup."""
        batch: list[tuple[_Job, Message, list[Key]]] = []
        all_keys: list[Key] = []
        for job in jobs:
            for index, msg in job.good:
                if msg.message_id in seen:
                    job.result.duplicates += 1
                    continue
                seen.add(msg.message_id)
                keys = self.identifiers(msg)
                if msg.type == "alias":
                    assert msg.previous_id is not None
                    prev = self.normaliser.plain(msg.previous_id)
                    if prev:
                        all_keys += [("user_id", prev), ("anonymous_id", prev)]
                if msg.type == "group":
                    assert msg.group_id is not None
                    gid = self.normaliser.plain(msg.group_id)
                    if gid:
                        all_keys.append(("group_id", gid))
                if not keys:
                    job.result.rejected.append(Rejection(index, _NO_IDENTIFIER))
                    continue
                all_keys += keys
                batch.append((job, msg, keys))
        return batch, all_keys

    def _alias(
        self,
        stitcher: Stitcher,
        msg: Message,
        keys: list[Key],
        source: Source,
        placement: Placement,
    ) -> Placement:
        """Join the profile of ``msg.previousId`` to the one the alias was placed on."""
        at, mid, tp = msg.timestamp, msg.message_id, msg.touchpoint
        target = placement.target
        prev = self.normaliser.plain(msg.previous_id)
        if not prev:
            return placement
        for kind in ("user_id", "anonymous_id"):
            other = stitcher.root_of((kind, prev))
            if other is not None:
                merged = stitcher.try_merge(
                    target,
                    other,
                    reason="alias",
                    evidence=[keys[0], (kind, prev)],
                    at=at,
                    mid=mid,
                )
                return Placement(merged)
        # An unknown previousId is an earlier anonymous id of this person.
        problem = stitcher.can_attach(target, [("anonymous_id", prev)])
        if problem:
            stitcher.refuse(f"identifier not added: {problem}", [target], at, mid)
        else:
            stitcher.attach(target, [("anonymous_id", prev)], source.name, tp, at, mid)
        return placement

    def _group(self, stitcher: Stitcher, msg: Message, source: Source) -> str | None:
        gid = self.normaliser.plain(msg.group_id)
        if not gid:
            return None
        return stitcher.resolve(
            [("group_id", gid)],
            kind="account",
            source=source.name,
            touchpoint=msg.touchpoint,
            at=msg.timestamp,
            mid=msg.message_id,
        )


def decode_batch_body(body: Any, where: str = "body") -> tuple[list[Any], datetime | None]:
    """The messages and batch-level ``sentAt`` of a ``/v1/batch`` body.

    The batch's own ``context`` and ``integrations`` are merged into each message's, as
    Segment's HTTP API does; a key the message sets itself wins.

    >>> body = {"batch": [{"context": {"ip": "8.8.8.8"}}], "context": {"ip": "1.1.1.1", "x": 1}}
    >>> decode_batch_body(body)
    ([{'context': {'ip': '8.8.8.8', 'x': 1}}], None)
    """
    if not isinstance(body, dict):
        raise InvalidInput(f"{where}: must be a JSON object with a 'batch' list")
    batch = body.get("batch")
    if not isinstance(batch, list):
        raise InvalidInput(f"{where}.batch: must be a list of messages")
    for key in _BATCH_DEFAULTS:
        shared = body.get(key)
        if shared is None or shared == {}:
            continue
        if not isinstance(shared, dict):
            raise InvalidInput(f"{where}.{key}: must be a JSON object")
        batch = [_with_defaults(message, key, shared) for message in batch]
    sent = body.get("sentAt")
    sent_at = None
    if sent:
        from cornerstore.intake.messages import parse_time

        sent_at = parse_time(sent, f"{where}.sentAt")
    return batch, sent_at


_BATCH_DEFAULTS = ("context", "integrations")


def _with_defaults(message: Any, key: str, shared: dict[str, Any]) -> Any:
    """``message`` with the batch's ``key`` object under its own (a malformed message is left
    as it is, for validation to name its fault)."""
    if not isinstance(message, dict):
        return message
    own = message.get(key)
    if own is None:
        return {**message, key: shared}
    if not isinstance(own, dict):
        return message
    return {**message, key: {**shared, **own}}
