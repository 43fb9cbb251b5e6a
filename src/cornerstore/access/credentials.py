"""Intake write keys and staff API tokens: created random, stored as SHA-256 digests, shown once.

A digest (not a slow password hash) is right here: the secrets are 256-bit random strings, so
nothing can be guessed from a digest, and intake checks a key on every request.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cornerstore.access.caller import WRITER, Caller
from cornerstore.access.model import ApiToken, TokenHolder, WriteKey
from cornerstore.access.policy import Policy
from cornerstore.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from cornerstore.settings import TOUCHPOINTS
from cornerstore.storage.database import Store

WRITE_KEY_PREFIX = "csk_"
KEY_CACHE_SECONDS = 5.0
TOKEN_PREFIX = "cst_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,127}$")
_DURATION = re.compile(r"^(\d{1,5})([hdw])$")
# Where a write key's messages come from: a client-side key is public (in every page of the web
# shop, in every copy of the app), a server-side one is kept on the shop's servers.
KEY_SOURCES = ("client", "server")
CLIENT_TOUCHPOINTS = frozenset({"web", "app"})
TOKEN_LIFETIME = timedelta(days=90)
MAX_TOKEN_LIFETIME = timedelta(days=3653)
NEVER = "never"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h`` or ``2w`` as a timedelta.

    >>> parse_duration("30d").days
    30
    """
    match = _DURATION.match(text.strip())
    if not match:
        raise InvalidInput("expires: give a duration such as 12h, 30d or 2w")
    n, unit = int(match.group(1)), match.group(2)
    return {"h": timedelta(hours=n), "d": timedelta(days=n), "w": timedelta(weeks=n)}[unit]


def token_lifetime(expires: str | None) -> timedelta | None:
    """How long a new staff token lives: ``expires`` such as ``12h``, ``30d`` or ``2w``,
    ``never`` (None: it does not expire), or 90 days when not given.

    Nothing shorter than an hour or longer than ten years is accepted: ``0h`` is a mistake,
    not a token that never expires.

    >>> token_lifetime(None).days, token_lifetime("2w").days, token_lifetime("never")
    (90, 14, None)
    """
    if expires is None:
        return TOKEN_LIFETIME
    if expires.strip().lower() == NEVER:
        return None
    try:
        lifetime = parse_duration(expires)
    except InvalidInput:
        raise InvalidInput("expires: give a lifetime such as 12h, 30d or 2w, or never") from None
    if lifetime <= timedelta(0):
        raise InvalidInput("expires: a token must live at least 1h; use never for no expiry")
    if lifetime > MAX_TOKEN_LIFETIME:
        raise InvalidInput("expires: at most 10 years (3653d); use never for no expiry")
    return lifetime


def key_source(source: str | None, touchpoint: str) -> str:
    """A write key's source: as given, else client-side for the web and app touchpoints (whose
    keys are public) and server-side for the others.

    >>> key_source(None, "web"), key_source(None, "store"), key_source("server", "app")
    ('client', 'server', 'server')
    """
    if source is None:
        return "client" if touchpoint in CLIENT_TOUCHPOINTS else "server"
    if source not in KEY_SOURCES:
        raise InvalidInput(f"source: must be one of {', '.join(KEY_SOURCES)}")
    return source


def _check_name(name: str) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise InvalidInput("name: 1-128 letters, digits, spaces, dots, dashes or underscores")
    return name


@dataclass(frozen=True, slots=True)
class IssuedSecret:
    """A new key or token: ``secret`` is shown once and never stored."""

    id: int
    name: str
    secret: str
    prefix: str
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class WriteSource:
    """What a valid write key says about the messages sent with it: ``source`` is client
    (public, so its claims about existing customers are unverified) or server (trusted)."""

    key_id: int
    name: str
    touchpoint: str
    source: str = "server"

    @property
    def client_side(self) -> bool:
        return self.source == "client"


