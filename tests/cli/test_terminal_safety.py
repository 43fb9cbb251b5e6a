"""What a customer sends is shown on a staff terminal as written: not markup, not control codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cornerstore.cli import common
from cornerstore.cli.terminal import terminal_json, visible
from cornerstore.intake.service import Intake, Source
from cornerstore.settings import Settings
from cornerstore.storage.database import open_store
from tests.cli.helpers import run
from tests.factories import identify, track

LINK = "[link=https://evil.example]Click[/link]"
CLEAR_SCREEN = "\u001b[2J"
STYLE = "[bold red]x[/]"
REVERSED = "\u202etxt.exe"
C1_CSI = "\u009b31m"


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'hostile.db'}"
    store = open_store(url, upgrade=True)
    intake = Intake(store, Settings(database_url=url))
    intake.ingest(
        [
            identify(
                "web-1",
                email="ann@example.com",
                firstName=LINK,
                lastName=f"Lee{CLEAR_SCREEN}",
                phone="07700900123",
                nickname=STYLE,
                attachment=REVERSED,
                note="card 4111 1111 1111 1111 thanks",
                bell=f"ring\u0007{C1_CSI}",
                mood=":smile:",
            ),
            track(f"Viewed {LINK}{CLEAR_SCREEN}", user_id="web-1"),
        ],
        source=Source("web-shop", "web"),
    )
    store.dispose()
    return url


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    # Wide enough that no table cell wraps, so each value can be found whole.
    monkeypatch.setattr(common.out, "width", 400)
    monkeypatch.setattr(common.err, "width", 400)


def assert_nothing_acts_on_the_terminal(text: str) -> None:
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "\u009b" not in text
    assert "\u202e" not in text
    assert "\x1b]8;" not in text  # an OSC-8 hyperlink


def test_customers_show_prints_every_trait_as_written(db: str) -> None:
    code, out, err = run("customers", "show", "ann@example.com", "--db", db)

    assert (code, err) == (0, "")
    assert_nothing_acts_on_the_terminal(out)
    for shown in (
        LINK,
        "Lee\\x1b[2J",
        STYLE,
        "\\u202etxt.exe",
        "card [removed: payment card] thanks",
        "ring\\x07\\x9b31m",
        ":smile:",
    ):
        assert shown in out
    assert "😄" not in out


def test_customers_search_prints_the_name_as_written(db: str) -> None:
    code, out, _ = run("customers", "search", "ann@example.com", "--db", db)

    assert code == 0
    assert_nothing_acts_on_the_terminal(out)
    assert f"{LINK} Lee\\x1b[2J" in out


def test_customers_timeline_prints_the_event_name_as_written(db: str) -> None:
    code, out, _ = run("customers", "timeline", "ann@example.com", "--db", db)

    assert code == 0
    assert_nothing_acts_on_the_terminal(out)
    assert f"Viewed {LINK}\\x1b[2J" in out


def test_customers_prefill_prints_the_form_as_written(db: str) -> None:
    code, out, _ = run("customers", "prefill", "ann@example.com", "--form", "contact", "--db", db)

    assert code == 0
    assert_nothing_acts_on_the_terminal(out)
    assert LINK in out
    assert "Lee\\x1b[2J" in out


def test_json_output_escapes_control_characters_and_loads_back_to_the_same_values(
    db: str,
) -> None:
    code, out, _ = run("customers", "show", "ann@example.com", "--json", "--db", db)

    traits = json.loads(out)["traits"]
    assert code == 0
    assert_nothing_acts_on_the_terminal(out)
    assert {name: traits[name]["value"] for name in ("last_name", "attachment", "bell")} == {
        "last_name": f"Lee{CLEAR_SCREEN}",
        "attachment": REVERSED,
        "bell": f"ring\u0007{C1_CSI}",
    }


def test_an_audit_reason_is_printed_as_written_in_the_table_and_the_csv(db: str) -> None:
    reason = f"call {STYLE}{CLEAR_SCREEN}"
    run("customers", "show", "ann@example.com", "--reason", reason, "--db", db)

    _, table, _ = run("audit", "--db", db)
    _, csv, _ = run("audit", "--csv", "--db", db)

    assert_nothing_acts_on_the_terminal(table + csv)
    # The audit trail keeps the reason without its control characters; the markup stays text.
    assert f"call {STYLE}[2J" in table
    assert f"call {STYLE}[2J" in csv


def test_an_error_naming_a_value_prints_it_as_written(db: str) -> None:
    code, out, err = run("customers", "show", f"{STYLE}{CLEAR_SCREEN}", "--db", db)

    assert code == 1
    assert_nothing_acts_on_the_terminal(out + err)


def test_visible_writes_each_terminal_control_as_an_escape_and_keeps_the_rest() -> None:
    text = "Zoë 😄\t\n\r\x00\x1b\x7f\x85\x9b\u2028\u200f\u202a\u2066"

    assert visible(text) == "Zoë 😄\\t\\n\\r\\x00\\x1b\\x7f\\x85\\x9b\\u2028\\u200f\\u202a\\u2066"


def test_terminal_json_is_json_for_the_same_value() -> None:
    value = {"name": f"Zoë{CLEAR_SCREEN}{REVERSED}{C1_CSI}\x7f", "n": [1, None]}

    text = terminal_json(value)

    assert json.loads(text) == value
    assert text == '{"name": "Zoë\\u001b[2J\\u202etxt.exe\\u009b31m\\u007f", "n": [1, null]}'
