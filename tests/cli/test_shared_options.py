"""The options every command shares, and errors mapped once by the ``cornerstore`` command."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cornerstore.cli.main import app
from cornerstore.profiles.service import Profiles
from cornerstore.storage.database import open_store

runner = CliRunner()

# Commands that read or change stored customers outside the ``customers`` group.
CUSTOMER_COMMANDS_ELSEWHERE = [
    ("identity", "learn"),
    ("identity", "resolve"),
    ("identity", "review"),
    ("identity", "decide"),
    ("identity", "explain-profiles"),
    ("identity", "place"),
    ("segments", "members"),
]


def _options(*path: str) -> set[str]:
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    return {opt for param in command.params for opt in param.opts}


def test_every_command_that_reads_or_changes_a_customer_takes_as_and_reason() -> None:
    group = typer.main.get_command(app).commands["customers"]  # type: ignore[attr-defined]
    paths = [("customers", name) for name in group.commands] + CUSTOMER_COMMANDS_ELSEWHERE

    missing = [path for path in paths if not {"--as", "--reason", "--db"} <= _options(*path)]

    assert len(paths) > 15
    assert missing == []


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    open_store(url, upgrade=True).dispose()
    return url


def test_an_unexpected_error_is_one_line_naming_only_its_type(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("ann@example.com was in the way")

    monkeypatch.setattr(Profiles, "get", broken)

    result = runner.invoke(app, ["customers", "show", "ann@example.com", "--db", db])

    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "",
        "error: unexpected RuntimeError; the command stopped\n",
    )


def test_a_usage_error_keeps_typers_exit_code_and_names_the_option(db: str) -> None:
    result = runner.invoke(app, ["customers", "search", "ann", "--limit", "0", "--db", db])

    assert result.exit_code == 2
    assert "--limit" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["customers", "search", "ann", "--limit", "ann.smith@example.com"],
        ["customers", "search", "ann", "--limit=ann.smith@example.com"],
        ["identity", "dedupe", "f.csv", "--engine", "ann.smith@example.com"],
        ["customers", "search", "--no-such-option", "ann"],
    ],
)
def test_a_usage_error_is_one_line_that_names_the_command_and_never_the_value(
    command: list[str],
) -> None:
    result = runner.invoke(app, command)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: cornerstore {command[0]} {command[1]}: ")
    assert result.stderr.count("\n") == 1
    assert "ann.smith@example.com" not in result.stderr
    assert result.stderr.rstrip().endswith("(see --help)")
