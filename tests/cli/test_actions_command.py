"""``cornerstore actions ID`` and ``cornerstore actions --segment S --limit N``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cornerstore.access.caller import system_caller
from cornerstore.cli.main import app
from cornerstore.services import Services
from cornerstore.settings import Settings
from cornerstore.storage.database import open_store
from tests.actions.shop import open_action_shop, vip_due_for_a_teapot_today

runner = CliRunner()


def shop_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    store = open_store(url, upgrade=True)
    services = Services.build(Settings(database_url=url), store)
    open_action_shop(services)
    vip_due_for_a_teapot_today(services)
    services.segments.create(
        system_caller(), "Valued", {"score": "value.clv", "op": ">=", "value": 0}
    )
    store.dispose()
    return url


def test_one_customers_actions_as_a_table_and_as_json(tmp_path: Path) -> None:
    url = shop_db(tmp_path)

    shown = runner.invoke(app, ["actions", "vip", "--db", url])
    as_json = runner.invoke(app, ["actions", "vip", "--json", "--db", url])

    assert shown.exit_code == as_json.exit_code == 0, shown.output
    assert "call" in shown.stdout and "unresolved delivery complaint" in shown.stdout
    assert "held back: offer" in shown.stdout
    found = json.loads(as_json.stdout)
    assert [a["action"] for a in found["actions"]] == ["call"]
    assert found["actions"][0]["reasons"] == [
        "high value",
        "slipping away",
        "unresolved delivery complaint",
    ]


def test_a_segment_lists_members_with_their_next_action(tmp_path: Path) -> None:
    url = shop_db(tmp_path)

    listed = runner.invoke(
        app, ["actions", "--segment", "valued", "--limit", "3", "--json", "--db", url]
    )

    assert listed.exit_code == 0, listed.output
    found = json.loads(listed.stdout)
    assert len(found) == 3
    assert found[0]["actions"][0]["summary"] == (
        "call: high value, slipping away, unresolved delivery complaint"
    )


def test_bad_input_is_one_line_and_a_failing_exit(tmp_path: Path) -> None:
    url = shop_db(tmp_path)

    neither = runner.invoke(app, ["actions", "--db", url])
    both = runner.invoke(app, ["actions", "vip", "--segment", "valued", "--db", url])
    unknown = runner.invoke(app, ["actions", "nobody@example.com", "--db", url])
    too_many = runner.invoke(
        app, ["actions", "--segment", "valued", "--limit", "9999", "--db", url]
    )
    shipping = runner.invoke(app, ["actions", "vip", "--as", "nobody-here", "--db", url])

    for result in (neither, both, unknown, too_many, shipping):
        assert result.exit_code == 1
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert neither.stderr == "error: give a customer or --segment\n"
    assert both.stderr == "error: give a customer or --segment, not both\n"
    assert "nobody" not in unknown.stderr
    assert too_many.stderr == "error: limit: must be between 1 and 200\n"
