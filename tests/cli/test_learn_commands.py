"""``cornerstore learn`` and ``cornerstore customers scores|at-risk`` as a user runs them."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from cornerstore.cli.main import app
from cornerstore.services import Services
from cornerstore.settings import Settings
from cornerstore.storage.database import open_store
from tests.factories import identify
from tests.learn.shop import NOW, WEB, shop_history, survey

runner = CliRunner()


def test_learn_then_read_scores_and_the_at_risk_list(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    store = open_store(url, upgrade=True)
    shop_history(Services.build(Settings(database_url=url), store))
    store.dispose()

    learned = runner.invoke(app, ["learn", "--json", "--db", url])
    scores = runner.invoke(app, ["customers", "scores", "steady", "--json", "--db", url])
    risky = runner.invoke(app, ["customers", "at-risk", "--limit", "3", "--db", url])

    assert learned.exit_code == scores.exit_code == risky.exit_code == 0
    report = json.loads(learned.stdout)
    assert (report["customers"], report["value_model"]) == (123, "bgnbd")
    assert json.loads(scores.stdout)["scores"]["loyalty"]["value"]["orders"] == 36
    assert "value at risk" in risky.stdout


def test_scores_before_any_run_say_what_to_do(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    store = open_store(url, upgrade=True)
    shop_history(Services.build(Settings(database_url=url), store))
    store.dispose()

    result = runner.invoke(app, ["customers", "scores", "steady", "--db", url])

    assert result.exit_code == 0
    assert "nothing learned about" in result.stdout and "cornerstore learn" in result.stdout


def test_say_vs_do_prints_the_bands(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    store = open_store(url, upgrade=True)
    services = Services.build(Settings(database_url=url), store)
    services.intake.ingest(
        [
            survey(f"u-{i}", NOW - timedelta(days=300), "csat", 1 + i % 5, i % 2 == 0)
            for i in range(10)
        ],
        source=WEB,
    )
    store.dispose()

    table = runner.invoke(app, ["surveys", "say-vs-do", "--db", url])
    as_json = runner.invoke(app, ["surveys", "say-vs-do", "--days", "90", "--json", "--db", url])
    bad = runner.invoke(app, ["surveys", "say-vs-do", "--days", "3", "--db", url])

    assert table.exit_code == as_json.exit_code == 0
    assert "asked by staff" in table.stdout
    report = json.loads(as_json.stdout)
    assert report["window_days"] == 90
    assert sum(r["answers"] for r in report["rows"] if r["segment"] is None) == 10
    assert bad.exit_code == 2  # Typer's range check: a usage error


def test_the_at_risk_list_shows_names_as_text_and_the_analyst_only_pseudonyms(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    store = open_store(url, upgrade=True)
    services = Services.build(Settings(database_url=url), store)
    shop_history(services)
    services.intake.ingest(
        [identify("drifting", first_name="[bold]Dora[/bold]", last_name="Drift")], source=WEB
    )
    store.dispose()
    runner.invoke(app, ["learn", "--db", url])
    created = runner.invoke(
        app,
        ["users", "create", "ana", "--role", "analyst", "--password-stdin", "--db", url],
        input="analyst-password-long-1\n",
    )

    owner = runner.invoke(app, ["customers", "at-risk", "--limit", "1000", "--db", url])
    analyst = runner.invoke(
        app, ["customers", "at-risk", "--limit", "1000", "--as", "ana", "--json", "--db", url]
    )

    assert created.exit_code == owner.exit_code == analyst.exit_code == 0
    assert "[bold]Dora[/bold]" in owner.stdout and "Drift" in owner.stdout
    rows = json.loads(analyst.stdout)
    assert {r["name"] for r in rows} == {None}
    assert all(r["customer_id"].startswith("psn_") for r in rows)
