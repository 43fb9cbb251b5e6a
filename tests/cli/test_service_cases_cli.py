"""``cornerstore service import-mail`` and ``cornerstore service cases``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cornerstore.cli.main import app
from cornerstore.storage.database import open_store

runner = CliRunner()
MAIL = Path(__file__).parent.parent / "data" / "mail"


def _db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    open_store(url, upgrade=True).dispose()
    return url


def test_import_mail_then_list_the_cases_by_customer_and_status(tmp_path: Path) -> None:
    url = _db(tmp_path)

    first = runner.invoke(app, ["service", "import-mail", str(MAIL / "support.mbox"), "--db", url])
    again = runner.invoke(app, ["service", "import-mail", str(MAIL / "support.mbox"), "--db", url])
    listed = runner.invoke(
        app, ["service", "cases", "--customer", "ann@example.com", "--json", "--db", url]
    )
    table = runner.invoke(app, ["service", "cases", "--status", "open", "--db", url])

    assert first.exit_code == again.exit_code == listed.exit_code == table.exit_code == 0
    assert first.stdout.strip() == (
        "read 4, imported 4 (2 new cases, 2 into existing ones), already there 0, failed 0"
    )
    assert "imported 0" in again.stdout and "already there 4" in again.stdout
    [case] = json.loads(listed.stdout)
    assert (case["channel"], case["status"], case["subject"], case["message_count"]) == (
        "email",
        "open",
        "Parcel never arrived",
        3,
    )
    assert case["customer_id"] in table.stdout


def test_a_file_that_is_not_mail_is_named_and_the_rest_imported(tmp_path: Path) -> None:
    url = _db(tmp_path)

    result = runner.invoke(app, ["service", "import-mail", str(MAIL / "folder"), "--db", url])

    assert result.exit_code == 1
    assert result.stdout.startswith("read 3, imported 2")
    assert "03-garbage.eml: not an e-mail message (no sender address in From)" in result.stderr
    assert "Traceback" not in result.output


def test_bad_input_is_one_readable_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    url = _db(tmp_path)

    missing = runner.invoke(app, ["service", "import-mail", str(tmp_path / "none"), "--db", url])
    bad_status = runner.invoke(app, ["service", "cases", "--status", "lost", "--db", url])

    assert missing.exit_code != 0 and bad_status.exit_code != 0
    assert "no such file or folder" in missing.stderr
    assert (
        bad_status.stderr.strip() == "error: status: must be one of open, waiting, resolved, closed"
    )
