"""Staff users: accounts with argon2id password hashes, roles and branches, console sessions,
and login back-off that slows guessing down without ever locking anyone out for good.

Examples
--------
>>> from cornerstore.storage import open_store
>>> from cornerstore.access.caller import system_caller
>>> from cornerstore.settings import Settings
>>> from cornerstore.services import Services
>>> staff = Services.build(Settings(), open_store("sqlite://", upgrade=True)).staff
>>> first = staff.ensure_owner()
>>> first.user.username, first.user.role, first.user.must_change_password
('owner', 'owner', True)
>>> staff.ensure_owner() is None
True
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from cornerstore.access.audit import AuditTrail
from cornerstore.access.caller import Caller
from cornerstore.access.model import StaffUser
from cornerstore.access.policy import Policy
from cornerstore.errors import Conflict, Forbidden, InvalidInput, NotFound, Throttled, Unauthorized
from cornerstore.settings import Settings
from cornerstore.storage.database import Store

log = logging.getLogger(__name__)

FIRST_OWNER = "owner"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
_BRANCH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")
WRONG_LOGIN = "wrong username or password"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class NewPassword:
    """A password the system chose: shown once, to be changed at the first login."""

    user: StaffUser
    password: str


@dataclass(frozen=True, slots=True)
class Login:
    """A new console session: the id goes in an HttpOnly cookie, the CSRF token to the page."""

    session_id: str
    csrf_token: str
    expires_at: datetime
    user: StaffUser


@dataclass(frozen=True, slots=True)
class SessionState:
    """What a session cookie stands for."""

    caller: Caller
    user: StaffUser
    csrf_hash: str

    def csrf_matches(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(_digest(token or ""), self.csrf_hash)


def user_caller(user: StaffUser, via: str, remote: str | None, actor: str | None = None) -> Caller:
    """The caller a staff user acts as."""
    return Caller(
        actor=actor or f"user:{user.username}",
        role=user.role,
        via=via,
        remote=remote,
        branch=user.branch,
        user_id=user.id,
    )


class Staff:
    """Create and manage staff users, log them in and out, resolve console sessions."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        policy: Policy,
        audit: AuditTrail,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.rules = settings.access
        self.policy = policy
        self.audit = audit
        self._now = clock
        # argon2id with the library's defaults (RFC 9106's second recommended setting).
        self.hasher = PasswordHasher()
        self._dummy: str | None = None

    @property
    def _dummy_hash(self) -> str:
        """Checked when the account does not exist, so both answers take as long."""
        if self._dummy is None:
            self._dummy = self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy

    # -- accounts -------------------------------------------------------------------------------
    def _check_password(self, password: str) -> str:
        if len(password) < self.rules.password_min_length:
            raise InvalidInput(
                f"password: at least {self.rules.password_min_length} characters are required"
            )
        if len(password) > 1024:
            raise InvalidInput("password: at most 1024 characters")
        return password

    @staticmethod
    def _check_username(username: str) -> str:
        username = username.strip().lower()
        if not _USERNAME.match(username):
            raise InvalidInput("username: 2-64 lower-case letters, digits, '.', '_', '@' or '-'")
        return username

    @staticmethod
    def _check_branch(branch: str | None) -> str | None:
        if branch is None or not branch.strip():
            return None
        branch = branch.strip()
        if not _BRANCH.match(branch):
            raise InvalidInput("branch: 1-64 letters, digits, spaces, dots, dashes or underscores")
        return branch

    def _create(
        self,
        username: str,
        role: str,
        display_name: str | None,
        branch: str | None,
        password: str | None,
    ) -> NewPassword:
        username = self._check_username(username)
        self.policy.check_role(role)
        branch = self._check_branch(branch)
        chosen = password is None
        secret = secrets.token_urlsafe(15) if password is None else self._check_password(password)
        now = self._now()
        hashed = self.hasher.hash(secret)
        with self.store.unit_of_work(write=True) as uow:
            if uow.staff.user(username=username) is not None:
                raise Conflict("username: already taken")
            user_id = uow.staff.add_user(
                username=username,
                display_name=(display_name or username).strip()[:128] or username,
                role=role,
                branch=branch,
                password_hash=hashed,
                must_change_password=chosen,
                created_at=now,
                password_changed_at=now,
            )
            user = uow.staff.user(user_id=user_id)
        assert user is not None
        return NewPassword(user, secret if chosen else "")

    def create(
        self,
        caller: Caller,
        username: str,
        role: str,
        *,
        display_name: str | None = None,
        branch: str | None = None,
        password: str | None = None,
    ) -> NewPassword:
        """Create a staff user. Without ``password`` one is chosen, returned once and must be
        changed at the first login."""
        self.policy.require_staff_admin(caller)
        created = self._create(username, role, display_name, branch, password)
        self.audit.record(caller, "create_user", None, f"{created.user.username} as {role}")
        return created

    def ensure_owner(self) -> NewPassword | None:
        """The first run: with no staff user at all, create ``owner`` with a one-time
        password and return it; otherwise None."""
        with self.store.unit_of_work() as uow:
            if uow.staff.count_users() > 0:
                return None
        return self._create(FIRST_OWNER, "owner", "Owner", None, None)

    def get(self, caller: Caller, username: str) -> StaffUser:
        self.policy.require_staff_admin(caller)
        return self._get(username)

    def _get(self, username: str) -> StaffUser:
        with self.store.unit_of_work() as uow:
            user = uow.staff.user(username=username.strip().lower())
        if user is None:
            raise NotFound("user: no such user")
        return user

    def list(self, caller: Caller, branch: str | None = None) -> list[StaffUser]:
        """Every staff user (of one branch when given), by username."""
        self.policy.require_staff_admin(caller)
        with self.store.unit_of_work() as uow:
            return uow.staff.users(self._check_branch(branch))

    def grant(
        self,
        caller: Caller,
        username: str,
        role: str,
        *,
        branch: str | None = None,
        every_branch: bool = False,
    ) -> StaffUser:
        """Give a user a role, and limit them to ``branch`` (or lift the limit with
        ``every_branch``). Their sessions and tokens carry the new role at once."""
        self.policy.require_staff_admin(caller)
        self.policy.check_role(role)
        user = self._get(username)
        values: dict[str, Any] = {"role": role}
        if every_branch:
            values["branch"] = None
        elif branch is not None:
            values["branch"] = self._check_branch(branch)
        if user.role == "owner" and role != "owner" and self._owners() <= 1:
            raise Conflict("role: the last active owner keeps the owner role")
        with self.store.unit_of_work(write=True) as uow:
            uow.staff.update_user(user.id, **values)
        where = values.get("branch", user.branch) or "every branch"
        self.audit.record(caller, "grant_user", None, f"{user.username} as {role} ({where})")
        return self._get(username)

    def _owners(self) -> int:
        with self.store.unit_of_work() as uow:
            return sum(1 for u in uow.staff.users() if u.role == "owner" and u.disabled_at is None)

    def disable(self, caller: Caller, username: str) -> StaffUser:
        """Disable a user: they cannot log in, their sessions end, their tokens stop working."""
        self.policy.require_staff_admin(caller)
        user = self._get(username)
        if user.role == "owner" and user.disabled_at is None and self._owners() <= 1:
            raise Conflict("user: the last active owner cannot be disabled")
        now = self._now()
        with self.store.unit_of_work(write=True) as uow:
            uow.staff.update_user(user.id, disabled_at=user.disabled_at or now)
            uow.staff.end_sessions_of(user.id, now)
        self.audit.record(caller, "disable_user", None, user.username)
        return self._get(username)

    def enable(self, caller: Caller, username: str) -> StaffUser:
        self.policy.require_staff_admin(caller)
        user = self._get(username)
        with self.store.unit_of_work(write=True) as uow:
            uow.staff.update_user(user.id, disabled_at=None)
        self.audit.record(caller, "enable_user", None, user.username)
        return self._get(username)

    def reset_password(self, caller: Caller, username: str) -> NewPassword:
        """Choose a new one-time password, end the user's sessions and lift their back-off."""
        self.policy.require_staff_admin(caller)
        user = self._get(username)
        secret = secrets.token_urlsafe(15)
        now = self._now()
        hashed = self.hasher.hash(secret)
        with self.store.unit_of_work(write=True) as uow:
            uow.staff.update_user(
                user.id, password_hash=hashed, must_change_password=True, password_changed_at=now
            )
            uow.staff.end_sessions_of(user.id, now)
            uow.staff.clear_failures(user.username)
        self.audit.record(caller, "reset_password", None, user.username)
        return NewPassword(self._get(username), secret)

    def unlock(self, caller: Caller, username: str) -> int:
        """Forget a user's failed logins from every address; returns how many were waiting."""
        self.policy.require_staff_admin(caller)
        name = self._check_username(username)
        with self.store.unit_of_work(write=True) as uow:
            cleared = uow.staff.clear_failures(name)
        self.audit.record(caller, "unlock_user", None, name)
        return cleared

    def change_password(self, caller: Caller, current: str, new: str) -> StaffUser:
        """A user changes their own password (the current one is required)."""
        if caller.user_id is None:
            raise Forbidden("only a staff user can change their password")
        with self.store.unit_of_work() as uow:
            user = uow.staff.user(user_id=caller.user_id)
            stored = uow.staff.password_hash(user.username) if user else None
        if user is None or stored is None or not self._verify(stored.password_hash, current):
            raise Unauthorized("the current password is wrong")
        self._check_password(new)
        if hmac.compare_digest(current.encode(), new.encode()):
            raise InvalidInput("password: choose a new password, not the current one")
        now = self._now()
        with self.store.unit_of_work(write=True) as uow:
            uow.staff.update_user(
                caller.user_id,
                password_hash=self.hasher.hash(new),
                must_change_password=False,
                password_changed_at=now,
            )
        self.audit.record(caller, "change_password", None, user.username)
        return self._get(user.username)

    def _verify(self, hashed: str, password: str) -> bool:
        try:
            return self.hasher.verify(hashed, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    # -- logging in -----------------------------------------------------------------------------
    def login(
        self,
        username: str,
        password: str,
        remote: str | None = None,
        replaces: str | None = None,
    ) -> Login:
        """Check a username and password and open a new session.

        The answer to a wrong password, an unknown or a disabled user is the same. After
        ``login_free_failures`` failures from one address, each further attempt for that account
        from there waits, doubling from ``lockout_base_seconds`` to at most
        ``lockout_max_seconds``; the wait always ends, so nobody (the owner included) is locked
        out for good, and failures from one address never lock the account anywhere else.
        ``replaces`` is the session the browser held before: it ends, and the new session gets
        a fresh id (no session fixation).
        """
        name = username.strip().lower()[:64]
        where = (remote or "unknown")[:64]
        now = self._now()
        with self.store.unit_of_work() as uow:
            failure = uow.staff.login_failure(name, where)
            stored = uow.staff.password_hash(name) if name else None
        locked_until = failure.locked_until if failure is not None else None
        if locked_until is not None and locked_until > now:
            wait = max(1, int((locked_until - now).total_seconds() + 0.999))
            raise Throttled("too many failed logins; try again later", retry_after=wait)
        ok = self._verify(stored.password_hash if stored else self._dummy_hash, password[:1024])
        user = None
        if ok and stored is not None:
            with self.store.unit_of_work() as uow:
                user = uow.staff.user(user_id=stored.user_id)
        if user is None or user.disabled_at is not None:
            self._fail(name, where, (failure.failures if failure else 0) + 1, now)
            raise Unauthorized(WRONG_LOGIN)
        if stored is not None and self.hasher.check_needs_rehash(stored.password_hash):
            with self.store.unit_of_work(write=True) as uow:
                uow.staff.update_user(user.id, password_hash=self.hasher.hash(password))
        session_id = secrets.token_urlsafe(32)
        csrf_token = secrets.token_urlsafe(32)
        expires = now + timedelta(hours=self.rules.session_hours)
        with self.store.unit_of_work(write=True) as uow:
            uow.staff.clear_failures(name, where)
            uow.staff.forget_expired_sessions(now)
            if replaces:
                uow.staff.end_session(_digest(replaces), now)
            uow.staff.add_session(
                id_hash=_digest(session_id),
                user_id=user.id,
                csrf_hash=_digest(csrf_token),
                created_at=now,
                expires_at=expires,
                remote=where,
            )
        self.audit.record(user_caller(user, "console", remote), "login", None, None)
        return Login(session_id, csrf_token, expires, user)

    def _fail(self, name: str, where: str, failures: int, now: datetime) -> None:
        over = failures - self.rules.login_free_failures
        locked = None
        if over >= 0:
            wait = min(self.rules.lockout_max_seconds, self.rules.lockout_base_seconds * 2**over)
            locked = now + timedelta(seconds=wait)
        with self.store.unit_of_work(write=True) as uow:
            uow.staff.record_failure(name, where, now, locked, failures)
        log.warning("access: failed login %d from one address", failures)

    def session(self, session_id: str, remote: str | None = None) -> SessionState:
        """The caller a session cookie stands for; Unauthorized when unknown, ended or
        expired, or when the user was disabled."""
        if not session_id or len(session_id) > 256:
            raise Unauthorized("log in first")
        with self.store.unit_of_work() as uow:
            stored = uow.staff.session(_digest(session_id))
        if stored is None or stored.ended_at is not None or stored.expires_at <= self._now():
            raise Unauthorized("the session has ended; log in again")
        user = stored.user
        if user.disabled_at is not None:
            raise Unauthorized("the session has ended; log in again")
        return SessionState(user_caller(user, "console", remote), user, stored.csrf_hash)

    def logout(self, session_id: str) -> None:
        with self.store.unit_of_work(write=True) as uow:
            uow.staff.end_session(_digest(session_id), self._now())
