"""Staff users: argon2id hashes, one-time passwords, roles, branches, sessions, login back-off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from cornerstore.access.caller import Caller
from cornerstore.access.users import Staff
from cornerstore.errors import Conflict, Forbidden, InvalidInput, Throttled, Unauthorized
from cornerstore.services import Services
from cornerstore.storage import tables
from tests.access import staff_caller

PASSWORD = "correct horse battery"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def wait(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def staff(services: Services, clock: Clock, fast_hashing: None) -> Staff:
    return Staff(services.store, services.settings, services.policy, services.audit, clock)


def test_a_password_is_stored_only_as_an_argon2id_hash(services: Services, owner: Caller) -> None:
    services.staff.create(owner, "ann", "support", password=PASSWORD)

    with services.store.unit_of_work() as uow:
        stored = uow.conn.execute(select(tables.staff_users.c.password_hash)).scalar_one()

    # RFC 9106's second recommended setting: 64 MiB, three passes, four lanes.
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PASSWORD not in stored


def test_the_first_run_creates_one_owner_with_a_one_time_password(staff: Staff) -> None:
    first = staff.ensure_owner()
    second = staff.ensure_owner()

    assert first is not None and second is None
    assert (first.user.username, first.user.role, first.user.must_change_password) == (
        "owner",
        "owner",
        True,
    )
    assert len(first.password) >= 16
    assert staff.login("owner", first.password).user.username == "owner"


def test_a_user_acts_with_their_role_and_branch(staff: Staff, owner: Caller) -> None:
    staff.create(owner, "sam", "shipping", branch="Leeds", password=PASSWORD)

    login = staff.login("Sam", PASSWORD, remote="10.0.0.7")
    state = staff.session(login.session_id, remote="10.0.0.7")

    assert state.caller == Caller(
        actor="user:sam",
        role="shipping",
        via="console",
        remote="10.0.0.7",
        branch="Leeds",
        user_id=state.user.id,
    )


def test_a_grant_applies_to_open_sessions_at_once(staff: Staff, owner: Caller) -> None:
    staff.create(owner, "sam", "shipping", branch="Leeds", password=PASSWORD)
    login = staff.login("sam", PASSWORD)

    staff.grant(owner, "sam", "support", every_branch=True)

    caller = staff.session(login.session_id).caller
    assert (caller.role, caller.branch) == ("support", None)


@pytest.mark.parametrize(
    ("username", "password"),
    [("ann", "wrong password!"), ("nobody", PASSWORD), ("gone", PASSWORD)],
)
def test_a_wrong_password_an_unknown_and_a_disabled_user_get_the_same_answer(
    staff: Staff, owner: Caller, username: str, password: str
) -> None:
    staff.create(owner, "ann", "support", password=PASSWORD)
    staff.create(owner, "gone", "support", password=PASSWORD)
    staff.disable(owner, "gone")

    with pytest.raises(Unauthorized) as refused:
        staff.login(username, password)

    assert refused.value.message == "wrong username or password"


def test_after_five_failures_the_next_attempt_waits_even_with_the_right_password(
    staff: Staff, owner: Caller, clock: Clock
) -> None:
    staff.create(owner, "ann", "support", password=PASSWORD)
    for _ in range(5):
        with pytest.raises(Unauthorized):
            staff.login("ann", "guess", remote="10.0.0.9")

    with pytest.raises(Throttled) as waiting:
        staff.login("ann", PASSWORD, remote="10.0.0.9")
    clock.wait(waiting.value.retry_after)
    login = staff.login("ann", PASSWORD, remote="10.0.0.9")

    assert waiting.value.retry_after == 30
    assert login.user.username == "ann"


def test_the_owner_is_never_locked_out_for_good(staff: Staff, clock: Clock) -> None:
    first = staff.ensure_owner()
    assert first is not None

    waits = []
    for _ in range(12):
        with pytest.raises(Unauthorized):
            staff.login("owner", "guess", remote="203.0.113.5")
        try:
            staff.login("owner", first.password, remote="203.0.113.5")
        except Throttled as waiting:
            waits.append(waiting.retry_after)
            clock.wait(waiting.retry_after)
            continue
        # Five free failures: the right password logs in and forgets them.
        waits.append(0)
    login = staff.login("owner", first.password, remote="203.0.113.5")

    assert waits == [0] * 12
    assert login.user.role == "owner"


def test_the_wait_doubles_to_a_ceiling_and_always_ends(staff: Staff, clock: Clock) -> None:
    first = staff.ensure_owner()
    assert first is not None

    waits = []
    for _ in range(18):  # five free failures, then (wait, fail again) six and a half times
        try:
            staff.login("owner", "guess", remote="203.0.113.5")
        except Unauthorized:
            continue
        except Throttled as waiting:
            waits.append(waiting.retry_after)
            clock.wait(waiting.retry_after)
    login = staff.login("owner", first.password, remote="203.0.113.5")

    assert waits == [30, 60, 120, 240, 480, 900, 900]
    assert login.user.username == "owner"


def test_failures_from_one_address_do_not_lock_the_account_elsewhere(
    staff: Staff, owner: Caller
) -> None:
    staff.create(owner, "ann", "support", password=PASSWORD)
    for _ in range(6):
        with pytest.raises((Unauthorized, Throttled)):
            staff.login("ann", "guess", remote="198.51.100.1")

    login = staff.login("ann", PASSWORD, remote="10.0.0.2")

    assert login.user.username == "ann"
    with pytest.raises(Throttled):
        staff.login("ann", PASSWORD, remote="198.51.100.1")


def test_the_owner_can_lift_a_wait_and_reset_a_password(staff: Staff, owner: Caller) -> None:
    staff.create(owner, "ann", "support", password=PASSWORD)
    old = staff.login("ann", PASSWORD)
    for _ in range(6):
        with pytest.raises((Unauthorized, Throttled)):
            staff.login("ann", "guess", remote="10.0.0.9")

    reset = staff.reset_password(owner, "ann")

    with pytest.raises(Unauthorized, match="session has ended"):
        staff.session(old.session_id)
    login = staff.login("ann", reset.password, remote="10.0.0.9")
    assert login.user.must_change_password is True


def test_logging_in_again_ends_the_session_the_browser_held(staff: Staff, owner: Caller) -> None:
    staff.create(owner, "ann", "support", password=PASSWORD)
    before = staff.login("ann", PASSWORD)

    after = staff.login("ann", PASSWORD, replaces=before.session_id)

    assert after.session_id != before.session_id
    assert after.csrf_token != before.csrf_token
    assert staff.session(after.session_id).user.username == "ann"
    with pytest.raises(Unauthorized):
        staff.session(before.session_id)


def test_a_session_ends_at_logout_at_expiry_and_when_its_user_is_disabled(
    staff: Staff, owner: Caller, clock: Clock
) -> None:
    staff.create(owner, "ann", "support", password=PASSWORD)
    staff.create(owner, "bob", "support", password=PASSWORD)
    ann, bob, later = (staff.login(n, PASSWORD) for n in ("ann", "bob", "ann"))

    staff.logout(ann.session_id)
    staff.disable(owner, "bob")
    clock.wait(12 * 3600 + 1)

    for ended in (ann, bob, later):
        with pytest.raises(Unauthorized, match="the session has ended"):
            staff.session(ended.session_id)


def test_a_user_changes_their_own_one_time_password(staff: Staff, owner: Caller) -> None:
    made = staff.create(owner, "ann", "support")
    caller = staff.session(staff.login("ann", made.password).session_id).caller

    with pytest.raises(Unauthorized, match="the current password is wrong"):
        staff.change_password(caller, "not it", "a brand new passphrase")
    with pytest.raises(InvalidInput, match="at least 12 characters"):
        staff.change_password(caller, made.password, "short")
    changed = staff.change_password(caller, made.password, "a brand new passphrase")

    assert changed.must_change_password is False
    assert staff.login("ann", "a brand new passphrase").user.username == "ann"


def test_the_last_active_owner_keeps_the_role_and_cannot_be_disabled(
    staff: Staff, owner: Caller
) -> None:
    staff.ensure_owner()

    with pytest.raises(Conflict, match="last active owner"):
        staff.grant(owner, "owner", "support")
    with pytest.raises(Conflict, match="last active owner"):
        staff.disable(owner, "owner")


@pytest.mark.parametrize("role", ["support", "shipping", "billing", "marketing", "analyst"])
def test_only_the_owner_manages_staff(staff: Staff, owner: Caller, role: str) -> None:
    staff.create(owner, "ann", "support", password=PASSWORD)
    caller = staff_caller(role)

    for attempt in (
        lambda: staff.create(caller, "eve", "owner", password=PASSWORD),
        lambda: staff.grant(caller, "ann", "owner"),
        lambda: staff.list(caller),
        lambda: staff.reset_password(caller, "ann"),
        lambda: staff.disable(caller, "ann"),
    ):
        with pytest.raises(Forbidden, match="only the owner may do this"):
            attempt()


def test_users_are_listed_by_branch_and_staff_changes_are_audited(
    services: Services, staff: Staff, owner: Caller
) -> None:
    staff.create(owner, "sam", "shipping", branch="Leeds", password=PASSWORD)
    staff.create(owner, "tia", "shipping", branch="York", password=PASSWORD)

    leeds = staff.list(owner, branch="Leeds")

    assert [u.username for u in leeds] == ["sam"]
    actions = [(e.action, e.detail) for e in services.audit.find(owner, action="create_user")]
    assert actions == [("create_user", "sam as shipping"), ("create_user", "tia as shipping")]


@pytest.mark.parametrize(
    ("username", "role", "message"),
    [
        ("A B", "support", "username:"),
        ("ann", "intern", "role: must be one of"),
        ("x", "support", "username:"),
    ],
)
def test_a_bad_user_is_refused_with_the_field_named(
    staff: Staff, owner: Caller, username: str, role: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        staff.create(owner, username, role, password=PASSWORD)
