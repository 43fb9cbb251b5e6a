"""An id no database row can have (past 2**63 - 1, or below 1) is a usage error, not a crash."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from cornerstore.cli.main import app

runner = CliRunner()
PAST_THE_LARGEST = str(2**63)


@pytest.mark.parametrize(
    "command",
    [
        ["identity", "decide", PAST_THE_LARGEST, "--accept"],
        ["identity", "decide", "0", "--reject"],
        ["keys", "revoke", PAST_THE_LARGEST],
        ["tokens", "revoke", PAST_THE_LARGEST],
    ],
)
def test_an_id_no_row_can_have_is_refused_before_the_database_is_asked(
    command: list[str],
) -> None:
    result = runner.invoke(app, command)

    assert result.exit_code == 2
    assert "Invalid value for" in result.stderr
    assert "unexpected" not in result.stderr
    assert not isinstance(result.exception, OverflowError)


@pytest.mark.parametrize(
    "command",
    [
        ["campaigns", "audience", PAST_THE_LARGEST],
        ["campaigns", "preview", PAST_THE_LARGEST, "someone"],
        ["campaigns", "send", PAST_THE_LARGEST],
        ["campaigns", "recipients", PAST_THE_LARGEST],
        ["campaigns", "results", "0"],
        ["actions", "--segment", "regulars", "--limit", PAST_THE_LARGEST],
        ["suggest", "show", "someone", "-n", PAST_THE_LARGEST],
        ["suggest", "evaluate", "f.csv", "--split-date", "2024-01-01", "--k", "0"],
        ["demo", "--seed", "-1"],
        ["identity", "train", "f.csv", "--seed", PAST_THE_LARGEST],
        ["serve", "--port", "70000"],
        ["serve", "--workers", "0"],
        ["clv", "predict", "--transactions", "f.csv", "--output", "o.csv", "--horizon", "inf"],
    ],
)
def test_a_number_out_of_range_is_a_usage_error_naming_the_option(command: list[str]) -> None:
    result = runner.invoke(app, command)

    assert result.exit_code == 2
    assert "Invalid value for" in result.stderr
    assert "unexpected" not in result.stderr


def _commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if hasattr(group, "commands"):
        for name, command in group.commands.items():
            yield from _commands(command, (*path, name))
    else:
        yield path


ROOT = typer.main.get_command(app)


def _command(path: tuple[str, ...]) -> Any:
    command: Any = ROOT
    for name in path:
        command = command.commands[name]
    return command


@pytest.mark.parametrize("path", list(_commands(ROOT)), ids=" ".join)
def test_every_integer_a_command_takes_is_bounded_to_what_a_database_can_hold(
    path: tuple[str, ...],
) -> None:
    for param in _command(path).params:
        if param.type_descriptor.annotation is int:
            assert param.min is not None and param.min >= 0, param.name
            assert param.max is not None and param.max <= 2**63 - 1, param.name


def test_unmerging_a_merge_id_past_the_largest_answers_no_such_merge(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    assert runner.invoke(app, ["db", "upgrade", "--db", db]).exit_code == 0

    result = runner.invoke(app, ["customers", "unmerge", PAST_THE_LARGEST, "--db", db])

    assert result.exit_code == 1
    assert result.stderr.strip() == "error: merge: no such merge"
