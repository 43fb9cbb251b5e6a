"""Send the demo business through the real intake, department by department.

Each department has its own write key (``Source``), so a batch holds one source's messages.
Cutting the time-ordered stream wherever the source changes would give batches of two or three
messages, because one order touches the web shop, billing and shipping within minutes. Instead a
window of messages is split into each person's runs (consecutive messages from one source), and
batches are formed greedily from the runs that are next in line for some source. A person's run
is only sent after their earlier runs, so everyone's messages reach intake in their own time
order, while batches stay large.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator

from cornerstore.demo.generate import generate_messages
from cornerstore.demo.outbox import SOURCES, DemoMessage
from cornerstore.intake.service import Intake, IntakeResult, Source

# Batches' worth of messages in one window: longer windows give fuller batches (about 120
# messages a batch for 2000 people, against 85 with 6) but let people drift further apart in time.
_WINDOW_BATCHES = 20
# Messages a person produces on average over two years (measured with seed 0, 2000 people).
_MESSAGES_PER_CUSTOMER = 68


def estimate_messages(customers: int) -> int:
    """About how many messages :func:`load_demo` sends for ``customers`` people (a progress total).

    >>> estimate_messages(2000) > 2000
    True
    """
    return customers * _MESSAGES_PER_CUSTOMER


def plan_batches(
    messages: Iterable[DemoMessage], batch_size: int = 500
) -> Iterator[tuple[Source, list[DemoMessage]]]:
    """Group time-ordered messages into per-source batches that keep each person's order.

    Windows of ``batch_size * 20`` messages are planned one after another, so order across
    people is kept to within a window.

    Examples
    --------
    >>> from cornerstore.demo.generate import generate_messages
    >>> batches = list(plan_batches(generate_messages(customers=10, years=0.5), batch_size=50))
    >>> all(len(batch) <= 50 for _, batch in batches)
    True
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    window: list[DemoMessage] = []
    for message in messages:
        window.append(message)
        if len(window) >= batch_size * _WINDOW_BATCHES:
            yield from _schedule(window, batch_size)
            window = []
    if window:
        yield from _schedule(window, batch_size)


def _schedule(
    window: list[DemoMessage], batch_size: int
) -> Iterator[tuple[Source, list[DemoMessage]]]:
    # Each person's messages as runs from one source, in time order.
    runs: dict[str, deque[tuple[str, list[int]]]] = {}
    for position, message in enumerate(window):
        own = runs.setdefault(message.person, deque())
        if own and own[-1][0] == message.source:
            own[-1][1].append(position)
        else:
            own.append((message.source, [position]))
    # Who is waiting on each source: people whose next run comes from it.
    waiting: dict[str, set[str]] = {name: set() for name in SOURCES}
    sizes = dict.fromkeys(SOURCES, 0)
    for person, queue in runs.items():
        waiting[queue[0][0]].add(person)
        sizes[queue[0][0]] += len(queue[0][1])
    while any(sizes.values()):
        # Greedy: the source with most messages ready, so each batch advances many people.
        name = max(SOURCES, key=lambda n: sizes[n])
        positions: list[int] = []
        for person in waiting[name]:
            queue = runs[person]
            positions += queue.popleft()[1]
            if queue:
                waiting[queue[0][0]].add(person)
                sizes[queue[0][0]] += len(queue[0][1])
        waiting[name] = set()
        sizes[name] = 0
        positions.sort()
        source = Source(name, SOURCES[name])
        for start in range(0, len(positions), batch_size):
            yield source, [window[i] for i in positions[start : start + batch_size]]


def load_demo(
    intake: Intake,
    customers: int = 2000,
    seed: int = 0,
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
) -> IntakeResult:
    """Generate the demo business and ingest it; returns the summed intake results.

    ``progress`` is called after every batch with the number of messages sent so far.
    Rejection indexes count messages in the order they were sent.

    Examples
    --------
    >>> from cornerstore.settings import Settings
    >>> from cornerstore.storage import open_store
    >>> intake = Intake(open_store("sqlite://", upgrade=True), Settings())
    >>> result = load_demo(intake, customers=5)
    >>> result.rejected, result.accepted == result.received
    ([], True)
    """
    total = IntakeResult()
    done = 0
    for source, batch in plan_batches(generate_messages(customers, seed), batch_size):
        result = intake.ingest([m.message for m in batch], source=source)
        total.add(result, offset=done)
        done += len(batch)
        if progress is not None:
            progress(done)
    return total
