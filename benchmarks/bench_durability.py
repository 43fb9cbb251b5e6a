"""What surviving a power cut costs SQLite intake: ``synchronous=FULL`` (the WAL fsynced at every
commit) next to ``NORMAL`` (fsynced only at checkpoints: a process crash loses nothing, a power
cut can lose the last acknowledged commits).

Library intake (``Intake.ingest``, batches of 100, seeded Spec traffic) into two SQLite files,
one per mode, from 1 thread and from 4 threads (whose batches share commits: group commit).
Rounds alternate between the modes, so a machine whose load drifts (it is shared) moves both
alike. Prints events/s per mode and the ratio; writes ``results/durability.json``.

    .venv/bin/python -m benchmarks.bench_durability
    .venv/bin/python -m benchmarks.bench_durability --rounds 2 --batches 20
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchmarks import workload
from benchmarks.common import machine, print_table, scratch_dir, write_result

MODES = ("NORMAL", "FULL")


def _intake(url: str, synchronous: str) -> Any:
    from cornerstore.services import Services
    from cornerstore.settings import Settings
    from cornerstore.storage import open_store

    settings = Settings(_env_file=None, database_url=url)
    return Services.build(settings, open_store(url, upgrade=True, synchronous=synchronous)).intake


def _ingest(intake: Any, batches: list[list[dict[str, Any]]], threads: int) -> float:
    from cornerstore.intake.service import Source

    source = Source("bench", "web")
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for result in pool.map(lambda b: intake.ingest(b, source=source), batches):
            assert not result.rejected, result.rejected[:3]
    return time.perf_counter() - started


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=4, help="alternations of the modes (4)")
    p.add_argument("--batches", type=int, default=50, help="batches of 100 a round (50)")
    p.add_argument("--known", type=int, default=5000, help="known customers (5,000)")
    args = p.parse_args()
    known = workload.people(args.known)
    results: list[dict[str, Any]] = []
    with scratch_dir("durability") as folder:
        for threads in (1, 4):
            intakes = {}
            for mode in MODES:
                url = f"sqlite:///{folder / f'{mode}-{threads}.db'}"
                intakes[mode] = _intake(url, mode)
                for chunk in workload.batches(workload.seed_messages(known), 500):
                    intakes[mode].ingest(chunk, source=_seed_source())
            seconds = dict.fromkeys(MODES, 0.0)
            events = 0
            for r in range(args.rounds):
                messages = workload.traffic(
                    args.batches * 100, known, run=f"t{threads}r{r}", seed=r
                )
                batches = workload.batches(messages, 100)
                events += len(messages)
                for mode in MODES if r % 2 == 0 else reversed(MODES):
                    seconds[mode] += _ingest(intakes[mode], batches, threads)
            for intake in intakes.values():
                intake.store.dispose()
            rates = {mode: round(events / seconds[mode], 1) for mode in MODES}
            results.append(
                {
                    "threads": threads,
                    "events": events,
                    "events_per_s": rates,
                    "full_over_normal": round(rates["FULL"] / rates["NORMAL"], 3),
                }
            )
    info = machine()
    print_table(
        f"SQLite intake, synchronous NORMAL vs FULL (load average {info['load_average_1m']})",
        ["threads", "events", "NORMAL ev/s", "FULL ev/s", "FULL / NORMAL"],
        [
            [
                r["threads"],
                r["events"],
                r["events_per_s"]["NORMAL"],
                r["events_per_s"]["FULL"],
                r["full_over_normal"],
            ]
            for r in results
        ],
    )
    print(f"written {write_result('durability', {'machine': info, 'runs': results})}")


def _seed_source() -> Any:
    from cornerstore.intake.service import Source

    return Source("seed", "store")


if __name__ == "__main__":
    main()
