"""How long a CLI command takes from the shell: wall and CPU time of whole processes.

Staff at a till run ``cornerstore customers show``; the target is a median of at most 0.5 s wall
on the demo database. Each command runs ``--runs`` times as a new process (after one warm-up
run that fills the disk cache), exactly as the ``cornerstore`` script starts it. Two peers run
in the same way and set the floor: the bare interpreter, and importing only the libraries every
command needs (Typer, Rich, SQLAlchemy, pydantic-settings). CPU time (user + system of the
child) is reported next to wall time, because on a busy machine wall time also counts waiting
for a core.

The demo database (``cornerstore demo --customers 2000 --seed 0``, what ``make run`` loads) is
built once under ``benchmarks/.cache/`` and reused; ``--db`` points at another one. ``--source``
measures another checkout's ``src`` folder with the same interpreter (before and after a change).

    python -m benchmarks.bench_cli_startup
    python -m benchmarks.bench_cli_startup --runs 20 --db sqlite:////srv/shop/cornerstore.db
    python -m benchmarks.bench_cli_startup --source /tmp/older-checkout/src
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import CACHE, console, machine, print_table, write_result

ROOT = Path(__file__).parents[1]
TARGET_SHOW_S = 0.5
# What the ``cornerstore`` console script runs.
ENTRY = "import sys; from cornerstore.cli.main import main; sys.exit(main())"
FLOOR = "import typer, rich.console, sqlalchemy, pydantic_settings"


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one process; it must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[3:]) or argv}: exit {done.returncode}\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def demo_database(customers: int) -> str:
    """The demo business as ``make run`` loads it, built once and kept in the cache."""
    path = CACHE / f"cli-startup-demo-{customers}.db"
    url = f"sqlite:///{path}"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        console.print(f"building the demo database ({customers} customers) at {path} ...")
        subprocess.run(
            [sys.executable, "-c", ENTRY, "demo", "--customers", str(customers), "--db", url],
            check=True,
            capture_output=True,
        )
    return url


def a_person(url: str) -> str:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        row = conn.execute(
            "SELECT id FROM customers WHERE kind = 'person' AND root_id = id ORDER BY id"
        ).fetchone()
    if row is None:
        raise SystemExit(f"{url}: no customers (run `cornerstore demo --db {url}`)")
    return str(row[0])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    opts = parse(argv)
    url = opts.db or demo_database(opts.customers)
    person = a_person(url)
    env = dict(os.environ, PYTHONPATH=str(opts.source), CORNERSTORE_DATABASE_URL=url)
    python = [sys.executable]
    cases: list[tuple[str, list[str]]] = [
        ("peer: python -c pass", [*python, "-c", "pass"]),
        ("peer: import typer, rich, sqlalchemy, pydantic-settings", [*python, "-c", FLOOR]),
        ("import cornerstore.cli.main", [*python, "-c", "import cornerstore.cli.main"]),
        ("cornerstore --help", [*python, "-c", ENTRY, "--help"]),
        ("cornerstore db current", [*python, "-c", ENTRY, "db", "current"]),
        ("cornerstore keys list", [*python, "-c", ENTRY, "keys", "list"]),
        ("cornerstore customers show <id>", [*python, "-c", ENTRY, "customers", "show", person]),
        (
            "cornerstore customers timeline <id>",
            [*python, "-c", ENTRY, "customers", "timeline", person],
        ),
    ]
    rows = []
    for name, command in cases:
        timed(command, env)
        runs = [timed(command, env) for _ in range(opts.runs)]
        walls = [w for w, _ in runs]
        cpus = [c for _, c in runs]
        rows.append(
            {
                "command": name,
                "runs": opts.runs,
                "wall_median_s": round(statistics.median(walls), 3),
                "wall_min_s": round(min(walls), 3),
                "cpu_median_s": round(statistics.median(cpus), 3),
            }
        )
    print_table(
        f"CLI commands as new processes ({opts.runs} runs each, src {opts.source})",
        ["command", "wall median s", "wall min s", "CPU median s"],
        [[r["command"], r["wall_median_s"], r["wall_min_s"], r["cpu_median_s"]] for r in rows],
    )
    show = next(r for r in rows if r["command"] == "cornerstore customers show <id>")
    result = {
        "machine": machine(),
        "database": url,
        "source": str(opts.source),
        "commands": rows,
        "targets": [
            {
                "name": "cornerstore customers show, median wall s",
                "target": TARGET_SHOW_S,
                "measured": show["wall_median_s"],
                "ratio": round(TARGET_SHOW_S / show["wall_median_s"], 3),
                "pass": show["wall_median_s"] <= TARGET_SHOW_S,
            }
        ],
    }
    path = write_result("cli_startup", result)
    console.print(f"wrote {path}")
    return result


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_cli_startup",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--runs", type=int, default=10, help="runs of each command (%(default)s)")
    p.add_argument("--db", help="database to run on (default: the cached demo database)")
    p.add_argument(
        "--customers", type=int, default=2000, help="size of the demo database (%(default)s)"
    )
    p.add_argument(
        "--source",
        type=Path,
        default=ROOT / "src",
        help="the src folder whose cornerstore is measured (default: this checkout's)",
    )
    return p.parse_args(argv)


if __name__ == "__main__":
    main()
