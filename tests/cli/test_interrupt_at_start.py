"""Ctrl-C while a command starts, as a real process receives it.

Python's ``-X importtime`` writes a line to stderr as each module finishes importing; the test
reads those lines to send SIGINT at a known moment of the start, not after a guessed delay.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from tests.cli.helpers import CORNERSTORE


def _interrupt_after(module: str, db: str) -> tuple[int, list[str]]:
    """Run a command, send SIGINT once ``module`` has been imported: the exit code and what
    the command itself wrote to stderr (the import-time lines left out)."""
    python, *rest = CORNERSTORE
    process = subprocess.Popen(
        [python, "-X", "importtime", *rest, "customers", "search", "smith", "--db", db],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    said = []
    for line in process.stderr:
        if not line.startswith("import time:"):
            said.append(line)
        elif line.rsplit("|", 1)[-1].strip() == module:
            process.send_signal(signal.SIGINT)
            break
    said += [line for line in process.stderr if not line.startswith("import time:")]
    return process.wait(timeout=60), said


def test_ctrl_c_while_the_command_line_loads_is_one_line_and_exit_130(tmp_path: Path) -> None:
    # The entry point is running: Typer is loaded, pydantic and SQLAlchemy are still to come.
    code, said = _interrupt_after("typer", f"sqlite:///{tmp_path / 's.db'}")

    assert code == 130
    assert said == ["interrupted; the command stopped\n"]


def test_ctrl_c_once_the_command_line_is_loaded_is_still_no_traceback(tmp_path: Path) -> None:
    code, said = _interrupt_after("cornerstore.cli.main", f"sqlite:///{tmp_path / 's.db'}")

    assert code in (1, 130)  # Click's "Aborted!" once it has begun, ours just before
    assert len(said) <= 1 and not any("Traceback" in line for line in said), said
