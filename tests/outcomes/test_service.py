"""The outcome metrics and surveys over a real store (SQLite and PostgreSQL): cases filed with
profiles, merges and unmerges, survey links, answers and who may read what."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cornerstore.access.caller import Caller, system_caller
from cornerstore.errors import Conflict, Forbidden, InvalidInput, NotFound
from cornerstore.services import Services
from tests.outcomes.cases import DAY1, NOW, SUPPORT, customer, file_case


def repeat_contact(services: Services) -> tuple[int, int]:
    rate = services.outcomes.metrics(
        system_caller(), DAY1 - timedelta(days=1), DAY1 + timedelta(days=10), now=NOW
    ).overall.repeat_contact
    return rate.count, rate.n


def test_merging_and_unmerging_two_customers_moves_the_repeat_contact(services: Services) -> None:
    # One person wrote from two addresses about the same late parcel, three days apart.
    first = customer(services, "ann@example.com")
    second = customer(services, "ann.lee@example.org")
    file_case(services, first, DAY1)
    file_case(services, second, DAY1 + timedelta(days=3))
    assert repeat_contact(services) == (0, 2)

    merge = services.merges.merge(system_caller(), first, second)
    assert repeat_contact(services) == (1, 2)

    services.merges.unmerge(system_caller(), merge.id)
    assert repeat_contact(services) == (0, 2)


def test_the_history_stored_with_a_case_decides_resolution_and_its_time(services: Services) -> None:
    ann = customer(services, "ann@example.com")
    file_case(services, ann, DAY1, resolved=DAY1 + timedelta(hours=6))
    file_case(services, ann, DAY1 + timedelta(days=1), category="billing")

    report = services.outcomes.metrics(
        system_caller(), DAY1 - timedelta(days=1), DAY1 + timedelta(days=10), "category", now=NOW
    )

    assert (report.overall.resolution.count, report.overall.resolution.n) == (1, 2)
    assert report.overall.time_to_resolution.median_hours == 6.0
    assert [(g.key, g.metrics.opened) for g in report.groups] == [("billing", 1), ("delivery", 1)]


def test_a_system_survey_is_made_once_exported_once_and_answered_once(services: Services) -> None:
    ann = customer(services, "ann@example.com")
    case_id = file_case(services, ann, DAY1, resolved=DAY1 + timedelta(hours=2))

    made = services.outcomes.send_surveys(system_caller(), now=DAY1 + timedelta(days=1))
    assert [(s.case_id, s.solicited) for s in made] == [(case_id, False)]
    assert services.outcomes.send_surveys(system_caller()) == []
    exported = services.outcomes.export_pending(system_caller())
    assert [s.url for s in exported] == [made[0].url]
    assert services.outcomes.export_pending(system_caller()) == []

    token = made[0].url.rsplit("/", 1)[1]
    answered = services.outcomes.answer(token, resolved=True, score=5, now=DAY1 + timedelta(days=2))
    assert (answered.resolved, answered.score, answered.solicited) == (True, 5, False)
    with pytest.raises(Conflict, match="answered already"):
        services.outcomes.answer(token, resolved=False, score=1, now=DAY1 + timedelta(days=2))

    confirmed = services.outcomes.metrics(
        system_caller(), DAY1 - timedelta(days=1), DAY1 + timedelta(days=1), now=NOW
    ).overall.confirmed
    assert (confirmed.count, confirmed.n) == (1, 1)


def test_a_forged_or_expired_link_is_not_accepted(services: Services) -> None:
    ann = customer(services, "ann@example.com")
    file_case(services, ann, DAY1, resolved=DAY1 + timedelta(hours=2))
    (link,) = services.outcomes.send_surveys(system_caller(), now=DAY1 + timedelta(days=1))
    token = link.url.rsplit("/", 1)[1]
    number, _, signature = token.partition(".")

    for forged in (f"{int(number) + 1}.{signature}", f"{number}.{'A' * len(signature)}", "x"):
        with pytest.raises(NotFound, match="not valid"):
            services.outcomes.open_survey(forged, now=DAY1 + timedelta(days=2))
    with pytest.raises(NotFound, match="expired"):
        services.outcomes.open_survey(token, now=DAY1 + timedelta(days=90))
    with pytest.raises(InvalidInput, match="score"):
        services.outcomes.answer(token, resolved=True, score=9, now=DAY1 + timedelta(days=2))


def test_a_link_handed_out_by_staff_is_counted_apart_here_and_in_say_vs_do(
    services: Services,
) -> None:
    ann = customer(services, "ann@example.com")
    case_id = file_case(services, ann, DAY1, resolved=DAY1 + timedelta(hours=2))
    (sent,) = services.outcomes.send_surveys(system_caller(), now=DAY1)
    handed = services.outcomes.hand_out(SUPPORT, case_id, now=DAY1)
    assert handed.solicited

    answer_at = DAY1 + timedelta(days=1)
    services.outcomes.answer(sent.url.rsplit("/", 1)[1], resolved=False, score=2, now=answer_at)
    services.outcomes.answer(handed.url.rsplit("/", 1)[1], resolved=True, score=5, now=answer_at)

    overall = services.outcomes.metrics(
        system_caller(), DAY1 - timedelta(days=1), DAY1 + timedelta(days=1), now=NOW
    ).overall
    assert (overall.confirmed.count, overall.confirmed.n) == (0, 1)
    assert (overall.confirmed_solicited.count, overall.confirmed_solicited.n) == (1, 1)
    say_do = services.learner.say_vs_do(system_caller(), 7, now=NOW)
    assert sorted((s.survey, s.solicited, s.answers, s.mean_score) for s in say_do.summaries) == [
        ("service", False, 1, 2.0),
        ("service", True, 1, 5.0),
    ]


def test_who_may_read_the_figures_and_hand_out_links(services: Services) -> None:
    ann = customer(services, "ann@example.com")
    case_id = file_case(services, ann, DAY1, resolved=DAY1 + timedelta(hours=2))
    analyst = Caller(actor="al", role="analyst", via="api")
    marketing = Caller(actor="mo", role="marketing", via="api")

    assert services.outcomes.metrics(analyst, now=NOW).overall.opened == 1
    assert services.outcomes.metrics(SUPPORT, now=NOW).overall.opened == 1
    with pytest.raises(Forbidden, match="service_metrics"):
        services.outcomes.metrics(marketing, now=NOW)
    with pytest.raises(Forbidden, match="cases"):
        services.outcomes.hand_out(analyst, case_id)
    with pytest.raises(NotFound, match="no such case"):
        services.outcomes.hand_out(SUPPORT, 999_999)


def test_staff_of_one_branch_see_that_branchs_cases(services: Services) -> None:
    ann = customer(services, "ann@example.com")
    file_case(services, ann, DAY1, branch="leeds")
    file_case(services, ann, DAY1, branch="york")
    leeds = Caller(actor="lu", role="support", via="api", branch="leeds")

    assert services.outcomes.metrics(system_caller(), now=NOW).overall.opened == 2
    assert services.outcomes.metrics(leeds, now=NOW).overall.opened == 1


def test_a_period_that_is_backwards_too_long_or_grouped_by_nonsense_is_refused(
    services: Services,
) -> None:
    with pytest.raises(InvalidInput, match="from: must be before to"):
        services.outcomes.metrics(system_caller(), NOW, NOW - timedelta(days=1))
    with pytest.raises(InvalidInput, match="at most 731 days"):
        services.outcomes.metrics(system_caller(), NOW - timedelta(days=800), NOW)
    with pytest.raises(InvalidInput, match="group_by: must be one of channel"):
        services.outcomes.metrics(system_caller(), group_by="colour")
