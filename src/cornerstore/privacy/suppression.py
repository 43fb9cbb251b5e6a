"""The suppression list: keyed hashes of an erased person's identifiers.

After an erasure nothing about the person is kept but these digests, so events replayed from a
client's queue or a data warehouse cannot bring the person back: intake drops any message that
carries a suppressed identifier. HMAC-SHA-256 with a key generated for the installation (kept in
the database) means the list cannot be reversed by hashing guesses without that key.
"""

from __future__ import annotations

import hashlib
import hmac

SUPPRESSION_KEY = "suppression_key"


def suppression_digest(key: str, kind: str, value: str) -> str:
    """The digest of one normalised identifier.

    >>> d = suppression_digest("k", "email", "ana@example.com")
    >>> len(d), d == suppression_digest("k", "email", "ana@example.com")
    (64, True)
    """
    return hmac.new(key.encode(), f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()
