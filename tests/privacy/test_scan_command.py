"""``cornerstore privacy scan`` reads stdin and prints one JSON object per line."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cornerstore.cli.main import app

runner = CliRunner()


def output_lines(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_scanning_text_reports_findings_and_redacted_lines() -> None:
    text = "hello\ncard 4111 1111 1111 1111 please\nDOB: 1985-03-12\n"

    result = runner.invoke(app, ["privacy", "scan"], input=text)

    assert result.exit_code == 0
    assert output_lines(result.stdout) == [
        {"line": 1, "findings": [], "redacted": "hello"},
        {
            "line": 2,
            "findings": [{"kind": "payment_card", "start": 5, "end": 24}],
            "redacted": "card [removed: payment card] please",
        },
        {
            "line": 3,
            "findings": [{"kind": "birth_date", "start": 5, "end": 15}],
            "redacted": "DOB: [removed: birth date]",
        },
    ]


def test_scanning_json_objects_reports_paths_and_keeps_going_after_a_bad_line() -> None:
    lines = [
        json.dumps({"traits": {"ssn": "123-45-6789", "note": "IBAN DE89370400440532013000"}}),
        "not json",
        "[1, 2]",
        json.dumps({"email": "a@example.com"}),
    ]

    result = runner.invoke(app, ["privacy", "scan", "--json-input"], input="\n".join(lines))

    assert result.exit_code == 0
    assert output_lines(result.stdout) == [
        {
            "line": 1,
            "findings": [
                {"kind": "national_id", "path": "traits.ssn", "action": "dropped"},
                {"kind": "iban", "path": "traits.note", "action": "redacted"},
            ],
            "redacted": {"traits": {"note": "IBAN [removed: IBAN]"}},
        },
        {"line": 2, "error": "not a JSON object"},
        {"line": 3, "error": "not a JSON object"},
        {"line": 4, "findings": [], "redacted": {"email": "a@example.com"}},
    ]


def test_a_line_nested_too_deep_is_reported_and_the_next_lines_are_still_scanned() -> None:
    deep = "[" * 10_000 + "]" * 10_000
    lines = [json.dumps({"note": "hi"}), deep, json.dumps({"a": [[1]]}), f'{{"a": {deep}}}']

    result = runner.invoke(app, ["privacy", "scan", "--json-input"], input="\n".join(lines))

    assert result.exit_code == 0
    assert output_lines(result.stdout) == [
        {"line": 1, "findings": [], "redacted": {"note": "hi"}},
        {"line": 2, "error": "nested too deep (limit 64)"},
        {"line": 3, "findings": [], "redacted": {"a": [[1]]}},
        {"line": 4, "error": "nested too deep (limit 64)"},
    ]
