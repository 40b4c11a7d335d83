"""The unit of a request commits before its response is sent, and rolls back on an error;
the database's failures reach the client as 503 and 504. Real faults on real databases: a
killed connection, a statement timeout, a held write lock, a full pool, a closed port."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import httpx
import psycopg
import pytest
from fastapi import FastAPI, Header
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from tasktracker import AsyncUnit, ConflictError
from tasktracker.db import engines
from tasktracker.db.sessions import Database
from tasktracker.db.settings import Settings
from tasktracker.fastapi import (
    database_lifespan,
    health_router,
    install_error_handlers,
    read_only_unit,
    user_unit,
)
from tasktracker.tasks.models import Task
from tests import databases
from tests.fastapi.conftest import api_settings, serving

NewUser = Callable[[], uuid.UUID]


def caller(x_user_id: Annotated[uuid.UUID, Header()]) -> uuid.UUID:
    return x_user_id


Unit = Annotated[AsyncUnit, user_unit(caller)]
ReadOnlyUnit = Annotated[AsyncUnit, read_only_unit(caller)]


def fault_app(settings: Settings) -> FastAPI:
    """Handlers that write a task titled by the path, then fail in a chosen way."""
    app = FastAPI(lifespan=database_lifespan(settings))
    install_error_handlers(app)
    app.include_router(health_router())
    app.state.holding, app.state.release = asyncio.Event(), asyncio.Event()

    @app.post("/write/{title}", status_code=201)
    async def write(unit: Unit, title: str) -> dict[str, str]:
        return {"id": str((await unit.tasks.create_row({"title": title})).id)}

    @app.post("/write-then-kill-my-connection/{title}", status_code=201)
    async def killed(unit: Unit, title: str) -> dict[str, str]:
        await unit.tasks.create_row({"title": title})
        pid = await unit.scalar(select(func.pg_backend_pid()))
        await asyncio.to_thread(terminate, pid)
        return {"written": title}  # the commit, after this, is what fails

    @app.post("/write-then-conflict/{title}", status_code=201)
    async def conflicting(unit: Unit, title: str) -> None:
        await unit.tasks.create_row({"title": title})
        raise ConflictError("the handler refused", field="title")

    @app.post("/write-in-read-only/{title}", status_code=201)
    async def read_only_write(unit: ReadOnlyUnit, title: str) -> None:
        await unit.tasks.create_row({"title": title})

    @app.get("/sleep")
    async def sleep(unit: Unit) -> None:
        await unit.execute(select(func.pg_sleep(5)))

    @app.post("/hold/{title}", status_code=201)
    async def hold(unit: Unit, title: str) -> None:
        await unit.tasks.create_row({"title": title})
        app.state.holding.set()
        await app.state.release.wait()

    return app


def terminate(pid: object) -> None:
    """End one backend: the test's own request's connection, on the suite's server."""
    with psycopg.connect(databases.ADMIN_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


@pytest.fixture
async def client(api_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(fault_app(api_settings(api_url))) as client:
        yield client


def tasks_titled(db: Database, title: str) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).where(Task.title == title)) or 0


def headers(user_id: uuid.UUID) -> dict[str, str]:
    return {"X-User-Id": str(user_id)}


async def test_a_2xx_means_committed(
    client: httpx.AsyncClient, new_user: NewUser, api_db: Database
) -> None:
    title = f"committed {uuid.uuid4()}"
    answer = await client.post(f"/write/{title}", headers=headers(new_user()))
    assert answer.status_code == 201
    assert tasks_titled(api_db, title) == 1  # another connection sees it at once


async def test_a_commit_that_fails_is_a_503_not_a_201(
    client: httpx.AsyncClient, new_user: NewUser, api_db: Database, api_backend: str
) -> None:
    """The proof that the unit commits before the response: its commit fails, and the
    client is told so. Were the commit after the response (FastAPI's default scope since
    0.118), the 201 would already be on its way."""
    if api_backend == "sqlite":
        pytest.skip("SQLite has no server to end a connection from outside")
    title = f"killed {uuid.uuid4()}"
    answer = await client.post(
        f"/write-then-kill-my-connection/{title}", headers=headers(new_user())
    )
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "5"
    assert answer.json() == {
        "error": "database_unavailable",
        "detail": "the database is unavailable",
    }
    assert tasks_titled(api_db, title) == 0
    after = await client.post(f"/write/{title}", headers=headers(new_user()))
    assert after.status_code == 201  # the pool dropped the dead connection


