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
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from cornerstore.access.audit import AuditTrail
from cornerstore.access.caller import Caller, system_caller
from cornerstore.access.policy import CHANGE, READ, Policy
from cornerstore.errors import Conflict, Forbidden, InvalidInput, NotFound, Refused
from cornerstore.identity.merge import merge_profiles
from cornerstore.identity.resolution.clustering import (
    AMBIGUITY_MARGIN,
    cluster_pairs,
    has_first_name,
    is_household,
    names_conflict,
)
from cornerstore.identity.resolution.labels import Calibration, calibrate, weigh_labelled
from cornerstore.identity.resolution.model import IdentityModel, probability_of, weight_of
from cornerstore.identity.resolution.placement import PlacementIndex
from cornerstore.identity.resolution.records import FIELDS, PreparedRecords, prepare_records
from cornerstore.identity.resolution.scorer import Candidate, Explanation, FieldWeight, Scorer
from cornerstore.identity.resolution.splink_engine import Engine
from cornerstore.profiles.model import MergeRecord, Profile
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
_MIN_PROFILES = 10
#: From this many customers on, a learned model that finds no pair to merge or review among
#: them is refused: thousands of customers without one duplicate left is not a shop's data,
#: it is a model that learned nothing.
MIN_CUSTOMERS_FOR_PAIRS = 1000
#: The traits that change how a customer matches: intake places customers that gain one.
MATCHING_TRAITS = frozenset(_TRAIT_FIELDS)
_PLACEMENT_ACTOR = "identity:placement"


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


def read_profiles(
    uow: UnitOfWork, default_region: str, only: Sequence[str] | None = None
) -> PreparedRecords:
    """Every person customer (root profile) as a prepared record, ``unique_id`` its id; only
    the customers ``only`` (root ids) when given."""
    latest: dict[str, dict[str, tuple[datetime, Any]]] = {}
    for root, name, value, at in uow.identity.person_traits(list(_TRAIT_FIELDS), only):
        seen = latest.setdefault(root, {})
        if name not in seen or at >= seen[name][0]:
            seen[name] = (at, value)
    emails: dict[str, list[str]] = {}
    phones: dict[str, list[str]] = {}
    for root, kind, value in uow.identity.person_identifiers(["email", "phone"], only):
        (emails if kind == "email" else phones).setdefault(root, []).append(value)
    roots = uow.identity.person_roots(only)
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


def refuse_degenerate(model: IdentityModel, records: PreparedRecords, engine: Engine) -> None:
    """Refuse (``Refused``) a model learned from the stored customers that would do harm or
    nothing if it were made active: one in which agreeing on a field counts against a match,
    or one that finds no pair worth merging or reviewing among ``MIN_CUSTOMERS_FOR_PAIRS``
    customers or more (scored on ``engine``, as resolving would).

    The message says what is wrong and what to do; the active model stays as it was.
    """
    from cornerstore.identity.resolution.splink_engine import predict_pairs

    learned = f"the model learned from {len(records):,} customers"
    keep = "it was not made active (the active model, if any, is unchanged)"
    backwards = model.backwards_comparisons()
    if backwards:
        raise Refused(
            f"identity model: in {learned}, agreeing on {', '.join(backwards)} counts "
            f"against a match, so {keep}. Training found too few customers who are one "
            "person to learn from; learn again once more customers are stored, or match an "
            "export with `cornerstore identity dedupe`"
        )
    if len(records) < MIN_CUSTOMERS_FOR_PAIRS:
        return
    pairs = predict_pairs(records, model, model.review_probability, engine=engine)
    if not pairs["left"]:
        raise Refused(
            f"identity model: {learned} finds no pair among them to merge or to review, so "
            f"{keep}. Its weights cannot tell one person from two in these customers; learn "
            "again once more customers are stored, or match an export with "
            "`cornerstore identity dedupe`"
        )


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


