"""Finding customers by name: either order, a part, a nickname, a typo; ranked; both databases."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from sqlalchemy import delete, func, select

from cornerstore.access.caller import Caller
from cornerstore.intake.service import Source
from cornerstore.profiles import name_search
from cornerstore.services import Services
from cornerstore.storage import tables as t
from cornerstore.storage.database import _alembic_config
from tests.factories import identify

WEB = Source("web-shop", "web")


def _people(services: Services) -> None:
    services.intake.ingest(
        [
            identify("u-joanne", email="joanne@example.com", firstName="Joanne", lastName="Hill"),
            identify("u-joanna", firstName="Joanna", lastName="Hill"),
            identify("u-robert", firstName="Robert", lastName="Smith"),
            identify("u-ann", firstName="Ann", lastName="Lee"),
            identify("u-ann-marie", firstName="Ann", middleName="Marie", lastName="Lee"),
            identify("u-nancy", firstName="Nancy", lastName="Lee"),
            identify("u-annabel", firstName="Annabel", lastName="Leeds"),
            identify("u-ann-smith", firstName="Ann", lastName="Smith"),
        ],
        source=WEB,
    )


def _found(services: Services, owner: Caller, q: str) -> list[tuple[str | None, str]]:
    return [(h.name, h.matched) for h in services.profiles.search(owner, q)]


def test_a_full_name_finds_the_customer_in_either_order(services: Services, owner: Caller) -> None:
    _people(services)

    found = [_found(services, owner, q) for q in ("Joanne Hill", "hill joanne", "Hill, Joanne")]

    assert found == [[("Joanne Hill", "name"), ("Joanna Hill", "similar name")]] * 3


def test_a_name_with_a_typo_in_each_word_still_finds_the_customer(
    services: Services, owner: Caller
) -> None:
    _people(services)

    assert _found(services, owner, "Joane Hil") == [("Joanne Hill", "similar name")]


def test_a_nickname_finds_the_customer_under_the_given_name(
    services: Services, owner: Caller
) -> None:
    _people(services)

    assert _found(services, owner, "Bob Smith") == [("Robert Smith", "nickname")]


def test_search_as_you_type_finds_the_customer_from_the_first_letters(
    services: Services, owner: Caller
) -> None:
    _people(services)

    typed = [_found(services, owner, q) for q in ("joan", "joanne h", "Jaonne Hill")]

    assert typed == [
        # Joan and Joanna are one name in the nickname list; Joanne only begins with Joan.
        [("Joanna Hill", "nickname"), ("Joanne Hill", "similar name")],
        [("Joanne Hill", "similar name"), ("Joanna Hill", "similar name")],
        [("Joanne Hill", "similar name")],
    ]


def test_exact_full_name_comes_first_then_exact_parts_then_similar_names(
    services: Services, owner: Caller
) -> None:
    _people(services)

    assert _found(services, owner, "ann lee") == [
        ("Ann Lee", "name"),
        ("Ann Lee", "name"),  # Ann Marie Lee: her middle name is not in her list name
        ("Nancy Lee", "nickname"),
        ("Annabel Leeds", "similar name"),
    ]


def test_one_part_of_a_name_finds_everyone_with_it_exact_matches_first(
    services: Services, owner: Caller
) -> None:
    _people(services)

    assert _found(services, owner, "hill") == [
        ("Joanna Hill", "name"),
        ("Joanne Hill", "name"),
    ]


def test_percent_and_underscore_are_not_wildcards(services: Services, owner: Caller) -> None:
    _people(services)

    assert [_found(services, owner, q) for q in ("__", "%", "%%", "_%_")] == [[], [], [], []]


def test_an_e_mail_shaped_query_looks_up_e_mails_not_names(
    services: Services, owner: Caller
) -> None:
    _people(services)

    assert _found(services, owner, "joanne@example.com") == [("Joanne Hill", "email")]
    assert _found(services, owner, "joanne.hill@example.com") == []


def _at(timestamp: str, message: dict[str, Any]) -> dict[str, Any]:
    return message | {"timestamp": timestamp}


def test_a_customer_is_found_by_the_current_name_not_an_earlier_one(
    services: Services, owner: Caller
) -> None:
    first = identify("u-ann", firstName="Ann", lastName="Lee")
    services.intake.ingest([_at("2026-01-01T00:00:00Z", first)], source=WEB)
    renamed = identify("u-ann", lastName="Smith")
    services.intake.ingest([_at("2026-02-01T00:00:00Z", renamed)], source=WEB)
    # A late message with an older timestamp does not bring the old name back.
    late = identify("u-ann", lastName="Lee")
    services.intake.ingest([_at("2025-06-01T00:00:00Z", late)], source=WEB)

    assert (_found(services, owner, "Ann Lee"), _found(services, owner, "Ann Smith")) == (
        [],
        [("Ann Smith", "name")],
    )


def test_of_two_names_observed_at_the_same_time_the_one_stored_last_is_current(
    services: Services, owner: Caller
) -> None:
    same_time = "2026-01-01T00:00:00Z"
    for last_name in ("Lee", "Smith"):
        message = identify("u-ann", lastName=last_name)
        services.intake.ingest([_at(same_time, message)], source=WEB)
    # A later batch adds only the first name: the row's words come from the current last name.
    services.intake.ingest(
        [_at("2026-02-01T00:00:00Z", identify("u-ann", firstName="Ann"))], source=WEB
    )

    assert (_found(services, owner, "Ann Lee"), _found(services, owner, "Ann Smith")) == (
        [],
        [("Ann Smith", "name")],
    )


def test_a_batch_repeating_a_name_and_then_renaming_leaves_only_the_new_name_found(
    services: Services, owner: Caller
) -> None:
    first = identify("u-ann", firstName="Ann", lastName="Lee")
    services.intake.ingest([_at("2026-01-01T00:00:00Z", first)], source=WEB)
    again = identify("u-ann", firstName="Ann", lastName="Lee")
    renamed = identify("u-ann", lastName="Smith")
    services.intake.ingest(
        [_at("2026-02-01T00:00:00Z", again), _at("2026-03-01T00:00:00Z", renamed)], source=WEB
    )
    # The same name once more, later: nothing to re-index, she stays found as she is.
    same = identify("u-ann", firstName="Ann", lastName="Smith")
    services.intake.ingest([_at("2026-04-01T00:00:00Z", same)], source=WEB)

    assert (_found(services, owner, "Ann Lee"), _found(services, owner, "Ann Smith")) == (
        [],
        [("Ann Smith", "name")],
    )


def test_merged_profiles_are_one_hit(services: Services, owner: Caller) -> None:
    services.intake.ingest(
        [
            identify(anonymous_id="till-1", firstName="Ann", lastName="Lee"),
            identify("u-ann", email="ann@example.com", firstName="Annie", lastName="Lee"),
            identify("u-ann", anonymous_id="till-1"),
        ],
        source=WEB,
    )

    hits = services.profiles.search(owner, "Ann Lee")

    # The till knew her as Ann, the web shop as Annie: the exact row ranks the customer.
    assert [(h.email, h.matched) for h in hits] == [("ann@example.com", "name")]


def test_erasing_a_customer_removes_the_words_of_her_name(
    services: Services, owner: Caller
) -> None:
    _people(services)

    services.rights.erase(owner, "joanne@example.com")

    with services.store.unit_of_work() as uow:
        words = uow.conn.execute(select(t.name_words.c.word).distinct()).scalars().all()
    assert "joanne" not in words
    assert _found(services, owner, "Joanne Hill") == [("Joanna Hill", "similar name")]


def test_upgrading_an_older_store_indexes_the_names_it_holds(
    services: Services, owner: Caller
) -> None:
    _people(services)
    with services.store.engine.begin() as conn:
        conn.execute(delete(t.name_words))
        command.downgrade(_alembic_config(conn), "0007")

    services.store.upgrade()

    with services.store.unit_of_work() as uow:
        stored = uow.conn.execute(select(func.count()).select_from(t.name_words)).scalar_one()
    assert stored == 17
    assert _found(services, owner, "Joanne Hill")[0] == ("Joanne Hill", "name")


@pytest.mark.parametrize(
    "query", ["joanne h", "hill jo", "ann lee", "le an", "joane hil", "smith ann", "bob smith"]
)
def test_reading_only_the_rarest_words_rows_ranks_as_matching_every_row_does(
    services: Services, query: str
) -> None:
    _people(services)
    words = name_search.words_of(query)
    wider = []
    with services.store.unit_of_work() as uow:
        for word in words:
            spans = name_search.word_ranges(word)
            stored = [w for span in spans for w in uow.search.name_words_between(*span)]
            wider.append(name_search.candidates(word, stored))
        pairs, exact = name_search._pairs(wider), " ".join(sorted(words))

        every_row = uow.search.rows_matching(pairs, len(words), exact, 100)
        led = name_search._led_rows(uow, words, pairs, exact)

    assert [(rank[4], rank[3], rank[1], worst) for rank, worst in led] == [
        (row.customer_id, row.name_key, row.distance, row.worst) for row in every_row
    ]
    assert led
