"""A stitched customer is matched on every value it holds, not only on its latest traits."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from cornerstore.access.caller import Caller
from cornerstore.demo.messy import MessyCustomers
from cornerstore.identity.resolution import stored_profiles
from cornerstore.identity.resolution.learning import sample_of
from cornerstore.identity.resolution.model import IdentityModel
from cornerstore.identity.resolution.records import prepare_records
from cornerstore.identity.resolution.splink_engine import train_model
from cornerstore.identity.resolution.stored_profiles import read_profile_variants, read_profiles
from cornerstore.services import Services
from tests.identity.resolution.stored import (
    TILL,
    WEB,
    active_model,
    ingest_shop,
    message,
    root_of,
)

MOVED = {
    "first_name": "Robert",
    "last_name": "Smith",
    "email": "robert.smith@example.com",
    "address": "7 Elm Road",
    "city": "Manchester",
    "postcode": "M1 1AA",
}


def move_robert(services: Services) -> None:
    """Robert tells the web shop (same e-mail, so the same customer) that he moved."""
    moved = message("robert-moved", **MOVED)
    moved["timestamp"] = "2099-01-01T00:00:00Z"
    services.intake.ingest([moved], source=WEB)


def test_a_moved_customer_has_a_record_for_the_old_address_and_one_for_the_new(
    services: Services,
) -> None:
    ingest_shop(services, people=20)
    move_robert(services)
    robert = root_of(services, "robert")
    assert root_of(services, "robert-moved") == robert

    with services.store.unit_of_work() as uow:
        profiles = read_profile_variants(uow, "GB")

    customers = profiles.customers.columns["unique_id"]
    position = customers.index(robert)
    assert profiles.customers.row(position)["postcode"] == "M1 1AA"  # the latest
    mine = [i for i, owner in enumerate(profiles.owner) if owner == position]
    postcodes = sorted(profiles.variants.row(i)["postcode"] for i in mine)
    assert postcodes == ["M1 1AA", "SW1A 1AA"]
    assert len(profiles.owner) == len(profiles.variants)
    assert sorted(set(profiles.owner)) == list(range(len(customers)))


def test_two_rows_of_one_customer_stored_at_one_time_are_two_variants(
    services: Services,
) -> None:
    # An import's rows without a timestamp are all stamped with the time of the batch.
    old = message("robert-old", **{**MOVED, "address": "12 High Street", "postcode": "SW1A 1AA"})
    services.intake.ingest([old, message("robert-new", **MOVED)], source=WEB)
    robert = root_of(services, "robert-old")
    assert root_of(services, "robert-new") == robert

    with services.store.unit_of_work() as uow:
        profiles = read_profile_variants(uow, "GB")

    position = profiles.customers.columns["unique_id"].index(robert)
    mine = [i for i, owner in enumerate(profiles.owner) if owner == position]
    assert [profiles.variants.row(i)["postcode"] for i in mine] == ["M1 1AA", "SW1A 1AA"]
    assert profiles.customers.row(position)["postcode"] == "M1 1AA"  # the row stored last


def test_resolving_links_a_customer_through_an_address_it_held_before(
    services: Services, owner: Caller
) -> None:
    ingest_shop(services)
    move_robert(services)
    services.identity.train(owner)
    assert root_of(services, "bob") != root_of(services, "robert")

    with services.store.unit_of_work() as uow:
        customers = len(uow.identity.person_roots())

    result = services.identity.resolve(owner)

    # Bob at the till shares no identifier with Robert and only the address Robert left.
    assert root_of(services, "bob") == root_of(services, "robert")
    assert root_of(services, "john") != root_of(services, "mary")
    assert result.profiles == customers  # customers counted once, however many records


def test_placing_links_a_customer_through_an_address_it_held_before(
    services: Services, owner: Caller
) -> None:
    ingest_shop(services)
    move_robert(services)
    services.identity.train(owner)

    placed = services.identity.place(owner, "bob")

    assert placed.decision == "merged"
    assert placed.other_id == root_of(services, "robert")
    assert root_of(services, "bob") == root_of(services, "robert")


def shop_with_robert_moved(services: Services, people: int) -> list[str]:
    """A shop of ``people`` with Robert moved (a customer of two variants): its customers'
    root ids in the store's order."""
    ingest_shop(services, people=people)
    move_robert(services)
    with services.store.unit_of_work() as uow:
        return uow.identity.person_roots()


