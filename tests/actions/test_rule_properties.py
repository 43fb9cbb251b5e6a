"""Invariants of the decision, over any facts: what must hold whatever the customer's story."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from cornerstore.actions.model import Decision, Facts, Moment
from cornerstore.actions.rules import decide
from cornerstore.settings import MOMENT_KINDS, SERVICE_PURPOSE, ActionSettings

NOW = datetime(2026, 6, 1, tzinfo=UTC)
CFG = ActionSettings()

facts_strategy = st.builds(
    Facts,
    profiled=st.booleans(),
    high_value=st.booleans(),
    slipping_away=st.booleans(),
    open_complaints=st.lists(
        st.sampled_from(["delivery", "billing", "complaint", ""]), max_size=2
    ).map(tuple),
    replenishment_due=st.lists(st.sampled_from(["tea", "beans"]), max_size=2).map(tuple),
    orders=st.integers(0, 120),
    last_order_at=st.none() | st.integers(0, 60).map(lambda d: NOW - timedelta(days=d)),
    moments=st.lists(
        st.builds(
            Moment,
            kind=st.sampled_from(MOMENT_KINDS),
            at=st.integers(0, 90).map(lambda d: NOW - timedelta(days=d)),
        ),
        max_size=3,
    ).map(tuple),
    consents=st.fixed_dictionaries({"marketing_email": st.booleans()}),
    capped=st.sampled_from([{}, {"email": "contacted 3 times in all in the last 30 days"}]),
)


@given(facts_strategy)
def test_no_marketing_while_a_complaint_is_open_without_consent_or_over_a_cap(facts: Facts) -> None:
    decision = decide(facts, CFG, NOW)

    marketing = [a for a in decision.actions if a.purpose not in (SERVICE_PURPOSE, None)]
    if facts.open_complaints or not facts.consents["marketing_email"] or facts.capped:
        assert marketing == []


@given(facts_strategy)
def test_there_is_always_an_answer_and_nothing_comes_alone(facts: Facts) -> None:
    actions = decide(facts, CFG, NOW).actions

    assert actions and all(a.reasons for a in actions)
    assert [a.priority for a in actions] == sorted(a.priority for a in actions)
    if any(a.action == "nothing" for a in actions):
        assert len(actions) == 1


def _shape(decision: Decision) -> list[tuple[object, ...]]:
    return [
        (a.action, a.channel, a.purpose, a.priority, sorted(a.reasons)) for a in decision.actions
    ]


@given(facts_strategy, st.randoms(use_true_random=False))
def test_the_order_of_the_rules_in_settings_changes_only_the_order_of_tied_reasons(
    facts: Facts, rnd
) -> None:
    shuffled = list(CFG.rules)
    rnd.shuffle(shuffled)

    assert _shape(decide(facts, CFG, NOW, shuffled)) == _shape(decide(facts, CFG, NOW))
