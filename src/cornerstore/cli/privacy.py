"""``cornerstore privacy``: find sensitive values (cards, bank details, national IDs, birthdays),
see what the firewall removed, and apply event retention."""

from __future__ import annotations

import sys
from typing import Any

import typer
from rich.table import Table

from cornerstore.cli.common import Invocation, out, print_json, shared_options, when
from cornerstore.errors import InvalidInput
from cornerstore.json_input import TooDeep, UnreadableJson, read_json
from cornerstore.privacy.detect import find, redact, scan_mapping

app = typer.Typer(
    help="Sensitive-data detection, the firewall's record, retention", no_args_is_help=True
)


def _scan_text_line(number: int, line: str) -> dict[str, Any]:
    findings = find(line)
    return {
        "line": number,
        "findings": [{"kind": f.kind, "start": f.start, "end": f.end} for f in findings],
        "redacted": redact(line, findings),
    }


def _scan_json_line(number: int, line: str) -> dict[str, Any]:
    try:
        obj = read_json(line.encode())
        if not isinstance(obj, dict):
            return {"line": number, "error": "not a JSON object"}
        redacted, findings = scan_mapping(obj)
    except TooDeep as exc:
        return {"line": number, "error": exc.message}
    except UnreadableJson:
        return {"line": number, "error": "not a JSON object"}
    return {
        "line": number,
        "findings": [{"kind": f.kind, "path": f.path, "action": f.action} for f in findings],
        "redacted": redacted,
    }


@app.command("scan")
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
            print_json(scan_line(number, line))
    except BrokenPipeError:
        # The reader of stdout went away (`| head`): the command's own ending, not bad input.
        raise
    except (OSError, UnicodeDecodeError):
        raise InvalidInput("standard input could not be read as UTF-8 text") from None


@app.command("events")
@shared_options("json", "db")
def events(
    run: Invocation,
    kind: str | None = typer.Option(None, help="Only this kind (payment_card, secret, ...)"),
    limit: int = typer.Option(100, min=1, max=1000),
) -> None:
    """What the firewall removed, newest first: kind, field, entrance, never the value."""
    with run.services() as s:
        found = s.privacy_log.recent(run.caller(s), limit=limit, kind=kind)
    if run.json:
        print_json(found)
        return
    table = Table("when", "entrance", "source", "field", "kind", "action")
    for e in found:
        table.add_row(when(e.at), e.entrance, e.source, e.field, e.kind, e.action)
    out.print(table)


@app.command("retention")
@shared_options("json", "db")
def retention(
    run: Invocation,
    apply: bool = typer.Option(False, "--apply", help="Remove the events (default: only show)"),
) -> None:
    """Show the events older than their type's maximum age (settings: privacy.retention);
    with --apply, remove them."""
    with run.services() as s:
        lines = s.retention.apply(run.caller(s)) if apply else s.retention.plan()
    if run.json:
        print_json(lines)
        return
    if not lines:
        out.print("no retention set: every event is kept (see CORNERSTORE_PRIVACY retention)")
        return
    verb = "removed" if apply else "would remove"
    table = Table("event type", "max age", "older than", f"events {verb}")
    for line in lines:
        table.add_row(line.event_type, line.max_age, when(line.cutoff), str(line.events))
    out.print(table)
    if not apply and any(line.events for line in lines):
        out.print("run with --apply to remove them")
