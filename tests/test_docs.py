"""Docs are tested: a command, setting or route missing from the docs fails here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer.main

from cornerstore.api.app import create_app
from cornerstore.cli.main import app as cli_app
from cornerstore.services import Services
from cornerstore.settings import (
    AccessRules,
    IdentityRules,
    IntakeLimits,
    LearnSettings,
    PrivacyPolicy,
    Settings,
)
from cornerstore.storage.database import open_store

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"


def command_paths(command: Any, prefix: str = "cornerstore") -> list[str]:
    # Typer may bring its own copy of click, so groups are known by their sub-commands.
    subcommands = getattr(command, "commands", None)
    if isinstance(subcommands, dict):
        paths = []
        for name, sub in subcommands.items():
            paths += command_paths(sub, f"{prefix} {name}")
        return paths
    return [prefix]


def test_every_cli_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    paths = command_paths(typer.main.get_command(cli_app))

    missing = [p for p in paths if f"`{p}" not in text]

    assert len(paths) >= 30  # the walk reached the sub-commands
    assert missing == []


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text()

    missing = [f"CORNERSTORE_{name.upper()}" for name in Settings.model_fields]
    missing = [m for m in missing if m not in text]
    missing += [f"`{n}`" for n in IntakeLimits.model_fields if f"`{n}`" not in text]
    missing += [f"`{n}`" for n in IdentityRules.model_fields if f"`{n}`" not in text]
    missing += [f"`{n}`" for n in PrivacyPolicy.model_fields if f"`{n}`" not in text]
    missing += [f"`{n}`" for n in LearnSettings.model_fields if f"`{n}`" not in text]
    missing += [f"`{n}`" for n in AccessRules.model_fields if f"`{n}`" not in text]

    assert missing == []


def test_every_route_is_documented(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'docs.db'}")
    app = create_app(settings, Services.build(settings, open_store(settings.database_url)))
    text = (DOCS / "api.md").read_text()
    # From the OpenAPI document: FastAPI keeps included routers as one entry in app.routes.
    routes = [
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    ]

    missing = [r for r in routes if r not in text]

    assert routes and missing == []


@pytest.mark.parametrize("command", ["make run", "make test"])
def test_the_readme_shows_the_two_set_up_commands(command: str) -> None:
    assert command in (ROOT / "README.md").read_text()


def test_ci_runs_the_readmes_test_command() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()
