"""Library intake in instructions per event, counted by ``valgrind --tool=callgrind``: a figure
that the machine's load does not change, for comparing two versions of the code.

One run under callgrind prepares (import, a fresh SQLite database, the seed of ``--known``
customers, ``--events`` messages generated), then takes the messages in through
``Intake.ingest`` in batches of ``--batch``. Callgrind dumps its counts on each call of
``getppid``, which the run makes only just before and just after intake: the instructions of
the part between, divided by the events, are what intake costs an event (the commits' waits for
the disk are not instructions, so they are not in it). Hash seeds are fixed, so a rerun of the
same code counts within a fraction of a percent.

    python -m benchmarks.intake_instructions                   # 2,000 events
    python -m benchmarks.intake_instructions --events 2000 --keep
    callgrind_annotate benchmarks/results/intake-<pid>.callgrind.2 | head -60   # after --keep

Slow: callgrind runs Python about 50 times slower; about a minute of CPU to prepare, and as
much again for every 2,000 events.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from typing import Any

from benchmarks import workload
from benchmarks.common import RESULTS, console, fresh_database, machine, write_result

_TOTAL = re.compile(r"^(?:summary|totals): (\d+)", re.MULTILINE)


def _child(events: int, known: int, batch: int) -> None:
    """What the callgrind run executes: the preparation, then intake between two ``getppid``s."""
    from benchmarks.bench_intake import _intake, _source, seed

    people = workload.people(known)
    messages = workload.traffic(events, people, run="lib")
    with fresh_database(None, "instructions") as url:
        seed(url, people, batch)
        intake = _intake(url)
        chunks = workload.batches(messages, batch)
        os.getppid()  # callgrind dumps what came before
        for chunk in chunks:
            intake.ingest(chunk, source=_source())
        os.getppid()  # and what intake took
        intake.store.dispose()


def run(events: int, known: int, batch: int, keep: bool) -> dict[str, Any]:
    """Instructions an event of library intake, counted by one callgrind run of :func:`_child`."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"intake-{os.getpid()}.callgrind"
    command = [
        "valgrind",
        "--tool=callgrind",
        "--dump-before=getppid",
        f"--callgrind-out-file={out}",
        sys.executable,
        "-m",
        "benchmarks.intake_instructions",
        "--child",
        "--events",
        str(events),
        "--known",
        str(known),
        "--batch",
        str(batch),
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    # The parts: before intake, intake, after it (callgrind names the last without a number).
    parts = [out.with_name(f"{out.name}.1"), out.with_name(f"{out.name}.2"), out]
    if done.returncode != 0 or not all(part.exists() for part in parts):
        raise RuntimeError(f"callgrind run failed:\n{done.stderr[-2000:]}")
    counts = [int(_TOTAL.findall(part.read_text())[-1]) for part in parts]
    measured = parts[1]
    for part in parts:
        if part != measured or not keep:
            part.unlink()
    return {
        "machine": machine(),
        "options": {"events": events, "known": known, "batch": batch},
        "instructions_before": counts[0],
        "instructions_intake": counts[1],
        "instructions_after": counts[2],
        "instructions_per_event": round(counts[1] / events),
        "seconds": round(time.perf_counter() - started, 1),
        "callgrind_file": str(measured) if keep else None,
    }


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.intake_instructions",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--events", type=int, default=2_000, help="events (%(default)s)")
    p.add_argument("--known", type=int, default=2_000, help="known customers (%(default)s)")
    p.add_argument("--batch", type=int, default=100, help="messages a batch (%(default)s)")
    p.add_argument(
        "--keep", action="store_true", help="keep the callgrind files in benchmarks/results"
    )
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        _child(args.events, args.known, args.batch)
        return None
    result = run(args.events, args.known, args.batch, args.keep)
    console.print(
        f"intake: {result['instructions_per_event']:,} instructions an event "
        f"({args.events:,} events in batches of {args.batch}, {args.known:,} known customers; "
        f"{result['seconds']} s under callgrind)"
    )
    if result["callgrind_file"]:
        console.print(f"kept {result['callgrind_file']}")
    console.print(f"wrote {write_result('intake_instructions', result)}")
    return result


if __name__ == "__main__":
    main()
