"""The error shape and the one table of documented error answers, read from the domain errors.

Every failure is answered ``{"code": ..., "message": ...}`` (:mod:`cornerstore.api.errors`); a
router documents the statuses it may answer with ``error_answers(400, 401, ...)``, each described
by the domain error that answers with it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from cornerstore.errors import (
    Conflict,
    CornerstoreError,
    Forbidden,
    InvalidInput,
    NotFound,
    Refused,
    Throttled,
    TooLarge,
    Unauthorized,
    Unavailable,
)


class ErrorOut(BaseModel):
    code: str
    message: str


# The domain error behind each status; its code and docstring describe the answer.
_ERROR_OF_STATUS: dict[int, type[CornerstoreError]] = {
    cls.status: cls
    for cls in (
        InvalidInput,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        TooLarge,
        Refused,
        Throttled,
        Unavailable,
    )
}


def _description(error: type[CornerstoreError]) -> str:
    summary = (error.__doc__ or "").strip().splitlines()[0]
    return f"`{error.code}`: {summary}"


def error_answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of these error statuses, all in the :class:`ErrorOut` shape.

    >>> error_answers(404)[404]["description"]
    '`not_found`: The thing asked for does not exist (or is not visible to the caller).'
    """
    return {
        status: {"model": ErrorOut, "description": _description(_ERROR_OF_STATUS[status])}
        for status in statuses
    }
