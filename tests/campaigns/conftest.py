"""A small shop to run campaigns on, and a real SMTP server on loopback (aiosmtpd) that answers
421 ("try later") and 550 ("no such user") for chosen recipients."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from cornerstore.access.caller import system_caller
from cornerstore.intake.service import Source
from cornerstore.services import Services
from cornerstore.settings import Settings
from tests.factories import identify

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)


def add_customers(services: Services, count: int, *, consent: bool = True) -> list[str]:
    """``count`` customers ``c000``... with a first name and an e-mail address who granted
    (or did not) marketing e-mail; their root ids in order."""
    messages: list[dict[str, Any]] = []
    for i in range(count):
        msg = identify(f"c{i:03d}", email=f"c{i:03d}@example.com", first_name=f"Name{i:03d}")
        msg["context"] = {"consent": {"categoryPreferences": {"marketing_email": consent}}}
        messages.append(msg)
    services.intake.ingest(messages, source=Source("shop", "web"))
    return roots(services, *[f"c{i:03d}" for i in range(count)])


def roots(services: Services, *refs: str) -> list[str]:
    with services.store.unit_of_work() as uow:
        return [services.lookup.find_root(uow, ref, system_caller()) for ref in refs]


def add_segment(services: Services, segment_id: str, members: list[str]) -> str:
    """A segment with these members, stored as ``cornerstore learn`` stores one."""
    with services.store.unit_of_work(write=True) as uow:
        uow.segments.add(
            {
                "id": segment_id,
                "name": segment_id,
                "kind": "rule",
                "definition": '{"score": "loyalty.orders", "op": ">=", "value": 0}',
                "description": segment_id,
                "created_at": NOW,
                "created_by": "test",
                "size": 0,
            }
        )
        uow.segments.set_members(segment_id, members, NOW, None, None)
    return segment_id


@dataclass
class SmtpAnswers:
    """What the server does: recipients answered 421 (this many times, then accepted), those
    always answered 550, and everything it received."""

    busy: dict[str, int] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    received: list[Message] = field(default_factory=list)
    rcpt_attempts: dict[str, int] = field(default_factory=dict)
    answered: list[int] = field(default_factory=list)  # each RCPT's answer code, in order
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self) -> list[str]:
        return sorted(str(m["To"]) for m in self.received)


class _Handler:
    def __init__(self, answers: SmtpAnswers) -> None:
        self.answers = answers

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        with self.answers.lock:
            self.answers.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        a = self.answers
        with a.lock:
            a.rcpt_attempts[address] = a.rcpt_attempts.get(address, 0) + 1
            if address in a.gone:
                a.answered.append(550)
                return "550 5.1.1 no such user here"
            if a.busy.get(address, 0) > 0:
                a.busy[address] -= 1
                a.answered.append(421)
                return "421 4.7.0 try again later"
            a.answered.append(250)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.answers.lock:
            self.answers.received.append(message_from_bytes(envelope.original_content))
        return "250 Message accepted"


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on (until something binds it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpAnswers, int]]:
    """A running SMTP server on 127.0.0.1 and its port."""
    answers = SmtpAnswers()
    port = free_port()
    controller = Controller(_Handler(answers), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield answers, port
    finally:
        controller.stop()


def campaign_services(services: Services, port: int = 25, **campaigns: Any) -> Services:
    """The services over the same store, with campaign settings pointing at ``port``, no
    waiting between retries and a fixed signing key."""
    settings: Settings = services.settings.model_copy(deep=True)
    cfg = settings.campaigns.model_copy(
        update={
            "smtp_port": port,
            "smtp_retry_seconds": 0.0,
            "signing_key": "test-key",
            "public_url": "https://shop.example",
            **campaigns,
        }
    )
    settings = settings.model_copy(update={"campaigns": cfg})
    return Services.build(settings, services.store)
