"""``cornerstore suggest ID``, ``suggest train`` and training inside ``cornerstore learn``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cornerstore.cli.main import app
from cornerstore.services import Services
from cornerstore.settings import Settings
from cornerstore.storage.database import open_store
from tests.suggest.shop import open_shop, return_yesterday

runner = CliRunner()


def shop_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    store = open_store(url, upgrade=True)
    services = Services.build(Settings(database_url=url), store)
    open_shop(services)
    return_yesterday(services, "returner", "COSY")  # the CLI answers as of now
    store.dispose()
    return url


def test_train_then_show_a_customers_suggestions(tmp_path: Path) -> None:
    url = shop_db(tmp_path)

    trained = runner.invoke(app, ["suggest", "train", "--db", url])
    shown = runner.invoke(app, ["suggest", "returner", "-n", "3", "--db", url])
    as_json = runner.invoke(app, ["suggest", "show", "returner", "--json", "--db", url])

    assert trained.exit_code == shown.exit_code == as_json.exit_code == 0, shown.output
    assert trained.stdout.startswith("suggestions learned from ")
    assert "1 left out without consent" in trained.stdout
    assert "mug" in shown.stdout and "why" in shown.stdout
    found = json.loads(as_json.stdout)
    assert found["personal"] is True and len(found["suggestions"]) == 3
    assert "COSY" not in [s["item_id"] for s in found["suggestions"]]


def test_learn_retrains_the_suggestions(tmp_path: Path) -> None:
    url = shop_db(tmp_path)

    learned = runner.invoke(app, ["learn", "--json", "--db", url])
    shown = runner.invoke(app, ["suggest", "private", "--db", url])

    assert learned.exit_code == shown.exit_code == 0, learned.output
    assert json.loads(learned.stdout)["suggestions"]["customers"] == 33
    assert "not personal: the customer did not allow personalisation" in shown.stdout


def test_bad_input_is_one_line_and_a_failing_exit(tmp_path: Path) -> None:
    url = shop_db(tmp_path)

    unknown = runner.invoke(app, ["suggest", "nobody@example.com", "--db", url])
    too_many = runner.invoke(app, ["suggest", "regular", "-n", "500", "--db", url])
    no_db = runner.invoke(app, ["suggest", "regular", "--db", f"sqlite:///{tmp_path / 'x.db'}"])

    for result in (unknown, too_many, no_db):
        assert result.exit_code == 1
        assert len(result.stderr.strip().splitlines()) == 1
        assert result.stderr.startswith("error: ")
    assert "nobody" not in unknown.stderr
    assert too_many.stderr.strip() == "error: n: must be between 1 and 100"
