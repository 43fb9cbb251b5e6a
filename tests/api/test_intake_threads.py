"""Intake batches run in a thread pool of their own: reads are answered while every thread
intake may hold is waiting (for a write lock, a commit, a busy database)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import Keys


def test_a_read_is_answered_while_every_intake_thread_waits(
    client_with: Callable[..., TestClient], keys: Keys
) -> None:
    client = client_with(api_threads=1)  # one thread for reads, one for intake
    release, waiting = threading.Event(), threading.Event()
    ingest = client.app.state.services.intake.ingest  # type: ignore[attr-defined]

    def held_ingest(*args: Any, **kwargs: Any) -> Any:
        waiting.set()
        release.wait(timeout=60)
        return ingest(*args, **kwargs)

    client.app.state.services.intake.ingest = held_ingest  # type: ignore[attr-defined]
    answers: dict[str, int] = {}

    def send_batch() -> None:
        batch = {"batch": [{"type": "track", "event": "Viewed", "anonymousId": "a1"}]}
        answers["batch"] = client.post(
            "/v1/batch", json=batch, auth=(keys.write_key, "")
        ).status_code

    def read() -> None:
        answers["read"] = client.get("/health").status_code

    sender = threading.Thread(target=send_batch)
    sender.start()
    assert waiting.wait(timeout=60)
    reader = threading.Thread(target=read)
    reader.start()
    reader.join(timeout=30)
    answered_while_held = dict(answers)
    release.set()
    sender.join(timeout=60)
    reader.join(timeout=60)

    assert (answered_while_held, answers) == ({"read": 200}, {"read": 200, "batch": 200})
