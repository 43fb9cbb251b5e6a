"""The ``cornerstore`` executable's entry point.

Loading the command line's modules takes a moment (Typer, pydantic, SQLAlchemy). Ctrl-C in that
moment, or in the instant before Click's own handling of it begins, would otherwise print
Python's traceback; here it ends the command with one line and the shell's usual code for an
interrupt (130). Ctrl-C while a command runs is Click's: "Aborted!" and exit code 1.
"""

import sys


def main() -> None:
    try:
        from cornerstore.cli.main import main as run_command

        run_command()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted; the command stopped\n")
        raise SystemExit(130) from None
