from cornerstore.services import Services
from cornerstore.storage.database import _alembic_config, head_revision


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