async def test_a_handler_error_rolls_the_unit_back(
    client: httpx.AsyncClient, new_user: NewUser, api_db: Database
) -> None:
    title = f"refused {uuid.uuid4()}"
    answer = await client.post(f"/write-then-conflict/{title}", headers=headers(new_user()))
    assert answer.status_code == 409
    assert answer.json() == {"error": "conflict", "detail": "the handler refused", "field": "title"}
    assert tasks_titled(api_db, title) == 0


async def test_a_write_in_a_read_only_unit_is_a_500_and_not_written(
    client: httpx.AsyncClient, new_user: NewUser, api_db: Database
) -> None:
    title = f"read-only {uuid.uuid4()}"
    answer = await client.post(f"/write-in-read-only/{title}", headers=headers(new_user()))
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal_error", "detail": "internal error"}
    assert tasks_titled(api_db, title) == 0


async def test_a_statement_timeout_is_a_504(
    api_url: str, api_backend: str, new_user: NewUser
) -> None:
    if api_backend == "sqlite":
        pytest.skip("SQLite has no statement timeout (its 504 is the lock timeout below)")
    settings = api_settings(api_url, database_statement_timeout_ms=200)
    async with serving(fault_app(settings)) as client:
        answer = await client.get("/sleep", headers=headers(new_user()))
    assert answer.status_code == 504
    assert answer.json() == {"error": "query_timeout", "detail": "the query took too long"}


@contextmanager
def holding_the_tasks_lock(url: str) -> Iterator[None]:
    """A connection of the test's own that locks `tasks` against writers until it ends."""
    if url.startswith("sqlite"):
        holder = sqlite3.connect(str(make_url(url).database), isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")  # SQLite's one write lock
            yield
        finally:
            holder.close()
        return
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq) as holder:
        holder.execute("LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE")
        yield
        holder.rollback()


async def test_a_lock_not_free_in_time_is_a_504(
    api_url: str,
    api_backend: str,
    new_user: NewUser,
    api_db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SQLite: the busy timeout on the write lock (a `LockTimeoutError`); PostgreSQL: the
    statement timeout cancelling the wait for the table lock (a `QueryTimeoutError`)."""
    monkeypatch.setattr(engines, "SQLITE_BUSY_TIMEOUT_MS", 100)
    user, title = new_user(), f"locked {uuid.uuid4()}"
    settings = api_settings(api_url, database_statement_timeout_ms=300)
    async with serving(fault_app(settings)) as client:
        with holding_the_tasks_lock(api_url):
            answer = await client.post(f"/write/{title}", headers=headers(user))
    assert answer.status_code == 504, answer.text
    expected = "lock_timeout" if api_backend == "sqlite" else "query_timeout"
    assert answer.json()["error"] == expected
    assert tasks_titled(api_db, title) == 0


async def test_a_full_pool_is_a_503(api_url: str, api_backend: str, new_user: NewUser) -> None:
    if api_backend == "sqlite":
        pytest.skip("SQLite engines keep SQLAlchemy's own pool: the pool settings are PostgreSQL's")
    settings = api_settings(
        api_url, database_pool_size=1, database_max_overflow=0, database_pool_timeout=0.2
    )
    app = fault_app(settings)
    user = headers(new_user())
    async with serving(app) as client:
        held = asyncio.ensure_future(client.post("/hold/held", headers=user))
        await asyncio.wait_for(app.state.holding.wait(), 10)  # the pool's only connection
        waiting = await client.post("/write/waiting", headers=user)
        app.state.release.set()
        assert (await held).status_code == 201
    assert waiting.status_code == 503, waiting.text
    assert waiting.json()["error"] == "pool_timeout"
    assert waiting.headers["Retry-After"] == "5"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_unreachable_database_is_a_503_and_an_unhealthy_report() -> None:
    url = f"postgresql://tasktracker:s3cret@127.0.0.1:{closed_port()}/nowhere"
    async with serving(fault_app(api_settings(url))) as client:
        answer = await client.post("/write/nowhere", headers=headers(uuid.uuid4()))
        health = await client.get("/health")
    assert answer.status_code == 503
    assert answer.json()["error"] == "database_unavailable"
    assert health.status_code == 503
    assert health.json()["reachable"] is False
    for response in (answer, health):
        assert "s3cret" not in response.text  # neither the password...
    assert "nowhere" not in answer.text  # ...nor, in an error, where the database is


async def test_the_lifespan_owns_the_database(api_url: str) -> None:
    app = fault_app(api_settings(api_url))
    async with serving(app) as client:
        adb = app.state.tasktracker_database
        assert adb.engine.url.database == make_url(api_url).database
        assert (await client.get("/health")).status_code == 200
        assert adb.engine.sync_engine.pool.checkedout() == 0  # the probe gave its connection back
    assert not hasattr(app.state, "tasktracker_database")  # gone, and its engine disposed