class Credentials:
    """Create, check, list and revoke write keys and API tokens."""

    def __init__(
        self,
        store: Store,
        policy: Policy,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.policy = policy
        self._clock = clock
        # digest -> (source, checked at): intake checks a key on every request, so a check is
        # remembered briefly; a key revoked by another process stops working within the TTL.
        self._key_cache: dict[str, tuple[WriteSource, float]] = {}
        # The same for staff tokens: digest -> (token, checked at).
        self._token_cache: dict[str, tuple[TokenHolder | None, float]] = {}

    # -- write keys ----------------------------------------------------------------------------
    def create_write_key(
        self, caller: Caller, name: str, touchpoint: str = "web", source: str | None = None
    ) -> IssuedSecret:
        """Create a write key for ``touchpoint``; ``source`` (client or server) defaults by
        touchpoint, see :func:`key_source`."""
        self.policy.require_staff_admin(caller)
        name = _check_name(name)
        if touchpoint not in TOUCHPOINTS:
            raise InvalidInput(f"touchpoint: must be one of {', '.join(TOUCHPOINTS)}")
        source = key_source(source, touchpoint)
        secret = WRITE_KEY_PREFIX + secrets.token_urlsafe(32)
        with self.store.unit_of_work(write=True) as uow:
            key_id = uow.keys.add_write_key(
                name=name,
                touchpoint=touchpoint,
                source=source,
                prefix=secret[:10],
                key_hash=digest(secret),
                created_at=datetime.now(UTC),
            )
        return IssuedSecret(key_id, name, secret, secret[:10])

    def list_write_keys(self, caller: Caller) -> list[WriteKey]:
        self.policy.require_staff_admin(caller)
        with self.store.unit_of_work() as uow:
            return uow.keys.list_write_keys()

    def revoke_write_key(self, caller: Caller, key_id: int) -> None:
        self.policy.require_staff_admin(caller)
        with self.store.unit_of_work(write=True) as uow:
            if not uow.keys.revoke_write_key(key_id, datetime.now(UTC)):
                raise NotFound(f"write key {key_id}: no such active key")
        self._key_cache.clear()

    def check_write_key_cached(self, secret: str) -> WriteSource | None:
        """The source of a write key checked in the last seconds, without touching the
        database; None when it has to be looked up (use :meth:`check_write_key`)."""
        cached = self._key_cache.get(digest(secret)) if secret else None
        if cached is None or self._clock() - cached[1] >= KEY_CACHE_SECONDS:
            return None
        return cached[0]

    def check_write_key(self, secret: str) -> WriteSource:
        """The source a write key stands for; Unauthorized when unknown or revoked."""
        if not secret:
            raise Unauthorized("a write key is required (HTTP Basic user, writeKey or Bearer)")
        cached = self.check_write_key_cached(secret)
        if cached is not None:
            return cached
        hashed, now = digest(secret), self._clock()
        with self.store.unit_of_work() as uow:
            key = uow.keys.write_key_by_hash(hashed)
        if key is None or key.revoked_at is not None:
            if secret.startswith(TOKEN_PREFIX):
                raise Unauthorized("that is a staff API token; send events with a write key")
            raise Unauthorized("the write key is unknown or revoked")
        source = WriteSource(key.id, key.name, key.touchpoint, key.source)
        if len(self._key_cache) > 10_000:
            self._key_cache.clear()
        self._key_cache[hashed] = (source, now)
        return source

    # -- staff API tokens ---------------------------------------------------------------------
    def create_token(
        self,
        caller: Caller,
        name: str,
        role: str | None = None,
        expires: str | None = None,
        user_id: int | None = None,
    ) -> IssuedSecret:
        """Create a service token acting with ``role``, or (with ``user_id``) a personal token
        acting as that staff user with whatever role they hold when it is used. The owner
        creates any token; a staff user creates personal tokens for themselves.

        ``expires`` is read by :func:`token_lifetime`: 90 days unless given, ``never`` only
        when asked for."""
        if user_id is None or user_id != caller.user_id:
            self.policy.require_staff_admin(caller)
        name = _check_name(name)
        if user_id is None:
            if role is None:
                raise InvalidInput(
                    f"role: a token needs a role, one of {', '.join(self.policy.role_names())}"
                )
            self.policy.check_role(role)
        elif role is not None:
            raise InvalidInput("role: a personal token acts with its user's role; give no role")
        lifetime = token_lifetime(expires)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        expires_at = now + lifetime if lifetime is not None else None
        with self.store.unit_of_work(write=True) as uow:
            if user_id is not None:
                user = uow.staff.user(user_id=user_id)
                if user is None:
                    raise NotFound("user: no such user")
                role = user.role
            assert role is not None
            token_id = uow.keys.add_token(
                name=name,
                role=role,
                prefix=secret[:10],
                token_hash=digest(secret),
                created_at=now,
                expires_at=expires_at,
                user_id=user_id,
            )
        return IssuedSecret(token_id, name, secret, secret[:10], expires_at)

    def list_tokens(self, caller: Caller, mine: bool = False) -> list[ApiToken]:
        """Every token (the owner), or with ``mine`` the caller's own personal tokens."""
        if mine:
            if caller.user_id is None:
                raise Forbidden("only a staff user has personal tokens")
        else:
            self.policy.require_staff_admin(caller)
        with self.store.unit_of_work() as uow:
            return uow.keys.list_tokens(caller.user_id if mine else None)

    def revoke_token(self, caller: Caller, token_id: int, *, own_only: bool = False) -> None:
        """Revoke a token at once: the owner any, a staff user their own personal tokens.

        With ``own_only`` only the caller's own personal tokens qualify, whatever the role: an
        owner revoking a token of theirs by mistake must not end someone else's."""
        with self.store.unit_of_work() as uow:
            owner_id = uow.keys.token_owner(token_id)
        mine = owner_id is not None and owner_id == caller.user_id
        if not mine and (own_only or not self.policy.may_administer(caller)):
            # The same answer as for a token that does not exist: ids are not revealed.
            raise NotFound(f"token {token_id}: no such active token")
        with self.store.unit_of_work(write=True) as uow:
            if not uow.keys.revoke_token(token_id, datetime.now(UTC)):
                raise NotFound(f"token {token_id}: no such active token")
        self._token_cache.clear()

    def authenticate(self, secret: str, via: str = "api", remote: str | None = None) -> Caller:
        """The caller a bearer secret stands for: a staff token, or a write key (events only)."""
        if not secret:
            raise Unauthorized("an API token is required: Authorization: Bearer <token>")
        hashed = digest(secret)
        now = self._clock()
        cached = self._token_cache.get(hashed)
        if cached is not None and now - cached[1] < KEY_CACHE_SECONDS:
            token = cached[0]
        else:
            with self.store.unit_of_work() as uow:
                token = uow.keys.token_by_hash(hashed)
            if token is not None:
                if len(self._token_cache) > 10_000:
                    self._token_cache.clear()
                self._token_cache[hashed] = (token, now)
        if token is None:
            if secret.startswith(WRITE_KEY_PREFIX):
                source = self.check_write_key(secret)
                return Caller(actor=f"write_key:{source.name}", role=WRITER, via=via, remote=remote)
            raise Unauthorized("the API token is unknown")
        return self._caller(token, via, remote)

    def authenticate_cached(
        self, secret: str, via: str = "api", remote: str | None = None
    ) -> Caller | None:
        """The caller for a token checked in the last seconds, without touching the database;
        None when it has to be looked up (use :meth:`authenticate`)."""
        cached = self._token_cache.get(digest(secret)) if secret else None
        if cached is None or cached[0] is None or self._clock() - cached[1] >= KEY_CACHE_SECONDS:
            return None
        return self._caller(cached[0], via, remote)

    def _caller(self, token: TokenHolder, via: str, remote: str | None) -> Caller:
        if token.revoked_at is not None:
            raise Unauthorized("the API token was revoked")
        if token.expires_at is not None and token.expires_at <= datetime.now(UTC):
            raise Unauthorized("the API token has expired")
        if token.user_id is not None and token.user_disabled_at is not None:
            raise Unauthorized("the API token's user is disabled")
        # A personal token acts with whatever role its user holds now.
        role = token.role if token.user_id is None else token.user_role
        if role is None or role not in self.policy.roles:
            raise Forbidden("the API token's role is not known to this installation")
        actor = (
            f"token:{token.id}:{token.name}" if token.user_id is None else f"user:{token.username}"
        )
        return Caller(
            actor=actor,
            role=role,
            via=via,
            remote=remote,
            branch=token.user_branch,
            user_id=token.user_id,
        )
