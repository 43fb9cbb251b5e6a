"""Work run in a forked child (``forked.run_forked``), as `identity resolve` scores its pairs:
the answer and progress come back, errors arrive as raised, a killed child is an error the
operator can read, and the memory the child took is not the parent's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from cornerstore.errors import InvalidInput
from cornerstore.identity.resolution.forked import ChildProcessFailed, forking_here, run_forked

pytestmark = pytest.mark.skipif(not forking_here(), reason="forks on Linux only")


def _leftovers() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("cornerstore-child-*")}


def test_the_childs_arrays_and_progress_come_back_in_order() -> None:
    said: list[str] = []

    def work(say):  # type: ignore[no-untyped-def]
        for k in range(3):
            say(f"step {k} in {os.getpid()}")
        return {"left": np.arange(5, dtype=np.int64), "weight": np.array([0.5, -1.25])}

    got = run_forked(work, said.append)
    assert got["left"].tolist() == [0, 1, 2, 3, 4]
    assert got["left"].dtype == np.int64
    assert got["weight"].tolist() == [0.5, -1.25]
    assert [line.split(" in ")[0] for line in said] == ["step 0", "step 1", "step 2"]
    assert {int(line.split(" in ")[1]) for line in said} != {os.getpid()}  # said by the child


def test_an_error_raised_in_the_child_is_raised_here_as_it_was() -> None:
    def work(say):  # type: ignore[no-untyped-def]
        raise InvalidInput("engine: not one of duckdb, spark")

    with pytest.raises(InvalidInput, match="engine: not one of duckdb, spark"):
        run_forked(work, lambda _line: None)


def test_an_error_that_cannot_travel_arrives_named_by_its_type() -> None:
    class Odd(Exception):
        def __init__(self) -> None:
            super().__init__("odd")
            self.lock = threading.Lock()  # cannot be pickled

    def work(say):  # type: ignore[no-untyped-def]
        raise Odd()

    with pytest.raises(RuntimeError, match="Odd: odd"):
        run_forked(work, lambda _line: None)


def test_a_child_killed_mid_work_is_an_error_saying_so_and_leaves_no_files() -> None:
    before = _leftovers()

    def work(say):  # type: ignore[no-untyped-def]
        # what the kernel does when memory runs out; a spill file written first
        Path(tempfile.mkdtemp(prefix="duckdb-spill-"), "spill").write_bytes(b"x" * 1000)
        say("about to die")
        os.kill(os.getpid(), signal.SIGKILL)
        return {}

    said: list[str] = []
    with pytest.raises(ChildProcessFailed, match=r"scoring stopped: .*killed \(SIGKILL\)"):
        run_forked(work, said.append, what="scoring")
    assert said == ["about to die"]
    assert _leftovers() == before


def test_the_memory_the_child_takes_is_never_the_parents() -> None:
    # In a fresh interpreter, whose high-water mark is its start-up: 400 MB written in the
    # child must leave the parent's peak resident memory where it was (run in process, the
    # peak would rise by the 400 MB even after they were freed).
    script = textwrap.dedent(
        """
        import resource
        import numpy as np
        from cornerstore.identity.resolution.forked import run_forked

        def work(say):
            big = np.ones(400 * 1024 * 1024 // 8)
            return {"total": np.array([big.sum()])}

        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        got = run_forked(work, lambda _line: None)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(int(got["total"][0]), (after - before) // 1024)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    assert int(out[0]) == 400 * 1024 * 1024 // 8
    assert int(out[1]) < 50  # MB the parent's peak rose by
