"""Stored customers for the resolution tests: a messy shop from the demo generator, plus a few
hand-made people whose fate the tests check by name, and the model learned from them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cornerstore.demo.messy import MessyCustomers
from cornerstore.identity.resolution.comparisons import Comparison
from cornerstore.identity.resolution.model import IdentityModel
from cornerstore.intake.service import Source
from cornerstore.services import Services
from tests.factories import identify

TILL = Source("till", "store")
WEB = Source("web-shop", "web")


def message(record_id: str, **fields: str) -> dict[str, Any]:
    """An identify message from a flat record (empty fields left out; address parts nested)."""
    traits: dict[str, Any] = {
        k: fields[k] for k in ("first_name", "last_name", "email", "phone") if fields.get(k)
    }
    parts = (("address", "street"), ("city", "city"), ("postcode", "postal_code"))
    address = {part: fields[k] for k, part in parts if fields.get(k)}
    if address:
        traits["address"] = address
    return identify(anonymous_id=record_id, **traits)


# Robert Smith in the web shop and Bob Smith at the till share no identifier; the Lees share a
# surname and an address but are two people.
NAMED = [
    (
        WEB,
        "robert",
        {
            "first_name": "Robert",
            "last_name": "Smith",
            "email": "robert.smith@example.com",
            "address": "12 High Street",
            "city": "London",
            "postcode": "SW1A 1AA",
        },
    ),
    (
        TILL,
        "bob",
        {
            "first_name": "Bob",
            "last_name": "Smith",
            "phone": "07700 900123",
            "address": "12 High St",
            "city": "London",
            "postcode": "sw1a 1aa",
        },
    ),
    (
        WEB,
        "john",
        {
            "first_name": "John",
            "last_name": "Leeming",
            "email": "john.leeming@example.com",
            "phone": "0113 496 0000",
            "address": "3 Mill Lane",
            "city": "Leeds",
            "postcode": "LS1 4AB",
        },
    ),
    (
        TILL,
        "mary",
        {
            "first_name": "Mary",
            "last_name": "Leeming",
            "email": "mary.l@example.net",
            "address": "3 Mill Lane",
            "city": "Leeds",
            "postcode": "LS1 4AB",
        },
    ),
]


def ingest_shop(services: Services, people: int = 300, seed: int = 5) -> list[dict[str, Any]]:
    """Store a messy shop's records (anonymous ids ``r1``, ``r2``, ...) and the named people
    (anonymous ids ``robert``, ``bob``, ``john``, ``mary``); returns the messy records."""
    rows = list(MessyCustomers(people=people, seed=seed).records())
    fields = ("first_name", "last_name", "email", "phone", "address", "city", "postcode")
    messages = [message(r["id"], **{k: r[k] for k in fields}) for r in rows]
    services.intake.ingest(messages, source=TILL)
    for source, record_id, named in NAMED:
        services.intake.ingest([message(record_id, **named)], source=source)
    return rows


def root_of(services: Services, anonymous_id: str) -> str:
    """The profile id a record's anonymous id belongs to now."""
    with services.store.unit_of_work() as uow:
        found = uow.identifiers.find_by_value(anonymous_id, ["anonymous_id"])
    assert len(found) == 1, found
    return found[0].root_id


def active_model(services: Services) -> IdentityModel:
    """The model `identity resolve` would use now (the test fails when none was learned)."""
    with services.store.unit_of_work() as uow:
        stored = uow.identity.active_model()
    assert stored is not None
    return IdentityModel.from_json(stored.model)


def with_agreement_weight(model: IdentityModel, name: str, bits: float) -> IdentityModel:
    """The model with comparison ``name``'s first level after "missing" weighing ``bits``."""
    comparisons = []
    for comparison in model.comparisons:
        if comparison.name == name:
            agree = comparison.levels[1]
            assert agree.u is not None
            levels = (comparison.levels[0], replace(agree, m=agree.u * 2.0**bits))
            comparison = Comparison(name, levels + comparison.levels[2:], comparison.description)
        comparisons.append(comparison)
    return replace(model, comparisons=comparisons)


#: Where Robert Smith moved to: his new address is not Bob Smith's, his old one is.
MOVED = {"address": "7 Elm Road", "city": "Leeds", "postcode": "LS2 9JT"}


def move_robert(services: Services) -> None:
    """Robert Smith moves: a later message with a new address (before a model is learned, so
    placement leaves him where he is)."""
    robert_fields = next(fields for _, record_id, fields in NAMED if record_id == "robert")
    services.intake.ingest([message("robert", **{**robert_fields, **MOVED})], source=WEB)


def queue_robert_and_bob(services: Services) -> tuple[str, str]:
    """Queue Robert and Bob Smith for review as resolve queues a pair: at the variants that
    agree best (once Robert moved, his old address is Bob's), each field's values in the order
    of the sorted ids. Needs an active model; returns Robert's and Bob's customer ids."""
    robert, bob = root_of(services, "robert"), root_of(services, "bob")
    queue_as_resolve_does(services, [(robert, bob)])
    return robert, bob


def queue_as_resolve_does(services: Services, pairs: list[tuple[str, str]]) -> None:
    """Queue pairs of customers for review as resolve queues them: at the variants that agree
    best, ids in sorted order and each field's values in that order. Needs an active model."""
    from datetime import UTC, datetime

    from cornerstore.access.caller import system_caller
    from cornerstore.identity.resolution.stored_profiles import field_dict

    rows = []
    for a, b in pairs:
        left, right = sorted([a, b])
        explained = services.identity.explain(system_caller(), left, right)
        rows.append(
            {
                "left_id": left,
                "right_id": right,
                "match_probability": explained.match_probability,
                "match_weight": explained.match_weight,
                "fields": [field_dict(f) for f in explained.fields],
                "created_at": datetime.now(UTC),
            }
        )
    with services.store.unit_of_work(write=True) as uow:
        uow.identity.add_reviews(rows)
