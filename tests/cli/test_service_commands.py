"""``cornerstore service metrics`` and ``cornerstore service surveys`` as a user runs them."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cornerstore.cli.main import app
from cornerstore.services import Services
from cornerstore.settings import Settings
from cornerstore.storage.database import open_store
from tests.campaigns.conftest import SmtpAnswers, smtp
from tests.outcomes.cases import customer, file_case

__all__ = ["smtp"]  # the fixture, used by name

runner = CliRunner()
OPENED = datetime.now(UTC) - timedelta(days=20)


def shop(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    store = open_store(url, upgrade=True)
    services = Services.build(Settings(database_url=url), store)
    ann = customer(services, "ann@example.com")
    file_case(services, ann, OPENED, resolved=OPENED + timedelta(hours=5))
    file_case(services, ann, OPENED + timedelta(days=2), category="[bold]billing[/]")
    store.dispose()
    return url


def test_metrics_print_each_outcome_with_its_interval_and_the_breakdown(tmp_path: Path) -> None:
    url = shop(tmp_path)

    table = runner.invoke(app, ["service", "metrics", "--by", "category", "--db", url])
    as_json = runner.invoke(app, ["service", "metrics", "--json", "--db", url])

    assert table.exit_code == as_json.exit_code == 0
    assert "resolution rate" in table.stdout
    assert "50%" in table.stdout  # one of two resolved
    assert "[bold]billing[/]" in table.stdout  # a category is shown as written, not as markup
    body = json.loads(as_json.stdout)
    assert body["overall"]["resolution"]["count"] == 1
    assert body["overall"]["time_to_resolution"]["median_hours"] == 5.0
    assert {"from", "to", "as_of", "afterwards"} <= set(body)


def test_bad_options_end_with_one_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    url = shop(tmp_path)

    colour = runner.invoke(app, ["service", "metrics", "--by", "colour", "--db", url])
    backwards = runner.invoke(
        app, ["service", "metrics", "--from", "2026-03-08", "--to", "2026-03-01", "--db", url]
    )

    assert colour.exit_code == backwards.exit_code == 1
    assert colour.stderr.strip() == "error: group_by: must be one of " + (
        "channel, category, agent, branch, segment, week, month"
    )
    assert backwards.stderr.strip() == "error: from: must be before to"


def test_surveys_are_made_once_and_exported_once_as_csv(tmp_path: Path) -> None:
    url = shop(tmp_path)
    target = tmp_path / "links.csv"

    sent = runner.invoke(app, ["service", "surveys", "send", "--db", url])
    again = runner.invoke(app, ["service", "surveys", "send", "--db", url])
    exported = runner.invoke(
        app, ["service", "surveys", "export", "--out", str(target), "--db", url]
    )
    nothing = runner.invoke(app, ["service", "surveys", "export", "--json", "--db", url])

    assert sent.stdout.strip() == "1 survey made, waiting for export"
    assert again.stdout.strip() == "0 surveys made, waiting for export"
    assert exported.exit_code == 0
    rows = list(csv.DictReader(target.open()))
    assert len(rows) == 1
    assert rows[0]["url"].startswith("http://127.0.0.1:8000/feedback/")
    assert json.loads(nothing.stdout) == []


def test_an_export_to_a_place_it_cannot_write_loses_no_survey_link(tmp_path: Path) -> None:
    url = shop(tmp_path)
    runner.invoke(app, ["service", "surveys", "send", "--db", url])

    folder = runner.invoke(
        app, ["service", "surveys", "export", "--out", str(tmp_path), "--db", url]
    )
    nowhere = tmp_path / "missing" / "links.csv"
    no_folder = runner.invoke(
        app, ["service", "surveys", "export", "--out", str(nowhere), "--db", url]
    )
    still = runner.invoke(app, ["service", "surveys", "export", "--json", "--db", url])

    assert folder.exit_code == no_folder.exit_code == 1
    assert folder.stderr == f"error: --out: {tmp_path} is a folder, not a file\n"
    assert no_folder.stderr == f"error: --out: no folder {nowhere.parent}\n"
    assert len(json.loads(still.stdout)) == 1


def test_surveys_are_emailed_with_deliver_smtp_and_a_wrong_delivery_is_one_line(
    tmp_path: Path, smtp: tuple[SmtpAnswers, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    answers, port = smtp
    monkeypatch.setenv("CORNERSTORE_CAMPAIGNS__SMTP_PORT", str(port))
    url = shop(tmp_path)

    sent = runner.invoke(app, ["service", "surveys", "send", "--deliver", "smtp", "--db", url])
    again = runner.invoke(
        app, ["service", "surveys", "send", "--deliver", "smtp", "--json", "--db", url]
    )
    wrong = runner.invoke(app, ["service", "surveys", "send", "--deliver", "pigeon", "--db", url])

    assert sent.stdout.strip() == (
        "1 survey made; 1 e-mailed, 0 refused by the server, 0 without an e-mail address "
        "(left pending)"
    )
    assert json.loads(again.stdout) == {
        "made": 0,
        "sent": 0,
        "failed": 0,
        "no_address": 0,
        "failures": {},
    }
    assert answers.to() == ["ann@example.com"]
    assert (wrong.exit_code, wrong.stderr.strip()) == (
        1,
        "error: --deliver: export or smtp",
    )
