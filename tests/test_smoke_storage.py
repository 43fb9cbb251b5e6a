import threading
from datetime import UTC, datetime

from cornerstore.services import Services
from cornerstore.storage.database import Store, _alembic_config, head_revision


def test_a_new_store_has_no_customers(services: Services) -> None:
    with services.store.unit_of_work() as uow:
        assert uow.customers.count() == 0


def test_the_newest_migration_read_from_the_files_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    alembic_head = ScriptDirectory.from_config(_alembic_config(None)).get_current_head()

    assert head_revision() == alembic_head


def test_a_migrated_store_is_at_the_newest_migration(services: Services) -> None:
    assert (services.store.current_revision(), services.store.is_current()) == (
        head_revision(),
        True,
    )


def test_an_installation_secret_asked_for_twice_at_once_is_made_once(store: Store) -> None:
    at = datetime(2026, 5, 1, tzinfo=UTC)
    start = threading.Barrier(2)
    found: dict[str, list[str]] = {"pseudonym_key": [], "suppression_key": []}

    def ask(name: str) -> None:
        start.wait()
        with store.unit_of_work(write=True) as uow:
            found[name].append(uow.installation_secrets.get_or_make(name, at))

    for name in found:
        askers = [threading.Thread(target=ask, args=(name,)) for _ in range(2)]
        for asker in askers:
            asker.start()
        for asker in askers:
            asker.join()
    with store.unit_of_work() as uow:
        later = {name: uow.installation_secrets.get_or_make(name, at) for name in found}

    # Both askers answered (a failed insert would leave one answer), and with the same secret.
    assert {name: (len(values), len(set(values))) for name, values in found.items()} == {
        "pseudonym_key": (2, 1),
        "suppression_key": (2, 1),
    }
    assert later == {name: values[0] for name, values in found.items()}
    assert later["pseudonym_key"] != later["suppression_key"]
