"""One-shot notices for the page that follows a change (post, redirect, get), safe across
worker processes.

An owner's change answers with a redirect, so reloading the page never sends the form again;
what the change has to say (a secret it issued, shown exactly once) must reach the page after
the redirect. With ``cornerstore serve --workers N`` that GET may land on another process, so
the notice cannot wait in one process's memory. It travels with the browser instead, sealed:

* encrypted and authenticated with AES-256-GCM (``cryptography``) under a key derived (HKDF)
  from an installation secret that every worker reads from the database (``Settings.secret_key``
  is made per process unless configured, so it is not shared). Only the key is stored, never a
  notice: the database, a URL and the logs never hold the secret, and the browser holds it only
  as ciphertext;
* bound to the session: the associated data is a digest of the session cookie, so a sealed
  notice opens only for the session it was made for (another user's cookie opens nothing);
* in an HttpOnly, SameSite=Strict cookie scoped to the one page redirected to (``Path``), that
  lives a minute; the notice carries its own time of sealing as well, so an old copy does not
  open after that either;
* taken once: the page that shows it answers with the cookie cleared.

The alternative, rendering the secret in the POST's answer with a one-time form nonce, would
show it on a page that a reload submits again; post/redirect/get keeps reloads harmless.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# A notice waits this long for the page after the redirect.
TTL_SECONDS = 60
# The cookie that carries a sealed notice to the page redirected to.
NOTICE_COOKIE = "cs_notice"
# What the key is derived for: another use of the same installation secret gets another key.
_KEY_INFO = b"cornerstore console notice v1"
_NONCE_BYTES = 12


@dataclass(frozen=True, slots=True)
class Notice:
    """What a change tells the next page: a line of news, a line of warning (what went
    wrong), and a secret shown once."""

    message: str = ""
    secret: str = ""
    secret_label: str = ""
    secret_note: str = ""
    warning: str = ""


class Flashes:
    """Seal a notice for the next page of a session, and open it there once.

    ``secret`` gives the installation secret the key is derived from (read on first use; every
    worker process reads the same one).

    Examples
    --------
    >>> flashes = Flashes(lambda: "installation secret")
    >>> sealed = flashes.seal("session-cookie", Notice(message="pat is disabled."))
    >>> flashes.open("session-cookie", sealed).message, flashes.open("another", sealed)
    ('pat is disabled.', None)
    """

    def __init__(
        self,
        secret: Callable[[], str],
        ttl_seconds: int = TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ttl = ttl_seconds
        self._secret = secret
        self._now = clock
        self._cipher: AESGCM | None = None
        self._lock = threading.Lock()

    def seal(self, session_id: str, notice: Notice) -> str:
        """``notice`` encrypted for ``session_id``'s next page: a cookie value (URL-safe)."""
        plain = orjson.dumps(
            {
                "at": self._now(),
                "message": notice.message,
                "secret": notice.secret,
                "secret_label": notice.secret_label,
                "secret_note": notice.secret_note,
                "warning": notice.warning,
            }
        )
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead().encrypt(nonce, plain, _bound_to(session_id))
        return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def open(self, session_id: str, sealed: str | None) -> Notice | None:
        """The notice ``sealed`` for ``session_id``; None when there is none, it was sealed
        for another session, altered, or is older than the time to live."""
        if not sealed or len(sealed) > 8192:
            return None
        try:
            raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
            plain = self._aead().decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _bound_to(session_id)
            )
        except (ValueError, InvalidTag):
            return None
        found = orjson.loads(plain)
        if not 0 <= self._now() - float(found["at"]) <= self.ttl:
            return None
        return Notice(
            message=found["message"],
            secret=found["secret"],
            secret_label=found["secret_label"],
            secret_note=found["secret_note"],
            warning=found.get("warning", ""),
        )

    def _aead(self) -> AESGCM:
        with self._lock:
            if self._cipher is None:
                key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(
                    self._secret().encode()
                )
                self._cipher = AESGCM(key)
            return self._cipher


def _bound_to(session_id: str) -> bytes:
    return hashlib.sha256(session_id.encode()).digest()
