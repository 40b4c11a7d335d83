"""The error family as HTTP responses: one JSON shape, `{"error", "detail"}`, with `fields`
for a refused input and `field` for a conflict. The table, and why each status, is in
docs/fastapi.md.

A 4xx carries the data layer's message: it names the field or the row, never SQL or a URL.
A 5xx carries a fixed sentence: the message (a driver's text, a masked URL) is logged, not
sent."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from tasktracker.db.errors import (
    ConflictError,
    DatabaseUnavailableError,
    FieldError,
    IntegrityError,
    LockTimeoutError,
    NotFoundError,
    PoolTimeoutError,
    QueryTimeoutError,
    ScopeError,
    StorageFullError,
    TaskTrackerError,
    ValidationError,
)

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
"""`Retry-After` of a 503: long enough for a restart or a failover, short for a client."""


@dataclass(frozen=True)
class _Status:
    code: int
    kind: str
    detail: str | None = None  # a fixed detail (a server error's); None: the error's message


# Most specific first: the first class the error is an instance of decides.
_STATUSES: Sequence[tuple[type[TaskTrackerError], _Status]] = (
    (NotFoundError, _Status(404, "not_found")),
    # The app's code asked for something the user scope cannot do: a server error.
    (ScopeError, _Status(500, "scope_error", "internal error")),
    (ValidationError, _Status(422, "validation_error")),
    (ConflictError, _Status(409, "conflict")),
    (IntegrityError, _Status(409, "integrity_error")),
    (PoolTimeoutError, _Status(503, "pool_timeout", "the database is busy, try again")),
    (DatabaseUnavailableError, _Status(503, "database_unavailable", "the database is unavailable")),
    (LockTimeoutError, _Status(504, "lock_timeout", "a lock was not free in time, try again")),
    (QueryTimeoutError, _Status(504, "query_timeout", "the query took too long")),
    (StorageFullError, _Status(507, "storage_full", "the database's storage is full")),
)
_INTERNAL = _Status(500, "internal_error", "internal error")


def _status_of(exc: TaskTrackerError) -> _Status:
    return next((status for cls, status in _STATUSES if isinstance(exc, cls)), _INTERNAL)


def _fields(errors: Sequence[FieldError]) -> list[dict[str, str]]:
    return [{"field": error.field, "message": error.message} for error in errors]


def error_response(exc: TaskTrackerError) -> JSONResponse:
    """The response for an error of the family (for an app's own handler that wraps it)."""
    status = _status_of(exc)
    body: dict[str, Any] = {"error": status.kind, "detail": status.detail or str(exc)}
    if isinstance(exc, ValidationError) and status.code == 422:
        body["fields"] = _fields(exc.errors)
    if isinstance(exc, ConflictError):
        body["field"] = exc.field
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status.code == 503 else None
    if status.code >= 500:
        logger.error("%s: %s", type(exc).__name__, exc, exc_info=status.code == 500)
    return JSONResponse(body, status_code=status.code, headers=headers)


def _request_field(location: Sequence[int | str]) -> str:
    """`title` for the body's `title`, `x-user-id` for a header: the name a client sent."""
    names = [str(part) for part in location]
    if len(names) > 1 and names[0] in {"body", "query", "path", "header", "cookie"}:
        return ".".join(names[1:])
    return ".".join(names)


def request_validation_response(exc: RequestValidationError) -> JSONResponse:
    """FastAPI's own refusal of a request (a malformed id, a missing field) in the family's
    shape, so a client reads one format whichever layer refused the input."""
    errors = [FieldError(_request_field(e["loc"]), str(e["msg"])) for e in exc.errors()]
    body = {"error": "validation_error", "detail": "invalid request", "fields": _fields(errors)}
    return JSONResponse(body, status_code=422)


async def _family_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TaskTrackerError)
    return error_response(exc)


async def _request_validation_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return request_validation_response(exc)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every `TaskTrackerError`, and FastAPI's request validation, as the table in
    docs/fastapi.md says."""
    app.add_exception_handler(TaskTrackerError, _family_handler)
    app.add_exception_handler(RequestValidationError, _request_validation_handler)
