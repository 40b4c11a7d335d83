"""The pool on the shared server: exhaustion gives a clear error and recovers, dead
connections are replaced (pre-ping), a connection killed mid-transaction fails that unit of
work cleanly, and the statement timeout cancels slow statements.

Only connections these tests opened themselves are terminated.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import func, select, text

from tasktracker.accounts.models import User
from tasktracker.db.errors import DatabaseUnavailableError, PoolTimeoutError, QueryTimeoutError
from tasktracker.db.sessions import AsyncDatabase, Database
from tests import databases
from tests.connectivity.helpers import DRIVERS, fast_settings

ASYNC_DRIVERS = ("psycopg-async", "asyncpg")
PID = text("SELECT pg_backend_pid()")


@pytest.fixture
def admin() -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(databases._libpq(databases.ADMIN_URL), autocommit=True) as connection:
        yield connection


def terminate(admin: psycopg.Connection[tuple[object, ...]], pid: int) -> None:
    """Kill one backend and wait (bounded) until it is gone."""
    assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if (
            admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
            is None
        ):
            return
        time.sleep(0.02)
    raise AssertionError(f"backend {pid} still alive")


def new_user() -> User:
    name = f"pool_{uuid.uuid4().hex[:10]}"
    return User(email=f"{name}@example.com", username=name, password_hash="not-a-real-hash")


def user_exists(db: Database, user_id: uuid.UUID) -> bool:
    with db.session() as session:
        return session.scalar(select(func.count()).where(User.id == user_id)) == 1


# --- pool exhaustion -----------------------------------------------------------------------


def test_third_checkout_times_out_clearly_and_the_pool_recovers(
    pg_url: str, db_log: pytest.LogCaptureFixture
) -> None:
    db = Database.from_settings(
        fast_settings(
            pg_url, database_pool_size=2, database_max_overflow=0, database_pool_timeout=1
        )
    )
    holding, release = threading.Barrier(3, timeout=10), threading.Event()

    def hold() -> None:
        with db.session() as session:
            session.execute(text("SELECT 1"))
            holding.wait()
            release.wait(timeout=10)

    holders = [threading.Thread(target=hold) for _ in range(2)]
    try:
        for thread in holders:
            thread.start()
        holding.wait()
        assert db.engine.pool.checkedout() == 2  # type: ignore[attr-defined]
        started = time.monotonic()
        with pytest.raises(PoolTimeoutError) as info, db.session() as session:
            session.execute(text("SELECT 1"))
        waited = time.monotonic() - started
    finally:
        release.set()
        for thread in holders:
            thread.join(timeout=10)
    assert 0.9 <= waited < 3
    assert "no free database connection" in str(info.value)
    assert "size 2 overflow 0" in str(info.value)
    assert "sqlalche.me" not in str(info.value)
    assert any("pool exhausted" in record.getMessage() for record in db_log.records)
    assert isinstance(info.value, DatabaseUnavailableError)
    with db.session() as session:  # serves again
        assert session.scalar(text("SELECT 1")) == 1
    assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    db.dispose()


@pytest.mark.parametrize("driver", ASYNC_DRIVERS)
async def test_async_third_checkout_times_out_and_the_pool_recovers(
    pg_url: str, driver: str
) -> None:
    settings = fast_settings(
        pg_url, driver, database_pool_size=2, database_max_overflow=0, database_pool_timeout=1
    )
    db = AsyncDatabase.from_settings(settings)
    holding, release = asyncio.Event(), asyncio.Event()
    held = 0

    async def hold() -> None:
        nonlocal held
        async with db.session() as session:
            await session.execute(text("SELECT 1"))
            held += 1
            if held == 2:
                holding.set()
            await release.wait()

    holders = [asyncio.create_task(hold()) for _ in range(2)]
    try:
        await asyncio.wait_for(holding.wait(), 10)
        with pytest.raises(PoolTimeoutError, match="no free database connection"):
            async with db.session() as session:
                await session.execute(text("SELECT 1"))
    finally:
        release.set()
        await asyncio.wait_for(asyncio.gather(*holders), 10)
    async with db.session() as session:
        assert await session.scalar(text("SELECT 1")) == 1
    assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    await db.dispose()


# --- pre-ping ------------------------------------------------------------------------------


def test_killed_idle_connection_is_replaced_transparently(
    pg_url: str, admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    db = Database.from_settings(
        fast_settings(pg_url, database_pool_size=1, database_max_overflow=0)
    )
    try:
        with db.session() as session:
            first = session.scalar(PID)
        terminate(admin, first)
        with db.session() as session:  # no error: pre-ping found it dead and reconnected
            second = session.scalar(PID)
    finally:
        db.dispose()
    assert second != first


@pytest.mark.parametrize("driver", ASYNC_DRIVERS)
async def test_async_killed_idle_connection_is_replaced_transparently(
    pg_url: str, admin: psycopg.Connection[tuple[object, ...]], driver: str
) -> None:
    settings = fast_settings(pg_url, driver, database_pool_size=1, database_max_overflow=0)
    db = AsyncDatabase.from_settings(settings)
    try:
        async with db.session() as session:
            first = await session.scalar(PID)
        terminate(admin, first)
        async with db.session() as session:
            second = await session.scalar(PID)
    finally:
        await db.dispose()
    assert second != first


# --- killed mid-transaction ----------------------------------------------------------------


def test_connection_killed_mid_transaction(
    pg_url: str, admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    db = Database.from_settings(
        fast_settings(pg_url, database_pool_size=1, database_max_overflow=0)
    )
    user = new_user()
    try:
        with pytest.raises(DatabaseUnavailableError, match="connection lost"), db.session() as s:
            s.add(user)
            s.flush()  # the INSERT is on the server, uncommitted
            terminate(admin, s.scalar(PID))
            s.execute(text("SELECT 1"))
        assert not user_exists(db, user.id)  # the next unit of work succeeds, nothing written
        assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        db.dispose()


def test_connection_killed_before_commit(
    pg_url: str, admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    db = Database.from_settings(
        fast_settings(pg_url, database_pool_size=1, database_max_overflow=0)
    )
    user = new_user()
    try:
        with pytest.raises(DatabaseUnavailableError), db.session() as session:
            session.add(user)
            session.flush()
            terminate(admin, session.scalar(PID))  # the COMMIT is what fails
        assert not user_exists(db, user.id)
    finally:
        db.dispose()


@pytest.mark.parametrize("driver", ASYNC_DRIVERS)
async def test_async_connection_killed_mid_transaction(
    pg_url: str, admin: psycopg.Connection[tuple[object, ...]], driver: str
) -> None:
    settings = fast_settings(pg_url, driver, database_pool_size=1, database_max_overflow=0)
    db = AsyncDatabase.from_settings(settings)
    user = new_user()
    try:
        with pytest.raises(DatabaseUnavailableError, match="connection lost"):
            async with db.session() as session:
                session.add(user)
                await session.flush()
                terminate(admin, await session.scalar(PID))
                await session.execute(text("SELECT 1"))
        async with db.session() as session:
            assert await session.scalar(select(func.count()).where(User.id == user.id)) == 0
        assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await db.dispose()


# --- statement timeout ---------------------------------------------------------------------


@pytest.mark.parametrize("driver", DRIVERS)
def test_statement_timeout_cancels_and_the_connection_stays_usable(
    pg_url: str, driver: str
) -> None:
    settings = fast_settings(
        pg_url,
        driver,
        database_statement_timeout_ms=300,
        database_pool_size=1,
        database_max_overflow=0,
    )
    if driver == "psycopg":
        pids, elapsed = _sync_timeout_run(settings)
    else:
        pids, elapsed = asyncio.run(_async_timeout_run(settings))
    assert elapsed < 2  # cancelled after 0.3 s, not after the 5 s sleep
    assert pids[0] == pids[1]  # the same connection served on


def _sync_timeout_run(settings: object) -> tuple[list[int], float]:
    db = Database.from_settings(settings)  # type: ignore[arg-type]
    pids = []
    try:
        with db.session() as session:
            pids.append(session.scalar(PID))
        started = time.monotonic()
        with pytest.raises(QueryTimeoutError, match="statement cancelled"), db.session() as s:
            s.execute(text("SELECT pg_sleep(5)"))
        elapsed = time.monotonic() - started
        with db.session() as session:
            pids.append(session.scalar(PID))
            assert session.scalar(text("SHOW statement_timeout")) == "300ms"
    finally:
        db.dispose()
    return pids, elapsed


async def _async_timeout_run(settings: object) -> tuple[list[int], float]:
    db = AsyncDatabase.from_settings(settings)  # type: ignore[arg-type]
    pids = []
    try:
        async with db.session() as session:
            pids.append(await session.scalar(PID))
        started = time.monotonic()
        with pytest.raises(QueryTimeoutError, match="statement cancelled"):
            async with db.session() as session:
                await session.execute(text("SELECT pg_sleep(5)"))
        elapsed = time.monotonic() - started
        async with db.session() as session:
            pids.append(await session.scalar(PID))
            assert await session.scalar(text("SHOW statement_timeout")) == "300ms"
    finally:
        await db.dispose()
    return pids, elapsed
