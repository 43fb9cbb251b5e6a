"""Typed errors raised by the core; each entrance maps them to its own answer in one place.

The API turns them into ``{"code": ..., "message": ...}`` with the status below, the CLI prints
one line and exits non-zero. Messages never contain the offending value, only where it was.
"""

from __future__ import annotations


class CornerstoreError(Exception):
    """Base of every error the core raises on purpose."""

    code = "error"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(CornerstoreError):
    """The request or file is malformed; the message says what and where."""

    code = "invalid_input"
    status = 400


class Unstorable(InvalidInput):
    """The database refused a value of the input as data it cannot hold; nothing was stored."""

    code = "unstorable"


class TooLarge(CornerstoreError):
    """A message, batch or body is over a configured limit; the message names the limit."""

    code = "too_large"
    status = 413


class Unauthorized(CornerstoreError):
    """No valid credential was given."""

    code = "unauthorized"
    status = 401


class Forbidden(CornerstoreError):
    """The credential is valid but may not do this."""

    code = "forbidden"
    status = 403


class NotFound(CornerstoreError):
    """The thing asked for does not exist (or is not visible to the caller)."""

    code = "not_found"
    status = 404


class Conflict(CornerstoreError):
    """The change contradicts the current state (for example undoing an undone merge)."""

    code = "conflict"
    status = 409


class Refused(CornerstoreError):
    """A safeguard refused the change (for example a merge joining two different userIds)."""

    code = "refused"
    status = 422


class Throttled(CornerstoreError):
    """Too many requests; try again after ``retry_after`` seconds (the Retry-After header)."""

    code = "throttled"
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(CornerstoreError):
    """The store is busy; the request can be retried safely."""

    code = "unavailable"
    status = 503

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OverBudget(Unavailable):
    """A read was stopped by the database because its time limit ran out
    (:func:`cornerstore.storage.database.time_limit`); nothing was written."""

    code = "over_budget"

    def __init__(self, message: str = "the read ran over its time budget") -> None:
        super().__init__(message)


class WriteConflict(Unavailable):
    """A concurrent writer stored the same key first or held the rows this one needed; nothing
    was written and the whole unit of work can be retried (see
    :func:`cornerstore.storage.retry.retry_conflicts`)."""

    code = "write_conflict"
