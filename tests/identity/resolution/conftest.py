from __future__ import annotations

from typing import Any

import pytest

from cornerstore.demo.messy import MessyCustomers
from cornerstore.identity.resolution.model import IdentityModel
from cornerstore.identity.resolution.records import PreparedRecords, prepare_records
from cornerstore.identity.resolution.splink_engine import train_model

FIELDS = ["first_name", "last_name", "email", "phone", "address", "city", "postcode"]


@pytest.fixture(scope="package")
def messy_rows() -> list[dict[str, Any]]:
    return list(MessyCustomers(people=800, seed=3).records())


@pytest.fixture(scope="package")
def messy_records(messy_rows: list[dict[str, Any]]) -> PreparedRecords:
    return prepare_records(messy_rows, [r["id"] for r in messy_rows], FIELDS)


@pytest.fixture(scope="package")
def messy_model(messy_records: PreparedRecords) -> IdentityModel:
    return train_model(messy_records, seed=0)
