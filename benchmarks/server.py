"""Run the API the way ``cornerstore serve`` does (uvicorn, its standard uvloop + httptools stack)
in a subprocess, so the load generator never shares an interpreter with the server.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

# The process-group leader of each server this module started, by base URL.
_LEADERS: dict[str, int] = {}


def server_cpu_seconds(base: str) -> float:
    """User plus system CPU seconds so far of the server at ``base`` and its worker processes
    (every process of its session), read from ``/proc``."""
    leader = _LEADERS[base]
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        # After the command: state ppid pgrp session ... utime (12th) stime (13th).
        if int(fields[3]) == leader:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def database_cpu_seconds(database_url: str, application: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend whose connection was opened with
    ``application_name`` ``application``, by process id, read from ``/proc`` (the server
    runs on this machine). The servers the benchmarks start name their connections so."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url.split("?")[0])
    try:
        with engine.connect() as conn:
            pids = list(
                conn.execute(
                    text("SELECT pid FROM pg_stat_activity WHERE application_name = :a"),
                    {"a": application},
                ).scalars()
            )
    finally:
        engine.dispose()
    return {pid: cpu for pid in pids if (cpu := _process_cpu(pid)) is not None}


def _process_cpu(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # ended meanwhile
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def uvicorn_server(
    database_url: str,
    *,
    workers: int = 1,
    log_dir: Path,
    env: dict[str, str] | None = None,
    ready_timeout: float = 60.0,
) -> Iterator[str]:
    """Serve ``cornerstore.api.asgi:app`` over ``database_url``; yield its base URL.

    The process runs in its own session so that stopping it also stops its worker processes.
    Its working directory is ``log_dir``, so a developer's ``.env`` cannot change the settings.
    """
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "cornerstore.api.asgi:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    child_env = {**os.environ, "CORNERSTORE_DATABASE_URL": database_url, **(env or {})}
    log_path = log_dir / f"uvicorn-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            env=child_env,
            cwd=log_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    _LEADERS[base] = proc.pid
    try:
        _wait_ready(base, proc, workers, ready_timeout, log_path)
        yield base
    finally:
        _stop(proc)
        del _LEADERS[base]


def _wait_ready(
    base: str, proc: subprocess.Popen[bytes], workers: int, timeout: float, log_path: Path
) -> None:
    deadline = time.monotonic() + timeout
    ok = 0
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited early:\n{log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                ok += 1
                # With several workers give each a moment to finish importing the app.
                if ok >= 2 * workers:
                    return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"uvicorn did not become ready:\n{log_path.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
    except ProcessLookupError:
        pass
