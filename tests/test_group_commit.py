"""Group commit: concurrent batches share transactions, and one bad batch fails alone."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from cornerstore.group_commit import GroupCommitter


def test_every_job_submitted_from_many_threads_is_written_exactly_once() -> None:
    written: list[int] = []
    groups: list[int] = []
    lock = threading.Lock()

    def write(jobs: Sequence[int]) -> None:
        with lock:
            written.extend(jobs)
            groups.append(len(jobs))

    committer = GroupCommitter(write, max_size=50)
    threads = [
        threading.Thread(target=lambda i=i: [committer.submit(i * 100 + k, 1) for k in range(100)])
        for i in range(8)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=30)

    assert sorted(written) == [i * 100 + k for i in range(8) for k in range(100)]
    assert max(groups) <= 50


def test_a_failing_job_raises_for_its_caller_only() -> None:
    barrier = threading.Barrier(4)
    results: dict[int, str] = {}

    def write(jobs: Sequence[int]) -> None:
        if 13 in jobs:
            raise ValueError("bad batch")

    committer = GroupCommitter(write)

    def send(job: int) -> None:
        barrier.wait()
        try:
            committer.submit(job, 1)
            results[job] = "ok"
        except ValueError:
            results[job] = "failed"

    threads = [threading.Thread(target=send, args=(job,)) for job in (11, 12, 13, 14)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=30)

    assert results == {11: "ok", 12: "ok", 13: "failed", 14: "ok"}


def test_a_single_caller_gets_its_own_error() -> None:
    def write(jobs: Sequence[int]) -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        GroupCommitter(write).submit(1, 1)
