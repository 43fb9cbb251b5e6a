"""``cornerstore customers search`` by name: a table of hits, a sentence when nobody matches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cornerstore.cli.main import app
from cornerstore.intake.service import Intake, Source
from cornerstore.settings import Settings
from cornerstore.storage.database import open_store
from tests.factories import identify

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = open_store(url, upgrade=True)
    Intake(store, Settings(database_url=url)).ingest(
        [
            identify("web-1", email="ann@example.com", firstName="Ann", lastName="Lee"),
            identify("web-2", firstName="[red]Bea[/red]", lastName="Fox"),
        ],
        source=Source("web-shop", "web"),
    )
    store.dispose()
    return url


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


def test_a_full_name_in_either_order_finds_the_customer(db: str) -> None:
    code, found = run("customers", "search", "lee ann", "--json", "--db", db)

    (hit,) = json.loads(found)
    assert code == 0
    assert hit | {"id": "-"} == {
        "id": "-",
        "kind": "person",
        "name": "Ann Lee",
        "email": "ann@example.com",
        "phone": None,
        "matched": "name",
    }


def test_a_search_without_a_match_says_so_in_words(db: str) -> None:
    assert run("customers", "search", "zoe quinn", "--db", db) == (
        0,
        'No customer matches "zoe quinn".\n',
    )
    assert run("customers", "search", "zoe quinn", "--json", "--db", db) == (0, "[]\n")


def test_a_name_is_shown_as_the_customer_gave_it_never_as_markup(db: str) -> None:
    code, table = run("customers", "search", "bea fox", "--db", db)

    assert code == 0
    assert "[red]Bea[/red] Fox" in table
