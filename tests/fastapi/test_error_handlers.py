"""Every error of the family, raised by a handler, answers its status in one JSON shape
(the table in docs/fastapi.md); the package's root does not import FastAPI."""

from __future__ import annotations

import logging
import subprocess
import sys
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tasktracker.db.errors import (
    ConfigurationError,
    ConflictError,
    DatabaseUnavailableError,
    FieldError,
    IntegrityError,
    LockTimeoutError,
    NestedScopeError,
    NotFoundError,
    PoolTimeoutError,
    QueryTimeoutError,
    ReadOnlyUnitError,
    ScopeError,
    StorageFullError,
    StoredValueError,
    TaskTrackerError,
    ValidationError,
)
from tasktracker.fastapi import DatabaseDependency, install_error_handlers

SECRET_URL = "postgresql://app:s3cret@db.internal:5432/tasks"

CASES: list[tuple[TaskTrackerError, int, dict[str, Any]]] = [
    (NotFoundError("Task 1 not found"), 404, {"error": "not_found", "detail": "Task 1 not found"}),
    (
        ValidationError([FieldError("title", "must not be blank")], model="Task"),
        422,
        {
            "error": "validation_error",
            "detail": "invalid Task: title: must not be blank",
            "fields": [{"field": "title", "message": "must not be blank"}],
        },
    ),
    (
        ConflictError("users: email already exists", field="email"),
        409,
        {"error": "conflict", "detail": "users: email already exists", "field": "email"},
    ),
    (
        ConflictError("concurrent update, try again: deadlock detected"),
        409,
        {
            "error": "conflict",
            "detail": "concurrent update, try again: deadlock detected",
            "field": None,
        },
    ),
    (
        IntegrityError("still in use: categories"),
        409,
        {"error": "integrity_error", "detail": "still in use: categories"},
    ),
    (
        DatabaseUnavailableError(f"database connection lost: {SECRET_URL}"),
        503,
        {"error": "database_unavailable", "detail": "the database is unavailable"},
    ),
    (
        PoolTimeoutError(f"pool of {SECRET_URL} exhausted"),
        503,
        {"error": "pool_timeout", "detail": "the database is busy, try again"},
    ),
    (
        QueryTimeoutError("statement cancelled: SELECT secret FROM t"),
        504,
        {"error": "query_timeout", "detail": "the query took too long"},
    ),
    (
        LockTimeoutError("lock not available: SELECT ... FOR UPDATE NOWAIT"),
        504,
        {"error": "lock_timeout", "detail": "a lock was not free in time, try again"},
    ),
    (
        StorageFullError("could not extend file"),
        507,
        {"error": "storage_full", "detail": "the database's storage is full"},
    ),
    (
        ScopeError("statement", "text() cannot be limited to the user"),
        500,
        {"error": "scope_error", "detail": "internal error"},
    ),
    (
        NestedScopeError("scope", "a unit of another user inside one"),
        500,
        {"error": "scope_error", "detail": "internal error"},
    ),
    (
        ReadOnlyUnitError("INSERT in a read-only unit"),
        500,
        {"error": "internal_error", "detail": "internal error"},
    ),
    (
        ConfigurationError(f"DATABASE_URL={SECRET_URL}"),
        500,
        {"error": "internal_error", "detail": "internal error"},
    ),
    (
        StoredValueError("bad uuid", field="id"),
        500,
        {"error": "internal_error", "detail": "internal error"},
    ),
    (
        TaskTrackerError("database error: syntax error at SELECT"),
        500,
        {"error": "internal_error", "detail": "internal error"},
    ),
]


def raising_app(error: Exception) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/fail")
    async def fail() -> None:
        raise error

    @app.get("/database")
    async def needs_the_database(adb: DatabaseDependency) -> None:
        """Without the lifespan, no database: a ConfigurationError saying what to do."""

    return app


async def answer(app: FastAPI, path: str = "/fail") -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.get(path)


@pytest.mark.parametrize(("error", "status", "body"), CASES, ids=lambda case: type(case).__name__)
async def test_each_error_answers_its_status(
    error: TaskTrackerError, status: int, body: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="tasktracker.fastapi.errors")
    response = await answer(raising_app(error))
    assert response.status_code == status
    assert response.json() == body
    assert ("Retry-After" in response.headers) == (status == 503)
    for secret in ("s3cret", "db.internal", "SELECT"):
        assert secret not in response.text
    logged = [record for record in caplog.records if str(error) in record.getMessage()]
    assert bool(logged) == (status >= 500)  # server errors are logged, with the message


def test_every_error_class_is_in_the_table() -> None:
    import tasktracker.db.errors as errors

    family = {
        cls
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, TaskTrackerError)
    }
    assert family == {type(error) for error, _, _ in CASES}


async def test_without_the_lifespan_the_database_dependency_says_what_to_do(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="tasktracker.fastapi.errors")
    response = await answer(raising_app(ValueError()), "/database")
    assert response.status_code == 500
    assert "database_lifespan" in caplog.text


def test_importing_the_package_does_not_import_fastapi() -> None:
    code = (
        "import sys, tasktracker; tasktracker.AsyncDatabase; print(sorted(m for m in sys.modules"
        " if m.split('.')[0] in {'fastapi', 'starlette'} or m == 'tasktracker.fastapi'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_without_the_extra_the_import_names_it() -> None:
    code = "import sys; sys.modules['fastapi'] = None; import tasktracker.fastapi"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode != 0
    assert "pip install 'tasktracker[fastapi]'" in out.stderr
