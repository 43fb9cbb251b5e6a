"""Work run in a forked child process, so that the memory it took goes back to the system
when it ends.

Scoring ten million customers' candidate pairs on DuckDB took about 10 GB, and the process
kept 15 GB resident after the database was closed and collected: memory freed but kept by the
allocators (DuckDB's, Arrow's, the C library's), which the kernel then counted against the
clustering that followed, until it killed the run. A child process gives all of it back when
it exits, whichever allocator held it. The child is forked, so it reads the parent's records
without a copy (pages are shared until written; the parent froze its objects out of the
collector, so collections in the child do not write to them), and it hands back only numpy
arrays, through a file in a directory the parent owns and removes whatever happens.

Forking is used where it is safe and cheap: on Linux. Elsewhere (macOS forks badly with system
libraries loaded, Windows cannot) the work runs in the process, as before.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import pickle
import signal
import sys
import tempfile
from collections.abc import Callable
from multiprocessing.connection import Connection

import numpy as np

from cornerstore.errors import CornerstoreError

Say = Callable[[str], None]
Work = Callable[[Say], dict[str, np.ndarray]]

_PR_SET_PDEATHSIG = 1


class ChildProcessFailed(CornerstoreError):
    """The child process ended without an answer: killed (by the kernel when memory ran out,
    or by an operator) or crashed."""

    code = "child_process_failed"
    status = 500


def forking_here() -> bool:
    """Whether :func:`run_forked` forks on this system (Linux), or runs the work in process."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def run_forked(work: Work, say: Say, *, what: str = "the work") -> dict[str, np.ndarray]:
    """``work(say)`` run in a forked child process: its arrays, its progress lines relayed to
    ``say`` as they come, and its error raised here as it was raised there.

    ``what`` names the work in the error when the child ends without an answer. In process
    where forking is not used (:func:`forking_here`).
    """
    if not forking_here():
        return work(say)
    context = multiprocessing.get_context("fork")
    with tempfile.TemporaryDirectory(prefix="cornerstore-child-") as workdir:
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_child, args=(work, send, workdir), daemon=True)
        child.start()
        send.close()  # the child holds the only writing end: its exit ends the reading below
        try:
            outcome = _relay(receive, say)
            child.join()
        finally:
            receive.close()
            if child.is_alive():  # the parent was interrupted: the child stops with it
                child.kill()
                child.join()
        if isinstance(outcome, BaseException):
            raise outcome
        if outcome is None or child.exitcode != 0:
            raise ChildProcessFailed(f"{what} stopped: {_ending(child.exitcode)}")
        return {name: np.load(_array_file(workdir, name)) for name in outcome}


def _relay(receive: Connection, say: Say) -> BaseException | list[str] | None:
    """Pass the child's progress lines to ``say`` until it answers (the names of its arrays,
    or its error), or ends without an answer (None)."""
    while True:
        try:
            kind, value = receive.recv()
        except EOFError:
            return None
        if kind == "say":
            say(value)
        else:
            return value


def _array_file(workdir: str, name: str) -> str:
    return os.path.join(workdir, f"{name}.npy")


def _ending(exitcode: int | None) -> str:
    """Why a child ended without an answer, in words."""
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name
        if -exitcode == signal.SIGKILL:
            return f"its process was killed ({name}), most often by the kernel when memory ran out"
        return f"its process was ended by {name}"
    return f"its process exited with status {exitcode} without an answer"


def _child(work: Work, send: Connection, workdir: str) -> None:
    """In the child: run ``work``, write its arrays into ``workdir`` and send their names, or
    send its error. Temporary files (DuckDB's spill) go there too: the parent removes it."""
    _die_with_parent()
    tempfile.tempdir = workdir
    try:
        arrays = work(lambda line: send.send(("say", line)))
        for name, array in arrays.items():
            np.save(_array_file(workdir, name), array, allow_pickle=False)
        send.send(("arrays", list(arrays)))
    except BaseException as error:  # every error goes to the parent, which raises it
        send.send(("error", _sendable(error)))
    finally:
        send.close()


def _sendable(error: BaseException) -> BaseException:
    """``error`` itself when it survives pickling, else a RuntimeError naming its type (with
    its message: errors raised on purpose never hold a customer's value)."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:  # an error carrying what cannot be pickled
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


def _die_with_parent() -> None:
    """Ask the kernel to kill this child when its parent dies (Linux's ``PR_SET_PDEATHSIG``):
    a parent killed mid-run must not leave the child scoring for an hour."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux's C library: the pipe still ends the child
        return
    if os.getppid() == 1:  # the parent died before the request took effect
        os._exit(1)
