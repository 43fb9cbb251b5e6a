from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cornerstore.identity.names import (
    NameParts,
    mistyped_both,
    mistyped_variant,
    nickname_keys,
    normalise_name,
    parse_name,
    same_person_name,
)


@pytest.mark.parametrize(
    ("nickname", "formal"),
    [("Bob", "Robert"), ("Peggy", "Margaret"), ("Bill", "William"), ("Liz", "Elizabeth")],
)
def test_a_nickname_and_its_formal_name_are_one_first_name(nickname: str, formal: str) -> None:
    assert same_person_name(nickname, formal)


def test_unrelated_first_names_are_not_the_same_person_name() -> None:
    assert not same_person_name("Bill", "Margaret")
    assert not same_person_name("John", None)


def test_a_name_the_list_does_not_know_has_no_nickname_keys() -> None:
    assert nickname_keys("Xanthippe") == ()


def test_parsing_a_full_name_separates_title_and_suffix_from_the_name() -> None:
    assert parse_name("Mrs. Margaret A. Thatcher-Roberts") == NameParts(
        first="margaret", middle="a", last="thatcher roberts", title="mrs", suffix=None
    )
    assert parse_name("Dr Robert Smith Jr.") == NameParts(
        first="robert", middle=None, last="smith", title="dr", suffix="jr"
    )


def test_parsing_a_last_name_first_full_name() -> None:
    assert parse_name("Smith, Ann").first == "ann"
    assert parse_name("Smith, Ann").last == "smith"


def test_accents_punctuation_and_case_do_not_matter() -> None:
    assert normalise_name(" Zoë ") == normalise_name("ZOE") == "zoe"
    assert normalise_name("O'Brien") == normalise_name("OBrien")


@given(st.text(max_size=30))
def test_normalising_a_name_twice_changes_nothing(text: str) -> None:
    once = normalise_name(text)

    assert normalise_name(once) == once


def test_two_names_the_list_both_files_under_a_shorter_name_are_not_one_name() -> None:
    # The list gives "bill" as a nickname of Robert and of William; that does not make
    # Robert William.
    assert same_person_name("Bob", "Rob")
    assert not same_person_name("Robert", "William")


@pytest.mark.parametrize(
    ("typed", "name"), [("mragie", "margaret"), ("aelx", "alexander"), ("samule", "sam")]
)
def test_a_mistyped_nickname_is_still_the_name(typed: str, name: str) -> None:
    assert mistyped_variant(typed, name)


def test_a_short_name_one_letter_away_is_another_name() -> None:
    assert not mistyped_variant("tim", "james")


@pytest.mark.parametrize(("typed", "name"), [("rdo", "roger"), ("mxa", "max"), ("bbo", "robert")])
def test_a_three_letter_nickname_with_two_letters_exchanged_is_still_the_name(
    typed: str, name: str
) -> None:
    assert mistyped_variant(typed, name)
    assert mistyped_variant(name, typed)


def test_a_three_letter_name_with_another_letter_or_known_on_its_own_is_another_name() -> None:
    # Sum is Sam with one letter changed, as Tim is Jim; Ina is Ian's letters exchanged, but
    # Ina is a name of its own.
    assert not mistyped_variant("sum", "samuel")
    assert not mistyped_variant("ina", "ian")


@pytest.mark.parametrize(
    ("one", "other"), [("thomts", "thonas"), ("willaim", "boll"), ("elizaueth", "elieabeth")]
)
def test_two_typos_of_one_known_name_or_of_two_forms_of_it_are_the_name(
    one: str, other: str
) -> None:
    assert mistyped_both(one, other)
    assert mistyped_both(other, one)


def test_a_typo_is_not_read_as_a_typo_of_an_unrelated_name_or_beside_the_name_itself() -> None:
    # Thomts is Thomas, Jamse is James: two names. Thomas typed right is read by
    # mistyped_variant, not here; a name the list does not know has nothing to slip from.
    assert not mistyped_both("thomts", "jamse")
    assert not mistyped_both("thomas", "thonas")
    assert not mistyped_both("xnathe", "xantne")


def test_a_known_name_is_not_read_as_a_mistyped_nickname() -> None:
    # Elena is one letter from Lena, which the list gives as a nickname of Catherine; Elena and
    # Catherine at one address are two people, not a typo.
    assert not mistyped_variant("elena", "catherine")
    assert not mistyped_variant("catherine", "elena")


def test_british_diminutives_the_nickname_list_lacks_are_known() -> None:
    pairs = [("Aggie", "Agnes"), ("Florrie", "Florence"), ("Artie", "Arthur"), ("Davy", "David")]

    assert [same_person_name(a, b) for a, b in pairs] == [True] * 4
    # Bertie is short for Albert and for Herbert; that makes Albert no Herbert.
    assert same_person_name("Bertie", "Herbert") and not same_person_name("Albert", "Herbert")


def test_british_welsh_and_irish_forms_seen_among_historical_records_are_known() -> None:
    pairs = [("Kate", "Catherine"), ("Gwilym", "William"), ("Sean", "John"), ("Lulu", "Louisa")]

    assert [same_person_name(a, b) for a, b in pairs] == [True] * 4
    # May is short for Margaret and for Mary; that makes Margaret no Mary.
    assert same_person_name("May", "Mary") and not same_person_name("Margaret", "Mary")


def test_english_short_forms_the_nickname_list_lacks_are_known() -> None:
    pairs = [
        ("Abi", "Abigail"),
        ("Cat", "Catherine"),
        ("Charlie", "Charlotte"),
        ("Nell", "Eleanor"),
    ]

    assert [same_person_name(a, b) for a, b in pairs] == [True] * 4
    # Charlie is short for Charles and for Charlotte; that makes Charles no Charlotte.
    assert same_person_name("Charlie", "Charles")
    assert not same_person_name("Charles", "Charlotte")
