"""Read the sections of a busy page side by side, each within its own time budget.

Each section is one bounded service call (a page of the timeline, the latest scores). They run
in parallel worker threads; a section still running when its budget is spent is shown as
"unavailable" and the page goes out without it, so one slow query never slows the whole page.
The section's read is stopped too, not left to run: its statements run under
:meth:`~cornerstore.storage.database.Store.time_limit`, so the database abandons the one running
when the budget is spent and the read raises instead of starting another. A section the
caller's role may not read is left out of the page altogether.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from cornerstore.errors import CornerstoreError, Forbidden, Unavailable

log = logging.getLogger(__name__)

# Bounds the statements run inside it to so many seconds (Store.time_limit).
TimeLimit = Callable[[float], AbstractContextManager[None]]
# Shared by every page: enough to read a page's sections at once on a small server.
_workers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="console-section")


@dataclass(frozen=True, slots=True)
class Section:
    """What one section's read gave: its value, or why there is none.

    ``shown`` is False when the role may not read it (nothing of it goes in the page);
    ``unavailable`` when it ran over its budget or failed; ``error`` what the service refused
    the read with otherwise (its message is for the user)."""

    value: Any = None
    shown: bool = True
    unavailable: bool = False
    error: CornerstoreError | None = None


def read_sections(
    readers: Mapping[str, Callable[[], Any]],
    budget_seconds: float,
    time_limit: TimeLimit = lambda _seconds: nullcontext(),
) -> dict[str, Section]:
    """Run every reader in parallel and wait at most ``budget_seconds`` for each; each runs
    inside ``time_limit(seconds left)`` (the store's, so its statements stop with the budget).

    Examples
    --------
    >>> found = read_sections({"two": lambda: 1 + 1}, budget_seconds=1.0)
    >>> found["two"].value
    2
    """
    started = time.monotonic()
    futures: dict[str, Future[Any]] = {
        name: _workers.submit(_within, read, started + budget_seconds, time_limit)
        for name, read in readers.items()
    }
    return {
        name: _outcome(name, future, started + budget_seconds) for name, future in futures.items()
    }


def _within(read: Callable[[], Any], deadline: float, time_limit: TimeLimit) -> Any:
    """Run ``read`` in this worker thread, its statements stopped at ``deadline``."""
    with time_limit(deadline - time.monotonic()):
        return read()


def _outcome(name: str, future: Future[Any], deadline: float) -> Section:
    try:
        return Section(future.result(timeout=max(0.0, deadline - time.monotonic())))
    except TimeoutError:
        log.warning("console: section %s ran over its time budget", name)
        return Section(unavailable=True)
    except Unavailable:
        # Stopped at its budget (OverBudget), or the database was busy: try again later.
        log.warning("console: section %s was stopped or the store was busy", name)
        return Section(unavailable=True)
    except Forbidden as exc:
        return Section(shown=False, error=exc)
    except CornerstoreError as exc:
        return Section(error=exc)
    except Exception as exc:
        # The type only: an exception's text may quote what a customer sent.
        log.error("console: section %s failed: %s", name, type(exc).__name__)
        return Section(unavailable=True)
