"""Which commands may create a database: only ``db upgrade``, ``serve`` and ``demo``.

Every other command refuses a database that does not exist (or was never set up), names where
it looked and how to create it, and leaves the disk as it found it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cornerstore.storage.database import describe_database, head_revision, open_store
from tests.cli.helpers import run


def test_a_mistyped_db_folder_is_refused_by_name_and_no_folder_is_created(
    tmp_path: Path,
) -> None:
    path = tmp_path / "nonexistent" / "dir" / "x.db"
    url = f"sqlite:///{path}"

    code, out, err = run("customers", "show", "cus_1", "--db", url)

    assert (code, out) == (1, "")
    assert err == (
        f"error: --db: no cornerstore database at {path} (no folder {path.parent}): create it with "
        f"`cornerstore db upgrade --db sqlite:///{path}` or `cornerstore demo --db sqlite:///{path}`\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_command_run_from_another_folder_names_the_file_it_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CORNERSTORE_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)

    code, _, err = run("keys", "list")

    expected = tmp_path / "cornerstore.db"
    assert code == 1
    assert err.startswith(f"error: no cornerstore database at {expected}: create it with ")
    assert list(tmp_path.iterdir()) == []


def test_a_sqlite_database_without_cornerstore_tables_is_refused_and_left_unchanged(
    tmp_path: Path,
) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER)")
    conn.close()
    before = path.read_bytes()
    url = f"sqlite:///{path}"

    code, _, err = run("tokens", "list", "--db", url)

    assert code == 1
    assert err == (
        f"error: --db: the database at {path} has no cornerstore tables: set it up with "
        f"`cornerstore db upgrade --db {url}` or `cornerstore demo --db {url}`\n"
    )
    assert (path.read_bytes(), sorted(p.name for p in tmp_path.iterdir())) == (before, ["other.db"])


def test_an_empty_file_given_as_the_database_is_refused_and_left_empty(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    path.touch()
    url = f"sqlite:///{path}"

    code, _, err = run("tokens", "list", "--db", url)

    assert code == 1
    assert err == (
        f"error: --db: {path} is an empty file, not a cornerstore database: set it up with "
        f"`cornerstore db upgrade --db {url}` or `cornerstore demo --db {url}`\n"
    )
    assert (path.read_bytes(), sorted(p.name for p in tmp_path.iterdir())) == (b"", ["other.db"])


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("customers.csv", b"email,name\nann@example.com,Ann\n"),
        ("notes.txt", b"call Ann back"),
        (
            "latin1.csv",
            "email,name\nj\u00e9r\u00f4me@example.com,J\u00e9r\u00f4me\n".encode("latin-1"),
        ),
    ],
)
def test_a_file_that_is_not_a_database_given_as_db_is_named_and_left_unchanged(
    tmp_path: Path, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    code, out, err = run("customers", "show", "ann@example.com", "--db", f"sqlite:///{path}")

    assert (code, out, err) == (1, "", f"error: --db: {path} is not a SQLite database\n")
    assert (path.read_bytes(), [p.name for p in tmp_path.iterdir()]) == (content, [name])


def test_a_folder_given_as_db_is_named_as_a_folder(tmp_path: Path) -> None:
    code, _, err = run("customers", "search", "ann", "--db", f"sqlite:///{tmp_path}")

    assert (code, err) == (1, f"error: --db: {tmp_path} is a folder, not a SQLite database file\n")
    assert list(tmp_path.iterdir()) == []


def test_a_database_named_by_the_environment_is_refused_without_naming_an_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("email\n")
    monkeypatch.setenv("CORNERSTORE_DATABASE_URL", f"sqlite:///{path}")

    code, _, err = run("keys", "list")

    assert (code, err) == (1, f"error: {path} is not a SQLite database\n")


def test_a_bare_path_given_as_db_says_how_to_write_a_sqlite_url_without_echoing_it() -> None:
    code, out, err = run("customers", "search", "ann", "--db", "shop-secret.db")

    assert (code, out) == (1, "")
    assert err == (
        "error: --db: not a database URL; a SQLite file is given as sqlite:///shop.db "
        "(relative) or sqlite:////srv/shop.db (absolute)\n"
    )


def test_a_postgresql_schema_that_was_never_upgraded_is_refused(pg_url: str) -> None:
    code, _, err = run("customers", "search", "ann", "--db", pg_url)

    shown = describe_database(pg_url)
    assert code == 1
    assert err == (
        f"error: --db: the database at {shown} has no cornerstore tables: set it up with "
        f"`cornerstore db upgrade --db {shown}` or `cornerstore demo --db {shown}`\n"
    )


def test_db_current_does_not_create_the_database_it_reports_on(tmp_path: Path) -> None:
    path = tmp_path / "missing.db"

    code, _, err = run("db", "current", "--db", f"sqlite:///{path}")

    assert code == 1
    assert err.startswith(f"error: --db: no cornerstore database at {path}: ")
    assert not path.exists()


def test_db_upgrade_creates_the_database_and_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "shop" / "cornerstore.db"
    url = f"sqlite:///{path}"

    code, out, _ = run("db", "upgrade", "--db", url)
    listed = run("keys", "list", "--json", "--db", url)

    assert code == 0
    assert out.startswith(f"database at revision {head_revision()}\n")
    assert listed == (0, "[]\n", "")


def test_a_sqlite_file_with_an_older_schema_is_brought_up_to_date(tmp_path: Path) -> None:
    from alembic import command

    from cornerstore.storage.database import _alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = open_store(url)
    with store.engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0002")

    code, out, _ = run("keys", "list", "--json", "--db", url)

    assert (code, out) == (0, "[]\n")
    assert store.current_revision() == head_revision()
    store.dispose()


def test_an_unreachable_server_is_named_by_host_and_port_and_its_password_never_shown() -> None:
    url = "postgresql+psycopg://shop:s3cret-pw@127.0.0.1:1/shop"

    for command in (["customers", "search", "ann"], ["db", "upgrade"]):
        code, out, err = run(*command, "--db", url)

        assert code == 1
        assert err == "error: cannot reach the database at 127.0.0.1:1\n"
        assert "s3cret-pw" not in out + err


def test_a_database_the_server_does_not_have_is_named(pg_url: str) -> None:
    missing = pg_url.split("?")[0].rsplit("/", 1)[0] + "/cs_no_such_database"

    code, _, err = run("customers", "search", "ann", "--db", missing)

    assert code == 1
    assert err.startswith("error: no database cs_no_such_database on the server at ")


def test_setting_up_a_file_that_is_not_a_database_is_refused_and_left_unchanged(
    tmp_path: Path,
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("email,name\nann@example.com,Ann\n")

    code, _, err = run("db", "upgrade", "--db", f"sqlite:///{path}")

    assert code == 1
    assert err == f"error: --db: {path} is not a SQLite database\n"
    assert path.read_text() == "email,name\nann@example.com,Ann\n"


def test_setting_up_a_folder_as_the_database_is_refused(tmp_path: Path) -> None:
    code, _, err = run("db", "upgrade", "--db", f"sqlite:///{tmp_path}")

    assert code == 1
    assert err == f"error: --db: {tmp_path} is a folder, not a SQLite database file\n"


def test_an_unknown_url_scheme_is_refused_in_one_line() -> None:
    code, _, err = run("customers", "search", "ann", "--db", "mysql://shop:pw@db/shop")

    assert code == 1
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert "pw" not in err


def test_db_upgrade_sets_up_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    path.touch()
    url = f"sqlite:///{path}"

    code, out, _ = run("db", "upgrade", "--db", url)

    assert code == 0
    assert out.startswith(f"database at revision {head_revision()}\n")
    assert run("keys", "list", "--json", "--db", url) == (0, "[]\n", "")


def test_a_store_cut_short_is_called_damaged_and_never_offered_a_set_up(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    url = f"sqlite:///{path}"
    assert run("db", "upgrade", "--db", url)[0] == 0
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 3])  # a copy that stopped a third of the way
    cut = path.read_bytes()

    for command in (["customers", "search", "ann"], ["db", "upgrade"]):
        code, out, err = run(*command, "--db", url)

        assert (code, out) == (1, "")
        assert err == f"error: --db: {path} is a damaged SQLite database: SQLite cannot read it\n"
    assert path.read_bytes() == cut
