"""The audit journal: a read is answered once its entry is fsynced to a local file, the
database gets entries in batches, and an entry survives the process being killed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import text

from cornerstore.access.audit import AuditTrail
from cornerstore.access.audit_journal import Journal, encode
from cornerstore.access.caller import Caller
from cornerstore.intake.service import Source
from cornerstore.services import Services
from cornerstore.settings import Settings
from cornerstore.storage.database import Store
from tests.crash_probe import Server
from tests.factories import identify


def stored_actions(store: Store, customer_id: str) -> list[str]:
    with store.unit_of_work() as uow:
        return [e.action for e in uow.audit.find(customer_id=customer_id, limit=100)]


def entry(action: str, customer_id: str, second: int) -> dict[str, object]:
    return {
        "at": datetime(2026, 1, 1, 12, 0, second, 123456, tzinfo=UTC),
        "actor": "ann",
        "action": action,
        "customer_id": customer_id,
        "via": "api",
        "detail": None,
        "sections": "name",
        "remote": None,
        "branch": None,
        "reason": None,
    }


def test_a_journalled_read_is_on_disk_at_once_and_in_the_database_after_a_flush(
    store: Store, services: Services, owner: Caller, tmp_path: Path
) -> None:
    trail = AuditTrail(store, services.policy, tmp_path / "journal", flush_seconds=60)
    trail.start()

    trail.record(owner, "read_profile", "cus_1", sections=["name"])
    journalled = [p.read_text() for p in (tmp_path / "journal").glob("*.jsonl")]
    before_flush = stored_actions(store, "cus_1")
    trail.flush()

    assert len(journalled) == 1 and '"action":"read_profile"' in journalled[0]
    assert before_flush == []
    assert stored_actions(store, "cus_1") == ["read_profile"]
    trail.close()
    assert list((tmp_path / "journal").iterdir()) == []


def test_a_flush_asked_before_the_writer_thread_waits_is_not_lost(
    store: Store, services: Services, owner: Caller, tmp_path: Path
) -> None:
    trail = AuditTrail(store, services.policy, tmp_path / "journal", flush_seconds=60)
    # Holding the trail's condition keeps the new writer thread from reaching its wait until
    # flush() waits: the order in which a busy machine can schedule them.
    with trail._changed:
        trail.start()
        trail.record(owner, "read_profile", "cus_1", sections=["name"])
        trail.flush(timeout=10)

    assert stored_actions(store, "cus_1") == ["read_profile"]
    trail.close()


def test_a_dead_processs_journal_is_stored_once_even_when_part_of_it_was_stored(
    store: Store, services: Services, tmp_path: Path
) -> None:
    folder = tmp_path / "journal"
    with store.unit_of_work(write=True) as uow:
        uow.audit.add_many([entry("read_profile", "cus_1", 1)])
    dead = folder / "audit-elsewhere-1-00000000.jsonl"
    folder.mkdir()
    lines = [encode(entry("read_profile", "cus_1", s)) for s in (1, 2, 3)]
    dead.write_bytes(b"".join(lines) + b'{"at": "2026-01-01T12:0')  # torn by the crash

    recovered = AuditTrail(store, services.policy, folder).start()

    assert recovered == 2
    with store.unit_of_work() as uow:
        seconds = [e.at.second for e in uow.audit.find(customer_id="cus_1", limit=100)]
    assert sorted(seconds) == [1, 2, 3]
    assert not dead.exists()


def test_a_live_processs_journal_is_left_to_it(
    store: Store, services: Services, tmp_path: Path
) -> None:
    live = Journal(tmp_path)
    live.append([entry("read_profile", "cus_1", 1)])

    assert AuditTrail(store, services.policy, tmp_path).start() == 0
    assert live.path.exists() and stored_actions(store, "cus_1") == []
    live.close(remove=True)


def test_a_read_answered_before_a_sigkill_is_audited_after_the_restart(
    settings: Settings, store: Store, services: Services, owner: Caller, tmp_path: Path
) -> None:
    services.intake.ingest([identify("u1", email="ann@example.com")], source=Source("s", "web"))
    with store.engine.connect() as conn:
        customer = conn.execute(text("SELECT id FROM customers")).scalar_one()
    token = services.credentials.create_token(owner, "desk", "support").secret
    journal = tmp_path / "journal"
    # The writer would store the entry only after a minute: only the journal can save it.
    env = {
        "CORNERSTORE_ACCESS__AUDIT_JOURNAL": str(journal),
        "CORNERSTORE_ACCESS__AUDIT_FLUSH_SECONDS": "60",
    }
    server = Server(settings.database_url, tmp_path, workers=1, env=env)
    server.start()
    try:
        answer = httpx.get(
            f"{server.url}/v1/customers/{customer}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert answer.status_code == 200
        server.kill()
        after_kill = stored_actions(store, customer)
        server.start()
        after_restart = stored_actions(store, customer)
        server.kill()
        server.start()
        after_second_restart = stored_actions(store, customer)
    finally:
        server.stop()

    assert after_kill == []
    assert after_restart == after_second_restart == ["read_profile"]
