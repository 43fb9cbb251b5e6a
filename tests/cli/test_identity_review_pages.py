"""`cornerstore identity review` a page at a time: the count waiting, the command for the next
and the previous page, the pages as JSON, one line for a wrong cursor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cornerstore.services import Services
from cornerstore.settings import Settings
from cornerstore.storage.database import open_store
from tests.cli.helpers import run
from tests.identity.resolution.queued import WEIGHTS, queue_pairs


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'shop.db'}"


@pytest.fixture
def services(db: str) -> Services:
    return Services.build(Settings(database_url=db), open_store(db, upgrade=True))


def test_the_printed_next_page_command_pages_through_every_pair(
    db: str, services: Services
) -> None:
    expected = queue_pairs(services, WEIGHTS)

    shown, command = [], ["identity", "review", "--limit", "10"]
    while command:
        code, out, _ = run(*command, "--db", db)
        assert code == 0
        lines = out.splitlines()
        shown.append(lines[0])
        shown += [line.split(":")[0] for line in lines if line.startswith("review ")]
        follow = [line for line in lines if line.startswith("next page: cornerstore ")]
        command = follow[0].removeprefix("next page: cornerstore ").split() if follow else []

    assert shown == [
        "26 pairs waiting, strongest first; these are 1-10",
        *[f"review {i}" for i in expected[:10]],
        "26 pairs waiting, strongest first; these are 11-20",
        *[f"review {i}" for i in expected[10:20]],
        "26 pairs waiting, strongest first; these are 21-26",
        *[f"review {i}" for i in expected[20:]],
    ]


def test_the_json_page_carries_the_count_and_both_cursors(db: str, services: Services) -> None:
    expected = queue_pairs(services, WEIGHTS)
    first = json.loads(run("identity", "review", "--limit", "10", "--json", "--db", db)[1])

    code, out, _ = run(
        "identity", "review", "--limit", "10", "--after", first["next_after"], "--json", "--db", db
    )
    second = json.loads(out)
    back = json.loads(
        run(
            "identity",
            "review",
            "--limit",
            "10",
            "--before",
            second["previous_before"],
            "--json",
            "--db",
            db,
        )[1]
    )

    assert code == 0
    assert [r["id"] for r in second["reviews"]] == expected[10:20]
    assert (second["waiting"], second["ahead"]) == (26, 10)
    assert first["previous_before"] is None
    assert back == first


def test_an_empty_queue_says_so(db: str, services: Services) -> None:
    code, out, _ = run("identity", "review", "--db", db)

    assert (code, out) == (0, "no pairs waiting for review\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--after", "not-a-cursor"], "error: after: not a cursor of the review queue"),
        (
            ["--before", "MS41LzkyMjMzNzIwMzY4NTQ3NzU4MDg"],
            "error: before: not a cursor of the review queue",
        ),
        (
            ["--after", "MS41LzE", "--before", "MS41LzE"],
            "error: before: give after or before, not both",
        ),
    ],
)
def test_a_wrong_cursor_is_one_line_and_exit_1(
    db: str, services: Services, args: list[str], message: str
) -> None:
    queue_pairs(services, [1.0, 2.0])

    code, out, error = run("identity", "review", *args, "--db", db)

    assert (code, out, error) == (1, "", message + "\n")


@pytest.mark.parametrize("limit", ["0", "101", str(2**64)])
def test_a_limit_out_of_bounds_is_a_usage_error_naming_the_option(
    db: str, services: Services, limit: str
) -> None:
    code, _, error = run("identity", "review", "--limit", limit, "--db", db)

    assert code == 2
    assert "--limit" in error and "Traceback" not in error
