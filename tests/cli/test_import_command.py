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
        "refused": {},
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


HEADERLESS = "anna@example.de;4111 1111 1111 1111;Anna\nben@example.de;5500 0000 0000 0004;Ben\n"


@pytest.mark.parametrize(
    "mapping", [["--map", "email=E-Mail"], ["--all-columns"]], ids=["map", "all-columns"]
)
def test_a_csv_without_a_header_row_is_named_by_column_position_never_by_its_values(
    folder: Path, mapping: list[str]
) -> None:
    (folder / "raw.csv").write_text(HEADERLESS, encoding="utf-8")

    code, out, err = run("raw.csv", "--touchpoint", "store", *mapping)

    assert (code, out) == (1, "")
    assert err == (
        "error: raw.csv: the file has no header row: its first row holds an e-mail in column 1 "
        "and a card number in column 2; add a first row that names the columns\n"
    )
    assert not (folder / "raw.csv.rejects.jsonl").exists()
    for value in ("anna@", "4111", "1111", "Anna"):
        assert value not in out + err


def test_a_missing_column_of_a_file_with_a_header_lists_the_columns_it_has(folder: Path) -> None:
    code, out, err = run("kunden.csv", "--touchpoint", "store", "--map", "email=Email")

    assert (code, out) == (1, "")
    assert err == (
        "error: --map email=Email: column 'Email' is not in the file "
        "(columns: 'Vorname', 'Nachname', 'E-Mail', 'Telefon')\n"
    )


def test_a_binary_file_is_one_readable_line_without_its_bytes(folder: Path) -> None:
    noise = bytes(range(256)) * 40
    (folder / "photo.csv").write_bytes(noise)

    code, out, err = run("photo.csv", "--touchpoint", "store", *MAP)

    assert (code, out) == (1, "")
    assert err == "error: photo.csv: cannot read it as CSV: it is binary data, not text\n"


def test_a_parquet_file_named_csv_is_told_to_use_the_parquet_format(folder: Path) -> None:
    (folder / "export.csv").write_bytes(b"PAR1" + bytes(range(256)) * 4)

    code, out, err = run("export.csv", "--touchpoint", "store", *MAP)

    assert (code, out) == (1, "")
    assert err == (
        "error: export.csv: cannot read it as CSV: it is a Parquet file (give --format parquet)\n"
    )


def test_a_latin1_file_with_a_non_utf8_header_is_one_readable_line(folder: Path) -> None:
    (folder / "alt.csv").write_bytes("Straße;E-Mail\nLindenweg;j@example.de\n".encode("latin-1"))

    code, out, err = run("alt.csv", "--touchpoint", "store", "--map", "email=E-Mail")

    assert (code, out) == (1, "")
    assert err == "error: alt.csv: cannot read it as CSV: it is not UTF-8 text (save it as UTF-8)\n"


def test_rows_a_safeguard_kept_apart_are_counted_with_the_reason(folder: Path) -> None:
    (folder / "shared.csv").write_text(
        "Kundennummer;E-Mail\nk-1;family@example.com\nk-2;family@example.com\n", encoding="utf-8"
    )

    code, out, _ = run(
        "shared.csv", "--touchpoint", "store", "--map", "user_id=Kundennummer", "--map",
        "email=E-Mail",
    )  # fmt: skip

    assert (code, out) == (
        0,
        "read 2, accepted 2, already imported 0, rejected 0\n"
        "  1 accepted, but merge refused: a profile may hold at most 1 user_id identifier(s)\n",
    )
