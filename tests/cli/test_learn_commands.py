"""``cornerstore learn`` and ``cornerstore customers scores|at-risk`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cornerstore.cli.main import app
from cornerstore.services import Services
from cornerstore.settings import Settings
from cornerstore.storage.database import open_store
from tests.learn.test_service import shop_history

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
