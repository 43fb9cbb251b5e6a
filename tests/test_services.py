"""Services.build gives every service the same collaborators: one policy, one audit trail, one
customer lookup, one merges service."""

from __future__ import annotations

import pytest

from cornerstore.access.caller import Caller
from cornerstore.errors import NotFound
from cornerstore.intake.service import Source
from cornerstore.services import Services
from cornerstore.settings import RoleGrant
from tests.access import staff_caller
from tests.factories import identify, services_with_roles


def test_every_service_shares_the_one_policy_audit_trail_and_lookup(services: Services) -> None:
    served = [
        services.profiles,
        services.merges,
        services.consents,
        services.rights,
        services.learner,
        services.segments,
        services.identity,
    ]

    assert [s.policy for s in served] == [services.policy] * len(served)
    assert all(s.policy is services.policy for s in served)
    assert all(s.audit is services.audit for s in served)
    assert all(s.lookup is services.lookup for s in served)
    assert services.identity.merges is services.merges
    assert services.learner.consents is services.consents
    assert (services.staff.policy, services.credentials.policy) == (services.policy,) * 2


def test_a_custom_role_reaches_every_service_that_finds_a_customer(
    services: Services, owner: Caller
) -> None:
    # A role that may read contact details finds customers by e-mail in every service alike;
    # one without them finds nobody, as if there were no such customer.
    custom = services_with_roles(
        services,
        desk=RoleGrant(read=["contact", "consents", "scores"]),
        blind=RoleGrant(read=["consents", "scores"]),
    )
    custom.intake.ingest(
        [identify("u-1", email="ann@example.com")], source=Source("web-shop", "web")
    )
    cid = custom.profiles.get(owner, "u-1").id
    desk, blind = staff_caller("desk"), staff_caller("blind")

    found = [
        custom.consents.get(desk, "ann@example.com").customer_id,
        custom.learner.scores(desk, "ann@example.com").customer_id,
    ]

    assert found == [cid, cid]
    with pytest.raises(NotFound, match=r"^customer: no such customer$"):
        custom.consents.get(blind, "ann@example.com")
    with pytest.raises(NotFound, match=r"^customer: no such customer$"):
        custom.learner.scores(blind, "ann@example.com")
