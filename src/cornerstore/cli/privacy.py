"""``cornerstore privacy``: find sensitive values (cards, bank details, national IDs, birthdays)."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

from cornerstore.cli.common import handle_errors
from cornerstore.errors import InvalidInput
from cornerstore.privacy.detect import find, redact, scan_mapping

app = typer.Typer(help="Sensitive-data detection", no_args_is_help=True)


def _scan_text_line(number: int, line: str) -> dict[str, Any]:
    findings = find(line)
    return {
        "line": number,
        "findings": [{"kind": f.kind, "start": f.start, "end": f.end} for f in findings],
        "redacted": redact(line, findings),
    }


def _scan_json_line(number: int, line: str) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except ValueError:
        obj = None
    if not isinstance(obj, dict):
        return {"line": number, "error": "not a JSON object"}
    redacted, findings = scan_mapping(obj)
    return {
        "line": number,
        "findings": [{"kind": f.kind, "path": f.path} for f in findings],
        "redacted": redacted,
    }


@app.command("scan")
@handle_errors
def scan(
    json_input: bool = typer.Option(
        False, "--json-input", help="Each line is a JSON object: scan field names and values"
    ),
) -> None:
    """Read stdin line by line; print one JSON object per line with findings and redacted text."""
    scan_line = _scan_json_line if json_input else _scan_text_line
    try:
        for number, raw in enumerate(sys.stdin, start=1):
            line = raw.rstrip("\r\n")
            if json_input and not line.strip():
                continue
            sys.stdout.write(json.dumps(scan_line(number, line), ensure_ascii=False) + "\n")
    except (OSError, UnicodeDecodeError):
        raise InvalidInput("standard input could not be read as UTF-8 text") from None
