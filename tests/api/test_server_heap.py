"""A serving process freezes the heap it built and collects its young objects less often;
checked in a process of its own, since both settings are the whole interpreter's."""

from __future__ import annotations

import subprocess
import sys

from cornerstore.api.app import SERVER_YOUNG_THRESHOLD

_SCRIPT = """
import gc
from cornerstore.api.app import freeze_startup_heap
before = gc.get_threshold()
freeze_startup_heap()
print(before, gc.get_threshold(), gc.get_freeze_count() > 0)
"""


def test_the_server_freezes_its_startup_heap_and_raises_only_the_young_threshold() -> None:
    run = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, check=True, timeout=120
    )

    assert run.stdout.split("\n")[0] == (f"(700, 10, 10) ({SERVER_YOUNG_THRESHOLD}, 10, 10) True")
