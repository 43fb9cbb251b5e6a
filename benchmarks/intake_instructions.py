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
    python -m benchmarks.intake_instructions --stages          # and where they go, by stage
    callgrind_annotate benchmarks/results/intake-<pid>.callgrind.2 | head -60   # after --keep

``--stages`` also calls ``getppid`` as each stage of intake (the firewall, validation, the
identifier lookup, the inserts, the commit...) starts and ends, and charges each dump's
instructions to the stage that ran: where an event's instructions go, by stage, in one run
(a few hundred dumps; the placement worker thread's instructions land in whichever stage the
main thread was in). Instructions count what runs in the process, not the kernel's part: a
commit's writes and fsync are system time, so the commit weighs more in CPU time than here.

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
from pathlib import Path
from typing import Any

from benchmarks import workload
from benchmarks.common import RESULTS, console, fresh_database, machine, write_result

_TOTAL = re.compile(r"^(?:summary|totals): (\d+)", re.MULTILINE)


# The stages --stages tells apart: (module, owner in it or None, function, label). A stage
# called inside another is charged apart from it.
_STAGES = (
    ("cornerstore.intake.service", None, "scan_messages", "firewall (scan_messages)"),
    ("cornerstore.intake.service", "Intake", "parse", "validation (parse_message)"),
    ("cornerstore.intake.service", "Intake", "_new_messages", "identifiers, normalised"),
    ("cornerstore.storage.repositories", "EventRepository", "existing_message_ids",
     "messageId lookup (SQL)"),
    ("cornerstore.intake.service", "Intake", "_stitcher", "stitcher set-up (prefetch, locks)"),
    ("cornerstore.storage.repositories", "IdentifierRepository", "lookup",
     "identifier lookup (SQL)"),
    ("cornerstore.intake.batch_rows", "BatchRows", "write", "trait, member, consent inserts"),
    ("cornerstore.intake.batch_rows", None, "index_added_names", "name index"),
    ("cornerstore.storage.repositories", "EventRepository", "add_values", "event insert"),
    ("cornerstore.identity.stitching", "Stitcher", "flush", "profiles, identifiers, merges"),
    ("sqlalchemy.engine.default", "DefaultDialect", "do_commit", "commit"),
    ("cornerstore.intake.service", "Intake", "_hand_over", "hand-over to placement"),
    ("cornerstore.intake.service", "Intake", "_store",
     "stitching and event rows a message, transaction"),
    ("cornerstore.intake.service", "Intake", "ingest", "ingest, the rest"),
)  # fmt: skip


def _mark_stages(labels: list[str]) -> None:
    """Make each stage of :data:`_STAGES` call ``getppid`` as it starts and ends, noting in
    ``labels`` the stage each interval between two calls belongs to."""
    import functools
    import importlib

    running = ["between batches"]
    for module_name, owner_name, name, label in _STAGES:
        module = importlib.import_module(module_name)
        owner = module if owner_name is None else getattr(module, owner_name)
        stage = getattr(owner, name)

        def marked(*args: Any, _stage: Any = stage, _label: str = label, **kwargs: Any) -> Any:
            labels.append(running[-1])
            os.getppid()
            running.append(_label)
            try:
                return _stage(*args, **kwargs)
            finally:
                labels.append(running.pop())
                os.getppid()

        setattr(owner, name, functools.wraps(stage)(marked))


def _child(events: int, known: int, batch: int, labels_file: str | None) -> None:
    """What the callgrind run executes: the preparation, then intake between two ``getppid``s
    (and, with ``labels_file``, at each stage's start and end)."""
    from benchmarks.bench_intake import _intake, _source, seed

    people = workload.people(known)
    messages = workload.traffic(events, people, run="lib")
    labels: list[str] = []
    with fresh_database(None, "instructions") as url:
        seed(url, people, batch)
        intake = _intake(url)
        chunks = workload.batches(messages, batch)
        if labels_file:
            _mark_stages(labels)
        os.getppid()  # callgrind dumps what came before
        for chunk in chunks:
            intake.ingest(chunk, source=_source())
        labels.append("between batches")
        os.getppid()  # and what intake took
        intake.store.dispose()
    if labels_file:
        Path(labels_file).write_text("\n".join(labels))


def run(events: int, known: int, batch: int, keep: bool, stages: bool = False) -> dict[str, Any]:
    """Instructions an event of library intake, counted by one callgrind run of :func:`_child`;
    with ``stages``, also by stage."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"intake-{os.getpid()}.callgrind"
    labels_file = RESULTS / f"intake-{os.getpid()}.stages"
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
        *(["--labels", str(labels_file)] if stages else []),
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"callgrind run failed:\n{done.stderr[-2000:]}")
    # The parts: before intake, intake (one part a stage interval with --stages), after it
    # (callgrind names the last without a number).
    labels = labels_file.read_text().split("\n") if stages else ["intake"]
    labels_file.unlink(missing_ok=True)
    parts = [out.with_name(f"{out.name}.{i}") for i in range(1, len(labels) + 2)] + [out]
    if not all(part.exists() for part in parts):
        raise RuntimeError(f"callgrind run failed:\n{done.stderr[-2000:]}")
    counts = [int(_TOTAL.findall(part.read_text())[-1]) for part in parts]
    by_stage: dict[str, int] = {}
    for label, count in zip(labels, counts[1:-1], strict=True):
        by_stage[label] = by_stage.get(label, 0) + count
    intake_count = sum(counts[1:-1])
    measured = parts[1]
    for part in parts:
        if part != measured or not keep or stages:
            part.unlink()
    counts = [counts[0], intake_count, counts[-1]]
    return {
        "machine": machine(),
        "options": {"events": events, "known": known, "batch": batch},
        "instructions_before": counts[0],
        "instructions_intake": counts[1],
        "instructions_after": counts[2],
        "instructions_per_event": round(counts[1] / events),
        "seconds": round(time.perf_counter() - started, 1),
        "callgrind_file": str(measured) if keep and not stages else None,
        "stages_per_event": {
            label: round(count / events)
            for label, count in sorted(by_stage.items(), key=lambda item: -item[1])
        }
        if stages
        else None,
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
    p.add_argument(
        "--stages", action="store_true", help="also count the instructions of each stage"
    )
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--labels", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        _child(args.events, args.known, args.batch, args.labels)
        return None
    result = run(args.events, args.known, args.batch, args.keep, args.stages)
    console.print(
        f"intake: {result['instructions_per_event']:,} instructions an event "
        f"({args.events:,} events in batches of {args.batch}, {args.known:,} known customers; "
        f"{result['seconds']} s under callgrind)"
    )
    for label, count in (result["stages_per_event"] or {}).items():
        share = count / result["instructions_per_event"]
        console.print(f"  {label:<50} {count:>9,} {share:6.1%}")
    if result["callgrind_file"]:
        console.print(f"kept {result['callgrind_file']}")
    console.print(f"wrote {write_result('intake_instructions', result)}")
    return result


if __name__ == "__main__":
    main()
