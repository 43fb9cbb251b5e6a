"""Errors mapped once: every failure becomes ``{"code": ..., "message": ...}`` with its status.

Messages come from the core and name the field, never the value; unexpected errors are logged
with their type only and answered with a generic 500, so no traceback or input reaches a client.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cornerstore.errors import CornerstoreError, Throttled, Unavailable

log = logging.getLogger(__name__)


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status, headers=headers)


def _location(loc: tuple[object, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("query", "path", "body", "header"):
        head, rest = parts[0], parts[1:]
        return head + "." + ".".join(rest) if rest else head
    return ".".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CornerstoreError)
    async def _domain(_request: Request, exc: CornerstoreError) -> JSONResponse:
        headers = None
        if isinstance(exc, Throttled | Unavailable):
            headers = {"Retry-After": str(exc.retry_after)}
        if exc.status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        return error_response(exc.status, exc.code, exc.message, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors()[:5]:
            problems.append(f"{_location(tuple(err.get('loc', ())))}: {err.get('msg', 'invalid')}")
        return error_response(400, "invalid_input", "; ".join(problems) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}
        return error_response(exc.status_code, codes.get(exc.status_code, "error"), str(exc.detail))

    app.add_middleware(AnswerUnexpectedErrors)


class AnswerUnexpectedErrors:
    """Answer an unexpected error with a clean 500 and keep it there.

    Starlette's own handler for ``Exception`` answers and then raises again, so the server logs
    the whole traceback (SQL statement included) and resets the keep-alive connection. Here the
    log carries the exception's type only (its text may quote what a customer sent) and the
    answer closes the connection in order.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_noting_start(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_noting_start)
        except Exception as exc:
            log.error("unexpected error: %s", type(exc).__name__)
            if started:
                # Half an answer is out: nothing sensible can follow; the server ends it.
                raise _AnswerCut from None
            answer = error_response(
                500,
                "internal",
                "internal error; the request can be retried",
                {"Connection": "close"},
            )
            await answer(scope, receive, send)


class _AnswerCut(Exception):
    """Raised, without the original error or its text, when an answer broke off midway."""
