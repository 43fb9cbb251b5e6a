"""The demo business: reproducible, valid Spec, in time order, about one profile per person."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cornerstore.demo.cast import CastBuilder
from cornerstore.demo.generate import DEFAULT_END, Business, generate_messages
from cornerstore.demo.load import estimate_messages, load_demo, plan_batches
from cornerstore.demo.outbox import SOURCES, DemoMessage
from cornerstore.intake.messages import parse_message
from cornerstore.intake.service import Intake, IntakeResult
from cornerstore.settings import Settings
from cornerstore.storage import Store, open_store


@pytest.fixture(scope="module")
def messages() -> list[DemoMessage]:
    return list(generate_messages(customers=150, seed=3))


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, IntakeResult]]:
    path: Path = tmp_path_factory.mktemp("demo") / "d.db"
    store = open_store("sqlite:///" + str(path), upgrade=True)
    result = load_demo(Intake(store, Settings()), customers=200, seed=0)
    yield store, result
    store.dispose()


def test_the_same_seed_gives_the_same_messages() -> None:
    first = list(generate_messages(customers=30, seed=5))
    again = list(generate_messages(customers=30, seed=5))
    other = list(generate_messages(customers=30, seed=6))

    assert first == again
    assert [m.message["messageId"] for m in first] != [m.message["messageId"] for m in other]


def test_every_message_passes_the_spec_parser_and_keeps_its_timestamp(
    messages: list[DemoMessage],
) -> None:
    limit = Settings().intake.max_message_bytes
    received = datetime(2030, 1, 1, tzinfo=UTC)

    for i, demo in enumerate(messages):
        parsed = parse_message(
            demo.message,
            where=f"demo[{i}]",
            received_at=received,
            batch_sent_at=None,
            default_touchpoint=demo.touchpoint,
            max_message_bytes=limit,
        )
        assert "sentAt" not in demo.message
        assert parsed.timestamp == datetime.fromisoformat(demo.message["timestamp"])
        assert demo.message["timestamp"].endswith("Z")
        assert demo.touchpoint == SOURCES[demo.source]


def test_messages_come_in_time_order_with_unique_ids(messages: list[DemoMessage]) -> None:
    stamps = [m.message["timestamp"] for m in messages]
    ids = [m.message["messageId"] for m in messages]

    assert stamps == sorted(stamps)
    assert len(set(ids)) == len(ids)
    assert stamps[0] >= "2024-10-31" and stamps[-1] < "2026-11-01"


def test_every_department_and_message_kind_shows_up(messages: list[DemoMessage]) -> None:
    kinds = {(m.source, m.message["type"], m.message.get("event")) for m in messages}

    assert {m.source for m in messages} == set(SOURCES)
    assert {
        ("web-shop", "identify", None),
        ("web-shop", "page", None),
        ("web-shop", "alias", None),
        ("web-shop", "group", None),
        ("web-shop", "track", "Product Viewed"),
        ("web-shop", "track", "Order Completed"),
        ("till", "track", "Order Completed"),
        ("support-desk", "identify", None),
        ("support-desk", "track", "Case Opened"),
        ("support-desk", "track", "Case Resolved"),
        ("billing", "track", "Invoice Issued"),
        ("billing", "track", "Invoice Paid"),
        ("shipping", "track", "Shipment Dispatched"),
        ("shipping", "track", "Delivery Attempted"),
        ("surveys", "track", "Survey Answered"),
    } <= kinds
    outcomes = {
        m.message["properties"]["outcome"]
        for m in messages
        if m.message.get("event") == "Delivery Attempted"
    }
    assert outcomes == {"delivered", "not_at_home"}


def test_a_user_id_always_belongs_to_one_person_and_a_person_has_at_most_one(
    messages: list[DemoMessage],
) -> None:
    people_of: dict[str, set[str]] = defaultdict(set)
    ids_of: dict[str, set[str]] = defaultdict(set)
    for m in messages:
        user_id = m.message.get("userId")
        if user_id:
            people_of[user_id].add(m.person)
            ids_of[m.person].add(user_id)

    assert people_of
    assert all(len(people) == 1 for people in people_of.values())
    assert all(len(ids) == 1 for ids in ids_of.values())


def test_no_ground_truth_birthday_national_id_or_card_number_is_in_the_data(
    messages: list[DemoMessage],
) -> None:
    text = "\n".join(json.dumps(m.message) for m in messages)

    assert not re.search(r'"p\d{7}"', text)  # the ground-truth person id stays outside
    for word in ("birthday", "birth", "national", "ssn", "passport", "cardNumber", "card_number"):
        assert word.lower() not in text.lower()
    assert not re.search(r"\d{13,19}", text)  # nothing shaped like a payment card number


def test_christmas_months_sell_more_than_late_winter(messages: list[DemoMessage]) -> None:
    orders = Counter(
        m.message["timestamp"][5:7] for m in messages if m.message.get("event") == "Order Completed"
    )

    assert orders["11"] + orders["12"] > 1.3 * (orders["02"] + orders["03"])


def test_households_share_surname_address_and_landline_but_not_identifiers() -> None:
    cast = CastBuilder(400, seed=2, start=0, end=730 * 86_400_000).people()
    households: dict[int, list] = defaultdict(list)
    for person in cast:
        if person.household is not None:
            households[person.household].append(person)

    assert len(households) >= 10
    for members in households.values():
        assert len(members) >= 2
        assert len({(p.last, p.address["street"], p.home_phone) for p in members}) == 1
        assert len({p.first for p in members}) == len(members)
        emails = [p.email for p in members if p.email]
        users = [p.user_id for p in members if p.user_id]
        assert len(set(emails)) == len(emails)
        assert len(set(users)) == len(users)
        assert len({p.mobile for p in members}) == len(members)


def test_planned_batches_keep_each_persons_messages_in_order(messages: list[DemoMessage]) -> None:
    batches = list(plan_batches(messages, batch_size=100))
    sent = [m for _, batch in batches for m in batch]

    assert sorted(id(m) for m in sent) == sorted(id(m) for m in messages)
    assert all(0 < len(batch) <= 100 for _, batch in batches)
    assert all({m.source for m in batch} == {source.name} for source, batch in batches)
    for person in {m.person for m in messages}:
        assert [m for m in sent if m.person == person] == [
            m for m in messages if m.person == person
        ]


def test_loading_the_demo_gives_about_one_profile_per_person(
    loaded: tuple[Store, IntakeResult],
) -> None:
    store, result = loaded
    people = len({m.person for m in generate_messages(customers=200, seed=0)})

    with store.unit_of_work() as uow:
        profiles = len(uow.customers.root_ids(kind="person"))
        accounts = len(uow.customers.root_ids(kind="account"))

    assert result.rejected == []
    assert result.accepted == result.received > 0
    assert 0.8 * people <= profiles <= 1.3 * people
    assert accounts >= 1
    assert result.received == pytest.approx(estimate_messages(200), rel=0.5)


def test_household_members_stay_separate_profiles_after_loading(
    loaded: tuple[Store, IntakeResult],
) -> None:
    store, _ = loaded
    intake = Intake(store, Settings())
    cast = Business(customers=200, seed=0, end=DEFAULT_END, years=2.0).people  # as loaded
    households: dict[int, list[str]] = defaultdict(list)
    for person in cast:
        if person.household is not None and person.email:
            households[person.household].append(intake.normaliser.email(person.email) or "")

    with store.unit_of_work() as uow:
        for emails in households.values():
            found = uow.identifiers.lookup([("email", e) for e in emails])
            roots = {owner.root_id for owner in found.values()}
            assert len(roots) == len(found)


def test_the_support_desk_replies_hands_over_and_sees_reopens_and_repeat_contacts(
    messages: list[DemoMessage],
) -> None:
    by_case: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in messages:
        if m.message.get("event", "").startswith("Case "):
            by_case[str(m.message["properties"]["case_id"])].append(m.message)

    def agents(case: list[dict[str, Any]]) -> set[str]:
        return {
            m["properties"]["agent"]
            for m in case
            if m["event"] == "Case Message" and m["properties"]["direction"] == "out"
        }

    replied = [c for c in by_case.values() if agents(c)]
    handed_over = [c for c in by_case.values() if len(agents(c)) > 1]
    reopened = [c for c in by_case.values() if [m["event"] for m in c].count("Case Resolved") > 1]
    repeats = [ref for ref in by_case if ref.endswith("-2")]

    assert len(by_case) >= 40
    assert len(replied) / len(by_case) > 0.6
    assert handed_over and reopened and repeats
    assert set().union(*(agents(c) for c in replied)) == {"demo-support", "demo-supervisor"}
    assert all(case[0]["event"] == "Case Opened" for case in by_case.values())
