"""Wrong input as a new user gives it: one line naming the option, exit code 1, the value never
echoed, and nothing stored or written halfway."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from cornerstore.storage.database import open_store
from tests.cli.helpers import CORNERSTORE, run


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A set-up store; commands run in tmp_path, so paths in messages stay short."""
    monkeypatch.chdir(tmp_path)
    open_store("sqlite:///shop.db", upgrade=True).dispose()
    return "sqlite:///shop.db"


def test_a_metrics_period_that_is_not_a_date_names_the_option_not_the_value(db: str) -> None:
    code, out, err = run("service", "metrics", "--from", "last-tuesday", "--db", db)

    assert (code, out) == (1, "")
    assert err == "error: --from: give a date like 2026-03-01 or a time like 2026-03-01T09:30\n"


def test_a_metrics_period_of_iso_dates_and_times_is_read(db: str) -> None:
    code, out, err = run(
        "service", "metrics", "--from", "2026-01-01", "--to", "2026-02-01T12:00", "--db", db
    )

    assert (code, err) == (0, "")
    assert out.startswith("cases opened 2026-01-01 00:00 to 2026-02-01 12:00, judged ")


def test_an_audit_retention_that_is_not_a_duration_names_the_option(db: str) -> None:
    code, out, err = run("audit", "prune", "--older-than", "two years", "--db", db)

    assert (code, out, err) == (
        1,
        "",
        "error: --older-than: give a duration such as 12h, 30d or 2w\n",
    )


def test_importing_a_folder_says_it_is_a_folder(db: str, tmp_path: Path) -> None:
    (tmp_path / "exports").mkdir()

    code, out, err = run(
        "import", "exports", "--touchpoint", "store", "--map", "email=email", "--db", db
    )

    assert (code, out, err) == (1, "", "error: exports is a folder, not a file\n")


def test_an_import_whose_rejects_cannot_be_written_stores_nothing(db: str, tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text("email\nann@example.com\nnot-an-address\n")
    args = ["import", "people.csv", "--touchpoint", "store", "--map", "email=email", "--db", db]

    refused = run(*args, "--rejects", "missing/rejects.jsonl")
    code, out, _ = run(*args, "--json")

    assert refused == (1, "", "error: --rejects: no folder missing\n")
    assert (code, '"duplicates": 0' in out, '"accepted": 1' in out) == (0, True, True)


def test_scanning_into_a_pipe_whose_reader_went_away_stops_without_a_word() -> None:
    read, write = os.pipe()
    os.close(read)
    lines = b"".join(b"order %d paid by ann@example.com\n" % n for n in range(50_000))
    try:
        finished = subprocess.run(
            [*CORNERSTORE, "privacy", "scan"],
            input=lines,
            stdout=write,
            stderr=subprocess.PIPE,
            timeout=120,
        )
    finally:
        os.close(write)

    assert (finished.returncode, finished.stderr) == (1, b"")


def test_a_search_typed_in_a_latin1_terminal_is_one_line_without_its_bytes(db: str) -> None:
    finished = subprocess.run(
        [*CORNERSTORE, "customers", "search", b"J\xe9r\xf4me", "--db", db],
        capture_output=True,
        timeout=120,
    )

    assert (finished.returncode, finished.stdout) == (1, b"")
    assert finished.stderr == (
        b"error: the command line holds text that is not UTF-8 (a terminal set to Latin-1?): "
        b"type it again in a UTF-8 terminal\n"
    )


def test_serving_on_a_port_in_use_is_one_line_before_the_database_is_touched(
    tmp_path: Path,
) -> None:
    path = tmp_path / "new.db"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        code, out, err = run("serve", "--port", str(port), "--db", f"sqlite:///{path}")

    assert (code, out) == (1, "")
    assert err == f"error: --port: {port} is already in use on 127.0.0.1\n"
    assert not path.exists()


def test_serving_on_a_host_name_that_does_not_resolve_names_the_option(tmp_path: Path) -> None:
    path = tmp_path / "new.db"

    code, out, err = run("serve", "--host", "shop.invalid", "--db", f"sqlite:///{path}")

    assert (code, out) == (1, "")
    assert err == "error: --host: not a host name or address this machine can listen on\n"
    assert not path.exists()


def _customers_stored(path: Path) -> int:
    try:
        with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM customers").fetchone()[0])
    except sqlite3.Error:  # not created yet
        return 0


def test_a_demo_stopped_with_ctrl_c_says_what_it_left_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    demo = subprocess.Popen(
        [*CORNERSTORE, "demo", "--customers", "2000", "--db", f"sqlite:///{path}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # A Ctrl-C reaches the command even when these tests run where SIGINT is ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while _customers_stored(path) == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    demo.send_signal(signal.SIGINT)
    out, err = demo.communicate(timeout=120)

    assert (demo.returncode, out) == (130, b"")
    assert err == (
        b"demo stopped: the database holds part of the demo business; start again with a new --db\n"
    )


def test_an_import_stopped_with_ctrl_c_says_how_far_it_got_and_a_rerun_adds_the_rest(
    db: str, tmp_path: Path
) -> None:
    rows = 20_000
    people = tmp_path / "people.csv"
    people.write_text("email\n" + "".join(f"p{n}@example.com\n" for n in range(rows)))
    args = ["import", "people.csv", "--touchpoint", "store", "--map", "email=email"]
    importing = subprocess.Popen(
        [*CORNERSTORE, *args, "--batch-size", "100", "--db", db],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while _customers_stored(tmp_path / "shop.db") < 500 and time.monotonic() < deadline:
        time.sleep(0.1)
    importing.send_signal(signal.SIGINT)
    out, err = importing.communicate(timeout=120)
    stopped = re.fullmatch(
        rb"import stopped after (\d+) rows; those stay stored, and importing the file again "
        rb"adds only the rest\n",
        err,
    )

    code, again, _ = run(*args, "--json", "--db", db)
    summary = json.loads(again)

    assert (importing.returncode, out, stopped is not None) == (130, b"", True)
    assert stopped is not None and 0 < int(stopped[1]) < rows
    assert code == 0
    assert summary["accepted"] + summary["duplicates"] == rows
    assert summary["duplicates"] >= int(stopped[1])


def test_a_password_piped_in_latin1_is_one_line_and_creates_no_user(db: str) -> None:
    create = ["users", "create", "ann", "--role", "support", "--password-stdin", "--db", db]
    finished = subprocess.run(
        [*CORNERSTORE, *create],
        input="Pässwort-lang-genug\n".encode("latin-1"),
        capture_output=True,
        timeout=120,
    )

    assert (finished.returncode, finished.stdout) == (1, b"")
    assert finished.stderr == (
        b"error: the input holds text that is not UTF-8 (a terminal or file set to Latin-1?): "
        b"give it as UTF-8\n"
    )
    assert "ann" not in run("users", "list", "--db", db)[1]
