"""The review queue over HTTP a page at a time: the body is the list it always was, the total
waiting and the way on are in the headers, and a bad cursor or limit is a 400 naming it."""

from __future__ import annotations

import base64

import pytest

from cornerstore.services import Services
from tests.api import bearer
from tests.api.conftest import Keys, TestClient
from tests.identity.resolution.queued import WEIGHTS, queue_pairs

REVIEWS = "/v1/identity/reviews"


def test_following_the_next_links_lists_every_pair_once_with_the_total_waiting(
    services: Services, client: TestClient, keys: Keys
) -> None:
    expected = queue_pairs(services, WEIGHTS)

    answers = [client.get(REVIEWS, params={"limit": 10}, headers=bearer(keys.token))]
    while "next" in answers[-1].links:
        answers.append(client.get(answers[-1].links["next"]["url"], headers=bearer(keys.token)))

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [[r["id"] for r in a.json()] for a in answers] == [
        expected[:10],
        expected[10:20],
        expected[20:],
    ]
    assert [a.headers["X-Total-Count"] for a in answers] == ["26", "26", "26"]
    assert [("prev" in a.links, "X-Next-After" in a.headers) for a in answers] == [
        (False, True),
        (True, True),
        (True, False),
    ]
    after = answers[0].headers["X-Next-After"]
    by_cursor = client.get(
        REVIEWS, params={"limit": 10, "after": after}, headers=bearer(keys.token)
    )
    assert by_cursor.json() == answers[1].json()
    back = client.get(answers[2].links["prev"]["url"], headers=bearer(keys.token))
    assert [r["id"] for r in back.json()] == expected[10:20]


def test_a_client_that_knows_no_paging_gets_the_first_twenty_as_a_list(
    services: Services, client: TestClient, keys: Keys
) -> None:
    expected = queue_pairs(services, WEIGHTS)

    answer = client.get(REVIEWS, headers=bearer(keys.token))

    assert answer.status_code == 200
    assert [r["id"] for r in answer.json()] == expected[:20]


def test_an_empty_queue_is_an_empty_list_and_a_total_of_nought(
    client: TestClient, keys: Keys
) -> None:
    answer = client.get(REVIEWS, headers=bearer(keys.token))

    assert (answer.status_code, answer.json(), answer.headers["X-Total-Count"]) == (200, [], "0")
    assert "Link" not in answer.headers


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"after": _cursor(f"2.0/{2**63}")}, "after: not a cursor of the review queue"),
        ({"before": _cursor(f"2.0/{2**70}")}, "before: not a cursor of the review queue"),
        ({"after": _cursor("nan/4")}, "after: not a cursor of the review queue"),
        ({"after": "AAAA"}, "after: not a cursor of the review queue"),
        ({"after": "no/such cursor"}, "query.after: "),
        ({"after": "x" * 65}, "query.after: "),
        ({"after": ""}, "query.after: "),
        ({"limit": 2**63}, "query.limit: "),
        ({"limit": 0}, "query.limit: "),
        ({"limit": 101}, "query.limit: "),
        ({"limit": "many"}, "query.limit: "),
        (
            {"after": _cursor("2.0/3"), "before": _cursor("2.0/3")},
            "before: give after or before, not both",
        ),
    ],
)
def test_a_bad_cursor_or_limit_is_a_400_naming_the_parameter(
    services: Services, client: TestClient, keys: Keys, params: dict[str, object], message: str
) -> None:
    queue_pairs(services, [1.0, 2.0])

    answer = client.get(REVIEWS, params=params, headers=bearer(keys.token))

    assert answer.status_code == 400
    assert answer.json()["message"].startswith(message)
    for value in params.values():
        if len(str(value)) > 3:
            assert str(value) not in answer.text
