from cornerstore.services import Services


def test_a_new_store_has_no_customers(services: Services) -> None:
    with services.store.unit_of_work() as uow:
        assert uow.customers.count() == 0
