"""``cornerstore learn`` over stored histories: value, loyalty, churn warnings with reasons,
delivery windows and moments — and nothing at all for customers who withdrew profiling."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cornerstore.access.caller import Caller, system_caller
from cornerstore.learn.service import MOMENT_SOURCE
from cornerstore.services import Services
from cornerstore.settings import Settings
from cornerstore.storage.database import Store
from tests.factories import identify
from tests.learn.shop import NOW, WEB, order, shop_history, survey


@pytest.fixture
def learned(services: Services, owner: Caller) -> Services:
    shop_history(services)
    services.learner.run(owner, NOW)
    return services


def test_a_run_scores_every_buyer_with_a_fitted_value_model(
    services: Services, owner: Caller
) -> None:
    shop_history(services)

    report = services.learner.run(owner, NOW)

    assert report.customers == report.profiled == 123
    assert report.value_model == "bgnbd"
    assert (report.value_converged, report.value_at_bound, report.value_note) == (True, [], None)
    assert set(report.value_parameters) == {"r", "alpha", "a", "b"}
    assert report.steps[0][0] == "read the history"
    assert services.audit.find(owner, action="learn")[-1].detail == (
        f"123 customers scored, 0 not profiled, {report.moments_added} moments, "
        f"{report.at_risk} at risk, value model bgnbd (converged), as of 2026-06-01 12:00 UTC"
    )


def test_a_steady_customer_is_valued_and_loyal_and_a_drifting_one_is_flagged_with_reasons(
    learned: Services, owner: Caller
) -> None:
    steady = learned.learner.scores(owner, "steady").scores
    drifting = learned.learner.scores(owner, "drifting").scores

    assert steady["loyalty"].value["orders"] == 36
    assert steady["loyalty"].value["loyalty_tier"] in ("loyal", "regular")
    assert steady["value"].value["probability_alive"] > 0.9
    assert steady["value"].value["clv"] > 0
    assert steady["churn_risk"].value == {"at_risk": False, "value_at_risk": 0.0, "reasons": []}
    risk = drifting["churn_risk"].value
    assert risk["at_risk"] is True
    assert "no purchase for 60 days; usually every 7 days" in risk["reasons"]
    assert "a complaint has been open for 21 days" in risk["reasons"]
    assert drifting["loyalty"].value["loyalty_tier"] == "slipping"
    assert drifting["value"].model == "learn/1:bgnbd"


def test_at_risk_ranks_by_value_at_risk(learned: Services, owner: Caller) -> None:
    risky = learned.learner.at_risk(owner, limit=1000)

    drifting = learned.profiles.get(owner, "drifting").id
    assert drifting in [r.customer_id for r in risky]
    values = [r.value_at_risk for r in risky]
    assert values == sorted(values, reverse=True)
    assert all(r.reasons for r in risky)


def test_the_delivery_window_prefers_the_hours_the_customer_was_home(
    learned: Services, owner: Caller
) -> None:
    window = learned.learner.scores(owner, "mover").scores["delivery_window"].value

    (tuesday,) = [w for w in window if w["weekday"] == "tue"]
    assert (tuesday["from_hour"], tuesday["to_hour"]) == (16, 20)
    assert tuesday["p_home"] > 0.5
    assert tuesday["confidence"] == "medium"


def test_moments_reach_the_timeline_once(learned: Services, owner: Caller) -> None:
    again = learned.learner.run(owner, NOW)

    events = learned.profiles.timeline(owner, "mover", limit=500).events
    moments = sorted(e.name for e in events if e.source == MOMENT_SOURCE)
    assert moments == ["Moved House", "New Household Signal"]
    assert again.moments_added == 0
    drifting = learned.profiles.timeline(owner, "drifting", limit=500).events
    assert "First Complaint" in {e.name for e in drifting if e.source == MOMENT_SOURCE}


def test_withdrawing_profiling_stops_learning_and_removes_what_was_learned(
    learned: Services, owner: Caller
) -> None:
    assert learned.learner.scores(owner, "mover").scores != {}

    learned.consents.set_anonymous(owner, "mover", True)
    report = learned.learner.run(owner, NOW)

    found = learned.learner.scores(owner, "mover")
    assert (found.profiled, found.scores) == (False, {})
    assert report.opted_out == 1
    events = learned.profiles.timeline(owner, "mover", limit=500).events
    assert [e for e in events if e.source == MOMENT_SOURCE] == []
    # Still served and recognised: the profile and its own history stay.
    assert learned.profiles.get(owner, "mover").summary.events > 0
    assert learned.learner.scores(owner, "steady").scores != {}


def test_learning_profiles_exactly_the_customers_consents_allows(
    services: Services, owner: Caller
) -> None:
    shop_history(services)
    moment = NOW - timedelta(days=2)
    # Same-moment answers in both orders, a withdrawal taken back, and a plain withdrawal.
    services.consents.change(owner, "steady", {"profiling": True}, at=moment)
    services.consents.change(owner, "steady", {"profiling": False}, at=moment)
    services.consents.change(owner, "drifting", {"profiling": False}, at=moment)
    services.consents.change(owner, "drifting", {"profiling": True}, at=moment)
    services.consents.change(owner, "mover", {"profiling": False}, at=moment)
    services.consents.change(owner, "mover", {"profiling": True}, at=NOW - timedelta(days=1))
    services.consents.change(owner, "pop-1", {"profiling": False}, at=moment)
    buyers = {services.profiles.get(owner, ref).id: ref for ref in ("steady", "drifting", "mover")}
    buyers |= {services.profiles.get(owner, f"pop-{i}").id: f"pop-{i}" for i in range(1, 4)}

    report = services.learner.run(owner, NOW)

    with services.store.unit_of_work() as uow:
        scored = {customer for customer, _ in uow.learning.scores_named("loyalty")}
    allowed = services.consents.allowed(list(buyers), "profiling")
    assert sorted(buyers[c] for c in scored & set(buyers)) == sorted(buyers[c] for c in allowed)
    assert sorted(buyers[c] for c in set(buyers) - allowed) == ["drifting", "pop-1", "steady"]
    assert report.opted_out == 3


def test_scores_are_exported_and_erased_with_the_customer(learned: Services, owner: Caller) -> None:
    exported = learned.rights.export(owner, "steady")
    customer = exported["customer"]["id"]

    learned.rights.erase(owner, "steady")

    assert {s["name"] for s in exported["scores"]} == {
        "loyalty",
        "value",
        "churn_risk",
    }
    with learned.store.unit_of_work() as uow:
        assert uow.learning.scores_of([customer]) == []


def test_a_shop_with_no_purchases_learns_nothing_and_says_why(
    services: Services, owner: Caller
) -> None:
    services.intake.ingest([identify("u-1")], source=WEB)

    report = services.learner.run(owner, NOW)

    assert (report.profiled, report.value_model, report.value_note) == (0, None, "no purchases yet")


def test_say_vs_do_links_answers_to_later_behaviour_and_keeps_staff_asked_answers_apart(
    services: Services, owner: Caller
) -> None:
    asked_at = NOW - timedelta(days=300)
    messages = []
    for i in range(6):  # promoters who keep buying
        messages.append(survey(f"fan-{i}", asked_at, "nps", 10, False))
        messages += [order(f"fan-{i}", asked_at + timedelta(days=d), 50.0, "tea") for d in (10, 40)]
    for i in range(4):  # detractors who leave
        messages.append(survey(f"critic-{i}", asked_at, "nps", 3, False))
        messages.append(order(f"critic-{i}", asked_at - timedelta(days=20), 30.0, "tea"))
    for i in range(5):  # asked at the till: glowing, but they do as the critics do
        messages.append(survey(f"asked-{i}", asked_at, "nps", 10, True))
    messages.append(survey("fan-0", NOW - timedelta(days=10), "nps", 9, False))  # too recent
    services.intake.ingest(messages, source=WEB)

    report = services.learner.say_vs_do(owner, window_days=180, now=NOW)

    overall = {(r.solicited, r.band): r for r in report.rows if r.segment is None}
    assert overall[(False, "promoter")].answers == 6
    assert overall[(False, "promoter")].bought_again == 1.0
    assert overall[(False, "promoter")].mean_spend_after == 100.0
    assert overall[(False, "detractor")].bought_again == 0.0
    assert overall[(True, "promoter")].answers == 5
    assert overall[(True, "promoter")].bought_again == 0.0
    unprompted = next(s for s in report.summaries if not s.solicited)
    assert (unprompted.answers, unprompted.nps) == (10, 20.0)
    assert unprompted.score_spend_correlation is not None
    assert unprompted.score_spend_correlation > 0.9
    assert next(s for s in report.summaries if s.solicited).nps == 100.0


def test_the_shipping_form_offers_the_learned_delivery_window_unless_profiling_is_withdrawn(
    learned: Services, owner: Caller
) -> None:
    filled = learned.profiles.prefill(owner, "mover", "shipping", now=NOW)
    learned.consents.set_anonymous(owner, "mover", True)
    after = learned.profiles.prefill(owner, "mover", "shipping", now=NOW)

    window = next(f for f in filled.fields if f.field == "learned.delivery_window")
    assert window.known and window.source == "cornerstore-learn"
    assert any(w["weekday"] == "tue" for w in window.value)
    assert "learned.delivery_window" in after.unknown


def test_a_history_that_stopped_is_measured_to_its_last_purchase(
    services: Services, owner: Caller
) -> None:
    shop_history(services)
    with services.store.unit_of_work() as uow:
        last_purchase = uow.learning.track_events(["Order Completed"])["at"].max()

    report = services.learner.run(owner, NOW + timedelta(days=45))

    steady = services.learner.scores(owner, "steady").scores
    assert report.as_of == last_purchase
    assert steady["churn_risk"].value == {"at_risk": False, "value_at_risk": 0.0, "reasons": []}


def test_a_live_history_is_measured_to_now(learned: Services, owner: Caller) -> None:
    report = learned.learner.run(owner, NOW)

    assert report.as_of == NOW


def test_the_at_risk_list_names_customers_to_roles_that_read_names_and_not_to_the_analyst(
    learned: Services, owner: Caller
) -> None:
    learned.intake.ingest([identify("drifting", first_name="Dora", last_name="Drift")], source=WEB)
    drifting = learned.profiles.get(owner, "drifting").id

    named = learned.learner.at_risk(owner, limit=1000)
    pseudonymous = learned.learner.at_risk(
        Caller(actor="test:analyst", role="analyst", via="api"), limit=1000
    )

    first = next(r for r in named if r.customer_id == drifting)
    assert (first.name, first.reasons[-1]) == (
        "Dora Drift",
        "a complaint has been open for 21 days",
    )
    assert [r.name for r in pseudonymous] == [None] * len(named)
    assert all(r.customer_id.startswith("psn_") for r in pseudonymous)


def _learned_state(services: Services) -> tuple[Any, ...]:
    """Everything a run stores: each score by customer, the moments and the segments."""
    with services.store.unit_of_work() as uow:
        scores = {
            name: sorted(uow.learning.scores_named(name))
            for name in ("value", "loyalty", "churn_risk", "delivery_window")
        }
        people = uow.learning.people()
        segments = [(s.name, s.kind, s.size, s.clv_sum) for s in uow.segments.all()]
    moments = sorted(
        (e.name, e.occurred_at, e.properties)
        for customer in people
        for e in services.profiles.timeline(system_caller(actor="test"), customer, limit=500).events
        if e.source == MOMENT_SOURCE
    )
    return scores, moments, segments


def test_reading_the_history_a_few_customers_at_a_time_learns_exactly_what_one_read_does(
    services: Services, owner: Caller
) -> None:
    shop_history(services)
    services.consents.change(owner, "pop-3", {"profiling": False}, at=NOW - timedelta(days=2))
    one_read = services.learner.run(owner, NOW)
    at_once = _learned_state(services)
    with services.store.unit_of_work(write=True) as uow:
        uow.learning.remove_events_from(MOMENT_SOURCE, uow.learning.people())

    sliced = services.learner.run(owner, NOW, customers_per_read=7)

    assert _learned_state(services) == at_once
    assert at_once[0]["value"] and at_once[1]
    assert (sliced.profiled, sliced.opted_out, sliced.at_risk, sliced.moments_added) == (
        one_read.profiled,
        one_read.opted_out,
        one_read.at_risk,
        one_read.moments_added,
    )
    assert sliced.value_parameters == one_read.value_parameters


@pytest.mark.parametrize(
    ("model", "later"),
    [("auto", timedelta(0)), ("bgnbd", timedelta(days=45))],
    ids=["value-model-chosen-on-a-holdout", "history-that-stopped"],
)
def test_a_run_measured_to_another_date_learns_the_same_a_few_customers_at_a_time(
    settings: Settings, store: Store, owner: Caller, model: str, later: timedelta
) -> None:
    learn = settings.learn.model_copy(update={"clv_model": model})
    services = Services.build(settings.model_copy(update={"learn": learn}), store)
    shop_history(services)
    one_read = services.learner.run(owner, NOW + later)
    at_once = _learned_state(services)
    with services.store.unit_of_work(write=True) as uow:
        uow.learning.remove_events_from(MOMENT_SOURCE, uow.learning.people())

    sliced = services.learner.run(owner, NOW + later, customers_per_read=5)

    assert _learned_state(services) == at_once
    assert at_once[0]["value"] and at_once[1]
    assert (sliced.as_of, sliced.value_model, sliced.value_parameters) == (
        one_read.as_of,
        one_read.value_model,
        one_read.value_parameters,
    )
    assert (sliced.as_of < NOW) == (later > timedelta(0))


def test_a_second_run_over_the_same_history_learns_the_same(
    services: Services, owner: Caller
) -> None:
    shop_history(services)
    first = services.learner.run(owner, NOW)
    learned = _learned_state(services)

    again = services.learner.run(owner, NOW)

    # The moments the first run put on the timeline are not a touchpoint of the customer's.
    assert _learned_state(services) == learned
    assert (again.profiled, again.at_risk, again.moments_added) == (
        first.profiled,
        first.at_risk,
        0,
    )
