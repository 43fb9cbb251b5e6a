"""``cornerstore import`` in-process: the summary, running twice, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cornerstore.cli.main import app
from cornerstore.storage.database import open_store

runner = CliRunner()

PEOPLE = (
    "Vorname;Nachname;E-Mail;Telefon\n"
    "Anna;Müller;anna@example.de;07700 900123\n"
    "Ben;Weber;ben@example.de;\n"
    ";;;\n"
)
MAP = ["--map", "first_name=Vorname", "--map", "last_name=Nachname", "--map", "email=E-Mail"]


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Commands run in tmp_path, so paths in messages stay short and predictable."""
    monkeypatch.chdir(tmp_path)
    open_store("sqlite:///cli.db", upgrade=True).dispose()
    (tmp_path / "kunden.csv").write_text(PEOPLE, encoding="utf-8")
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["import", *args, "--db", "sqlite:///cli.db"])
    return result.exit_code, result.stdout, result.stderr


def test_importing_a_csv_prints_the_summary_and_lists_rejects_by_reason(folder: Path) -> None:
    code, out, err = run("kunden.csv", "--touchpoint", "store", *MAP, "--map", "phone=Telefon")

    assert (code, err) == (0, "")
    assert out == (
        "read 3, accepted 2, already imported 0, rejected 1\n"
        "  1 rejected: row has no identifier (user_id, anonymous_id, email, phone or external "
        "id)\n"
        "rejected rows written to kunden.csv.rejects.jsonl\n"
    )
    assert (folder / "kunden.csv.rejects.jsonl").read_text() == (
        '{"row":3,"reason":"row has no identifier (user_id, anonymous_id, email, phone or '
        'external id)"}\n'
    )


def test_importing_twice_reports_the_rows_as_already_imported(folder: Path) -> None:
    run("kunden.csv", "--touchpoint", "store", *MAP)

    code, out, _ = run("kunden.csv", "--touchpoint", "store", *MAP, "--json")

    assert code == 0
    assert json.loads(out) == {
        "read": 3,
        "accepted": 0,
        "duplicates": 2,
        "rejected": 1,
        "reasons": {
            "row has no identifier (user_id, anonymous_id, email, phone or external id)": 1
        },
        "rejects_path": "kunden.csv.rejects.jsonl",
    }


def test_a_track_import_needs_an_event_name(folder: Path) -> None:
    code, out, err = run("kunden.csv", "--touchpoint", "store", *MAP, "--type", "track")

    assert (code, out, err) == (1, "", "error: --event: is required with --type track\n")


def test_a_malformed_map_is_one_readable_line_and_a_non_zero_exit(folder: Path) -> None:
    code, out, err = run("kunden.csv", "--touchpoint", "store", "--map", "E-Mail")

    assert (code, out, err) == (1, "", "error: --map 'E-Mail': expected FIELD=COLUMN\n")
    store = open_store("sqlite:///cli.db")
    with store.unit_of_work() as uow:
        stored = uow.customers.count()
    store.dispose()
    assert stored == 0


def test_a_missing_file_exits_one_and_says_so(folder: Path) -> None:
    code, out, err = run("missing.csv", "--touchpoint", "store", *MAP)

    assert (code, out, err) == (1, "", "error: missing.csv: no such file\n")


def test_a_file_that_is_not_utf8_is_one_readable_line(folder: Path) -> None:
    (folder / "alt.csv").write_bytes("Vorname;E-Mail\nJürgen;j@example.de\n".encode("latin-1"))

    code, out, err = run("alt.csv", "--touchpoint", "store", "--map", "first_name=Vorname")

    assert (code, out) == (1, "")
    assert err == "error: alt.csv: cannot read it as CSV: it is not UTF-8 text (save it as UTF-8)\n"
