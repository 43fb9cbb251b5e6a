"""Learning a model from the stored customers: Splink's training, calibration on the pairs
staff judged (see :mod:`.labels`), and the checks that refuse a model that would do harm.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from cornerstore.access.caller import Caller
from cornerstore.access.policy import CHANGE
from cornerstore.errors import InvalidInput, Refused
from cornerstore.identity.model import StoredModel
from cornerstore.identity.resolution.jobs import ResolutionJob
from cornerstore.identity.resolution.labels import calibrate, weigh_labelled
from cornerstore.identity.resolution.model import Calibration, IdentityModel
from cornerstore.identity.resolution.records import PreparedRecords
from cornerstore.identity.resolution.scorer import Scorer
from cornerstore.identity.resolution.splink_engine import (
    Engine,
    RegisteredRecords,
    UntrainedModel,
)
from cornerstore.identity.resolution.stored_profiles import (
    joined,
    pair,
    per_customer,
    read_profile_variants,
    read_profile_variants_of,
    read_profiles,
)
from cornerstore.storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

_MIN_PROFILES = 10
#: From this many customers on, a learned model that finds no pair to merge or review among
#: them is refused: thousands of customers without one duplicate left is not a shop's data,
#: it is a model that learned nothing.
MIN_CUSTOMERS_FOR_PAIRS = 1000


#: Customers ``identity learn`` learns from at most: a random sample of a larger store.
TRAINING_SAMPLE = 250_000


def sample_of(roots: list[str], size: int, seed: int) -> list[str]:
    """``size`` of ``roots`` picked at random with ``seed`` (all of them when there are no
    more), in their own order.

    >>> sample_of(list("abcdefghijklmnop"), 10, seed=0)
    ['a', 'd', 'e', 'g', 'h', 'i', 'l', 'm', 'n', 'p']
    """
    if size < _MIN_PROFILES:  # too few for EM to learn from
        raise InvalidInput(f"sample: must be at least {_MIN_PROFILES} profiles")
    if len(roots) <= size:
        return roots
    picked = sorted(random.Random(seed).sample(range(len(roots)), size))
    return [roots[i] for i in picked]


#: A name word naming more than this share of a sample's size is no block of it: a name most
#: customers share would fill the sample alone and say little about any of them.
BLOCK_SHARE_OF_SAMPLE = 0.1


def name_blocks(counts: list[tuple[str, int]], size: int, seed: int) -> list[str]:
    """Name words, picked at random with ``seed``, whose customers (``counts``: how many profile
    rows each word names) make about ``size`` together: whole blocks of a large store, for EM.

    In a random sample of a large store the records of one person are seldom sampled together:
    in 250,000 of 10 million, a person's second profile comes along one time in forty, and the
    pairs EM learns from are mostly strangers. EM then took neighbours (another name, the same
    street and postcode) for the matches, and a model that scored 168 million pairs of
    strangers above the match probability came out. A person's records nearly always share a
    name word, so in the customers of a few whole names they are all there, at the store's own
    density, strangers with the same name too.

    >>> name_blocks([("lee", 40), ("smith", 900), ("ann", 30), ("bob", 50)], 100, seed=0)
    ['bob', 'lee', 'ann']
    """

    def order(word: str) -> bytes:
        return hashlib.blake2b(f"{seed}:{word}".encode(), digest_size=8).digest()

    widest = max(1, int(size * BLOCK_SHARE_OF_SAMPLE)) if size >= 1000 else size
    chosen: list[str] = []
    total = 0
    for word, count in sorted(counts, key=lambda wc: order(wc[0])):
        if total >= size:
            break
        if count > widest:
            continue
        chosen.append(word)
        total += count
    return chosen


def estimate_store_match_rate(
    model: IdentityModel,
    records: PreparedRecords,
    stored: int,
    engine: Engine,
    registered: RegisteredRecords | None = None,
) -> dict[str, list[Any]]:
    """Estimate ``model``'s match rate (the prior) from its own scored pairs among
    ``records``, a random sample of ``stored`` customers, and keep it for the whole store;
    returns the pairs scored with it.

    This is what resolving a file does after training on it (``with_estimated_match_rate``):
    the deterministic rules training starts from assume they find 70% of the matches, which
    holds on one store and not on another. In a random sample each customer keeps each of its
    matches with the chance that the other one was sampled, ``(n - 1) / (N - 1)``, so the
    matches a customer has in the store are those found in the sample times
    ``(N - 1) / (n - 1)``: the same prior, a pair for a pair, at either size. ``registered``
    reads the records training registered (``splink_engine.register_records``).
    """
    from cornerstore.identity.resolution.batch import (
        RATE_FLOOR_PROBABILITY,
        with_estimated_match_rate,
    )
    from cornerstore.identity.resolution.splink_engine import predict_pairs

    pairs = predict_pairs(
        records, model, RATE_FLOOR_PROBABILITY, engine=engine, registered=registered
    )
    pairs = with_estimated_match_rate(records, model, pairs)
    if stored > len(records) > 1:
        model.matches_per_record *= (stored - 1) / (len(records) - 1)
    model.records = stored
    return pairs


def refuse_degenerate(
    model: IdentityModel,
    records: PreparedRecords,
    engine: Engine,
    pairs: dict[str, list[Any]] | None = None,
) -> None:
    """Refuse (``Refused``) a model learned from the stored customers that would do harm or
    nothing if it were made active: one in which agreeing on a field counts against a match,
    or one that finds no pair worth merging or reviewing among ``MIN_CUSTOMERS_FOR_PAIRS``
    customers or more (scored on ``engine``, as resolving would, unless their scored
    ``pairs`` are given).

    The message says what is wrong and what to do; the active model stays as it was.
    """
    from cornerstore.identity.resolution.model import weight_of
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
    if pairs is None:
        pairs = predict_pairs(records, model, model.review_probability, engine=engine)
    floor = weight_of(model.review_probability)
    if not any(w >= floor for w in pairs["match_weight"]):
        raise Refused(
            f"identity model: {learned} finds no pair among them to merge or to review, so "
            f"{keep}. Its weights cannot tell one person from two in these customers; learn "
            "again once more customers are stored, or match an export with "
            "`cornerstore identity dedupe`"
        )


class Learning(ResolutionJob):
    """Learn a model from the stored person profiles and make it the active one."""

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
        """Train a model on the stored person profiles and store it as the active model (on
        Splink's DuckDB or Spark ``engine``), calibrated on staff decisions unless
        ``calibrate_on_decisions`` is False (see :mod:`.labels`).

        It learns from every variant of the customers (:func:`.read_profile_variants`), as
        resolve scores them: a customer stitched from several records holds the older
        addresses, phones and name spellings of one person, which teach the model how one
        person's records differ. Learned from the current records alone, the pairs left to
        learn from are those stitching did not join, nearly all at one address: a moved
        person's other town then weighed -9.7 bits instead of -3.4, and recall fell below
        the file path's on the same records.

        A store of more than ``sample`` customers is learned from a random sample of that
        many (chosen with ``seed``), so memory and time stay bounded however large the store
        grows: Splink's own advice (u by random sampling, m by EM on blocked pairs) needs a
        few hundred thousand records at most. The match rate (the prior) is then estimated
        from the model's own scored pairs, as a file's is, and carried to the whole store
        (:func:`estimate_store_match_rate`). m is learned from about as many customers again,
        those of whole name blocks (:func:`name_blocks`), where one person's records are
        together as in the store.
        """
        from cornerstore.identity.resolution.splink_engine import register_records, train_model

        self.policy.require(caller, "merges", CHANGE)
        now = now or datetime.now(UTC)
        say = progress or (lambda _msg: None)
        say("reading profiles")
        with self.store.unit_of_work() as uow:
            roots = uow.identity.person_roots()
            if len(roots) < _MIN_PROFILES:
                raise InvalidInput(
                    f"profiles: {len(roots)} stored; learning needs at least {_MIN_PROFILES}"
                )
            chosen = sample_of(roots, sample, seed)
            # A sample is read by its ids; the whole store (no larger than a sample) streamed.
            only = chosen if len(chosen) < len(roots) else None
            region = self.settings.default_phone_region
            blocks = None
            named: list[str] = []
            if only is not None:
                named = uow.identity.person_roots_named(
                    name_blocks(uow.identity.name_word_counts(), sample, seed)
                )
            if len(named) >= MIN_CUSTOMERS_FOR_PAIRS:
                # The sample and the name blocks share customers: read them all once.
                profiles, blocks = read_profile_variants_of(uow, region, [chosen, named])
            else:
                profiles = read_profile_variants(uow, region, only)
        store_size = len(roots)
        del roots, chosen, only, named
        customers, records = profiles.customers, profiles.variants
        # Resolve scores every variant of every customer, its prior counting the variants: so
        # the model learns from the variants too, and its match rate is one of variants.
        variants_in_store = round(len(records) * store_size / len(customers))
        if len(customers) < store_size:
            say(f"training on a random sample of {len(customers):,} of {store_size:,} profiles")
        if blocks is not None:
            say(f"m learned from the {len(blocks.customers):,} customers of whole name blocks")
        registered = register_records(records, engine)
        trained = partial(
            train_model,
            records,
            seed=seed,
            engine=engine,
            progress=progress,
            refuse_backwards=False,
            registered=registered,
        )
        try:
            model = trained(em_records=blocks.variants if blocks is not None else None)
        except UntrainedModel:
            if blocks is None:
                raise
            # Names that share no other key (every block a single family, say): the random
            # sample may still have pairs for every comparison.
            say("the name blocks left a comparison untrained: m learned from the random sample")
            model = trained()
        del blocks, trained
        model.trained_at = now.isoformat(timespec="seconds")
        with self.store.unit_of_work() as uow:
            active = uow.identity.active_model()
        kept = model.keep_from(IdentityModel.from_json(active.model)) if active else []
        if kept and active:
            log.info("identity: %s learned backwards, kept from model %s", kept, active.id)
        say("estimating the match rate from the scored pairs")
        scored = estimate_store_match_rate(model, records, variants_in_store, engine, registered)
        model.records = store_size
        del registered  # the database and its copy of the records
        # Pairs of two customers, each at its best-scoring variants: a customer's own variants
        # are one person already, and say nothing of whether the model finds pairs to merge.
        pairs = per_customer(scored, profiles.owner)
        del scored
        if calibrate_on_decisions:
            say("calibrating on staff decisions")
            with self.store.unit_of_work() as uow:
                calibration = self._calibration(uow, customers, variants_in_store, model)
            if calibration is not None:
                model.calibrate(calibration)
                shift = calibration.shift_bits
                pairs = {**pairs, "match_weight": [w + shift for w in pairs["match_weight"]]}
        say("checking the model")
        refuse_degenerate(model, customers, engine, pairs)
        with self.store.unit_of_work(write=True) as uow:
            stored = uow.identity.add_model(
                model.version, now, model.records, model.to_json(), caller.actor
            )
        calibrated = model.calibration
        self.audit.record(
            caller,
            "identity_learn",
            None,
            f"model {stored.id} on {len(customers)} profiles"
            + (f" (a random sample of {store_size})" if len(customers) < store_size else "")
            + (f", {', '.join(kept)} kept from model {active.id}" if kept and active else "")
            + (
                f", calibrated on {calibrated.accepted + calibrated.rejected} decisions "
                f"({calibrated.shift_bits:+.2f} bits)"
                if calibrated
                else ""
            ),
            ["merges"],
        )
        log.info("identity: learned model %s on %s profiles", stored.id, len(customers))
        return stored

    def _calibration(
        self, uow: UnitOfWork, records: PreparedRecords, stored: int, model: IdentityModel
    ) -> Calibration | None:
        """How ``model`` fits every pair staff judged (None when no one judged a pair), in a
        store of ``stored`` records as resolve counts them (every customer's variants), whose
        customers ``records`` (their current records) were learned from.

        The judged customers the sample left out are read too; term frequencies are those of
        the sample with them (a random sample's shares of each name are the store's).

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
        root_of = uow.customers.roots_of(sorted(members | {x for merge in undone for x in merge}))
        if not reviews and not undone:
            return None
        learned_from = set(records.columns["unique_id"])
        judged = sorted({r for r in root_of.values() if r not in learned_from})
        if judged:
            region = self.settings.default_phone_region
            records = joined(records, read_profiles(uow, region, judged))
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
                key = pair(a, b)
                # A rejection outweighs anything else said about the same two customers.
                apart[key] = apart.get(key, True) and review.status == "accepted"
            elif a == b and review.status == "accepted":
                kept.append(review.fields)
        for winner, loser in undone:
            a, b = root_of.get(winner), root_of.get(loser)
            if a is not None and b is not None and a != b and a in position and b in position:
                apart[pair(a, b)] = False
        if not apart and not kept:
            return None
        scorer = Scorer(model, records, indexed=False)
        weights, matches, set_aside = weigh_labelled(
            scorer,
            stored,
            ((scorer.row(position[a]), scorer.row(position[b]), y) for (a, b), y in apart.items()),
        )
        prior = model.prior_weight(stored)
        unreadable = 0
        for levels in kept:
            weight = scorer.weigh(levels)
            if weight is None:
                unreadable += 1
                continue
            weights.append(prior + weight)
            matches.append(True)
        return calibrate(weights, matches, unreadable, set_aside + above) if matches else None
