"""A reader that stops early (``cornerstore ... | head``) ends the command quietly, as Unix
tools do: no message, no traceback."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cornerstore.cli import database
from cornerstore.cli.main import app
from tests.cli.helpers import CORNERSTORE


@pytest.mark.parametrize("command", [["--help"], ["customers", "--help"]])
def test_help_into_a_closed_pipe_stops_without_a_word(command: list[str]) -> None:
    read, write = os.pipe()
    os.close(read)
    try:
        finished = subprocess.run(
            [*CORNERSTORE, *command], stdout=write, stderr=subprocess.PIPE, timeout=120
        )
    finally:
        os.close(write)

    assert finished.stderr == b""
    assert finished.returncode == 1


class _ClosedPipe:
    """A terminal whose reader has gone: every write fails as a real closed pipe's does."""

    def print(self, *args: object, **kwargs: object) -> None:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")


def test_a_command_whose_reader_went_away_stops_without_a_word(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade", "--db", db]).exit_code == 0
    monkeypatch.setattr(database, "out", _ClosedPipe())

    result = runner.invoke(app, ["db", "current", "--db", db])

    assert result.stderr == ""
    assert result.exit_code == 1


def test_a_command_started_with_stdout_closed_refuses_to_run(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    assert CliRunner().invoke(app, ["db", "upgrade", "--db", db]).exit_code == 0

    finished = subprocess.run(
        [*CORNERSTORE, "roles", "--db", db],
        stderr=subprocess.PIPE,
        preexec_fn=lambda: os.close(1),  # as `cornerstore roles >&-` starts it
        timeout=120,
    )

    assert finished.returncode == 1
    assert finished.stderr == (
        b"error: standard output is closed: the command's answer has nowhere to go\n"
    )
