"""The pool on the shared server: exhaustion gives a clear error and recovers, dead
connections are replaced (pre-ping), a connection killed mid-transaction fails that unit of
work cleanly; statement timeouts, lock timeouts and deadlocks give their own errors. Each on
psycopg sync, psycopg async and asyncpg, with the same outcome.

Only connections these tests opened themselves are terminated.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tasktracker.accounts.models import User
from tasktracker.db.errors import (
    ConflictError,
    DatabaseUnavailableError,
    LockTimeoutError,
    PoolTimeoutError,
    QueryTimeoutError,
)
from tasktracker.db.sessions import AsyncDatabase, Database
from tests import databases
from tests.connectivity.helpers import DRIVERS, driver_units, fast_settings

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


def backend_pid(session: Session) -> int:
    pid = session.scalar(PID)
    assert isinstance(pid, int)
    return pid


def counting_users(user_id: uuid.UUID) -> Callable[[Session], int | None]:
    return lambda session: session.scalar(select(func.count()).where(User.id == user_id))


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


@pytest.mark.parametrize("driver", DRIVERS)
def test_killed_idle_connection_is_replaced_transparently(
    pg_url: str, admin: psycopg.Connection[tuple[object, ...]], driver: str
) -> None:
    with driver_units(pg_url, driver, database_pool_size=1, database_max_overflow=0) as units:
        first = units.unit(backend_pid)
        terminate(admin, first)
        second = units.unit(backend_pid)  # no error: pre-ping found it dead and reconnected
    assert second != first


# --- killed mid-transaction ----------------------------------------------------------------


@pytest.mark.parametrize("driver", DRIVERS)
def test_connection_killed_mid_transaction(
    pg_url: str, admin: psycopg.Connection[tuple[object, ...]], driver: str
) -> None:
    user = new_user()

    def killed_after_the_insert(session: Session) -> None:
        session.add(user)
        session.flush()  # the INSERT is on the server, uncommitted
        terminate(admin, backend_pid(session))
        session.execute(text("SELECT 1"))

    with driver_units(pg_url, driver, database_pool_size=1, database_max_overflow=0) as units:
        with pytest.raises(DatabaseUnavailableError, match="connection lost"):
            units.unit(killed_after_the_insert)
        assert units.unit(counting_users(user.id)) == 0  # the next unit works; nothing written
        assert units.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("driver", DRIVERS)
def test_connection_killed_before_commit(
    pg_url: str, admin: psycopg.Connection[tuple[object, ...]], driver: str
) -> None:
    user = new_user()

    def killed_before_the_commit(session: Session) -> None:
        session.add(user)
        session.flush()
        terminate(admin, backend_pid(session))  # the COMMIT is what fails

    with driver_units(pg_url, driver, database_pool_size=1, database_max_overflow=0) as units:
        with pytest.raises(DatabaseUnavailableError):
            units.unit(killed_before_the_commit)
        assert units.unit(counting_users(user.id)) == 0


# --- statement timeout, lock timeout, deadlock --------------------------------------------


def _sleep_past_the_timeout(session: Session) -> None:
    session.execute(text("SELECT pg_sleep(5)"))


@pytest.mark.parametrize("driver", DRIVERS)
def test_statement_timeout_cancels_and_the_connection_stays_usable(
    pg_url: str, driver: str
) -> None:
    settings = {"database_statement_timeout_ms": 300, "database_pool_size": 1}
    with driver_units(pg_url, driver, database_max_overflow=0, **settings) as units:
        first = units.unit(backend_pid)
        started = time.monotonic()
        with pytest.raises(QueryTimeoutError, match="statement cancelled") as info:
            units.unit(_sleep_past_the_timeout)
        elapsed = time.monotonic() - started
        second = units.unit(backend_pid)
        timeout = units.unit(lambda s: s.scalar(text("SHOW statement_timeout")))
    assert type(info.value) is QueryTimeoutError  # not a lock timeout
    assert elapsed < 2  # cancelled after 0.3 s, not after the 5 s sleep
    assert first == second  # the same connection served on
    assert timeout == "300ms"


LOCK = 7_300_001  # an advisory lock key of these tests' own


@pytest.mark.parametrize("driver", DRIVERS)
def test_lock_timeout_is_a_lock_timeout_error(
    pg_url: str, driver: str, holding_lock: Callable[[], None]
) -> None:
    def wait_for_the_lock(session: Session) -> None:
        session.execute(text("SET LOCAL lock_timeout = '100ms'"))
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK})

    with driver_units(pg_url, driver) as units:
        holding_lock()
        started = time.monotonic()
        with pytest.raises(LockTimeoutError, match="lock not available") as info:
            units.unit(wait_for_the_lock)
        elapsed = time.monotonic() - started
        assert units.unit(backend_pid)  # the unit was rolled back; the next one works
    assert isinstance(info.value, QueryTimeoutError)
    assert "lock timeout" in str(info.value)
    assert elapsed < 2


@pytest.mark.parametrize("driver", DRIVERS)
def test_nowait_on_a_locked_row_is_a_lock_timeout_error(pg_url: str, driver: str) -> None:
    user = new_user()
    with driver_units(pg_url, driver) as units:
        units.unit(lambda session: session.add(user))
        lock_row = text("SELECT 1 FROM users WHERE id = :id FOR UPDATE NOWAIT")
        with psycopg.connect(databases._libpq(pg_url)) as other:  # a transaction, open
            other.execute("SELECT 1 FROM users WHERE id = %s FOR UPDATE", (user.id,))
            with pytest.raises(LockTimeoutError, match="could not obtain lock"):
                units.unit(lambda session: session.execute(lock_row, {"id": user.id}))
        assert units.unit(lambda session: session.scalar(lock_row, {"id": user.id})) == 1


@pytest.mark.parametrize("driver", DRIVERS)
def test_deadlock_is_a_conflict_for_one_unit_and_the_other_commits(
    pg_url: str, driver: str
) -> None:
    def locking(first: int, second: int) -> Callable[[Session], str]:
        def work(session: Session) -> str:
            session.execute(text("SET LOCAL deadlock_timeout = '100ms'"))
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": first})
            session.execute(text("SELECT pg_sleep(0.3)"))  # the other takes its first lock
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": second})
            return "committed"

        return work

    with driver_units(pg_url, driver, database_pool_size=2) as units:
        outcomes = units.concurrently(locking(LOCK, LOCK + 1), locking(LOCK + 1, LOCK))
    failed = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert outcomes.count("committed") == 1, outcomes
    assert len(failed) == 1
    assert isinstance(failed[0], ConflictError)
    assert "deadlock detected" in str(failed[0])


@pytest.fixture
def holding_lock(pg_url: str) -> Iterator[Callable[[], None]]:
    """Call to take `LOCK` in another session, held until the test ends."""
    holder = psycopg.connect(databases._libpq(pg_url), autocommit=True)

    def take() -> None:
        holder.execute("SELECT pg_advisory_lock(%s)", (LOCK,))

    try:
        yield take
    finally:
        holder.close()