def test_reading_every_customer_streamed_gives_what_reading_them_by_id_gives(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    roots = shop_with_robert_moved(services, people=20)
    monkeypatch.setattr(stored_profiles, "PROFILES_PER_READ", 3)  # several slices

    with services.store.unit_of_work() as uow:
        streamed = read_profile_variants(uow, "GB")
        by_id = read_profile_variants(uow, "GB", roots[:3])
        every = read_profiles(uow, "GB")
    monkeypatch.setattr(stored_profiles, "PROFILES_PER_READ", len(roots))
    with services.store.unit_of_work() as uow:
        all_by_id = read_profile_variants(uow, "GB", roots)
        every_by_id = read_profiles(uow, "GB", roots)

    assert len(roots) > 6
    assert streamed.customers.columns == all_by_id.customers.columns
    assert streamed.variants.columns == all_by_id.variants.columns
    assert (streamed.owner, streamed.observed) == (all_by_id.owner, all_by_id.observed)
    assert len(streamed.variants) > len(streamed.customers)  # Robert moved
    assert every.columns == every_by_id.columns
    # Customers come in the order of their content, a few of them as they come among all.
    at = [i for i, uid in enumerate(all_by_id.customers.columns["unique_id"]) if uid in roots[:3]]
    assert by_id.customers.columns == {
        name: [values[i] for i in at] for name, values in all_by_id.customers.columns.items()
    }


def test_a_sample_read_by_id_in_slices_gives_the_records_streaming_every_customer_gives(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    roots = shop_with_robert_moved(services, people=40)
    picked = {*sample_of(roots, len(roots) // 2, seed=1), root_of(services, "robert")}
    sample = [r for r in roots if r in picked]  # in the store's order, Robert (moved) in it
    monkeypatch.setattr(stored_profiles, "PROFILES_PER_READ", 4)  # the sample takes slices

    with services.store.unit_of_work() as uow:
        streamed = read_profile_variants(uow, "GB")
        every = read_profiles(uow, "GB")
        sampled = read_profile_variants(uow, "GB", sample)
        sampled_records = read_profiles(uow, "GB", sample)

    assert len(sample) > 3 * 4
    at = [roots.index(r) for r in sample]
    assert sampled_records.columns == {
        name: [values[i] for i in at] for name, values in every.columns.items()
    }
    # Customers with their variants come in the order of their content, the sample's as they
    # come among all.
    at = [i for i, uid in enumerate(streamed.customers.columns["unique_id"]) if uid in picked]
    assert sampled.customers.columns == {
        name: [values[i] for i in at] for name, values in streamed.customers.columns.items()
    }
    wanted = [v for v, owner in enumerate(streamed.owner) if owner in set(at)]
    assert len(sampled.variants) == len(wanted) > len(sample)  # Robert moved
    assert sampled.variants.columns == {
        name: [values[v] for v in wanted] for name, values in streamed.variants.columns.items()
    }
    assert sampled.observed == [streamed.observed[v] for v in wanted]


def _level_weights(model: IdentityModel) -> dict[str, float]:
    """Each comparison's "all other" level (the values disagree) as a match weight in bits."""
    return {
        c.name: math.log2(level.m / level.u)
        for c in model.comparisons
        for level in c.levels
        if level.label == "all other" and level.m and level.u
    }


def test_learning_from_stitched_customers_weighs_disagreements_as_their_records_do(
    services: Services, owner: Caller
) -> None:
    # A shop's records arrive one by one (a till stamps each); intake stitches those sharing
    # an e-mail or a mobile, so a customer who moved holds both towns.
    rows = list(MessyCustomers(people=300, seed=5).records())
    fields = ("first_name", "last_name", "email", "phone", "address", "city", "postcode")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    messages = []
    for minute, row in enumerate(rows):
        sent = message(row["id"], **{k: row[k] for k in fields})
        sent["timestamp"] = (start + timedelta(minutes=minute)).isoformat()
        messages.append(sent)
    services.intake.ingest(messages, source=TILL)

    services.identity.train(owner)

    learned = _level_weights(active_model(services))
    as_a_file = _level_weights(
        train_model(prepare_records(rows, [r["id"] for r in rows], fields, "GB"))
    )
    # Learned from the current records alone, another town weighed -9.7 bits against -2.9.
    assert learned.keys() == as_a_file.keys()
    for name in ("first_name", "email", "address", "city", "postcode"):
        assert learned[name] == pytest.approx(as_a_file[name], abs=1.0), name


def test_customers_asked_by_id_come_in_the_stores_order_without_those_merged_away(
    services: Services, owner: Caller
) -> None:
    roots = shop_with_robert_moved(services, people=30)
    bob = root_of(services, "bob")
    services.identity.train(owner)
    services.identity.resolve(owner)  # Bob at the till becomes part of Robert
    assert root_of(services, "bob") != bob

    asked = [*reversed(roots), "no-such-customer"]
    with services.store.unit_of_work() as uow:
        found = uow.identity.person_roots(asked)
        every = uow.identity.person_roots()

    assert bob not in every
    assert found == every == [r for r in roots if r in set(every)]
