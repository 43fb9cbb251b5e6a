"""A database connection lost while a command runs (the server restarted, or its backend was
terminated) is one line and exit code 1, never a traceback or "unexpected OperationalError"."""

from __future__ import annotations

import subprocess
import time

from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from cornerstore.cli.main import app
from tests.cli.helpers import CORNERSTORE


def _backend_waiting_on_a_lock(conn: object, timeout: float = 60.0) -> int:
    """The process id of the other backend waiting for a lock on ``alembic_version``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # The activity view is read once per transaction unless its snapshot is cleared.
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))  # type: ignore[attr-defined]
        pid = conn.execute(  # type: ignore[attr-defined]
            text(
                "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                "AND wait_event_type = 'Lock' AND query LIKE '%alembic_version%'"
            )
        ).scalar()
        if pid is not None:
            return int(pid)
        time.sleep(0.05)
    raise AssertionError("the command never queried the database")


def test_a_command_whose_database_backend_is_terminated_says_the_connection_was_lost(
    pg_url: str,
) -> None:
    assert CliRunner().invoke(app, ["db", "upgrade", "--db", pg_url]).exit_code == 0
    other = create_engine(pg_url)
    with other.connect() as conn:
        # Hold the command's first query (the schema revision it checks) until its backend is
        # terminated from this second connection, as an administrator or a restart would.
        conn.execute(text("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE"))
        command = subprocess.Popen(
            [*CORNERSTORE, "users", "list", "--db", pg_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            pid = _backend_waiting_on_a_lock(conn)
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        finally:
            conn.rollback()
        out, err = command.communicate(timeout=120)
    other.dispose()

    assert (command.returncode, out, err) == (
        1,
        b"",
        b"error: the connection to the database was lost; the command stopped\n",
    )
