"""Dependencies point inwards: the domain never imports a web framework, the CLI or SQLAlchemy."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "cornerstore"
DOMAIN = ["intake", "identity", "profiles", "access", "demo", "privacy", "learn", "suggest"]
SHELLS = ("fastapi", "starlette", "typer", "rich", "uvicorn", "jinja2", "sqlalchemy", "alembic")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", DOMAIN)
def test_domain_packages_import_no_framework_cli_or_sql_library(package: str) -> None:
    offenders = {
        f"{path.relative_to(SRC)}: {name}"
        for path in (SRC / package).rglob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] in SHELLS or name.startswith(("cornerstore.api", "cornerstore.cli"))
    }

    assert offenders == set()


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
