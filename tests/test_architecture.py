"""Importing cornerstore stays cheap. Which package may import which is checked by the
import-linter contracts in pyproject.toml (`lint-imports`, run by `make lint` and `make test`)."""

from __future__ import annotations

import subprocess
import sys


def test_importing_cornerstore_loads_no_heavy_or_web_dependency() -> None:
    code = (
        "import sys, cornerstore; "
        "print(sorted(m for m in ('fastapi','typer','polars','uvicorn','sqlalchemy') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"
