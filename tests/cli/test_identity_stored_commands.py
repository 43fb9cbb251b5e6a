"""`cornerstore identity learn|resolve|review|decide|explain-profiles` on a stored shop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cornerstore.access.caller import system_caller
from cornerstore.services import Services
from cornerstore.settings import Settings
from cornerstore.storage.database import open_store
from tests.cli.helpers import run
from tests.factories import identify
from tests.identity.resolution.stored import (
    TILL,
    WEB,
    active_model,
    ingest_shop,
    move_robert,
    queue_robert_and_bob,
    root_of,
)


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'shop.db'}"


@pytest.fixture
def shop(db: str) -> Services:
    services = Services.build(Settings(database_url=db), open_store(db, upgrade=True))
    ingest_shop(services)
    return services


def test_learn_resolve_review_and_decide_from_the_command_line(db: str, shop: Services) -> None:
    code, learned, _ = run("identity", "learn", "--db", db, "--json")
    assert code == 0
    model = json.loads(learned)
    assert (model["id"], model["active"], "model" in model) == (1, True, False)

    code, resolved, _ = run("identity", "resolve", "--db", db, "--json")
    assert code == 0
    result = json.loads(resolved)
    assert result["merged"] > 0 and result["queued"] > 0
    assert root_of(shop, "bob") == root_of(shop, "robert")

    code, listed, _ = run("identity", "review", "--db", db, "--json", "--limit", "2")
    assert code == 0
    page = json.loads(listed)
    assert (len(page["reviews"]), page["waiting"]) == (2, result["queued"])
    first = page["reviews"][0]
    assert {f["field"] for f in first["fields"]} >= {"first_name", "last_name", "postcode"}
    assert first["left"]["id"] != first["right"]["id"]

    code, decided, _ = run("identity", "decide", str(first["id"]), "--reject", "--db", db)
    assert (code, decided.strip()) == (
        0,
        f"review {first['id']} rejected: {first['left']['id']} and {first['right']['id']} "
        "kept apart",
    )

    code, _, error = run("identity", "decide", str(first["id"]), "--accept", "--db", db)
    assert (code, error.strip()) == (1, f"error: review {first['id']}: already rejected")


def test_learning_again_calibrates_on_a_decision_unless_told_not_to(
    db: str, shop: Services
) -> None:
    assert run("identity", "learn", "--db", db)[0] == 0
    assert run("identity", "resolve", "--db", db)[0] == 0
    listed = run("identity", "review", "--db", db, "--json", "--limit", "100")[1]
    reviews = json.loads(listed)["reviews"]
    merge_at = active_model(shop).match_probability
    # A pair queued for its weight (below the match probability) is a label calibration reads.
    grey = next(r for r in reviews if r["match_probability"] < merge_at)
    assert run("identity", "decide", str(grey["id"]), "--reject", "--db", db)[0] == 0

    code, plain, _ = run("identity", "learn", "--no-calibrate", "--db", db, "--json")
    assert (code, json.loads(plain)["calibration"]) == (0, None)
    code, calibrated, _ = run("identity", "learn", "--db", db)

    assert code == 0
    assert "calibrated on 1 labelled pairs (0 one person, 1 two)" in calibrated


def test_explain_profiles_shows_each_fields_weight(db: str, shop: Services) -> None:
    assert run("identity", "learn", "--db", db)[0] == 0

    code, shown, _ = run("identity", "explain-profiles", "bob", "robert", "--db", db, "--json")

    assert code == 0
    explanation = json.loads(shown)
    by_field = {f["field"]: f for f in explanation["fields"]}
    assert by_field["postcode"]["level"] == "exact"
    assert explanation["match_probability"] > 0.99
    current = {"current": True, "observed_at": None}
    assert (explanation["left_variant"], explanation["right_variant"]) == (current, current)
    assert explanation["compared"] is True
    code, table, _ = run("identity", "explain-profiles", "bob", "robert", "--db", db)
    assert code == 0 and "postcode" in table and "total" in table


def carol_changes_her_email(shop: Services) -> tuple[str, str]:
    """Carol signs up on the web shop with an old e-mail and later changes it; the till knows
    her (another account) by the old one. Returns (web customer, till customer)."""
    carol = {"first_name": "Carol", "last_name": "Danvers", "address": "4 Quay Street",
             "city": "Bristol", "postcode": "BS1 4DJ"}  # fmt: skip
    signed_up = identify(user_id="web-carol", email="cd1981@oldmail.example", **carol)
    signed_up["timestamp"] = "2030-01-01T00:00:00Z"
    changed = identify(user_id="web-carol", email="carol@newmail.example")
    changed["timestamp"] = "2031-01-01T00:00:00Z"
    at_the_till = identify(
        user_id="till-carol",
        email="cd1981@oldmail.example",
        first_name="Carol",
        last_name="Danvers",
    )
    shop.intake.ingest([signed_up, changed], source=WEB)
    shop.intake.ingest([at_the_till], source=TILL)
    with shop.store.unit_of_work() as uow:
        web, till = (
            uow.identifiers.find_by_value(u, ["user_id"]) for u in ("web-carol", "till-carol")
        )
    assert web[0].root_id != till[0].root_id  # two accounts are never stitched
    return web[0].root_id, till[0].root_id


def test_explain_profiles_scores_the_old_email_that_resolve_matches_on(
    db: str, shop: Services
) -> None:
    web, till = carol_changes_her_email(shop)
    assert run("identity", "learn", "--db", db)[0] == 0

    code, shown, _ = run("identity", "explain-profiles", web, till, "--db", db, "--json")

    assert code == 0
    explanation = json.loads(shown)
    assert explanation["left_variant"] == {
        "current": False,
        "observed_at": "2030-01-01T00:00:00+00:00",
    }
    assert explanation["right_variant"] == {"current": True, "observed_at": None}
    email = next(f for f in explanation["fields"] if f["field"] == "email")
    assert (email["level"], email["left"], email["right"]) == (
        "exact",
        "cd1981@oldmail.example",
        "cd1981@oldmail.example",
    )
    assert email["weight"] > 0
    assert explanation["compared"] is True
    code, table, _ = run("identity", "explain-profiles", web, till, "--db", db)
    assert code == 0
    assert (
        f"scored on {web}'s record as observed 2030-01-01 00:00 and {till}'s current record"
        in table
    )


def test_explain_profiles_says_which_customer_it_cannot_find(db: str, shop: Services) -> None:
    assert run("identity", "learn", "--db", db)[0] == 0
    robert = root_of(shop, "robert")
    asked = {
        ("cus_nobody", "robert"): "error: first customer: no such customer",
        ("robert", "nobody@example.com"): "error: second customer: no such customer",
        ("robert", " "): "error: second customer: give a profile id, e-mail, phone or identifier",
        (robert, "robert.smith@example.com"): "error: these profiles are already one customer",
    }

    answers = {pair: run("identity", "explain-profiles", *pair, "--db", db)[::2] for pair in asked}

    assert answers == {pair: (1, message + "\n") for pair, message in asked.items()}


def test_the_review_list_names_both_customers_in_full_and_how_to_decide(
    db: str, shop: Services
) -> None:
    assert run("identity", "learn", "--db", db)[0] == 0
    assert run("identity", "resolve", "--db", db)[0] == 0
    listed = json.loads(run("identity", "review", "--db", db, "--json", "--limit", "1")[1])
    first = listed["reviews"][0]

    code, shown, _ = run("identity", "review", "--db", db, "--limit", "1")

    assert code == 0
    lines = shown.splitlines()
    assert lines[:2] == [
        f"{listed['waiting']} pairs waiting, strongest first; these are 1-1",
        f"review {first['id']}: {first['left']['id']} and {first['right']['id']}, "
        f"probability {first['match_probability']:.4f}",
    ]
    assert lines[-2:] == [
        "decide each with `cornerstore identity decide REVIEW_ID --accept|--reject`",
        f"next page: cornerstore identity review --after {listed['next_after']} --limit 1",
    ]


def test_resolving_before_learning_is_one_readable_error(db: str, shop: Services) -> None:
    code, _, error = run("identity", "resolve", "--db", db)

    assert (code, error.strip()) == (
        1,
        "error: identity model: none learned yet (run `cornerstore identity learn`)",
    )


def test_a_role_without_the_merges_section_may_not_review(
    db: str, shop: Services, fast_hashing: None
) -> None:
    shop.staff.create(system_caller(), "sam", "shipping", password="correct horse battery")

    code, _, error = run("identity", "review", "--as", "sam", "--db", db)

    assert code == 1
    assert error.startswith("error: your role may not")


def test_place_merges_one_customer_into_the_same_person(db: str, shop: Services) -> None:
    assert run("identity", "learn", "--db", db)[0] == 0
    robert = root_of(shop, "robert")

    code, shown, _ = run("identity", "place", "bob", "--db", db, "--json")

    assert code == 0
    placed = json.loads(shown)
    assert (placed["decision"], placed["other_id"]) == ("merged", robert)
    assert root_of(shop, "bob") == robert


def test_learning_a_model_that_counts_agreement_against_a_match_is_one_readable_error(
    db: str, shop: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cornerstore.identity.resolution import splink_engine
    from tests.identity.resolution.stored import with_agreement_weight

    train = splink_engine.train_model
    monkeypatch.setattr(
        splink_engine,
        "train_model",
        lambda *a, **k: with_agreement_weight(train(*a, **k), "last_name", -2.0),
    )

    code, _, error = run("identity", "learn", "--db", db)

    assert code == 1
    assert error.count("\n") == 1
    assert error.startswith("error: identity model: in the model learned from ")
    assert "agreeing on last_name counts against a match" in error


def test_review_shows_the_evidence_against_beside_the_best_agreeing_records(
    db: str, shop: Services
) -> None:
    move_robert(shop)
    assert run("identity", "learn", "--db", db, "--json")[0] == 0
    robert, bob = queue_robert_and_bob(shop)

    code, shown, _ = run("identity", "review", "--db", db, "--limit", "100")
    code_json, listed, _ = run("identity", "review", "--db", db, "--json", "--limit", "100")

    assert (code, code_json) == (0, 0)
    (review,) = [r for r in json.loads(listed)["reviews"] if r["left"]["id"] in (robert, bob)]
    against = {f["field"]: f for f in review["against"]}
    assert {against["address"]["left"], against["address"]["right"]} == {"7 elm rd", "12 high st"}
    assert "evidence against: other records of the two disagree" in shown
    assert "7 elm rd" in shown