def _review_row(
    scorer: Scorer,
    a: tuple[str, Mapping[str, Any]],
    b: tuple[str, Mapping[str, Any]],
    probability: float,
    weight: float,
    at: datetime,
) -> dict[str, Any]:
    """A review-queue row for two customers (id, prepared record): ids in sorted order, each
    field's level and weight with the left customer's values first."""
    (left_id, left), (right_id, right) = (a, b) if a[0] <= b[0] else (b, a)
    return {
        "left_id": left_id,
        "right_id": right_id,
        "match_probability": probability,
        "match_weight": weight,
        "fields": [_field_dict(f) for f in scorer.explain(left, right)],
        "created_at": at,
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
        # The stored customers placement compares with, kept between calls (see .placement).
        self._index: PlacementIndex | None = None
        self._index_lock = threading.RLock()
        # A background build of the index, and the customers that arrived during it: placed
        # when it is ready (waiting), or placed on the old index and re-read (touched).
        self._builder: threading.Thread | None = None
        self._waiting: set[str] = set()
        self._touched: set[str] = set()

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
        engine: Engine = "duckdb",
        progress: Progress | None = None,
        calibrate_on_decisions: bool = True,
    ) -> StoredModel:
        """Train a model on the stored person profiles and store it as the active model (on
        Splink's DuckDB or Spark ``engine``), calibrated on staff decisions unless
        ``calibrate_on_decisions`` is False (see :mod:`.labels`)."""
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
        model = train_model(records, seed=seed, engine=engine, progress=progress)
        model.trained_at = now.isoformat(timespec="seconds")
        with self.store.unit_of_work() as uow:
            active = uow.identity.active_model()
        kept = model.keep_from(IdentityModel.from_json(active.model)) if active else []
        if kept and active:
            log.info("identity: %s learned backwards, kept from model %s", kept, active.id)
        if calibrate_on_decisions:
            say("calibrating on staff decisions")
            with self.store.unit_of_work() as uow:
                calibration = self._calibration(uow, records, model)
            if calibration is not None:
                model.calibrate(calibration)
        say("checking the model")
        refuse_degenerate(model, records, engine)
        with self.store.unit_of_work(write=True) as uow:
            stored = uow.identity.add_model(
                model.version, now, model.records, model.to_json(), caller.actor
            )
        calibrated = model.calibration
        self.audit.record(
            caller,
            "identity_learn",
            None,
            f"model {stored.id} on {len(records)} profiles"
            + (f", {', '.join(kept)} kept from model {active.id}" if kept and active else "")
            + (
                f", calibrated on {calibrated.accepted + calibrated.rejected} decisions "
                f"({calibrated.shift_bits:+.2f} bits)"
                if calibrated
                else ""
            ),
            ["merges"],
        )
        log.info("identity: learned model %s on %s profiles", stored.id, len(records))
        return stored

    def _calibration(
        self, uow: UnitOfWork, records: PreparedRecords, model: IdentityModel
    ) -> Calibration | None:
        """How ``model`` fits every pair staff judged (None when no one judged a pair).

        Accepted and rejected reviews are labels, and so is an undone merge (two people). A pair
        whose customers are still apart is weighed on their records as they are now; an
        accepted pair merged since is weighed on the levels its review kept. A rejected pair
        that is one customer now was overruled by a later merge and says nothing. A pair queued
        above the match probability was queued by a clustering rule, not for its weight (a
        nameless record between two household members): it says what the rule missed, not what
        a weight means, and is set aside.
        """
        reviews = uow.identity.decided_reviews()
        undone = uow.identity.undone_merges()
        members = {x for r in reviews for x in (r.left_id, r.right_id)}
        root_of = uow.customers.roots_of(sorted(members | {x for pair in undone for x in pair}))
        position = {cid: i for i, cid in enumerate(records.columns["unique_id"])}
        apart: dict[tuple[str, str], bool] = {}  # customer pair -> one person?
        kept: list[list[dict[str, Any]]] = []  # levels of accepted pairs merged since
        above = 0  # reviews of pairs clustering kept apart above the match probability
        for review in reviews:
            a, b = root_of.get(review.left_id), root_of.get(review.right_id)
            if a is None or b is None:
                continue  # a customer erased since
            if review.match_probability >= model.match_probability:
                above += 1
                continue
            if a != b and a in position and b in position:
                key = _pair(a, b)
                # A rejection outweighs anything else said about the same two customers.
                apart[key] = apart.get(key, True) and review.status == "accepted"
            elif a == b and review.status == "accepted":
                kept.append(review.fields)
        for winner, loser in undone:
            a, b = root_of.get(winner), root_of.get(loser)
            if a is not None and b is not None and a != b and a in position and b in position:
                apart[_pair(a, b)] = False
        if not apart and not kept:
            return None
        scorer = Scorer(model, records, indexed=False)
        weights, matches, set_aside = weigh_labelled(
            scorer,
            len(records),
            ((scorer.row(position[a]), scorer.row(position[b]), y) for (a, b), y in apart.items()),
        )
        prior = model.prior_weight(len(records))
        unreadable = 0
        for levels in kept:
            weight = scorer.weigh(levels)
            if weight is None:
                unreadable += 1
                continue
            weights.append(prior + weight)
            matches.append(True)
        return calibrate(weights, matches, unreadable, set_aside + above) if matches else None

    # -- resolving ----------------------------------------------------------------------------
    def resolve(
        self, caller: Caller, *, engine: Engine = "duckdb", progress: Progress | None = None
    ) -> Resolved:
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
        pairs = predict_pairs(records, model, model.review_probability, engine=engine)
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
        labels = clusters.labels
        queued_between: set[tuple[int, int]] = set()
        for k in sorted(range(len(left)), key=lambda k: -weights[k]):
            a, b = left[k], right[k]
            key = _pair(ids[a], ids[b])
            if key in decided or labels[a] == labels[b]:
                continue  # decided before, or one customer now
            between = (min(labels[a], labels[b]), max(labels[a], labels[b]))
            if between in queued_between:
                continue  # the two customers these merge into have their strongest pair queued
            # Left are the grey zone and pairs above the match probability that clustering
            # kept apart: a record without a first name that could be either of two people,
            # or a pair whose clusters hold first names that disagree.
            row_a, row_b = records.row(a), records.row(b)
            if names_conflict(row_a, row_b):
                continue  # two people, a household among them
            scorer = scorer or Scorer(model, records, indexed=False)
            queue.append(
                _review_row(
                    scorer,
                    (ids[a], row_a),
                    (ids[b], row_b),
                    float(pairs["match_probability"][k]),
                    float(weights[k]),
                    now,
                )
            )
            decided[key] = "pending"
            queued_between.add(between)
        households = [(ids[a], ids[b]) for a, b in clusters.households]
        with self.store.unit_of_work(write=True) as uow:
            uow.identity.add_reviews(queue)
            uow.identity.add_relations(households, "household", "resolve", now)
        with self._index_lock:
            self._index = None  # many customers changed: placement reads them afresh
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
        it. Households are recorded as relations, never merged; conflicting first names and
        pairs kept apart by a decision are passed over.
        """
        self.policy.require(caller, "merges", CHANGE)
        with self.store.unit_of_work() as uow:
            root = self.profiles.find_root(uow, ref, caller)
        with self._index_lock:
            with self.store.unit_of_work() as uow:
                index, _ = self._current_index(uow)
                if index is None:
                    raise NotFound(
                        "identity model: none learned yet (run `cornerstore identity learn`)"
                    )
                self._refresh(uow, index, [root])
            if root not in index:
                raise InvalidInput(f"{ref}: not a person customer")
            placed = self._place_indexed(caller, index, root)
        detail = f"{placed.decision} {placed.other_id or ''}".strip()
        self.audit.record(caller, "identity_place", placed.customer_id, detail, ["merges"])
        return placed

    def arrived(self, customer_ids: Iterable[str]) -> list[Placed]:
        """Place the customers intake just stored with matching traits (a name, e-mail, phone
        or address), as :meth:`place` does, once a model was learned.

        Only customers whose matching values are new or changed are scored, so a customer
        who identifies again with the same details costs a lookup, nothing more. Merges are
        made by ``identity:placement`` with reason ``resolve``: recorded and reversible.

        When the index of stored customers must first be built and the store is larger than
        ``placement_inline_build_limit``, it is built on a background thread and these
        customers are placed when it is ready (:meth:`wait_for_placement`); intake goes on.
        """
        if not self.settings.identity.place_arrivals:
            return []
        ids = list(customer_ids)
        with self._index_lock:
            with self.store.unit_of_work() as uow:
                index, fresh = self._index_for_arrivals(uow, ids)
                if index is None:
                    return []
                roots = self._refresh(uow, index, ids, everything=fresh)
            return self._place_all(index, roots)

    def wait_for_placement(self, timeout: float | None = None) -> bool:
        """Wait until a background build of the placement index (and the placing of the
        customers that arrived meanwhile) is done; False when ``timeout`` ran out first."""
        builder = self._builder
        if builder is not None:
            builder.join(timeout)
            return not builder.is_alive()
        return True

    def _place_all(self, index: PlacementIndex, roots: Sequence[str]) -> list[Placed]:
        caller = system_caller(via="intake", actor=_PLACEMENT_ACTOR)
        placed: list[Placed] = []
        for root in roots:
            if root in index:
                try:
                    placed.append(self._place_indexed(caller, index, root))
                except NotFound:
                    index.drop(root)  # erased meanwhile
        return placed

    def _index_for_arrivals(
        self, uow: UnitOfWork, ids: list[str]
    ) -> tuple[PlacementIndex | None, bool]:
        """The index to place arrivals with now (None: none yet) and whether it was built just
        now; starts a background build when the index is missing, for an older model, or old.
        Called with the index lock held."""
        active = uow.identity.active_model_id()
        if active is None:
            self._index = None
            return None, False
        index = self._index
        current = index if index is not None and index.model_id == active else None
        if self._fresh(current):
            return current, False
        if self._builder is None and (
            current is None
            and uow.identity.person_count() <= self.settings.identity.placement_inline_build_limit
        ):
            return self._build_index(uow), True
        # Placed on the old index now (if there is one) and remembered for the new one.
        (self._touched if current is not None else self._waiting).update(ids)
        if self._builder is None:
            self._builder = threading.Thread(
                target=self._build_in_background, name="placement-index", daemon=True
            )
            self._builder.start()
        return current, False

    def _build_in_background(self) -> None:
        try:
            with self.store.unit_of_work() as uow:
                index = self._read_index(uow)
            with self._index_lock:
                with self.store.unit_of_work() as uow:
                    if index is None or uow.identity.active_model_id() != index.model_id:
                        return  # the model changed meanwhile: the next arrival builds again
                    self._index = index
                    touched, waiting = sorted(self._touched), sorted(self._waiting)
                    self._touched, self._waiting = set(), set()
                    self._refresh(uow, index, touched)
                    roots = self._refresh(uow, index, waiting, everything=True)
                self._place_all(index, roots)
        except Exception as exc:  # the customers wait for the next `identity resolve`
            log.warning("identity: building the placement index failed (%s)", type(exc).__name__)
        finally:
            with self._index_lock:
                self._builder = None

    def _current_index(self, uow: UnitOfWork) -> tuple[PlacementIndex | None, bool]:
        """The placement index for the active model, built now when missing, for an older
        model, or older than the configured age; and whether it was built just now."""
        active = uow.identity.active_model_id()
        if active is None:
            self._index = None
            return None, False
        index = self._index
        if index is not None and index.model_id == active and self._fresh(index):
            return index, False
        return self._build_index(uow), True

    def _fresh(self, index: PlacementIndex | None) -> bool:
        """Whether an index is younger than the configured age."""
        max_age = 60.0 * self.settings.identity.placement_index_max_age_minutes
        return index is not None and index.age() <= max_age

    def _build_index(self, uow: UnitOfWork) -> PlacementIndex:
        index = self._read_index(uow)
        assert index is not None
        self._index = index
        return index

    def _read_index(self, uow: UnitOfWork) -> PlacementIndex | None:
        """A new index of every stored person customer for the active model (None: no model)."""
        stored = uow.identity.active_model()
        if stored is None:
            return None
        records = read_profiles(uow, self.settings.default_phone_region)
        index = PlacementIndex.build(stored.id, IdentityModel.from_json(stored.model), records)
        log.info("identity: placement index built on %s customers", len(records))
        return index

    def _refresh(
        self,
        uow: UnitOfWork,
        index: PlacementIndex,
        refs: Sequence[str],
        *,
        everything: bool = False,
    ) -> list[str]:
        """Re-read these profiles' customers into the index (dropping those merged away or
        erased); returns the person customers whose matching values are new or changed (all of
        them when ``everything``)."""
        root_of = uow.customers.roots_of(list(refs))
        for ref in refs:
            if root_of.get(ref) != ref:
                index.drop(ref)
        roots = sorted(set(root_of.values()))
        records = read_profiles(uow, self.settings.default_phone_region, roots)
        found = set(records.columns["unique_id"])
        for root in roots:
            if root not in found:
                index.drop(root)  # an account, or erased
        changed = []
        for i, root in enumerate(records.columns["unique_id"]):
            record = records.row(i)
            if everything or not index.same_record(root, record):
                index.put(root, record)
                changed.append(root)
        return changed

    def _decided_with(self, uow: UnitOfWork, root: str) -> dict[str, str]:
        """Decisions on pairs that include this customer: the other customer (as it is named
        now) -> rejected, accepted or pending. An undone merge counts as a rejection."""
        members = uow.customers.members(root)
        reviewed = uow.identity.reviewed_pairs_involving(members)
        for pair in uow.identity.undone_merges(members):
            reviewed[_pair(*pair)] = "rejected"
        others = {x for pair in reviewed for x in pair}
        root_of = uow.customers.roots_of(sorted(others))
        out: dict[str, str] = {}
        for pair, status in reviewed.items():
            ra, rb = (root_of.get(x, x) for x in pair)
            other = rb if ra == root else ra if rb == root else None
            if other is not None and other != root and out.get(other) != "rejected":
                out[other] = status
        return out

    def _place_indexed(self, caller: Caller, index: PlacementIndex, root: str) -> Placed:
        """Decide for one indexed customer and act: merge, queue, or leave; record households."""
        model = index.model
        record = index.record(root)

        def above_review(scored: list[Candidate]) -> list[Candidate]:
            return [c for c in scored if c.match_probability >= model.review_probability]

        scored = index.score(root)
        considered = above_review(scored)
        with self.store.unit_of_work() as uow:
            decided = self._decided_with(uow, root)
            if considered:
                # The index may be behind merges, unmerges and erasures made elsewhere: decide
                # on the candidates' records as they are now.
                refs = [c.unique_id for c in considered]
                changed = self._refresh(uow, index, refs)
                if changed or any(ref not in index for ref in refs):
                    scored = index.score(root)
                    considered = above_review(scored)
        best: Candidate | None = None
        households: list[str] = []
        for candidate in considered:
            row = index.scorer.row(candidate.position)
            if is_household(record, row):
                households.append(candidate.unique_id)
                continue
            if decided.get(candidate.unique_id) == "rejected" or names_conflict(record, row):
                continue
            if best is None:
                best = candidate
        if households:
            with self.store.unit_of_work(write=True) as uow:
                uow.identity.add_relations(
                    [(root, h) for h in households], "household", "placement", datetime.now(UTC)
                )
        if best is None:
            below = next(
                (
                    c
                    for c in scored[len(considered) :]
                    if decided.get(c.unique_id) != "rejected"
                    and not names_conflict(record, index.scorer.row(c.position))
                ),
                None,
            )
            return Placed(
                root,
                "left",
                below.unique_id if below else None,
                below.match_probability if below else None,
                len(scored),
            )
        placed = Placed(root, "merged", best.unique_id, best.match_probability, len(scored))
        torn = self._torn(index, record, best, considered, decided)
        if torn:
            # Without a first name it could be either of two people: a reviewer says which.
            self._queue(index, root, record, [best, *torn], decided)
            return replace(placed, decision="queued")
        if best.match_probability >= model.match_probability:
            try:
                merge = merge_profiles(
                    self.store, self.settings, caller, root, best.unique_id, reason="resolve"
                )
            except (Refused, Forbidden) as exc:
                log.info("identity: placing %s was refused: %s", root, exc)
                return replace(placed, decision="refused")
            self._after_merge(merge)
            return placed
        self._queue(index, root, record, [best], decided)
        return replace(placed, decision="queued")

    @staticmethod
    def _torn(
        index: PlacementIndex,
        record: Mapping[str, Any],
        best: Candidate,
        considered: list[Candidate],
        decided: Mapping[str, str],
    ) -> list[Candidate]:
        """Other candidates a record without a first name fits almost as well as ``best``
        (within ``AMBIGUITY_MARGIN`` bits) who cannot be ``best``'s person: a household's
        members, one of whom the record is. Empty when the record has a first name."""
        if has_first_name(record):
            return []
        best_row = index.scorer.row(best.position)
        return [
            c
            for c in considered
            if c is not best
            and c.match_weight >= best.match_weight - AMBIGUITY_MARGIN
            and decided.get(c.unique_id) != "rejected"
            and names_conflict(best_row, index.scorer.row(c.position))
        ]

    def _queue(
        self,
        index: PlacementIndex,
        root: str,
        record: Mapping[str, Any],
        candidates: list[Candidate],
        decided: Mapping[str, str],
    ) -> None:
        """Queue the customer's pairs with ``candidates`` not decided or queued before."""
        now = datetime.now(UTC)
        rows = [
            _review_row(
                index.scorer,
                (root, record),
                (c.unique_id, index.scorer.row(c.position)),
                c.match_probability,
                c.match_weight,
                now,
            )
            for c in candidates
            if decided.get(c.unique_id) is None
        ]
        if rows:
            with self.store.unit_of_work(write=True) as uow:
                uow.identity.add_reviews(rows)

    def _after_merge(self, merge: MergeRecord) -> None:
        """Keep the placement index true to a merge this service made: the absorbed customer
        goes, the surviving one is read again with what it gained."""
        with self._index_lock:
            index = self._index
            if index is None:
                return
            index.drop(merge.loser_id)
            if merge.winner_id in index:
                with self.store.unit_of_work() as uow:
                    self._refresh(uow, index, [merge.winner_id])

    # -- review -------------------------------------------------------------------------------
    def _masked(self, caller: Caller, fields: Iterable[Mapping[str, Any]]) -> list[FieldWeight]:
        visible = self.policy.visible_sections(caller)
        out = []
        for f in fields:
            shown = self.policy.section_of(f["field"]) in visible
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

    def recent_merges(self, caller: Caller, limit: int = 20) -> list[MergeRecord]:
        """The latest merges of any customers, newest first, undone ones included (an audited
        read of the merges section)."""
        self.policy.require(caller, "merges", READ)
        if not 1 <= limit <= 200:
            raise InvalidInput("limit: must be between 1 and 200")
        with self.store.unit_of_work() as uow:
            found = uow.merges.recent(limit)
        self.audit.record(caller, "read_merges", None, f"{len(found)} merges", ["merges"])
        return found

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
            # Merged meanwhile: the reviewer agrees with what happened.
            try:
                merge = merge_profiles(
                    self.store, self.settings, caller, record.left_id, record.right_id, "review"
                )
            except Conflict:
                pass  # merged meanwhile
            else:
                self._after_merge(merge)
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
            self._masked(caller, [_field_dict(f) for f in weights]),
            total,
            probability_of(total),
        )
