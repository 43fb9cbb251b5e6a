"""Segment-compatible intake: ``POST /v1/batch`` and the single-message endpoints.

Answers exactly 200 on success (the official clients treat 201 and 202 as failures).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from cornerstore.api.body import (
    body_write_key,
    header_write_key,
    is_bearer,
    parse_json,
    read_body,
)
from cornerstore.api.deps import ServicesDep
from cornerstore.api.schemas.errors import error_answers
from cornerstore.api.schemas.intake import BatchIn, IntakeOut, MessageIn, request_body
from cornerstore.errors import InvalidInput, TooLarge, Unauthorized
from cornerstore.intake.messages import parse_time
from cornerstore.intake.service import IntakeResult, Source, decode_batch_body
from cornerstore.spec import MESSAGE_TYPES

router = APIRouter(prefix="/v1", tags=["intake"], responses=error_answers(400, 401, 413, 429))


def intake_limiter(app: Any) -> anyio.CapacityLimiter:
    """The worker threads intake may hold at once: ``settings.api_threads`` of a pool of their
    own, so profile reads and the other routes keep the default pool whatever batches are
    waiting for (a write lock, a commit, a busy database). Half as many was measured: mixed
    throughput on PostgreSQL fell (fewer batches overlapped their commits)."""
    limiter: anyio.CapacityLimiter | None = getattr(app.state, "intake_limiter", None)
    if limiter is None:
        threads = app.state.services.settings.api_threads
        limiter = app.state.intake_limiter = anyio.CapacityLimiter(threads)
    return limiter


def _answer(result: IntakeResult) -> Response:
    body = IntakeOut.model_validate(result).model_dump_json()
    return Response(body, status_code=200, media_type="application/json")


async def _ingest(request: Request, services: ServicesDep, single: str | None) -> Response:
    settings = services.settings
    received_at = datetime.now(UTC)
    check = services.credentials.check_write_key
    # A key in the headers is checked before the body is read: an unknown sender gets its 401
    # without making the server inflate or parse anything. Segment's OAuth form is the one
    # exception: a Bearer access token rides along with the write key in the body.
    key = header_write_key(request)
    # A key checked in the last seconds needs no database and no trip to a worker thread.
    source = services.credentials.check_write_key_cached(key) if key else None
    refused: Unauthorized | None = None
    if key and source is None:
        try:
            source = await run_in_threadpool(check, key)
        except Unauthorized as exc:
            if not is_bearer(request):
                raise
            refused = exc
    body = parse_json(await read_body(request, settings.intake))
    if source is None:
        body_key = body_write_key(body)
        if refused is not None and not body_key:
            raise refused
        source = await run_in_threadpool(check, body_key)
    if single is None:
        batch, sent_at = decode_batch_body(body)
        where = "batch"
    else:
        if not isinstance(body, dict):
            raise InvalidInput("body: must be a JSON object (one message)")
        batch, sent_at, where = [body], None, "body"
        if body.get("sentAt"):
            sent_at = parse_time(body["sentAt"], "body.sentAt")
    if len(batch) > settings.intake.max_batch_messages:
        raise TooLarge(
            f"batch: {len(batch)} messages, over the limit of "
            f"{settings.intake.max_batch_messages} a batch"
        )
    request.app.state.throttle.take(source.key_id, max(1, len(batch)))
    ingest = partial(
        services.intake.ingest,
        batch,
        source=Source(source.name, source.touchpoint, source.client_side),
        actor=f"write_key:{source.name}",
        received_at=received_at,
        batch_sent_at=sent_at,
        implied_type=single,
        where=where,
    )
    result = await anyio.to_thread.run_sync(ingest, limiter=intake_limiter(request.app))
    if result.rejected and not result.accepted and not result.duplicates:
        # Nothing in the request was usable: say so with a 4xx, naming the first problems.
        # The first rejection's error answers (413 for a message over a limit, else 400).
        reasons = "; ".join(r.reason for r in result.rejected[:3])
        raise result.rejected[0].error(reasons)
    return _answer(result)


@router.post(
    "/batch",
    response_model=IntakeOut,
    openapi_extra=request_body(BatchIn),
    summary="Send a batch of Segment Spec messages",
)
async def batch(request: Request, services: ServicesDep) -> Response:
    """Accepts ``{"batch": [...], "sentAt": ..., "writeKey": ...}``, plain or gzip.

    The write key may come as HTTP Basic user, as a Bearer token or as ``writeKey`` in the body.
    Malformed messages are reported in ``rejected`` with their index; the others are stored.
    A message whose messageId was already stored is counted in ``duplicates`` and not stored again.
    """
    return await _ingest(request, services, None)


def _single(kind: str) -> Any:
    async def endpoint(request: Request, services: ServicesDep) -> Response:
        return await _ingest(request, services, kind)

    endpoint.__name__ = kind
    endpoint.__doc__ = f"Send one ``{kind}`` message (the body is the message itself)."
    return endpoint


for _kind in MESSAGE_TYPES:
    router.add_api_route(
        f"/{_kind}",
        _single(_kind),
        methods=["POST"],
        response_model=IntakeOut,
        openapi_extra=request_body(MessageIn),
        summary=f"Send one {_kind} message",
    )
