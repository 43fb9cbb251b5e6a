"""What the command-line tests share: running ``cornerstore`` in-process or as a process."""

from __future__ import annotations

import sys
from pathlib import Path

from typer.testing import CliRunner

from cornerstore.cli.main import app

#: ``cornerstore`` as a separate process, for what only a real process shows: signals, a closed
#: pipe, bytes on the command line, a database connection ended from outside.
CORNERSTORE = [sys.executable, "-c", "from cornerstore.cli.entry import main; main()"]

#: The CDNOW sample (Fader, Hardie and Lee 2005) the value models are checked against.
CDNOW = Path(__file__).parents[1] / "data" / "cdnow_sample.txt"

runner = CliRunner()


def run(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """Run ``cornerstore ARGS`` in-process: its exit code, stdout and stderr."""
    result = runner.invoke(app, list(args), input=stdin, env=env)
    return result.exit_code, result.stdout, result.stderr
