"""Segments: condition trees checked and evaluated, clusters described, value per segment,
members over the API and the CLI, and never a customer who withdrew profiling."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from cornerstore.access.caller import Caller, system_caller
from cornerstore.cli.main import app
from cornerstore.errors import Conflict, InvalidInput, NotFound
from cornerstore.learn.segments import check_condition, find_clusters, members
from cornerstore.services import Services
from cornerstore.settings import Settings
from cornerstore.storage.database import open_store
from tests.factories import identify
from tests.learn.shop import NOW, WEB, shop_history

REGULARS = {"score": "loyalty.orders", "op": ">=", "value": 30}


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        ([], "definition: must be an object"),
        ({"all": []}, "definition.all: must be the only key, with a non-empty list"),
        ({"score": "loyalty.orders", "op": "=>", "value": 1}, "definition.op: must be one of"),
        ({"score": "password", "op": "=", "value": 1}, "definition.score: must name a learned"),
        (
            {"not": {"trait": "city", "op": ">", "value": "York"}},
            "definition.not.value: must be a number",
        ),
        (
            {"any": [REGULARS, {"events": {"name": "Order Completed"}, "days": 0}]},
            "definition.any[1].days: must be a whole number of days",
        ),
        ({"events": {"colour": "red"}, "days": 5}, "definition.events: must be an object with"),
        ({"trait": "city", "op": "in", "value": "York"}, "definition.value: must be a list"),
    ],
)
def test_bad_trees_are_refused_naming_the_node(tree: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_condition(tree)

    assert refused.value.message.startswith(message)


def test_nested_and_or_not_with_event_counts() -> None:
    facts = pl.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "score:loyalty.orders": [40, 40, 3, None],
            "score:churn_risk.at_risk": [False, True, False, False],
            "trait:city": ["York", "Leeds", "York", None],
            "events:Order Completed:None:store:90": [4, None, 1, 9],
        }
    )
    tree = {
        "all": [
            {"not": {"score": "churn_risk.at_risk", "op": "=", "value": True}},
            {
                "any": [
                    REGULARS,
                    {
                        "events": {"name": "Order Completed", "touchpoint": "store"},
                        "count": {"op": ">=", "value": 5},
                        "days": 90,
                    },
                ]
            },
            {"trait": "city", "op": "in", "value": ["York", "Leeds"]},
        ]
    }

    assert check_condition(tree) == 7
    assert members(facts, tree) == ["a"]
    assert members(facts, {"trait": "city", "op": "exists"}) == ["a", "b", "c"]
    assert members(facts, {"trait": "postcode", "op": "exists"}) == []


def test_clusters_separate_distinct_behaviour_and_say_so_in_words() -> None:
    rows = []
    for i in range(60):
        rows.append(("big", i, 40 + i % 5, 4000.0 + i, 100.0, 10.0, 700.0, 6, 4, 0.3))
        rows.append(("lapsed", i, 2 + i % 2, 60.0 + i, 30.0, 300.0 + i, 400.0, 1, 1, 0.0))
        rows.append(("new", i, 1 + i % 2, 40.0 + i, 40.0, 5.0, 20.0 + i % 7, 2, 1, 1.0))
    table = pl.DataFrame(
        [(f"{kind}-{i}", *rest) for kind, i, *rest in rows],
        schema=[
            "customer_id", "orders", "spend", "mean_spend", "recency_days", "tenure_days",
            "categories", "touchpoints", "recent_share",
        ],
        orient="row",
    )  # fmt: skip

    clusters = find_clusters(table)

    groups = [{c.split("-")[0] for c in cluster.customers} for cluster in clusters]
    assert sorted(len(cluster.customers) for cluster in clusters) == [60, 60, 60]
    assert all(len(g) == 1 for g in groups)
    lapsed = next(c for c in clusters if c.customers[0].startswith("lapsed"))
    assert "have gone quiet" in lapsed.name
    assert lapsed.description.startswith("60 customers who")


def test_a_rule_segment_has_members_and_value_and_learning_adds_clusters(
    services: Services, owner: Caller
) -> None:
    shop_history(services)
    services.learner.run(owner, NOW)

    regulars = services.segments.create(owner, "Regulars", REGULARS, "thirty orders or more")
    listed = {s.id: s for s in services.segments.list(owner)}
    page = services.segments.members(owner, "regulars")

    steady = services.profiles.get(owner, "steady").id
    drifting = services.profiles.get(owner, "drifting").id
    assert (regulars.id, regulars.kind, regulars.size) == ("regulars", "rule", 2)
    assert sorted(page.customers) == sorted([steady, drifting])
    assert regulars.clv_sum is not None and regulars.clv_mean is not None
    assert regulars.clv_sum == pytest.approx(2 * regulars.clv_mean, abs=0.02)
    clusters = [s for s in listed.values() if s.kind == "cluster"]
    assert len(clusters) >= 3
    assert sum(c.size for c in clusters) == 123


def test_a_customer_s_segments_are_listed_by_name_and_the_read_is_audited(
    services: Services, owner: Caller
) -> None:
    shop_history(services)
    services.learner.run(owner, NOW)
    services.segments.create(owner, "Regulars", REGULARS, "thirty orders or more")
    steady = services.profiles.get(owner, "steady").id

    found = services.segments.of_customer(owner, "steady")

    in_steady = [
        s.id
        for s in services.segments.list(owner)
        if steady in services.segments.members(owner, s.id, limit=1000).customers
    ]
    assert [s.id for s in found] == [s.id for s in sorted(found, key=lambda s: s.name)]
    assert sorted(s.id for s in found) == sorted(in_steady)
    assert "regulars" in in_steady
    audited = services.audit.for_customer(steady)[-1]
    assert (audited.action, audited.sections) == ("read_segments", ["segments"])


def test_the_analyst_pages_members_by_pseudonym_and_never_sees_a_real_id(
    services: Services, owner: Caller
) -> None:
    shop_history(services)
    services.learner.run(owner, NOW)
    services.segments.create(owner, "Buyers", {"score": "loyalty.orders", "op": ">=", "value": 1})
    analyst = Caller("ana", "analyst", "api")
    everyone = services.segments.members(owner, "buyers", limit=1000).customers

    first = services.segments.members(analyst, "buyers", limit=100)
    rest = services.segments.members(analyst, "buyers", limit=100, after=first.next_after)

    shown = first.customers + rest.customers
    assert first.next_after == first.customers[-1] and rest.next_after is None
    assert len(shown) == len(set(shown)) == len(everyone) == 123
    assert all(c.startswith("psn_") for c in shown) and not set(shown) & set(everyone)
    with pytest.raises(InvalidInput, match="after"):
        services.segments.members(analyst, "buyers", after="psn_000000000000000000000000")


def test_members_are_paged_and_customers_who_withdrew_profiling_are_left_out(
    services: Services, owner: Caller
) -> None:
    shop_history(services)
    services.learner.run(owner, NOW)
    everyone = services.segments.create(
        owner, "Buyers", {"score": "loyalty.orders", "op": ">=", "value": 1}
    )
    first = services.segments.members(owner, "buyers", limit=100)
    rest = services.segments.members(owner, "buyers", limit=100, after=first.next_after)

    services.consents.set_anonymous(owner, "steady", True)
    services.learner.run(owner, NOW)

    assert everyone.size == 123
    assert len(first.customers) + len(rest.customers) == 123 and rest.next_after is None
    steady = services.profiles.get(owner, "steady").id
    after = services.segments.members(owner, "buyers", limit=1000).customers
    assert len(after) == 122 and steady not in after
    assert all(
        steady not in services.segments.members(owner, s.id, limit=1000).customers
        for s in services.segments.list(owner)
    )


def test_customers_who_never_bought_are_found_by_rules_unless_they_withdrew_profiling(
    services: Services, owner: Caller
) -> None:
    shop_history(services)
    # Two sign-ups from York who never bought; one of them then withdrew profiling.
    services.intake.ingest(
        [
            identify("signup-1", email="one@example.com", city="York"),
            identify("signup-2", email="two@example.com", city="York"),
            identify("mover", city="York"),
        ],
        source=WEB,
    )
    services.consents.set_anonymous(owner, "signup-2", True)
    services.learner.run(owner, NOW)
    ids = {who: services.profiles.get(owner, who).id for who in ("signup-1", "mover")}

    york = services.segments.create(owner, "York", {"trait": "city", "op": "=", "value": "York"})
    never = services.segments.create(
        owner, "Never bought", {"score": "loyalty.orders", "op": "=", "value": 0}
    )
    regulars = services.segments.create(owner, "Regulars", REGULARS)

    def members_of(segment_id: str) -> list[str]:
        return sorted(services.segments.members(owner, segment_id, limit=1000).customers)

    assert members_of(york.id) == sorted(ids.values())
    assert members_of(never.id) == [ids["signup-1"]]
    assert ids["signup-1"] not in members_of(regulars.id)
    # Learning again re-evaluates the rules the same way.
    services.learner.run(owner, NOW)
    assert members_of("york") == sorted(ids.values())
    assert members_of("never-bought") == [ids["signup-1"]]


def test_segment_names_are_unique_and_clusters_cannot_be_deleted(
    services: Services, owner: Caller
) -> None:
    shop_history(services)
    services.learner.run(owner, NOW)
    services.segments.create(owner, "Regulars", REGULARS)

    with pytest.raises(Conflict, match="name: a segment called 'regulars' exists already"):
        services.segments.create(owner, "regulars!", REGULARS)
    with pytest.raises(InvalidInput, match="clusters are found anew"):
        services.segments.delete(owner, "cluster-1")
    services.segments.delete(owner, "regulars")
    with pytest.raises(NotFound):
        services.segments.get(owner, "regulars")


def test_segments_on_the_command_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    store = open_store(db, upgrade=True)
    services = Services.build(Settings(database_url=db), store)
    shop_history(services)
    services.learner.run(system_caller(), NOW)
    store.dispose()
    tree = tmp_path / "regulars.json"
    tree.write_text(json.dumps(REGULARS))
    runner = CliRunner()

    created = runner.invoke(
        app, ["segments", "create", "--name", "Regulars", "--definition", f"@{tree}", "--db", db]
    )
    listed = runner.invoke(app, ["segments", "list", "--json", "--db", db])
    page = runner.invoke(app, ["segments", "members", "regulars", "--json", "--db", db])
    bad = runner.invoke(
        app, ["segments", "create", "--name", "X", "--definition", "{oops", "--db", db]
    )

    assert created.exit_code == 0 and created.stdout.startswith("segment regulars: 2 members")
    assert "regulars" in [s["id"] for s in json.loads(listed.stdout)]
    assert len(json.loads(page.stdout)["customers"]) == 2
    assert (bad.exit_code, bad.stderr) == (1, "error: --definition: not valid JSON\n")


def test_a_segment_never_keeps_a_sensitive_value(services: Services, owner: Caller) -> None:
    card = {"trait": "note", "op": "contains", "value": "4111 1111 1111 1111"}

    with pytest.raises(InvalidInput) as refused:
        services.segments.create(owner, "Card holders", {"any": [REGULARS, card]})
    made = services.segments.create(
        owner, "Regulars", REGULARS, "for the SSN 123-45-6789 follow-up"
    )

    assert refused.value.message == (
        "definition.any[1].value: holds a payment card; cornerstore keeps no such value"
    )
    assert "4111" not in refused.value.message
    assert made.description == "for the SSN [removed: national ID] follow-up"
    assert services.segments.list(owner) == [made]
