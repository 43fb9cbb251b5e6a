"""Learning from a sample of a large store: m from whole name blocks, where one person's
records are together, instead of a random sample, where they are seldom both drawn."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from cornerstore.access.caller import Caller
from cornerstore.identity.resolution import learning
from cornerstore.identity.resolution.learning import name_blocks
from cornerstore.identity.resolution.model import IdentityModel, probability_of
from cornerstore.identity.resolution.records import PreparedRecords, prepare_record, prepare_records
from cornerstore.identity.resolution.scorer import Scorer
from cornerstore.identity.resolution.splink_engine import train_model
from cornerstore.identity.resolution.stored_profiles import (
    ProfileVariants,
    read_profile_variants,
    read_profile_variants_of,
)
from cornerstore.services import Services
from tests.identity.resolution.stored import TILL, WEB, ingest_shop, message, root_of

_SYLLABLES = [a + b for a in "bcdfghjklmnprstvwz" for b in "aeiou"]
FIRSTS = [f"{a}{b}a" for a in _SYLLABLES for b in "lnrst"]  # 450 first names
LASTS = [f"{a}{b}dale" for a in _SYLLABLES for b in "lnrstm"][:500]  # and 500 surnames
SUFFIXES = ("Lane", "Road", "Street", "Avenue", "Close", "Way", "Grove")
TOWNS = ("Leeds", "York", "Bristol", "Bath", "Hull", "Derby", "Ripon", "Selby", "Otley", "Wells")
NOW = datetime(2026, 3, 1, tzinfo=UTC)
FIELDS = ["first_name", "last_name", "email", "address", "city", "postcode"]


def profile(i: int) -> dict[str, Any]:
    """Profile ``i`` of a shop of families: two or three people at an address with one surname,
    15 addresses a postcode, and one person in ten with a second profile (``i % 10 == 5``:
    the person before it, another e-mail)."""
    b = i - 1 if i % 10 == 5 else i
    house = 2 * b // 5
    street, number = divmod(house, 150)
    name = f"{_SYLLABLES[street % 90].title()}{SUFFIXES[street // 90 % 7].lower()[:2]} "
    return {
        "first_name": FIRSTS[(b * 7) % len(FIRSTS)],
        "last_name": LASTS[(house * 31) % len(LASTS)],
        "email": f"p{i}@example.com",
        "address": f"{1 + number} {name}{SUFFIXES[street % 7]}",
        "city": TOWNS[street % len(TOWNS)],
        "postcode": f"LS{street} {number // 15}AB",
    }


def _prepared(ids: list[int]) -> PreparedRecords:
    return prepare_records((profile(i) for i in ids), ids, FIELDS)


def _probability(scorer: Scorer, a: int, b: int, store: int) -> float:
    weight = scorer.pair_weight(prepare_record(profile(a)), prepare_record(profile(b)), store - 1)
    return probability_of(weight)


def test_m_learned_from_name_blocks_keeps_neighbours_apart_in_a_large_store() -> None:
    # A random sample of 2.5% of a store holds a person's second profile beside the first one
    # time in forty: EM, learning m from that sample alone, scored a family's neighbours as
    # likely one person as a person's two profiles (0.87 and 0.88 here).
    store, size = 400_000, 10_000
    sample = sorted(random.Random(0).sample(range(1, store + 1), size))
    words = Counter(w for i in range(1, store + 1) for w in _words(i))
    blocked = set(name_blocks(list(words.items()), size, seed=0))
    kept = [i for i in range(1, store + 1) if blocked & set(_words(i))]

    model = train_model(_prepared(sample), seed=0, em_records=_prepared(kept))

    scorer = Scorer(model, _prepared(sample), indexed=False)
    # 100-102 are a family at 41 Bala Lane; 103 and 104 another at number 42, the same street
    # and postcode; 105 is 104's second profile.
    assert profile(101)["address"] != profile(104)["address"]
    assert profile(101)["postcode"] == profile(104)["postcode"]
    assert _probability(scorer, 104, 105, store) >= model.match_probability
    assert _probability(scorer, 101, 104, store) < model.review_probability
    assert model.households


def _words(i: int) -> tuple[str, str]:
    p = profile(i)
    return p["first_name"].lower(), p["last_name"].lower()


def _store_of_families(services: Services) -> None:
    """4,000 profiles of :func:`profile`, and a till record stitched to p7 by its e-mail."""
    for start in range(1, 4001, 2000):
        batch = [message(f"p{i}", **profile(i)) for i in range(start, start + 2000)]
        services.intake.ingest(batch, source=WEB)
    services.intake.ingest(
        [message("till-1", **profile(7))], source=TILL
    )  # stitched to p7 by its e-mail


def test_a_sample_of_the_store_learns_m_from_the_customers_of_whole_names(
    services: Services, owner: Caller
) -> None:
    people = range(1, 4001)
    _store_of_families(services)
    surname = profile(104)["last_name"]
    with services.store.unit_of_work() as uow:
        counts = dict(uow.identity.name_word_counts())
        named = uow.identity.person_roots_named([surname])

    with_surname = {f"p{i}" for i in people if profile(i)["last_name"] == surname}
    assert counts[surname] >= len(with_surname) >= 2
    assert sorted(named) == sorted({root_of(services, p) for p in with_surname})

    said: list[str] = []
    stored = services.identity.train(owner, sample=1_500, progress=said.append)

    assert stored.records == 4000
    assert any("whole name blocks" in line for line in said), said
    assert IdentityModel.from_json(stored.model).households


def _plain(read: ProfileVariants) -> tuple[Any, ...]:
    return (
        read.customers.columns,
        read.customers.fields,
        read.variants.columns,
        read.variants.fields,
        list(read.owner),
        read.observed,
    )


def test_reading_overlapping_sets_of_customers_at_once_gives_each_as_its_own_read(
    services: Services,
) -> None:
    ingest_shop(services, 120)
    # Customers who gave a first name and an e-mail only: a set of just them holds no phone.
    services.intake.ingest(
        [message(f"bare{i}", first_name="Ann", email=f"bare{i}@example.com") for i in range(5)],
        source=WEB,
    )
    with services.store.unit_of_work() as uow:
        roots = uow.identity.person_roots()
    bare = [root_of(services, f"bare{i}") for i in range(5)]
    sample, blocks = roots[::2], [*roots[len(roots) // 3 :][::3], *bare]
    parts = [sample, blocks, bare[:2]]

    with services.store.unit_of_work() as uow:
        together = read_profile_variants_of(uow, "GB", parts)
        alone = [read_profile_variants(uow, "GB", part) for part in parts]

    assert [_plain(r) for r in together] == [_plain(r) for r in alone]
    assert "phone" not in together[2].customers.fields
    assert any(o != i for i, o in enumerate(together[1].owner))  # some customers have variants


def test_learning_from_a_sample_reads_it_with_its_name_blocks_once_and_learns_the_same_model(
    services: Services, owner: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store_of_families(services)
    reads: list[int] = []
    read_once = learning.read_profile_variants_of

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(1)
        return read_once(*args, **kwargs)

    def each_alone(uow: Any, region: str, parts: Any) -> list[ProfileVariants]:
        return [read_profile_variants(uow, region, part) for part in parts]

    monkeypatch.setattr(learning, "read_profile_variants_of", counted)
    once = services.identity.train(owner, NOW, sample=1_500, calibrate_on_decisions=False)
    monkeypatch.setattr(learning, "read_profile_variants_of", each_alone)
    twice = services.identity.train(owner, NOW, sample=1_500, calibrate_on_decisions=False)

    assert reads == [1]
    assert IdentityModel.from_json(once.model).to_json() == (
        IdentityModel.from_json(twice.model).to_json()
    )
