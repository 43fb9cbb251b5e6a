"""The demo's live queue: open cases on its last days, some answered, some with a remedy
waiting for a supervisor; added once."""

from __future__ import annotations

from cornerstore.access.caller import system_caller
from cornerstore.cases.model import CaseFilter
from cornerstore.demo.queue import add_open_cases
from cornerstore.demo.staff import add_demo_staff
from cornerstore.services import Services
from tests.cases.builders import customer


def test_the_demo_gets_a_live_queue_once(services: Services, fast_hashing: None) -> None:
    add_demo_staff(services.staff)
    for n in range(12):
        customer(services, f"person{n}@example.com")

    first = add_open_cases(services.cases, services.remedies, count=8, seed=3)
    again = add_open_cases(services.cases, services.remedies, count=8, seed=3)

    found = services.cases.find(system_caller(), CaseFilter(status=("open", "waiting")))
    assert (first, again, len(found)) == (8, 0, 8)
    assert {c.channel for c in found} == {"email", "chat", "phone", "store"}
    assert any(c.status == "waiting" for c in found)
    assert services.remedies.pending(system_caller())
