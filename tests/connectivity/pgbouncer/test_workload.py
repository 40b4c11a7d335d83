"""Through PgBouncer (transaction pooling, 4 server connections), more clients than server
connections: the same statements many times over on every driver (psycopg would prepare
a statement on its 6th run), repository work, the statement timeout, and no session state
leaking from one client to another."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import func, select, text

from tasktracker.accounts.models import User
from tasktracker.db.errors import QueryTimeoutError
from tasktracker.db.sessions import AsyncDatabase, Database, run
from tasktracker.tasks.models import Task
from tasktracker.tasks.repository import TaskFilter, TaskRepository
from tasktracker.tasks.schemas import TaskCreate, TaskUpdate
from tests.connectivity.pgbouncer.conftest import ASYNC_DRIVERS, pooled_settings
from tests.connectivity.servers import LOOPBACK, PgBouncer

pytestmark = pytest.mark.pgbouncer

CLIENTS = 8  # client connections, over PgBouncer's 4 server connections
ROUNDS = 12  # units of work per client, each running the same statements
COUNT_TASKS = select(func.count()).select_from(Task)  # in a user scope: the user's tasks


def bouncer_admin(bouncer: PgBouncer, command: str) -> list[dict[str, object]]:
    """A command on PgBouncer's admin console (simple query protocol only)."""
    with psycopg.connect(
        host=LOOPBACK, port=bouncer.port, user="postgres", dbname="pgbouncer", autocommit=True
    ) as admin:
        cursor = admin.execute(command, prepare=False)
        names = [column.name for column in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture
def user_id(bouncer_database: tuple[str, str]) -> Iterator[uuid.UUID]:
    db = Database.from_settings(pooled_settings(bouncer_database[1]))
    name = f"bouncer_{uuid.uuid4().hex[:10]}"
    with db.session() as session:
        user = User(email=f"{name}@example.com", username=name, password_hash="x" * 20)
        session.add(user)
    yield user.id
    with db.session() as session:
        session.delete(session.get(User, user.id))
    db.dispose()


def repository_round(session: object, round_number: int) -> int:
    tasks = TaskRepository(session)  # type: ignore[arg-type]
    task = tasks.create(TaskCreate(title=f"round {round_number}"))
    tasks.update(task.id, TaskUpdate(title=f"round {round_number}, edited"))
    assert tasks.get(task.id).title.endswith("edited")
    tasks.list(TaskFilter(completed=False), limit=5)
    return tasks.count()


def test_same_statements_over_and_over_sync(
    bouncer: PgBouncer, bouncer_database: tuple[str, str], user_id: uuid.UUID
) -> None:
    db = Database.from_settings(pooled_settings(bouncer_database[1], database_pool_size=CLIENTS))
    database = bouncer_database[1].rsplit("/", 1)[1]
    errors: list[BaseException] = []

    def client() -> None:
        try:
            for round_number in range(ROUNDS):
                with db.user_scope(user_id) as session:
                    for _ in range(3):
                        session.scalar(COUNT_TASKS)
                    repository_round(session, round_number)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert not any(thread.is_alive() for thread in threads)
        assert errors == []
        with db.user_scope(user_id) as session:
            assert TaskRepository(session).count() == CLIENTS * ROUNDS
        servers = [s for s in bouncer_admin(bouncer, "SHOW SERVERS") if s["database"] == database]
        assert len(servers) <= bouncer.pool_size  # 8 clients were served by at most 4
    finally:
        db.dispose()


@pytest.mark.parametrize("driver", ASYNC_DRIVERS)
async def test_same_statements_over_and_over_async(
    bouncer_database: tuple[str, str], user_id: uuid.UUID, driver: str
) -> None:
    settings = pooled_settings(bouncer_database[1], driver, database_pool_size=CLIENTS)
    db = AsyncDatabase.from_settings(settings)

    async def client() -> None:
        for round_number in range(ROUNDS):
            async with db.user_scope(user_id) as session:
                for _ in range(3):
                    await session.scalar(COUNT_TASKS)
                await run(session, repository_round, round_number)

    try:
        await asyncio.wait_for(asyncio.gather(*(client() for _ in range(CLIENTS))), 60)
    finally:
        await db.dispose()


@pytest.mark.parametrize("driver", ["psycopg", *ASYNC_DRIVERS])
def test_statement_timeout_through_pgbouncer(
    bouncer_database: tuple[str, str], driver: str
) -> None:
    """Applied per transaction (a pooler refuses it as a startup parameter) and cancels."""
    settings = pooled_settings(bouncer_database[1], driver, database_statement_timeout_ms=300)

    async def scenario() -> tuple[object, object]:
        db = AsyncDatabase.from_settings(settings)
        try:
            async with db.session() as session:
                shown = await session.scalar(text("SHOW statement_timeout"))
            with pytest.raises(QueryTimeoutError):
                async with db.session() as session:
                    await session.execute(text("SELECT pg_sleep(5)"))
            async with db.session() as session:
                after = await session.scalar(text("SELECT 'usable'"))
        finally:
            await db.dispose()
        return shown, after

    if driver == "psycopg":
        db = Database.from_settings(settings)
        try:
            with db.session() as session:
                shown = session.scalar(text("SHOW statement_timeout"))
            with pytest.raises(QueryTimeoutError), db.session() as session:
                session.execute(text("SELECT pg_sleep(5)"))
            with db.session() as session:
                after = session.scalar(text("SELECT 'usable'"))
        finally:
            db.dispose()
    else:
        shown, after = asyncio.run(scenario())
    assert shown == "300ms"
    assert after == "usable"


def test_no_session_state_leaks_to_other_clients(bouncer_database: tuple[str, str]) -> None:
    """The timeout is `SET LOCAL`: once the transaction ends, the server connection that
    PgBouncer hands to the next client carries no trace of it."""
    url = bouncer_database[1]
    timed = Database.from_settings(
        pooled_settings(url, database_statement_timeout_ms=300, database_pool_size=4)
    )
    plain = Database.from_settings(pooled_settings(url, database_pool_size=4))
    try:
        for _ in range(8):
            with timed.session() as session:
                session.execute(text("SELECT 1"))
        for _ in range(8):
            with plain.session() as session:
                assert session.scalar(text("SHOW statement_timeout")) == "0"
    finally:
        timed.dispose()
        plain.dispose()
