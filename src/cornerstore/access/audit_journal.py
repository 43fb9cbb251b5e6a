"""The audit journal: audit entries written ahead to a local append-only file, so that a read
is answered as soon as its entry is safe on disk, and the database gets the entries in batches
from a writer thread, off the request path.

Each process appends to a file of its own and holds an exclusive ``flock`` on it for as long
as it lives. Entries from concurrent requests are appended and ``fsync``\\ ed together (group
commit), and only then is any of those reads answered. A writer thread copies the entries into
the database every ``flush_seconds``, and empties the file once everything in it is stored.

A process that dies (SIGKILL, power cut) leaves its file behind, unlocked. The next process
to start over the same folder takes the lock of every file no one holds, stores the entries
that are not yet in the database (an entry already stored is recognised by its values, so
replaying twice stores nothing twice), and removes the file. A line torn by the crash was
never fsynced, so its read was never answered: it is skipped.
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import socket
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import orjson

log = logging.getLogger(__name__)

SUFFIX = ".jsonl"


def encode(entry: dict[str, Any]) -> bytes:
    """One journal line for an audit row (``at`` as ISO 8601)."""
    return orjson.dumps(entry) + b"\n"


def decode(line: bytes) -> dict[str, Any] | None:
    """The audit row of one journal line; None for a line torn by a crash."""
    try:
        entry = orjson.loads(line)
        entry["at"] = datetime.fromisoformat(entry["at"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
    return entry if isinstance(entry, dict) else None


class Journal:
    """This process's journal file in ``folder``, locked while open."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        stem = f"audit-{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"
        # Locked under a name recovery ignores, then renamed: no other process can take a
        # file it finds between our creating and our locking it.
        opening = folder / (stem + ".opening")
        self._file: IO[bytes] = open(opening, "ab")  # noqa: SIM115 - held for the process's life
        os.chmod(opening, 0o600)
        fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.path = folder / (stem + SUFFIX)
        opening.rename(self.path)

    def append(self, entries: Sequence[dict[str, Any]]) -> None:
        """Append ``entries`` and fsync: when this returns they survive a crash."""
        self._file.write(b"".join(encode(e) for e in entries))
        self._file.flush()
        os.fsync(self._file.fileno())

    def empty(self) -> None:
        """Forget every entry (all of them are in the database)."""
        self._file.truncate(0)
        self._file.seek(0)

    def close(self, *, remove: bool) -> None:
        if remove:
            self.path.unlink(missing_ok=True)
        self._file.close()


def orphaned_entries(folder: Path) -> Iterator[tuple[Path, list[dict[str, Any]]]]:
    """The entries of each journal in ``folder`` whose process is gone; each file is locked
    while its entries are handled and removed once the caller asks for the next one."""
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("audit-*" + SUFFIX)):
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed below, after its lock is used
        except FileNotFoundError:
            continue  # another process recovered it meanwhile
        try:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its process is alive
            if not path.exists():
                continue  # recovered and removed by another process before we locked it
            lines = handle.read().splitlines()
            entries = [e for e in map(decode, lines) if e is not None]
            if len(entries) < len(lines):
                log.warning(
                    "audit journal %s: %d torn line(s) skipped",
                    path.name,
                    len(lines) - len(entries),
                )
            yield path, entries
            path.unlink(missing_ok=True)
        finally:
            handle.close()
