"""Identity resolution on the stored customer profiles: learn a model from them, resolve them
(merge, queue for review, or leave), review the grey zone, explain a pair.

The stored profiles are read into the same records the file mode reads (:mod:`.records`), so
files and the store are matched by the same normalisers, model and clustering. Every merge goes
through :func:`cornerstore.identity.merge.merge_profiles`: recorded, reversible, and under the
same safeguards as stitching. Staff decisions are remembered: a rejected pair (or a merge staff
undid) is never merged or queued again, and an accepted or pending pair is not queued twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from cornerstore.access.audit import AuditTrail
from cornerstore.access.caller import Caller
from cornerstore.access.policy import CHANGE, READ, Policy
from cornerstore.errors import Conflict, Forbidden, InvalidInput, NotFound, Refused
from cornerstore.identity.merge import merge_profiles
from cornerstore.identity.resolution.clustering import cluster_pairs, names_conflict
from cornerstore.identity.resolution.model import IdentityModel, probability_of, weight_of
from cornerstore.identity.resolution.records import FIELDS, PreparedRecords, prepare_records
from cornerstore.identity.resolution.scorer import Candidate, Explanation, FieldWeight, Scorer
from cornerstore.profiles.model import Profile
from cornerstore.profiles.service import Profiles
from cornerstore.settings import Settings
from cornerstore.storage.database import Store
from cornerstore.storage.identity_repositories import ReviewRecord, StoredModel
from cornerstore.storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

# Stored trait name -> record field. Address objects ({street, city, postal_code, ...}) are
# taken apart below; a plain address trait is the street line.
_TRAIT_FIELDS: dict[str, str] = {
    "first_name": "first_name",
    "last_name": "last_name",
    "name": "full_name",
    "full_name": "full_name",
    "email": "email",
    "phone": "phone",
    "address": "address",
    "city": "city",
    "state": "state",
    "postal_code": "postcode",
    "postcode": "postcode",
    "zip": "postcode",
    "country": "country",
}
_ADDRESS_PARTS: dict[str, str] = {
    "street": "address",
    "city": "city",
    "state": "state",
    "postal_code": "postcode",
    "postcode": "postcode",
    "country": "country",
}
# The section a comparison's values belong to: a role that may not read it sees weights only.
_FIELD_SECTIONS: dict[str, str] = {
    "first_name": "name",
    "last_name": "name",
    "email": "contact",
    "phone": "contact",
}
_MIN_PROFILES = 10


@dataclass(frozen=True)
class Resolved:
    """What one resolution run did."""

    profiles: int
    pairs_scored: int
    merged: int
    refused: int
    queued: int
    households: int
    kept_apart_by_decision: int


@dataclass(frozen=True)
class Placed:
    """Where one customer went: ``merged`` into ``other_id``, ``queued`` for review with it,
    ``refused`` by the merge safeguards, or ``left`` on its own (``other_id`` then the best
    candidate below the review probability, if any; households, conflicting first names and
    rejected pairs are never named)."""

    customer_id: str
    decision: Literal["merged", "queued", "refused", "left"]
    other_id: str | None
    match_probability: float | None
    candidates: int


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


def profile_record(
    traits: Mapping[str, Any], emails: list[str], phones: list[str]
) -> dict[str, Any]:
    """One profile's record for matching, from its current traits and identifiers.

    Traits win over identifiers (they are what the customer last told a department); the
    oldest e-mail and phone identifiers fill in when there is no such trait.

    >>> record = profile_record({"first_name": "Bob", "address": {"street": "12 High St",
    ...                          "postal_code": "SW1A 1AA"}}, ["bob@example.com"], [])
    >>> record["address"], record["postcode"], record["email"]
    ('12 High St', 'SW1A 1AA', 'bob@example.com')
    """
    record: dict[str, Any] = {}
    for name, value in traits.items():
        target = _TRAIT_FIELDS.get(name)
        if target is None or value in (None, ""):
            continue
        if isinstance(value, Mapping):
            if name == "address":
                for part, field in _ADDRESS_PARTS.items():
                    if value.get(part) not in (None, ""):
                        record.setdefault(field, str(value[part]))
            continue
        if isinstance(value, str | int | float):
            record[target] = str(value)
    if "email" not in record and emails:
        record["email"] = emails[0]
    if "phone" not in record and phones:
        record["phone"] = phones[0]
    return record


def read_profiles(uow: UnitOfWork, default_region: str) -> PreparedRecords:
    """Every person customer (root profile) as a prepared record, ``unique_id`` its id."""
    latest: dict[str, dict[str, tuple[datetime, Any]]] = {}
    for root, name, value, at in uow.identity.person_traits(list(_TRAIT_FIELDS)):
        seen = latest.setdefault(root, {})
        if name not in seen or at >= seen[name][0]:
            seen[name] = (at, value)
    emails: dict[str, list[str]] = {}
    phones: dict[str, list[str]] = {}
    for root, kind, value in uow.identity.person_identifiers(["email", "phone"]):
        (emails if kind == "email" else phones).setdefault(root, []).append(value)
    roots = uow.identity.person_roots()
    rows = [
        profile_record(
            {name: v for name, (_, v) in latest.get(root, {}).items()},
            emails.get(root, []),
            phones.get(root, []),
        )
        for root in roots
    ]
    fields = [f for f in FIELDS if any(f in row for row in rows)]
    return prepare_records(rows, roots, fields or ["first_name"], default_region)


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def _field_dict(f: FieldWeight) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        return list(value) if isinstance(value, list | tuple) else value

    return {
        "field": f.field,
        "level": f.level,
        "left": plain(f.left),
        "right": plain(f.right),
        "weight": f.weight,
    }


class IdentityResolution:
    """Learn, resolve, review and explain on the stored profiles, for staff with the merges
    section.

    Examples
    --------
    >>> resolution = services.identity  # doctest: +SKIP
    >>> resolution.train(owner)  # doctest: +SKIP
    StoredModel(id=1, version=1, ...)
    >>> resolution.resolve(owner)  # doctest: +SKIP
    Resolved(profiles=5000, pairs_scored=812, merged=301, refused=0, queued=24, ...)
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        profiles: Profiles,
        audit: AuditTrail | None = None,
        policy: Policy | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.profiles = profiles
        self.policy = policy or Policy.from_settings(settings.access)
        self.audit = audit or AuditTrail(store, self.policy)

    # -- reading ------------------------------------------------------------------------------
    def _records(self) -> PreparedRecords:
        with self.store.unit_of_work() as uow:
            return read_profiles(uow, self.settings.default_phone_region)

    def active_model(self) -> IdentityModel:
        """The model resolution uses; NotFound before one was learned."""
        with self.store.unit_of_work() as uow:
            stored = uow.identity.active_model()
        if stored is None:
            raise NotFound("identity model: none learned yet (run `cornerstore identity learn`)")
        return IdentityModel.from_json(stored.model)

    # -- learning -----------------------------------------------------------------------------
    def train(
        self,
        caller: Caller,
        now: datetime | None = None,
        *,
        seed: int = 0,
        progress: Progress | None = None,
    ) -> StoredModel:
        """Train a model on the stored person profiles and store it as the active model."""
        from cornerstore.identity.resolution.splink_engine import train_model

        self.policy.require(caller, "merges", CHANGE)
        now = now or datetime.now(UTC)
        say = progress or (lambda _msg: None)
        say("reading profiles")
        records = self._records()
        if len(records) < _MIN_PROFILES:
            raise InvalidInput(
                f"profiles: {len(records)} stored; learning needs at least {_MIN_PROFILES}"
            )
        model = train_model(records, seed=seed, progress=progress)
        model.trained_at = now.isoformat(timespec="seconds")
        with self.store.unit_of_work(write=True) as uow:
            stored = uow.identity.add_model(
                model.version, now, model.records, model.to_json(), caller.actor
            )
        self.audit.record(
            caller,
            "identity_learn",
            None,
            f"model {stored.id} on {len(records)} profiles",
            ["merges"],
        )
        log.info("identity: learned model %s on %s profiles", stored.id, len(records))
        return stored

    # -- resolving ----------------------------------------------------------------------------
    def resolve(self, caller: Caller, *, progress: Progress | None = None) -> Resolved:
        """Score candidate pairs among all person profiles with the active model; merge those
        at or above its match probability, queue the grey zone (down to its review
        probability) for review, and leave the rest.

        Clustering refuses chains (see :mod:`.clustering`), and a pair staff rejected is a
        cannot-link: no merge joins the two groups it would bring together.
        """
        from cornerstore.identity.resolution.splink_engine import predict_pairs

        self.policy.require(caller, "merges", CHANGE)
        say = progress or (lambda _msg: None)
        model = self.active_model()
        say("reading profiles")
        records = self._records()
        ids: list[str] = records.columns["unique_id"]
        with self.store.unit_of_work() as uow:
            decided = self._decided(uow, set(ids))
        if len(records) < 2:
            return Resolved(len(records), 0, 0, 0, 0, 0, 0)
        say("scoring candidate pairs")
        pairs = predict_pairs(records, model, model.review_probability)
        left, right, weights = pairs["left"], pairs["right"], pairs["match_weight"]
        rejected = {p for p, status in decided.items() if status == "rejected"}
        keep = [k for k in range(len(left)) if _pair(ids[left[k]], ids[right[k]]) not in rejected]
        match_weight = weight_of(model.match_probability)
        clusters = cluster_pairs(
            records,
            [left[k] for k in keep],
            [right[k] for k in keep],
            [weights[k] for k in keep],
            match_weight,
        )
        say("merging")
        merged, refused, kept_apart = self._merge_clusters(
            caller, ids, clusters.labels, left, right, weights, match_weight, rejected
        )
        say("queueing the grey zone")
        scorer: Scorer | None = None
        queue: list[dict[str, Any]] = []
        now = datetime.now(UTC)
        for k in range(len(left)):
            a, b = left[k], right[k]
            key = _pair(ids[a], ids[b])
            if weights[k] >= match_weight or key in decided:
                continue
            if clusters.labels[a] == clusters.labels[b]:
                continue
            row_a, row_b = records.row(a), records.row(b)
            if names_conflict(row_a, row_b):
                continue  # two people, a household among them
            scorer = scorer or Scorer(model, records)
            first, second = (row_a, row_b) if key[0] == ids[a] else (row_b, row_a)
            queue.append(
                {
                    "left_id": key[0],
                    "right_id": key[1],
                    "match_probability": float(pairs["match_probability"][k]),
                    "match_weight": float(weights[k]),
                    "fields": [_field_dict(f) for f in scorer.explain(first, second)],
                    "created_at": now,
                }
            )
            decided[key] = "pending"
        with self.store.unit_of_work(write=True) as uow:
            uow.identity.add_reviews(queue)
        result = Resolved(
            profiles=len(records),
            pairs_scored=len(left),
            merged=merged,
            refused=refused,
            queued=len(queue),
            households=len(clusters.households),
            kept_apart_by_decision=kept_apart,
        )
        self.audit.record(
            caller,
            "identity_resolve",
            None,
            f"{merged} merged, {len(queue)} queued, {refused} refused",
            ["merges"],
        )
        return result

    def _decided(self, uow: UnitOfWork, roots: set[str]) -> dict[tuple[str, str], str]:
        """Every reviewed pair, named by the customers its profiles belong to now. An undone
        merge counts as a rejection: someone decided the two are different people."""
        reviewed = uow.identity.reviewed_pairs()
        for pair in uow.identity.undone_merges():
            reviewed[_pair(*pair)] = "rejected"
        members = {m for pair in reviewed for m in pair}
        root_of = uow.customers.roots_of(sorted(members))
        out: dict[tuple[str, str], str] = {}
        for (a, b), status in reviewed.items():
            ra, rb = root_of.get(a, a), root_of.get(b, b)
            if ra != rb and ra in roots and rb in roots:
                # A rejection outweighs anything else said about the same two customers.
                key = _pair(ra, rb)
                if out.get(key) != "rejected":
                    out[key] = status
        return out

    def _merge_clusters(
        self,
        caller: Caller,
        ids: list[str],
        labels: list[int],
        left: list[int],
        right: list[int],
        weights: list[float],
        match_weight: float,
        rejected: set[tuple[str, str]],
    ) -> tuple[int, int, int]:
        """Merge the pairs clustering joined, strongest first, each through merge_profiles;
        returns (merged, refused, kept apart because of a rejected pair)."""
        group = {i: {i} for i in range(len(ids))}
        merged = refused = kept_apart = 0
        order = sorted(range(len(left)), key=lambda k: -weights[k])
        for k in order:
            a, b = left[k], right[k]
            if weights[k] < match_weight or labels[a] != labels[b] or group[a] is group[b]:
                continue
            if any(_pair(ids[x], ids[y]) in rejected for x in group[a] for y in group[b]):
                kept_apart += 1
                continue
            try:
                merge_profiles(self.store, self.settings, caller, ids[a], ids[b], reason="resolve")
            except (Refused, Forbidden) as exc:
                log.info("identity: resolve did not merge %s and %s: %s", ids[a], ids[b], exc)
                refused += 1
                continue
            except Conflict:
                pass  # already one customer (stitched meanwhile)
            else:
                merged += 1
            joined = group[a] | group[b]
            for member in joined:
                group[member] = joined
        return merged, refused, kept_apart

    # -- one customer at a time ---------------------------------------------------------------
    def place(self, caller: Caller, ref: str) -> Placed:
        """Score one customer against all the others in-process (the active model's weights on
        the candidates of the blocking indexes) and merge it into the best one at or above the
        match probability, queue the pair for review above the review probability, or leave
        it. Households, conflicting first names and rejected pairs are passed over.

        The stored customers are read afresh on each call: fit for a command or a page, not
        yet for every message intake stores.
        """
        self.policy.require(caller, "merges", CHANGE)
        placed = self._place(caller, ref)
        detail = f"{placed.decision} {placed.other_id or ''}".strip()
        self.audit.record(caller, "identity_place", placed.customer_id, detail, ["merges"])
        return placed

    def _place(self, caller: Caller, ref: str) -> Placed:
        model = self.active_model()
        with self.store.unit_of_work() as uow:
            root = self.profiles.find_root(uow, ref, caller)
            records = read_profiles(uow, self.settings.default_phone_region)
            ids: list[str] = records.columns["unique_id"]
            decided = self._decided(uow, set(ids))
        if root not in ids:
            raise InvalidInput(f"{ref}: not a person customer")
        at = ids.index(root)
        record = records.row(at)
        others = PreparedRecords(
            {name: values[:at] + values[at + 1 :] for name, values in records.columns.items()},
            records.fields,
        )
        scorer = Scorer(model, others)
        scored = scorer.score(record)
        best: Candidate | None = None
        for candidate in scored:
            key = _pair(root, candidate.unique_id)
            if decided.get(key) == "rejected":
                continue
            if names_conflict(record, scorer.row(candidate.position)):
                continue
            best = candidate
            break
        if best is None or best.match_probability < model.review_probability:
            other = best  # passed-over candidates are no one to name
            return Placed(
                root,
                "left",
                other.unique_id if other else None,
                other.match_probability if other else None,
                len(scored),
            )
        placed = Placed(root, "merged", best.unique_id, best.match_probability, len(scored))
        if best.match_probability >= model.match_probability:
            try:
                merge_profiles(
                    self.store, self.settings, caller, root, best.unique_id, reason="resolve"
                )
            except (Refused, Forbidden) as exc:
                log.info("identity: placing %s was refused: %s", root, exc)
                return replace(placed, decision="refused")
            return placed
        key = _pair(root, best.unique_id)
        if key not in decided:
            first, second = (
                (record, scorer.row(best.position))
                if key[0] == root
                else (scorer.row(best.position), record)
            )
            with self.store.unit_of_work(write=True) as uow:
                uow.identity.add_reviews(
                    [
                        {
                            "left_id": key[0],
                            "right_id": key[1],
                            "match_probability": best.match_probability,
                            "match_weight": best.match_weight,
                            "fields": [_field_dict(f) for f in scorer.explain(first, second)],
                            "created_at": datetime.now(UTC),
                        }
                    ]
                )
        return replace(placed, decision="queued")

    # -- review -------------------------------------------------------------------------------
    def _masked(self, caller: Caller, fields: Iterable[Mapping[str, Any]]) -> list[FieldWeight]:
        visible = self.policy.visible_sections(caller)
        out = []
        for f in fields:
            section = _FIELD_SECTIONS.get(f["field"], "addresses")
            shown = section in visible
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

    def pending(self, caller: Caller, limit: int = 20) -> list[Review]:
        """Pending pairs, strongest first, with both profiles as the caller's role may see them
        (every profile shown is audited as read)."""
        self.policy.require(caller, "merges", READ)
        limit = max(1, min(limit, 100))
        with self.store.unit_of_work() as uow:
            records = uow.identity.pending(limit)
        return [self._review(caller, r) for r in records]

    def _review(self, caller: Caller, record: ReviewRecord) -> Review:
        return Review(
            id=record.id,
            left=self.profiles.get(caller, record.left_id),
            right=self.profiles.get(caller, record.right_id),
            match_probability=record.match_probability,
            match_weight=record.match_weight,
            fields=self._masked(caller, record.fields),
            status=record.status,
            created_at=record.created_at,
        )

    def decide(self, caller: Caller, review_id: int, accept: bool) -> ReviewRecord:
        """Accept (merge the two through merge_profiles) or reject (remember they are two
        people) a queued pair. A refused merge leaves the pair pending and raises Refused."""
        self.policy.require(caller, "merges", CHANGE)
        with self.store.unit_of_work() as uow:
            record = uow.identity.get_review(review_id)
        if record is None:
            raise NotFound("review: no such review")
        if record.status != "pending":
            raise Conflict(f"review {review_id}: already {record.status}")
        if accept:
            # Conflict: merged meanwhile, and the reviewer agrees with what happened.
            with suppress(Conflict):
                merge_profiles(
                    self.store, self.settings, caller, record.left_id, record.right_id, "review"
                )
        status = "accepted" if accept else "rejected"
        now = datetime.now(UTC)
        with self.store.unit_of_work(write=True) as uow:
            uow.identity.decide(review_id, status, caller.actor, now)
        if not accept:
            self.audit.record(
                caller, "identity_reject", record.left_id, f"{record.right_id}", ["merges"]
            )
        return replace(record, status=status, decided_by=caller.actor, decided_at=now)

    # -- explaining ---------------------------------------------------------------------------
    def explain(self, caller: Caller, a: str, b: str) -> Explanation:
        """Each field's match weight for two stored customers under the active model (term
        frequencies from all stored profiles), the prior and the total."""
        self.policy.require(caller, "merges", READ)
        model = self.active_model()
        with self.store.unit_of_work() as uow:
            roots = [self.profiles.find_root(uow, ref, caller) for ref in (a, b)]
            records = read_profiles(uow, self.settings.default_phone_region)
        if roots[0] == roots[1]:
            raise InvalidInput("these profiles are already one customer")
        position = {uid: i for i, uid in enumerate(records.columns["unique_id"])}
        for ref, root in zip((a, b), roots, strict=True):
            if root not in position:
                raise InvalidInput(f"{ref}: not a person customer")
        scorer = Scorer(model, records)
        left, right = records.row(position[roots[0]]), records.row(position[roots[1]])
        weights = scorer.explain(left, right)
        prior = weight_of(model.prior(len(records) - 1))
        total = prior + sum(f.weight for f in weights)
        self.audit.record(caller, "identity_explain", roots[0], roots[1], ["merges"])
        return Explanation(
            roots[0],
            roots[1],
            prior,
            self._masked(caller, [_field_dict(f) for f in weights]),
            total,
            probability_of(total),
        )
