"""The CLI starts without the heavy libraries: staff at a till should not wait for scipy.

Each check runs a fresh interpreter and looks at ``sys.modules``; no timings are asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cornerstore
from cornerstore.intake.service import Intake, Source
from cornerstore.settings import Settings
from cornerstore.storage.database import open_store
from tests.factories import identify

# The same cornerstore these tests import, whichever way it was installed.
SOURCE = Path(cornerstore.__file__).parents[1]
HEAVY = (
    "alembic",
    "duckdb",
    "fastapi",
    "jinja2",
    "numpy",
    "pandas",
    "polars",
    "pyarrow",
    "pyspark",
    "rapidfuzz",
    "scipy",
    "sklearn",
    "splink",
    "starlette",
    "uvicorn",
)


def heavy_modules_after(code: str) -> list[str]:
    """Run ``code`` in a new interpreter; the heavy top-level packages it imported."""
    probe = (
        f"{code}\nimport sys, json\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env=dict(os.environ, PYTHONPATH=str(SOURCE)),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_the_cli_imports_none_of_the_heavy_libraries() -> None:
    assert heavy_modules_after("import cornerstore.cli.main") == []


def test_showing_a_customer_imports_none_of_the_heavy_libraries(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'till.db'}"
    store = open_store(url, upgrade=True)
    Intake(store, Settings(database_url=url)).ingest(
        [identify("web-1", email="ann@example.com", firstName="Ann")],
        source=Source("web-shop", "web"),
    )
    store.dispose()
    command = ["customers", "show", "ann@example.com", "--db", url]

    imported = heavy_modules_after(
        "from cornerstore.cli.main import app\n"
        f"try:\n    app({command!r})\nexcept SystemExit as done:\n"
        "    assert done.code == 0, done.code"
    )

    assert imported == []


def test_merging_two_customers_by_hand_imports_none_of_the_heavy_libraries(
    tmp_path: Path,
) -> None:
    # Placement is told of the merge only once identity resolution was built for other work.
    url = f"sqlite:///{tmp_path / 'till.db'}"
    store = open_store(url, upgrade=True)
    Intake(store, Settings(database_url=url)).ingest(
        [
            identify(anonymous_id="web-a", email="ann@example.com"),
            identify(anonymous_id="till-b", phone="07700 900123"),
        ],
        source=Source("web-shop", "web"),
    )
    store.dispose()
    command = ["customers", "merge", "ann@example.com", "07700 900123", "--db", url]

    imported = heavy_modules_after(
        "from cornerstore.cli.main import app\n"
        f"try:\n    app({command!r})\nexcept SystemExit as done:\n"
        "    assert done.code == 0, done.code"
    )

    assert imported == []
