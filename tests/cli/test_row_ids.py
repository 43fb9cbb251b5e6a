"""An id no database row can have (past 2**63 - 1, or below 1) is a usage error, not a crash."""

from __future__ import annotations

import pytest
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
