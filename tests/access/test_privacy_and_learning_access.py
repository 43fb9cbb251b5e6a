"""Privacy and learning ask the same policy: who may export, erase, read consents, scores and
segments, and what the analyst sees of them (pseudonyms only)."""

from __future__ import annotations

import pytest

from cornerstore.access.caller import system_caller
from cornerstore.errors import Forbidden
from cornerstore.services import Services
from tests.access import ROLES, add_dee, staff_caller
from tests.learn.shop import NOW, shop_history
from tests.learn.test_segments import REGULARS

CONSENT_READERS = {"owner", "support", "marketing"}
SCORE_READERS = {"owner", "marketing", "analyst"}


@pytest.mark.parametrize("role", ROLES)
def test_only_the_owner_exports_or_erases(services: Services, role: str) -> None:
    cid = add_dee(services)
    caller = staff_caller(role)

    if role == "owner":
        assert services.rights.export(caller, cid)["customer"]["id"] == cid
        assert services.rights.erase(caller, cid).profiles == 1
        return
    with pytest.raises(Forbidden):
        services.rights.export(caller, cid)
    with pytest.raises(Forbidden):
        services.rights.erase(caller, cid)
    assert services.profiles.get(system_caller(), cid).id == cid


@pytest.mark.parametrize("role", ROLES)
def test_consents_are_read_by_the_roles_granted_them(services: Services, role: str) -> None:
    cid = add_dee(services)
    caller = staff_caller(role)

    if role in CONSENT_READERS:
        assert services.consents.get(caller, cid).customer_id == cid
    else:
        with pytest.raises(Forbidden, match="your role may not read consents"):
            services.consents.get(caller, cid)


@pytest.mark.parametrize("role", ROLES)
def test_scores_and_segments_follow_the_policy_and_the_analyst_sees_pseudonyms(
    services: Services, role: str
) -> None:
    shop_history(services)
    services.learner.run(system_caller(), NOW)
    services.segments.create(system_caller(), "Regulars", REGULARS)
    steady = services.profiles.get(system_caller(), "steady").id
    caller = staff_caller(role)

    if role not in SCORE_READERS:
        with pytest.raises(Forbidden):
            services.learner.at_risk(caller)
        with pytest.raises(Forbidden):
            services.segments.members(caller, "regulars")
        return
    risky = services.learner.at_risk(caller, limit=1000)
    members = services.segments.members(caller, "regulars").customers
    if role == "analyst":
        assert all(r.customer_id.startswith("psn_") for r in risky)
        assert all(m.startswith("psn_") for m in members) and steady not in members
    else:
        assert steady in members
